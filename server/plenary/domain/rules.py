"""How an event moves: its status, the lockstep stage, each table's step.

Shaped like starlette's WebSocketState checks: an explicit state, a table of
allowed moves, and an error that says what was expected and what to do.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import IllegalMove, InvalidPayload
from .model import EventState, EventStatus, TableState
from .template import Template

#: (status, verb) -> new status. Anything not listed is refused.
EVENT_TRANSITIONS: dict[tuple[EventStatus, str], EventStatus] = {
    (EventStatus.DRAFT, "start"): EventStatus.LIVE,
    (EventStatus.LIVE, "close"): EventStatus.CLOSED,
    (EventStatus.CLOSED, "reopen"): EventStatus.LIVE,
}

#: verb -> (the status it needs, in words; its past participle)
_VERBS = {
    "start": ("a draft", "started"),
    "close": ("live", "closed"),
    "reopen": ("closed", "reopened"),
}


def change_status(status: EventStatus, verb: str) -> EventStatus:
    """The event's status after ``verb`` (start, close, reopen), or IllegalMove."""
    try:
        return EVENT_TRANSITIONS[(status, verb)]
    except KeyError:
        if verb not in _VERBS:
            raise IllegalMove(f"Unknown event action {verb!r}.", code="unknown_action") from None
        needs, done = _VERBS[verb]
        raise IllegalMove(
            f"Cannot {verb} the event: it is {status.value}, and only an event that is "
            f"{needs} can be {done}.",
            code="event_status",
        ) from None


def require_draft(status: EventStatus, doing: str) -> None:
    """Set-up (topics, tables) can change only before the event goes live."""
    if status is not EventStatus.DRAFT:
        raise IllegalMove(f"Cannot {doing}: the event has started, and its set-up is fixed "
                          "once it is live.", code="event_not_draft")


def require_live(event: EventState, doing: str) -> None:
    """Refuse ``doing`` unless the event is live, saying why in words."""
    if event.status is EventStatus.DRAFT:
        raise IllegalMove(
            f"Cannot {doing}: the event has not started yet. "
            "The organiser starts it from the console.",
            code="event_not_live",
        )
    if event.status is EventStatus.CLOSED:
        raise IllegalMove(
            f"Cannot {doing}: the event has closed. Nothing more can be changed.",
            code="event_closed",
        )


def _check_expected(actual: int, expected: int | None, what: str) -> None:
    # Two clicks on "next" from two screens must not skip two stages: a client
    # says where it thinks the event is, and a stale view is refused.
    if expected is not None and expected != actual:
        raise IllegalMove(
            f"The {what} has already moved (it is now {what} {actual + 1}); "
            "your screen was behind and has been brought up to date.",
            code="stale",
        )


def move_stage(event: EventState, delta: int, *, expected: int | None = None) -> int:
    """The lockstep stage index after moving ``delta`` (+1 or -1) stages."""
    require_live(event, "change the stage")
    _check_expected(event.stage_index, expected, "stage")
    if delta not in (-1, 1):
        raise IllegalMove("The stage moves one at a time, forwards or back.", code="bad_move")
    target = event.stage_index + delta
    count = len(event.template.stages)
    if target >= count:
        raise IllegalMove(
            f"This is the last stage ({count} of {count}). Close the event when you are done.",
            code="no_next_stage",
        )
    if target < 0:
        raise IllegalMove("This is already the first stage.", code="no_previous_stage")
    return target


def move_step(
    event: EventState, table: TableState, delta: int, *, expected: int | None = None
) -> int:
    """The table's step index after moving ``delta`` (+1 or -1) steps within its stage."""
    require_live(event, "change the step")
    _check_expected(table.step_index, expected, "step")
    if delta not in (-1, 1):
        raise IllegalMove("The step moves one at a time, forwards or back.", code="bad_move")
    steps = table.stage(event.template).steps
    target = table.step_index + delta
    if target >= len(steps):
        raise IllegalMove(
            f"This is the stage's last step ({len(steps)} of {len(steps)}). "
            "The organiser moves every table to the next stage.",
            code="no_next_step",
        )
    if target < 0:
        raise IllegalMove("This is already the stage's first step.", code="no_previous_step")
    return target


