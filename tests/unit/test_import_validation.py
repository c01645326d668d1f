"""`plenary import` checks values as strictly as live input does (issue 8, item 9).

Before, a record was checked for types only: it accepted a join code with markup,
ids with '.' and '/', a status 'pwned' and stage 99.
"""

from __future__ import annotations

import pytest
from plenary.domain.errors import InvalidPayload
from plenary.export import record

from tests.unit.test_export_record import broken


def _set(part, **values):
    def change(d):
        (d[part] if part == "event" else d[part][0]).update(values)
    return change


@pytest.mark.parametrize(("change", "where"), [
    (_set("tables", join_code="<b>ABCD</b>"), "tables[0].join_code"),
    (_set("tables", join_code="abcd2345"), "tables[0].join_code"),  # not in stored form
    (_set("tables", join_code="ABCD1234"), "tables[0].join_code"),  # 1 is not in the alphabet
    (_set("event", id="../../etc"), "event.id"),
    (_set("event", id="ev.ent/001"), "event.id"),
    (_set("notes", id="a/b.c.d.e.f"), "notes[0].id"),
    (_set("event", status="pwned"), "event.status"),
    (_set("event", stage_index=99), "event.stage_index"),
    (_set("tables", stage_index=99), "tables[0].stage_index"),
    (_set("tables", step_index=7), "tables[0].step_index"),
    (_set("notes", stage_index=99), "notes[0].stage_index"),
    (_set("notes", step_index=-1), "notes[0].step_index"),
    (_set("votes", stage_index=5), "votes[0].stage_index"),
    (_set("summaries", stage_index=2), "summaries[0].stage_index"),
    (_set("event", timer_state="exploded"), "event.timer_state"),
    (_set("event", created_ms=2**64), "event.created_ms"),
    (_set("event", organiser_gen=-1), "event.organiser_gen"),
    (_set("event", starts_on="next tuesday"), "event.starts_on"),
    (_set("event", template_name="../pyproject"), "event.template_name"),
    (_set("event", title=""), "event.title"),
    (_set("event", title="x" * 201), "event.title"),
    (_set("event", title="bad\x01title"), "event.title"),
    (_set("event", message="m" * 141), "event.message"),
    (_set("event", spotlight={"kind": "<script>", "id": 1}), "event.spotlight"),
    (_set("event", spotlight={"kind": "note", "id": "note00001", "x": 1}), "event.spotlight"),
    (_set("topics", title="t" * 121), "topics[0].title"),
    (_set("topics", id=0), "topics[0].id"),
    (_set("tables", number=0), "tables[0].number"),
    (_set("tables", number=10_001), "tables[0].number"),
    (_set("tables", facilitator_name="f" * 81), "tables[0].facilitator_name"),
    (_set("participants", key_hash="not-a-hash"), "participants[0].key_hash"),
    (_set("notes", text=""), "notes[0].text"),
    (_set("notes", text="n" * 20_000), "notes[0].text"),
    (_set("notes", category="Not A Slug"), "notes[0].category"),
    (_set("notes", author="a" * 41), "notes[0].author"),
    (_set("summaries", text="s" * 5001), "summaries[0].text"),
])
def test_a_value_live_input_would_refuse_is_refused_on_import(change, where):
    with pytest.raises(InvalidPayload) as caught:
        record.rows_from_record(broken(change))
    assert caught.value.code == "bad_record"
    assert where in caught.value.message, caught.value.message


def test_two_tables_with_one_join_code_are_refused():
    def twin(d):
        d["tables"].append(dict(d["tables"][0], id="table0002", number=2))
    with pytest.raises(InvalidPayload, match="join_code"):
        record.rows_from_record(broken(twin))


def test_a_note_spotlight_survives_only_for_a_public_note_it_matches():
    def lit(note_change=None, copy_text="Hi"):
        def change(d):
            d["event"]["spotlight"] = {"kind": "note", "id": "note00001",
                                       "note": {"id": "note00001", "text": copy_text}}
            if note_change:
                d["notes"][0].update(note_change)
        return change
    assert record.rows_from_record(broken(lit())).event["spotlight"]["id"] == "note00001"
    # Hidden since, forged or stale: not on the big screen after an import.
    for change in (lit({"hidden": True}), lit({"private": True}), lit(copy_text="forged")):
        assert record.rows_from_record(broken(change)).event["spotlight"] is None


def test_multi_line_text_keeps_its_lines():
    rows = record.rows_from_record(broken(_set("notes", text="one\ntwo\tthree")))
    assert rows.notes[0]["text"] == "one\ntwo\tthree"
