"""Who may do what: checked on the server for every action, whatever the page shows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import Forbidden


class Role(StrEnum):
    PARTICIPANT = "participant"
    FACILITATOR = "facilitator"
    ORGANISER = "organiser"
    DASHBOARD = "dashboard"


class Action(StrEnum):
    VIEW_TABLE = "view_table"
    VIEW_EVENT = "view_event"
    POST_NOTE = "post_note"
    EDIT_OWN_NOTE = "edit_own_note"
    VOTE = "vote"
    RUN_TABLE = "run_table"
    MOVE_STAGE = "move_stage"
    CHANGE_EVENT_STATUS = "change_event_status"


#: The roles allowed each action. Table-scoped roles are further held to their table.
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW_TABLE: frozenset(Role),
    Action.VIEW_EVENT: frozenset({Role.ORGANISER, Role.DASHBOARD}),
    Action.POST_NOTE: frozenset({Role.PARTICIPANT}),
    Action.EDIT_OWN_NOTE: frozenset({Role.PARTICIPANT}),
    Action.VOTE: frozenset({Role.PARTICIPANT}),
    # Steps, grouping, stars, hiding, summaries, ready. The organiser may run a
    # table when its facilitator is away.
    Action.RUN_TABLE: frozenset({Role.FACILITATOR, Role.ORGANISER}),
    Action.MOVE_STAGE: frozenset({Role.ORGANISER}),
    Action.CHANGE_EVENT_STATUS: frozenset({Role.ORGANISER}),
}

TABLE_SCOPED = frozenset({Role.PARTICIPANT, Role.FACILITATOR})

_WHO = {
    Action.VIEW_TABLE: "people at this table",
    Action.VIEW_EVENT: "the organiser and the dashboard",
    Action.POST_NOTE: "participants",
    Action.EDIT_OWN_NOTE: "the note's author",
    Action.VOTE: "participants",
    Action.RUN_TABLE: "the table's facilitator or the organiser",
    Action.MOVE_STAGE: "the organiser",
    Action.CHANGE_EVENT_STATUS: "the organiser",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a role within one event, and for table roles, one table."""

    role: Role
    event_id: str
    table_id: str | None = None
    participant_id: str | None = None

    def __post_init__(self) -> None:
        if (self.role in TABLE_SCOPED) != (self.table_id is not None):
            raise ValueError(f"a {self.role} actor needs a table id exactly when table-scoped")
        if (self.role is Role.PARTICIPANT) != (self.participant_id is not None):
            raise ValueError("a participant id goes with the participant role only")


def authorize(actor: Actor, action: Action, *, event_id: str, table_id: str | None = None) -> None:
    """Raise Forbidden unless ``actor`` may do ``action`` on this event (and table)."""
    if actor.role not in ALLOWED[action]:
        raise Forbidden(f"Only {_WHO[action]} can do that.")
    if actor.event_id != event_id:
        raise Forbidden("That belongs to another event.", code="wrong_event")
    if actor.role in TABLE_SCOPED and table_id is not None and actor.table_id != table_id:
        raise Forbidden("That belongs to another table.", code="wrong_table")
