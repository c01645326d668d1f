"""Template names are names, not paths (issue 8, item 10)."""

from __future__ import annotations

import pytest
from plenary.domain.template import TemplateError
from plenary.setup import load_template

from tests.conftest import ROOT, TEMPLATES


@pytest.mark.parametrize("name", ["../pyproject", "..%2fpyproject", "/etc/passwd", "sub/x",
                                  "alchemy/../alchemy", "Alchemy", "", ".hidden", "a\x00b"])
def test_a_name_that_is_not_a_template_name_loads_nothing(name):
    assert (ROOT / "pyproject.toml").is_file()  # the file the first name points at exists
    with pytest.raises(TemplateError) as err:
        load_template(TEMPLATES, name)
    assert err.value.code == "unknown_template"
    assert str(ROOT) not in err.value.message and "/work" not in err.value.message


def test_errors_in_a_template_name_the_file_not_where_it_is(tmp_path):
    (tmp_path / "broken.toml").write_text('schema = 1\nname = "broken"\n', encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        load_template(tmp_path, "broken")
    assert "broken.toml" in err.value.message
    assert str(tmp_path) not in err.value.message


def test_known_templates_still_load():
    assert load_template(TEMPLATES, "alchemy").name == "alchemy"
