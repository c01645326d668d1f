import pytest
from plenary.domain.template import StepKind, TemplateError, parse_template
from plenary.setup import load_template, template_files

from tests.conftest import TEMPLATES

MINIMAL = """
schema = 1
name = "mini"
title = "Mini"
[[stages]]
id = "only"
title = "Only"
prompt = "What?"
[[stages.steps]]
kind = "discuss"
"""


def test_shipped_templates_are_valid():
    names = [p.stem for p in template_files(TEMPLATES)]
    assert {"alchemy", "world-cafe", "retrospective", "citizens-panel"} <= set(names)
    for name in names:
        assert load_template(TEMPLATES, name).name == name


def test_alchemy_is_the_seed_event():
    t = load_template(TEMPLATES, "alchemy")
    assert [s.title.split(":")[0].split(" —")[0] for s in t.stages][:2] == [
        "Understanding of the issues", "Development of big ideas"]
    assert len(t.stages) == 5
    assert len(t.topics) == 8
    assert [c.id for c in t.stages[4].categories] == ["barrier", "enabler"]
    assert all(s.prompt and s.duration_minutes for s in t.stages)
    assert t.votes_per_participant > 0


def test_minimal_template_and_defaults():
    t = parse_template(MINIMAL, source="mini.toml", expected_name="mini")
    assert t.votes_per_participant == 3
    assert t.show_author_names is True
    assert t.stages[0].steps[0].kind is StepKind.DISCUSS
    assert t.stages[0].steps[0].title == "Discuss"


@pytest.mark.parametrize(("change", "fragment"), [
    (('title = "Mini"', 'title = "Mini"\ncolour = "red"'), "colour: unknown key"),
    (('kind = "discuss"', 'kind = "dance"'), "stages[1].steps[1].kind"),
    (('kind = "discuss"', 'kind = "discuss"\nprivate = true'), "only allowed on a step of kind"),
    (('kind = "discuss"', 'kind = "write"\nprivate = true'), "a 'reveal' step must follow"),
    (('kind = "discuss"', 'kind = "vote"'), "accepts notes"),
    (('id = "only"', 'id = "Only Stage"'), "stages[1].id"),
    (('schema = 1', 'schema = 2'), "schema"),
    (('title = "Mini"', 'title = "Mini"\nvotes_per_participant = "3"'), "votes_per_participant"),
    (('prompt = "What?"', 'prompt = ""'), "stages[1].prompt"),
])
def test_mistakes_name_the_file_and_key(change, fragment):
    text = MINIMAL.replace(*change, 1)
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="mini.toml")
    assert info.value.message.startswith("mini.toml: ")
    assert fragment in info.value.message


def test_vote_step_needs_votes():
    text = MINIMAL.replace('kind = "discuss"', 'kind = "discuss"\n[[stages.steps]]\nkind = "vote"')
    parse_template(text, source="mini.toml")
    with pytest.raises(TemplateError, match="has a vote step but no votes"):
        parse_template(text.replace('title = "Mini"', 'title = "Mini"\nvotes_per_participant = 0'),
                       source="mini.toml")


def test_duplicate_ids():
    two = MINIMAL + MINIMAL[MINIMAL.index("[[stages]]"):]
    with pytest.raises(TemplateError, match="stage ids must be unique"):
        parse_template(two, source="mini.toml")


def test_bad_toml_and_wrong_name():
    with pytest.raises(TemplateError, match=r"mini\.toml: not valid TOML"):
        parse_template("schema = = 1", source="mini.toml")
    with pytest.raises(TemplateError, match="name: is 'mini' but the file is named 'other'"):
        parse_template(MINIMAL, source="other.toml", expected_name="other")


def test_unknown_template_lists_the_known_ones():
    with pytest.raises(TemplateError, match=r"known: .*alchemy"):
        load_template(TEMPLATES, "nope")
