"""Validation of every inbound payload: types, lengths, and no unknown fields.

Each socket.io event and the connection's ``auth`` has a model here. A bad
payload raises :class:`InvalidPayload` naming the field, never a stack trace.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal, TypeVar

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
NOTE_TEXT_CEILING = 1000
NAME_MAX = 40
GROUP_LABEL_MAX = 80
SUMMARY_CEILING = 5000

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
    text: StrictStr = Field(max_length=NOTE_TEXT_CEILING * 4)
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
    text: StrictStr = Field(max_length=NOTE_TEXT_CEILING * 4)
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
    label: StrictStr = Field(max_length=400)
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
    text: StrictStr = Field(max_length=SUMMARY_CEILING * 4)
    table: ClientId | None = None


class TableReady(_Payload):
    ready: bool
    table: ClientId | None = None


class TimerSet(_Payload):
    action: Literal["start", "pause", "resume", "extend", "stop"]
    seconds: Annotated[StrictInt, Field(ge=1, le=8 * 3600)] | None = None


class MessageSet(_Payload):
    text: StrictStr | None = Field(max_length=1000)


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


def parse(model: type[P], data: Any, *, what: str) -> P:
    """Validate ``data`` against ``model`` or raise InvalidPayload naming the field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidPayload(f"{what}: expected an object with named fields, "
                             f"got {type(data).__name__}.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(payload)"
        if err["type"] == "extra_forbidden":
            msg = "is not a field this message takes"
        elif err["type"] == "missing":
            msg = "is required"
        else:
            msg = err["msg"][0].lower() + err["msg"][1:]
        raise InvalidPayload(f"{what}: {field} {msg}.") from None


def clean_text(text: str, *, limit: int, what: str = "note") -> str:
    """Normalise user text (NFC, no control characters, trimmed) and enforce ``limit``."""
    text = text.replace("\r\n", "\n").replace("\u2028", "\n")
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise InvalidPayload(f"Your {what} is empty. Write something first.", code="empty_text")
    if len(text) > limit:
        raise InvalidPayload(
            f"Your {what} is {len(text)} characters long; the limit is {limit}. "
            "Shorten it and send it again.",
            code="text_too_long",
        )
    return text


def clean_name(name: str | None) -> str | None:
    """A display name, trimmed to something that fits on a note, or None for anonymous."""
    if name is None:
        return None
    name = " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", name)).split())
    return name[:NAME_MAX] or None
