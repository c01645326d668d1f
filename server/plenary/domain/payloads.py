"""Validation of every inbound payload: types, lengths, and no unknown fields.

Each socket.io event and the connection's ``auth`` has a model here. A bad
payload raises :class:`InvalidPayload` naming the field, never a stack trace.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal, TypeVar

import regex
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from .errors import InvalidPayload

#: Hard ceiling on a note, whatever the template says (templates allow up to 1000).
#: Lengths count what a person sees (grapheme clusters: 👍🏽 is one, not two code
#: points), as the phone's counter does.
NOTE_TEXT_CEILING = 1000
NAME_MAX = 40
GROUP_LABEL_MAX = 80
SUMMARY_CEILING = 5000

#: Bytes of UTF-8 a text may carry, whatever its length on screen: one visible
#: character can hide any number of combining marks. 16 kB is 1,000 characters
#: of the longest common emoji sequences (ZWJ families, ~25 bytes) with room to
#: spare; a summary gets 48 kB. Both sit well inside the 64 kB packet.
TEXT_BYTES_CEILING = 16 * 1024
SUMMARY_BYTES_CEILING = 48 * 1024

_GRAPHEME = regex.compile(r"\X")

# C0 and C1 control characters other than tab and newline: invisible, and some
# break terminals and spreadsheets. Joiners and direction marks stay: emoji
# sequences and right-to-left writing need them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def typed_array_to_bytes(value: Any) -> Any:
    """Accept a browser Uint8Array, which the msgpack parser sends as {"0": b0, "1": b1...}."""
    if isinstance(value, dict) and value and len(value) <= 1024:
        try:
            items = sorted((int(k), v) for k, v in value.items())
        except (TypeError, ValueError):
            return value
        if [k for k, _ in items] == list(range(len(items))) and all(
            isinstance(v, int) and 0 <= v <= 255 for _, v in items
        ):
            return bytes(v for _, v in items)
    return value


ClientId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Slug = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Seq = Annotated[StrictInt, Field(ge=0, le=2**53)]
Index = Annotated[StrictInt, Field(ge=0, le=1000)]
Key = Annotated[bytes, BeforeValidator(typed_array_to_bytes), Field(min_length=16, max_length=64)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ParticipantAuth(_Payload):
    """A phone joining a table: the table's join code and the key it keeps to rejoin."""

    join_code: StrictStr = Field(max_length=32)
    participant_key: Key
    name: StrictStr | None = Field(default=None, max_length=200)


class StaffAuth(_Payload):
    """A facilitator, organiser or dashboard: the capability token from their link."""

    token: StrictStr = Field(max_length=200)


class SyncRequest(_Payload):
    since: Seq | None = None


class NotePost(_Payload):
    id: ClientId
    # No max_length here: clean_text answers a long note with text_too_long, and the
    # 64 kB packet limit bounds what reaches it.
    text: StrictStr
    category: Slug | None = None
    table: ClientId | None = None
    #: Written while offline and kept on the phone until now...
    queued: bool = False
    #: ...during this stage (a queued note goes back to the stage it answers).
    stage: Index | None = None


class StepMove(_Payload):
    table: ClientId | None = None
    expected: Index | None = Field(default=None, alias="from")


class StageMove(_Payload):
    expected: Index | None = Field(default=None, alias="from")


class NoteEdit(_Payload):
    id: ClientId
    text: StrictStr
    category: Slug | None = None


class NoteRef(_Payload):
    id: ClientId
    table: ClientId | None = None


class NoteStar(_Payload):
    id: ClientId
    starred: bool
    table: ClientId | None = None


class NoteHide(_Payload):
    id: ClientId
    hidden: bool
    table: ClientId | None = None


class NoteMerge(_Payload):
    id: ClientId
    into: ClientId
    table: ClientId | None = None


class NoteGroup(_Payload):
    id: ClientId
    group: ClientId | None
    table: ClientId | None = None


class GroupSave(_Payload):
    id: ClientId
    label: StrictStr
    notes: list[ClientId] = Field(default_factory=list, max_length=200)
    table: ClientId | None = None


class GroupDelete(_Payload):
    id: ClientId
    table: ClientId | None = None


class VoteAdd(_Payload):
    id: ClientId
    note: ClientId


class VoteRemove(_Payload):
    id: ClientId


class SummarySet(_Payload):
    stage: Index
    text: StrictStr
    table: ClientId | None = None


class TableReady(_Payload):
    ready: bool
    table: ClientId | None = None


class TimerSet(_Payload):
    action: Literal["start", "pause", "resume", "extend", "stop"]
    seconds: Annotated[StrictInt, Field(ge=1, le=8 * 3600)] | None = None


class MessageSet(_Payload):
    text: StrictStr | None


class SpotlightSet(_Payload):
    # "themes": the room's cross-table themes; "theme": one of them (by id).
    kind: Literal["table", "topic", "note", "themes", "theme"] | None
    id: StrictStr | StrictInt | None = None


class BoardLock(_Payload):
    locked: bool
    table: ClientId | None = None


