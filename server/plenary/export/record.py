"""The JSON record of an event: schema version 1, documented in docs/export.md.

The record is the complete event: enough to restore it, with every id, into an
empty database (``plenary import``). Its parts carry the store's column names.
Reading a record checks every field's presence and type, so a damaged or foreign
file is refused with a message that names the part and the field.

Never in a record: deleted notes (and votes on them), participants' display
names, rejoin keys (only their hashes, as the database keeps them), the
change log that live pages replay (it is rebuilt as the event goes on), and the
notes' embeddings (recomputed from the text by the themes extra).

Version 2 added the cross-table themes (``themes``, ``theme_exclusions``);
a version 1 record still imports, with no themes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.errors import InvalidPayload
from ..domain.template import TemplateError, template_from_data
from ..store.records import (
    EventInfo,
    GroupRecord,
    NoteRecord,
    ParticipantRecord,
    RecordRows,
    SummaryRecord,
    TableRecord,
    ThemeRecord,
    TopicRecord,
    VoteRecord,
)
from .record_values import position_problems, value_problem

FORMAT = "plenary-event"
SCHEMA_VERSION = 2
#: Versions this Plenary imports; what a version lacks comes back empty.
READS = {1: ("themes", "theme_exclusions"), 2: ()}

_STR = (str,)
_OPT_STR = (str, type(None))
_INT = (int,)
_OPT_INT = (int, type(None))
_BOOL = (bool,)
_DICT = (dict,)
_LIST = (list,)

#: Every part of a record, its fields and their JSON types, in the order written.
FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "event": {
        "id": _STR, "title": _STR, "venue": _STR, "starts_on": _OPT_STR,
        "template_name": _STR, "template": _DICT, "status": _STR, "stage_index": _INT,
        "organiser_gen": _INT, "dashboard_gen": _INT, "created_ms": _INT,
        "timer_state": _STR, "timer_ends_ms": _OPT_INT, "timer_remaining_ms": _OPT_INT,
        "message": _OPT_STR, "spotlight": (dict, type(None)), "locked": _BOOL,
    },
    "topics": {"id": _INT, "position": _INT, "title": _STR, "brief": _STR},
    "tables": {
        "id": _STR, "number": _INT, "topic_id": _OPT_INT, "join_code": _STR,
        "facilitator_name": _OPT_STR, "facilitator_gen": _INT, "stage_index": _INT,
        "step_index": _INT, "seq": _INT, "ready": _BOOL, "locked": _BOOL,
    },
    "participants": {"id": _STR, "table_id": _STR, "key_hash": _STR, "created_ms": _INT},
    "groups": {"id": _STR, "table_id": _STR, "stage_index": _INT, "label": _STR,
               "created_ms": _INT},
    "summaries": {"table_id": _STR, "stage_index": _INT, "text": _STR, "updated_ms": _INT},
    "notes": {
        "id": _STR, "table_id": _STR, "participant_id": _STR, "stage_index": _INT,
        "step_index": _INT, "category": _OPT_STR, "text": _STR, "author": _OPT_STR,
        "created_ms": _INT, "created_seq": _INT, "updated_ms": _OPT_INT, "hidden": _BOOL,
        "starred": _BOOL, "group_id": _OPT_STR, "late": _BOOL, "private": _BOOL,
        "merged_into": _OPT_STR,
        # Derived (the number of votes rows for the note); ignored on import.
        "votes": _INT,
    },
    "votes": {"id": _STR, "table_id": _STR, "note_id": _STR, "participant_id": _STR,
              "stage_index": _INT, "created_ms": _INT},
    "themes": {
        "id": _STR, "stage_index": _INT, "category": _OPT_STR, "name": _STR,
        "named_size": _INT, "notes": _LIST, "keywords": _LIST, "tables": _INT,
        "topics": _INT, "rank": _INT, "active": _BOOL, "label": _OPT_STR, "hidden": _BOOL,
        "merged_into": _OPT_STR, "created_ms": _INT, "updated_ms": _INT,
    },
    "theme_exclusions": {"theme_id": _STR, "note_id": _STR},
}

#: Parts that are lists, in the order a record holds them.
LISTS = ("topics", "tables", "participants", "groups", "summaries", "notes", "votes",
         "themes", "theme_exclusions")

#: Fields a record carries that are not stored (recomputed from other rows).
DERIVED = {"notes": frozenset({"votes"})}

#: Columns of the store a record leaves out, and why (tests/unit/test_export_record.py
#: fails when a column is neither here nor in FIELDS: a new column needs a decision).
NOT_RECORDED: dict[str, dict[str, str]] = {
    "topics": {"event_id": "implied: the record is one event"},
    "tables": {"event_id": "implied: the record is one event"},
    "participants": {"display_name": "names reach a record only on named notes"},
    "notes": {"deleted_ms": "deleted notes are not in a record"},
    "themes": {"event_id": "implied: the record is one event"},
}

#: The store's tables a record leaves out altogether.
NOT_RECORDED_TABLES = {
    "changes": "the log live pages replay; it starts again after an import",
    "note_vectors": "embeddings, recomputed from the notes' text (the themes extra)",
    "console_sessions": "who is signed in to a console here: a server's, not an event's",
}

#: Which store table each part of a record fills.
STORE_TABLES = {"event": "events", "topics": "topics", "tables": "board_tables",
                "participants": "participants", "groups": "note_groups",
                "summaries": "summaries", "notes": "notes", "votes": "votes",
                "themes": "themes", "theme_exclusions": "theme_exclusions"}


# --- writing -----------------------------------------------------------------

def event_item(e: EventInfo) -> dict[str, Any]:
    item = {name: e.columns[name] for name in FIELDS["event"]}
    item["locked"] = bool(item["locked"])
    return item


def topic_item(t: TopicRecord) -> dict[str, Any]:
    return {"id": t.id, "position": t.position, "title": t.title, "brief": t.brief}


def table_item(t: TableRecord) -> dict[str, Any]:
    return {"id": t.id, "number": t.number, "topic_id": t.topic_id, "join_code": t.join_code,
            "facilitator_name": t.facilitator_name, "facilitator_gen": t.facilitator_gen,
            "stage_index": t.stage_index, "step_index": t.step_index, "seq": t.seq,
            "ready": t.ready, "locked": t.locked}


def participant_item(p: ParticipantRecord) -> dict[str, Any]:
    return {"id": p.id, "table_id": p.table_id, "key_hash": p.key_hash,
            "created_ms": p.created_ms}


def group_item(g: GroupRecord) -> dict[str, Any]:
    return {"id": g.id, "table_id": g.table_id, "stage_index": g.stage_index, "label": g.label,
            "created_ms": g.created_ms}


def summary_item(s: SummaryRecord) -> dict[str, Any]:
    return {"table_id": s.table_id, "stage_index": s.stage_index, "text": s.text,
            "updated_ms": s.updated_ms}


def note_item(n: NoteRecord) -> dict[str, Any]:
    return {"id": n.id, "table_id": n.table_id, "participant_id": n.participant_id,
            "stage_index": n.stage_index, "step_index": n.step_index, "category": n.category,
            "text": n.text, "author": n.author, "created_ms": n.created_ms,
            "created_seq": n.created_seq, "updated_ms": n.updated_ms, "hidden": n.hidden,
            "starred": n.starred, "group_id": n.group_id, "late": n.late,
            "private": n.private, "merged_into": n.merged_into, "votes": n.votes}


def vote_item(v: VoteRecord) -> dict[str, Any]:
    return {"id": v.id, "table_id": v.table_id, "note_id": v.note_id,
            "participant_id": v.participant_id, "stage_index": v.stage_index,
            "created_ms": v.created_ms}


def theme_item(t: ThemeRecord) -> dict[str, Any]:
    return {"id": t.id, "stage_index": t.stage_index, "category": t.category, "name": t.name,
            "named_size": t.named_size, "notes": t.notes, "keywords": t.keywords,
            "tables": t.tables, "topics": t.topics, "rank": t.rank, "active": t.active,
            "label": t.label, "hidden": t.hidden, "merged_into": t.merged_into,
            "created_ms": t.created_ms, "updated_ms": t.updated_ms}


def theme_exclusion_item(pair: tuple[str, str]) -> dict[str, Any]:
    return {"theme_id": pair[0], "note_id": pair[1]}


# --- reading -----------------------------------------------------------------

def _bad(message: str) -> InvalidPayload:
    return InvalidPayload(f"This is not a Plenary event record we can import: {message}",
                          code="bad_record")


def _checked(part: str, index: int | None, item: Any) -> dict[str, Any]:
    where = part if index is None else f"{part}[{index}]"
    if not isinstance(item, Mapping):
        raise _bad(f"{where} is not an object.")
    spec = FIELDS[part]
    unknown = set(item) - set(spec)
    if unknown:
        raise _bad(f"{where} has unknown fields {sorted(unknown)}.")
    out = {}
    for name, types in spec.items():
        if name not in item:
            raise _bad(f"{where} has no {name!r}.")
        value = item[name]
        # bool is an int in Python; a record's integers are never booleans.
        if type(value) not in types:
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise _bad(f"{where}.{name} should be {expected}, not {value!r:.40}.")
        problem = value_problem(part, name, value)
        if problem is not None:
            raise _bad(f"{where}.{name} {value!r:.40} {problem}.")
        if name not in DERIVED.get(part, ()):
            out[name] = value
    return out


def rows_from_record(data: Any) -> RecordRows:
    """Check a parsed JSON record and turn it into rows for the store to insert."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise _bad(f"its \"format\" is not {FORMAT!r}.")
    version = data.get("schema_version")
    if type(version) is not int or version not in READS:
        raise _bad(f"it has schema version {version!r}; this Plenary reads versions "
                   f"{', '.join(map(str, READS))}. Import it with a Plenary of the same "
                   "version.")
    data = dict(data) | {part: [] for part in READS[version]}
    for part in ("event", *LISTS):
        if part not in data:
            raise _bad(f"it has no {part!r}.")
    event = _checked("event", None, data["event"])
    try:
        template = template_from_data(event["template"], source="the record's event.template")
    except TemplateError as exc:
        raise _bad(exc.message) from None
    for problem in position_problems("event", event, template):
        raise _bad(f"event.{problem}.")

    parts: dict[str, list[dict[str, Any]]] = {}
    for part in LISTS:
        items = data[part]
        if not isinstance(items, list):
            raise _bad(f"{part!r} is not a list.")
        parts[part] = [_checked(part, i, item) for i, item in enumerate(items)]
        for i, row in enumerate(parts[part]):
            for problem in position_problems(part, row, template):
                raise _bad(f"{part}[{i}].{problem}.")
    _check_unique_codes(parts["tables"])
    _check_references(parts)
    _check_themes(parts)
    event["spotlight"] = _spotlight(event["spotlight"], parts["notes"])
    # What a record leaves out comes back as: no deletion, no name, this event.
    restored = {"event_id": event["id"], "deleted_ms": None, "display_name": None}
    for row in parts["themes"]:  # text lists: notes and keywords
        row["notes"], row["keywords"] = list(row["notes"]), list(row["keywords"])
    for part, columns in NOT_RECORDED.items():
        for row in parts[part]:
            row.update({c: restored[c] for c in columns})
    return RecordRows(event=event, **parts)