def check_can_post(event: EventState, table: TableState, *, queued: bool = False) -> bool:
    """Refuse a new note unless the table's current step accepts notes; True if late.

    A note the phone kept while offline (``queued``) was written while posting
    was open: it is accepted whatever the step now, and after the close it is
    kept and marked late rather than lost.
    """
    if queued and event.status is EventStatus.CLOSED:
        return True
    require_live(event, "post a note")
    if queued:
        return False
    step = table.step(event.template)
    if not step.accepts_notes:
        raise IllegalMove(
            f"Notes are closed during the '{step.title}' step. "
            "Your facilitator will open them again.",
            code="posting_closed",
        )
    return False


def fit_category(template: Template, table: TableState, category: str | None) -> str | None:
    """A queued note's category if it still fits the table's stage, else none (never lost)."""
    ids = {c.id for c in table.stage(template).categories}
    return category if category in ids else None


def check_category(template: Template, table: TableState, category: str | None) -> None:
    """A stage with categories needs one of them; a stage without takes none."""
    categories = table.stage(template).categories
    if not categories:
        if category is not None:
            raise IllegalMove("This stage has no categories; post without one.",
                              code="bad_category")
        return
    ids = [c.id for c in categories]
    if category not in ids:
        labels = " or ".join(c.label for c in categories)
        raise IllegalMove(f"Pick a category for this note: {labels}.", code="bad_category")


#: How long after posting closed (the step or stage moved on, or the event closed)
#: a note the phone kept offline is still taken. Ten minutes covers what venue
#: wifi does to a phone: a dropped connection noticed within 45 s (heartbeat), a
#: phone asleep in a pocket through a step, a walk out of range and back during a
#: break; and it is short enough that the table is still on the stage that follows
#: (grouping, voting, summarising what was written). A client cannot keep adding
#: notes to a stage that closed long ago, or to an event closed yesterday.
QUEUED_GRACE_MS = 10 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Position:
    """Where a table was from ``at_ms`` on: the event's status, its stage and step."""

    at_ms: int
    status: EventStatus
    stage: int
    step: int


def queued_stage(template: Template, table: TableState, stage: int | None) -> int:
    """The stage a queued note is filed under: the one it names (never ahead of the table).

    A stage the template does not have is refused (``bad_stage``).
    """
    if stage is None:
        return table.stage_index
    if stage >= len(template.stages):
        raise InvalidPayload(f"This event has no stage {stage + 1}; the note cannot be "
                             "filed there.", code="bad_stage")
    return min(stage, table.stage_index)


def check_queued_in_time(template: Template, history: Sequence[Position], stage: int,
                         now_ms: int, grace_ms: int = QUEUED_GRACE_MS) -> None:
    """Refuse a queued note for ``stage`` unless posting there is open or closed lately.

    ``history`` is the table's positions in order, the current one last. Posting
    in the stage closed at the last move from a position where it was open to
    one where it is not (another step, another stage, the event closed).
    """
    def posting_open(pos: Position) -> bool:
        return (pos.status is EventStatus.LIVE and pos.stage == stage
                and template.stages[stage].steps[pos.step].accepts_notes)

    if history and posting_open(history[-1]):
        return
    closed_at = None
    for before, after in itertools.pairwise(history):
        if posting_open(before) and not posting_open(after):
            closed_at = after.at_ms
    if closed_at is None:
        raise IllegalMove("Notes were never open in that stage, so this note cannot be "
                          "filed there.", code="posting_closed")
    if now_ms - closed_at > grace_ms:
        minutes = (now_ms - closed_at) // 60_000
        raise IllegalMove(
            f"This note was kept on your device for {minutes} minutes after writing "
            f"closed; notes are taken up to {grace_ms // 60_000} minutes late. Copy it "
            "and hand it to your facilitator.", code="queue_expired")
