"""The JSON record's schema: what it holds, and how a bad record is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plenary.domain.errors import InvalidPayload
from plenary.export import record
from plenary.store.schema import metadata

from tests.unit.factories import template


def minimal() -> dict[str, Any]:
    """A valid record: one topic, one table, one participant, one note, one vote."""
    return {
        "format": "plenary-event", "schema_version": 2,
        "exported_at": "2025-03-14T17:00:00.000Z", "generator": "plenary 0.1.0",
        "event": {"id": "event0001", "title": "T", "venue": "", "starts_on": None,
                  "template_name": "test", "template": template().to_data(),
                  "status": "closed", "stage_index": 1, "organiser_gen": 0,
                  "dashboard_gen": 0, "created_ms": 1, "timer_state": "stopped",
                  "timer_ends_ms": None, "timer_remaining_ms": None, "message": None,
                  "spotlight": None, "locked": False},
        "topics": [{"id": 1, "position": 0, "title": "Housing", "brief": ""}],
        "tables": [{"id": "table0001", "number": 1, "topic_id": 1, "join_code": "ABCD2345",
                    "facilitator_name": None, "facilitator_gen": 0, "stage_index": 1,
                    "step_index": 0, "seq": 3, "ready": False, "locked": False}],
        "participants": [{"id": "person0001", "table_id": "table0001", "key_hash": "0" * 64,
                          "created_ms": 1}],
        "groups": [],
        "summaries": [{"table_id": "table0001", "stage_index": 0, "text": "S", "updated_ms": 2}],
        "notes": [{"id": "note00001", "table_id": "table0001", "participant_id": "person0001",
                   "stage_index": 0,
                   "step_index": 0, "category": None, "text": "Hi", "author": "Sam",
                   "created_ms": 1, "created_seq": 1, "updated_ms": None, "hidden": False,
                   "starred": True, "group_id": None, "late": False, "private": False,
                   "merged_into": None, "votes": 1}],
        "votes": [{"id": "vote00001", "table_id": "table0001", "note_id": "note00001",
                   "participant_id": "person0001",
                   "stage_index": 0, "created_ms": 2}],
        "themes": [{"id": "th1", "stage_index": 0, "category": None, "name": "Hi · there",
                    "named_size": 1, "notes": ["note00001"], "keywords": ["hi"], "tables": 1,
                    "topics": 1, "rank": 0, "active": True, "label": "Greetings",
                    "hidden": False, "merged_into": None, "created_ms": 3,
                    "updated_ms": 4}],
        "theme_exclusions": [{"theme_id": "th1", "note_id": "note00001"}],
    }


def test_a_valid_record_becomes_rows_for_every_column():
    rows = record.rows_from_record(minimal())
    assert rows.event["id"] == "event0001"
    (note,) = rows.notes
    assert "votes" not in note and note["deleted_ms"] is None
    assert rows.participants[0]["display_name"] is None
    assert rows.tables[0]["event_id"] == rows.topics[0]["event_id"] == "event0001"


def test_themes_come_back_with_their_event_and_a_version_1_record_has_none():
    rows = record.rows_from_record(minimal())
    assert rows.themes[0]["event_id"] == "event0001" and rows.themes[0]["label"] == "Greetings"
    assert rows.theme_exclusions == [{"theme_id": "th1", "note_id": "note00001"}]
    old = minimal() | {"schema_version": 1}
    del old["themes"], old["theme_exclusions"]
    rows = record.rows_from_record(old)
    assert rows.themes == [] and rows.theme_exclusions == []


def test_every_column_of_the_store_is_recorded_or_left_out_on_purpose():
    for part, table_name in record.STORE_TABLES.items():
        columns = set(metadata.tables[table_name].columns.keys())
        recorded = set(record.FIELDS[part]) - record.DERIVED.get(part, frozenset())
        left_out = set(record.NOT_RECORDED.get(part, {}))
        assert columns == recorded | left_out, (part, columns ^ (recorded | left_out))
    covered = set(record.STORE_TABLES.values()) | set(record.NOT_RECORDED_TABLES)
    assert set(metadata.tables) - {"alembic_version"} == covered


def broken(change) -> dict[str, Any]:
    data = copy.deepcopy(minimal())
    change(data)
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(format="something-else"), "format"),
    (lambda d: d.update(schema_version=3), "schema version 3"),
    (lambda d: d.update(schema_version=True), "schema version True"),
    (lambda d: d["themes"][0].update(notes=["gone"]), "themes[0].notes has 'gone'"),
    (lambda d: d["themes"][0].update(keywords=[1]), "themes[0].keywords should be a list"),
    (lambda d: d["themes"][0].update(merged_into="x"), "themes[0].merged_into 'x'"),
    (lambda d: d["theme_exclusions"][0].update(theme_id="x"), "theme_exclusions[0].theme_id"),
    (lambda d: d["theme_exclusions"][0].update(note_id="x"), "theme_exclusions[0].note_id"),
    (lambda d: d.pop("votes"), "no 'votes'"),
    (lambda d: d.update(notes={}), "'notes' is not a list"),
    (lambda d: d["notes"][0].pop("text"), "notes[0] has no 'text'"),
    (lambda d: d["notes"][0].update(votes=True), "notes[0].votes should be int"),
    (lambda d: d["notes"][0].update(hidden=0), "notes[0].hidden should be bool"),
    (lambda d: d["tables"][0].update(extra=1), "tables[0] has unknown fields ['extra']"),
    (lambda d: d["votes"][0].update(note_id="gone00000"), "votes[0].note_id 'gone00000' is not in"),
    (lambda d: d["notes"][0].update(participant_id="x"), "notes[0].participant_id 'x'"),
    (lambda d: d["tables"][0].update(topic_id=9), "tables[0].topic_id 9"),
    (lambda d: d["event"]["template"].update(stages=[]), "event.template"),
])
def test_a_bad_record_is_refused_saying_where(change, message):
    with pytest.raises(InvalidPayload, match="not a Plenary event record") as caught:
        record.rows_from_record(broken(change))
    assert message in caught.value.message


def test_not_an_object_at_all():
    with pytest.raises(InvalidPayload):
        record.rows_from_record([1, 2, 3])
