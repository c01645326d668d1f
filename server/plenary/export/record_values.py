"""The values a JSON record may hold: as strict as live input (``plenary import``).

``record.py`` checks that every field is there with its JSON type; this checks
what is in it, with the same rules the live server applies when the value is
first typed (join codes, ids, statuses, stage and step indexes, lengths, control
characters), so an imported event can hold nothing a live one could not.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from ..domain.controls import MESSAGE_MAX, TimerState
from ..domain.credentials import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH
from ..domain.model import EventStatus
from ..domain.payloads import (
    GROUP_LABEL_MAX,
    NAME_MAX,
    NOTE_TEXT_CEILING,
    SUMMARY_BYTES_CEILING,
    SUMMARY_CEILING,
    TEXT_BYTES_CEILING,
    visible_length,
)
from ..domain.template import Template
from ..domain.topics_csv import BRIEF_MAX, TITLE_MAX
from ..store.records import ANONYMOUS_KEY_HASH

#: A problem with a value, in words, or None when it is fine.
Check = Callable[[Any], str | None]

#: Ids as the live server makes them (and takes them from clients): no '.', no '/'.
_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
#: A record's anonymous writers share one participant per table, ``~`` and a hash
#: (plenary.store.records.anonymous_participant_id).
_PARTICIPANT_ID = re.compile(r"~?[A-Za-z0-9_-]{8,64}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
#: A rejoin key's SHA-256; the anonymous participant's is "anonymous", which no key
#: hashes to, so nobody can rejoin as them.
_HASH = re.compile(f"[0-9a-f]{{64}}|{ANONYMOUS_KEY_HASH}")
_JOIN_CODE = re.compile(f"[{JOIN_CODE_ALPHABET}]{{{JOIN_CODE_LENGTH}}}")
# Control characters other than tab and line ends, which live input removes (a
# carriage return it turns into a newline; older records may keep one).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: Integers in a record are counts, generations, sequence numbers and times in ms:
#: never negative, and within what JSON numbers and the database hold exactly.
INT_MAX = 2**53


def _pattern(regex: re.Pattern[str], what: str) -> Check:
    def check(value: Any) -> str | None:
        if value is None or regex.fullmatch(value):
            return None
        return f"is not {what}"
    return check


def _one_of(values: set[str]) -> Check:
    def check(value: Any) -> str | None:
        return None if value in values else f"is not one of {sorted(values)}"
    return check


def _text(limit: int, *, multiline: bool = False, required: bool = False,
          byte_limit: int = TEXT_BYTES_CEILING) -> Check:
    control = _CONTROL if multiline else _CONTROL_OR_LINE

    def check(value: Any) -> str | None:
        if value is None:
            return None
        if required and not value.strip():
            return "is empty"
        if len(value.encode("utf-8", "surrogatepass")) > byte_limit \
                or visible_length(value) > limit:
            return f"is longer than {limit:,} characters"
        if control.search(value):
            return "holds a control character"
        return None
    return check


def _int(low: int, high: int = INT_MAX) -> Check:
    def check(value: Any) -> str | None:
        if value is None or low <= value <= high:
            return None
        return f"is not a whole number from {low:,} to {high:,}"
    return check


def _date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return "is not a date (YYYY-MM-DD)"
    return None


def _spotlight(value: Any) -> str | None:
    if value is None:
        return None
    if not set(value) <= {"kind", "id", "note"} or value.get("kind") not in (
            "table", "topic", "note"):
        return "is not a spotlight ({\"kind\": table, topic or note, \"id\"})"
    target = value.get("id")
    if value["kind"] == "topic":
        ok = type(target) is int and 0 < target <= INT_MAX
    else:
        ok = isinstance(target, str) and _ID.fullmatch(target) is not None
    return None if ok else "names no table, topic or note"


_IDS = _pattern(_ID, "an id (8 to 64 letters, digits, - or _)")
_PARTICIPANT = _pattern(_PARTICIPANT_ID, "a participant's id")
_NATURAL = _int(0)

#: The checks beyond type, per part and field. Integer fields not named here are
#: checked against ``_NATURAL``; stage and step indexes against the template.
VALUES: dict[str, dict[str, Check]] = {
    "event": {
        "id": _IDS, "title": _text(200, required=True), "venue": _text(200),
        "starts_on": _date, "template_name": _pattern(_SLUG, "a template name"),
        "status": _one_of({s.value for s in EventStatus}),
        "timer_state": _one_of({s.value for s in TimerState}),
        "message": _text(MESSAGE_MAX), "spotlight": _spotlight,
    },
    "topics": {"id": _int(1), "title": _text(TITLE_MAX, required=True),
               "brief": _text(BRIEF_MAX, multiline=True)},
    "tables": {
        "id": _IDS, "number": _int(1, 10_000), "topic_id": _int(1),
        "join_code": _pattern(_JOIN_CODE, f"a join code ({JOIN_CODE_LENGTH} of "
                                          f"{JOIN_CODE_ALPHABET})"),
        "facilitator_name": _text(80),
    },
    "participants": {"id": _PARTICIPANT, "table_id": _IDS,
                     "key_hash": _pattern(_HASH, "a SHA-256 hash in hex")},
    "groups": {"id": _IDS, "table_id": _IDS, "label": _text(GROUP_LABEL_MAX, required=True)},
    "summaries": {"table_id": _IDS, "text": _text(SUMMARY_CEILING, multiline=True,
                                                  byte_limit=SUMMARY_BYTES_CEILING)},
    "notes": {
        "id": _IDS, "table_id": _IDS, "participant_id": _PARTICIPANT, "group_id": _IDS,
        "merged_into": _IDS, "category": _pattern(_SLUG, "a category id"),
        "text": _text(NOTE_TEXT_CEILING, multiline=True, required=True),
        "author": _text(NAME_MAX),
    },
    "votes": {"id": _IDS, "table_id": _IDS, "note_id": _IDS, "participant_id": _PARTICIPANT},
}


def value_problem(part: str, name: str, value: Any) -> str | None:
    """What is wrong with ``value`` for ``part.name`` (type already checked), or None."""
    check = VALUES.get(part, {}).get(name)
    if check is None and type(value) is int and name not in ("stage_index", "step_index"):
        check = _NATURAL
    return check(value) if check is not None else None


def position_problems(part: str, row: dict[str, Any], template: Template) -> list[str]:
    """Stage and step indexes that name no stage or step of the event's template."""
    stage = row.get("stage_index")
    if stage is None:
        return []
    if type(stage) is not int or not 0 <= stage < len(template.stages):
        return [f"stage_index {stage!r} is not a stage of the template "
                f"(it has {len(template.stages)})"]
    step = row.get("step_index")
    steps = len(template.stages[stage].steps)
    if step is not None and (type(step) is not int or not 0 <= step < steps):
        return [f"step_index {step!r} is not a step of stage {stage + 1} (it has {steps})"]
    return []
