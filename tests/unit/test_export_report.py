"""The report's shape, from notes alone: what is shown where, and what is left out."""

from __future__ import annotations

import dataclasses

from plenary.export.report import _stage, note_meta
from plenary.store.records import NoteRecord, TableRecord

from tests.unit.factories import template

TABLE = TableRecord(id="t1", number=3, topic_id=1, topic_title="Housing", join_code="X",
                    facilitator_name=None, facilitator_gen=0, stage_index=1, step_index=0,
                    seq=0, ready=False, locked=False)


def note(i: int, *, stage: int = 0, votes: int = 0, group: str | None = None,
         category: str | None = None, **flags: object) -> NoteRecord:
    values: dict[str, object] = dict(
        id=f"n{i}", table_id="t1", table_number=3, topic_title="Housing",
        participant_id="p1", stage_index=stage, stage_title="S", step_index=0,
        step_title="Write", category=category, category_label=category and category.title(),
        group_id=group and f"g-{group}", group_label=group, text=f"note {i}", author=None,
        votes=votes, starred=False, hidden=False, late=False, private=False,
        merged_into=None, created_ms=i, created_seq=i, updated_ms=None)
    values.update(flags)
    return NoteRecord(**values)  # type: ignore[arg-type]


def texts(stage) -> list[tuple[str | None, str | None, list[str]]]:
    return [(b.label, lst.label, [n.text for n in lst.notes]) for b in stage.blocks
            for lst in b.lists]


def test_big_ideas_come_first_and_are_not_repeated_in_their_groups():
    notes = [note(1, group="Money"), note(2, group="Money", votes=3, starred=True),
             note(3, votes=1), note(4, group="People", votes=2), note(5, group="Money", votes=5)]
    stage = _stage(0, template().stages[0], TABLE, "Our summary", notes)
    assert [n.text for n in stage.big_ideas] == ["note 2"]
    assert texts(stage) == [(None, "Money", ["note 5", "note 1"]),
                            (None, "People", ["note 4"]),
                            (None, "Not in a group", ["note 3"])]
    assert stage.summary == "Our summary" and stage.shown == 5 and stage.hidden == 0


def test_hidden_and_merged_notes_are_left_out_and_hidden_ones_counted():
    notes = [note(1), note(2, hidden=True), note(3, merged_into="n1"),
             note(4, hidden=True, merged_into="n1")]
    stage = _stage(0, template().stages[0], TABLE, None, notes)
    assert texts(stage) == [(None, None, ["note 1"])]
    assert stage.hidden == 1 and stage.summary is None


def test_a_stage_with_categories_is_shown_by_category_in_the_templates_order():
    notes = [note(1, stage=1, category="enabler"), note(2, stage=1, category="barrier"),
             note(3, stage=1, category=None), note(4, stage=1, category="barrier", group="Law")]
    stage = _stage(1, template().stages[1], TABLE, "  ", notes)
    assert texts(stage) == [("Barrier", "Law", ["note 4"]),
                            ("Barrier", "Not in a group", ["note 2"]),
                            ("Enabler", None, ["note 1"]), ("Not marked", None, ["note 3"])]
    assert stage.summary is None  # blank summaries are no summary


def test_stages_not_reached_are_left_out_of_a_draft():
    early = dataclasses.replace(TABLE, stage_index=0)
    assert _stage(1, template().stages[1], early, None, []) is None
    assert _stage(0, template().stages[0], early, None, []) is not None


def test_what_is_said_beside_a_note():
    assert note_meta(note(1, votes=2, author="Sam", late=True)) == [
        "2 votes", "Sam", "arrived after the close"]
    assert note_meta(note(1)) == []
    assert note_meta(note(1, group="Money", category="barrier"), context=True,
                     place=True) == ["Barrier", "Money", "Table 3, Housing"]