def _spotlight(spotlight: dict[str, Any] | None,
               notes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A note spotlight only for a public note of the record, its copy matching it.

    The dashboard shows the copy; one that is stale, forged, or of a note hidden
    since must not reach the big screen, so such a spotlight is dropped.
    """
    if spotlight is None or spotlight["kind"] != "note":
        return spotlight
    note = next((n for n in notes if n["id"] == spotlight["id"]), None)
    copy = spotlight.get("note")
    if note is None or note["hidden"] or note["private"] or note["merged_into"] is not None \
            or not isinstance(copy, dict) or copy.get("id") != note["id"] \
            or copy.get("text") != note["text"]:
        return None
    return spotlight


def _check_unique_codes(tables: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for i, t in enumerate(tables):
        if t["join_code"] in seen:
            raise _bad(f"tables[{i}].join_code {t['join_code']!r} is another table's too.")
        seen.add(t["join_code"])


def _check_references(parts: dict[str, list[dict[str, Any]]]) -> None:
    """Every id a row refers to is in the record (else the rows could not be restored)."""
    known = {
        "topic_id": {t["id"] for t in parts["topics"]},
        "table_id": {t["id"] for t in parts["tables"]},
        "participant_id": {p["id"] for p in parts["participants"]},
        "note_id": {n["id"] for n in parts["notes"]},
    }
    for part in LISTS:
        for i, row in enumerate(parts[part]):
            for field, ids in known.items():
                value = row.get(field)
                if field in row and value is not None and value not in ids:
                    raise _bad(f"{part}[{i}].{field} {value!r} is not in the record.")


def _check_themes(parts: dict[str, list[dict[str, Any]]]) -> None:
    """Themes name notes of the record, exclusions name its themes, ids are text."""
    notes = {n["id"] for n in parts["notes"]}
    ids = {t["id"] for t in parts["themes"]}
    for i, t in enumerate(parts["themes"]):
        for field in ("notes", "keywords"):
            if not all(isinstance(x, str) for x in t[field]):
                raise _bad(f"themes[{i}].{field} should be a list of text.")
        stray = [n for n in t["notes"] if n not in notes]
        if stray:
            raise _bad(f"themes[{i}].notes has {stray[0]!r}, which is not in the record.")
        if t["merged_into"] is not None and t["merged_into"] not in ids:
            raise _bad(f"themes[{i}].merged_into {t['merged_into']!r} is not in the record.")
    for i, x in enumerate(parts["theme_exclusions"]):
        if x["theme_id"] not in ids:
            raise _bad(f"theme_exclusions[{i}].theme_id {x['theme_id']!r} is not in the "
                       "record.")