class StatusChange(_Payload):
    action: Literal["start", "close", "reopen"]


class Empty(_Payload):
    pass



P = TypeVar("P", bound=BaseModel)


#: What a person calls each request, for the messages they may read.
_REQUEST_NAMES = {
    "auth": "sign-in", "sync": "update", "note.post": "note", "note.edit": "change to a note",
    "note.delete": "deletion", "vote.add": "vote", "vote.remove": "vote",
    "note.star": "star", "note.hide": "change", "note.merge": "merge",
    "note.group": "change", "group.save": "group", "group.delete": "change",
    "summary.set": "summary", "table.ready": "change", "timer.set": "timer change",
    "message.set": "message", "spotlight.set": "spotlight change",
    "board.lock": "lock", "step.next": "step change", "step.prev": "step change",
    "stage.next": "stage change", "stage.prev": "stage change",
    "event.status": "change",
}

_TYPE_WORDS = {
    "string_type": "should be text", "int_type": "should be a whole number",
    "int_from_float": "should be a whole number", "bool_type": "should be true or false",
    "bytes_type": "should be bytes", "list_type": "should be a list",
    "dict_type": "should be an object", "model_type": "should be an object",
    "model_attributes_type": "should be an object", "none_required": "should be empty",
}


def _problem(err: Any) -> str:
    """Pydantic's error, in words a person (or a page's author) can act on."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not something this request takes"
    if kind == "string_pattern_mismatch":
        if "8,64" in str(ctx.get("pattern", "")):
            return "is not a valid id (8 to 64 letters, digits, - or _)"
        return "is not a valid name (lowercase letters, digits and -)"
    if kind in ("string_too_short", "too_short"):
        return f"is too short (at least {ctx.get('min_length')})"
    if kind in ("string_too_long", "too_long"):
        return f"is too long (at most {ctx.get('max_length')})"
    if kind in ("greater_than_equal", "greater_than"):
        return f"should be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"should be at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("literal_error", "enum"):
        return f"should be one of {ctx.get('expected')}"
    return "is not valid"


def parse(model: type[P], data: Any, *, what: str) -> P:
    """Validate ``data`` against ``model`` or raise InvalidPayload naming the field, in words.

    ``what`` is the event name; the message uses what a person calls it (a
    malformed request means an out-of-date or broken page, so it says to reload).
    """
    thing = _REQUEST_NAMES.get(what, "request")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidPayload(f"Your {thing} could not be sent: the page sent "
                             f"{_kind(data)} where named fields belong. Reload the page "
                             "and try again.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "payload"
        raise InvalidPayload(f"Your {thing} could not be sent: “{field[:40]}” "
                             f"{_problem(err)}. Reload the page and try again.") from None


def _kind(data: Any) -> str:
    if isinstance(data, str):
        return "text"
    if isinstance(data, bool):
        return "true or false"
    if isinstance(data, int | float):
        return "a number"
    if isinstance(data, list | tuple):
        return "a list"
    if isinstance(data, bytes | bytearray):
        return "bytes"
    return "something else"


def visible_length(text: str) -> int:
    """How many characters a person sees: grapheme clusters, not code points."""
    return len(_GRAPHEME.findall(text))


def check_length(text: str, *, limit: int, what: str,
                 byte_limit: int = TEXT_BYTES_CEILING) -> None:
    """Raise ``text_too_long`` past ``limit`` visible characters or ``byte_limit`` bytes."""
    size = len(text.encode("utf-8", "surrogatepass"))
    length = visible_length(text)
    if length > limit or size > byte_limit:
        raise InvalidPayload(
            f"Your {what} is {length:,} characters long; the limit is {limit:,}. "
            "Shorten it and send it again."
            if length > limit else
            f"Your {what} is too large to store ({size:,} bytes; the limit is "
            f"{byte_limit:,}). Shorten it and send it again.",
            code="text_too_long",
        )


def normalise_text(text: str) -> str:
    """User text as it is stored: NFC, no control characters, at most one blank line, trimmed."""
    text = text.replace("\r\n", "\n").replace("\u2028", "\n")
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_text(text: str, *, limit: int, what: str = "note",
               byte_limit: int = TEXT_BYTES_CEILING) -> str:
    """Normalise user text (NFC, no control characters, trimmed) and enforce ``limit``."""
    text = normalise_text(text)
    if not text:
        raise InvalidPayload(f"Your {what} is empty. Write something first.", code="empty_text")
    check_length(text, limit=limit, what=what, byte_limit=byte_limit)
    return text


def strip_controls(text: str, *, multiline: bool = False) -> str:
    """NFC text without control characters; one line with single spaces unless ``multiline``.

    For what organisers type (titles, venues, topics, briefs, names): a control
    character has no business there and breaks XML-based exports and terminals.
    """
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text.replace("\r\n", "\n")))
    return text.strip() if multiline else " ".join(text.split())


def clean_name(name: str | None) -> str | None:
    """A display name, trimmed to something that fits on a note, or None for anonymous."""
    if name is None:
        return None
    name = " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", name)).split())
    return name[:NAME_MAX] or None
