"""What every action shares: its result, the caller's session, and the scope it loads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection

from ..domain.controls import check_not_locked
from ..domain.errors import DomainError, InvalidPayload, NotFound, Unauthenticated
from ..domain.model import EventState, TableState, event_state, table_state
from ..domain.permissions import Action, Actor, Role, authorize
from ..store import queries as q
from ..wire import change_out

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action returns: the acknowledgement, and the changes to broadcast."""

    ack: dict[str, Any]
    event_id: str
    changes: list[Row] = field(default_factory=list)
    #: The event's new public state, when an event-wide setting changed.
    event: dict[str, Any] | None = None

    def broadcasts(self) -> list[dict[str, Any]]:
        """The changes in their wire form (still carrying ``private_to``)."""
        return [change_out(c) for c in self.changes]


@dataclass(frozen=True, slots=True)
class Session:
    """A connection's authenticated identity and what it may see."""

    actor: Actor
    name: str | None = None
    #: The credential it connected with, as :func:`credential_of` states it (a link's
    #: generation, a table's join code); None for the server's own sessions.
    credential: str | None = None


def credential_of(role: Role, event: Row | None, table: Row | None) -> str | None:
    """The current credential of ``role`` for this event or table (None if it is gone)."""
    if role is Role.PARTICIPANT:
        return None if table is None else f"code:{table['join_code']}"
    if role is Role.FACILITATOR:
        return None if table is None else f"gen:{table['facilitator_gen']}"
    if event is None:
        return None
    return f"gen:{event['organiser_gen' if role is Role.ORGANISER else 'dashboard_gen']}"


T = TypeVar("T")

#: ``conn.info`` key: the session whose credential this action has still to check.
_UNCHECKED = "plenary.unchecked_credential"


def run_checked(conn: Connection, body: Callable[..., T], session: Session, *args: Any) -> T:
    """``body(conn, session, *args)``, refused if the session's credential was replaced.

    A body that loads its scope checks the credential on the rows it locks there
    (:func:`load_scope`), saving a read of the same table row on every post; any
    other is checked once it has run, in the same savepoint, so what it wrote is
    rolled back with the refusal.
    """
    conn.info[_UNCHECKED] = session
    try:
        result = body(conn, session, *args)
    except DomainError:
        _settle_credential(conn, session)  # a replaced link is the answer that counts
        raise
    else:
        _settle_credential(conn, session)
        return result
    finally:
        conn.info.pop(_UNCHECKED, None)


def _settle_credential(conn: Connection, session: Session) -> None:
    if conn.info.pop(_UNCHECKED, None) is not None:
        check_credential(conn, session)


def _check_on_scope(conn: Connection, actor: Actor, event: Row, table: Row) -> None:
    session = conn.info.get(_UNCHECKED)
    if session is None or session.actor is not actor:
        return
    if actor.table_id is not None and actor.table_id != table["id"]:
        return  # not the table the credential is for: checked after the body
    del conn.info[_UNCHECKED]
    own_table = table if actor.table_id is not None else None
    if session.credential is not None \
            and credential_of(actor.role, event, own_table) != session.credential:
        raise _replaced()


def _replaced() -> Unauthenticated:
    return Unauthenticated(
        "The link or join code this screen was opened with has been replaced. Ask "
        "the organiser for the new one.", code="credential_replaced")


def check_credential(conn: Connection, session: Session) -> None:
    """Refuse a connection whose link or join code was replaced after it connected.

    Checked inside every action's transaction, so it holds on whichever process
    the connection is, whether or not that process saw the replacement happen.
    """
    if session.credential is None:
        return
    actor = session.actor
    table = q.table_row(conn, actor.table_id) if actor.table_id is not None else None
    event = q.event_row(conn, actor.event_id) if table is None else None
    if credential_of(actor.role, event, table) != session.credential:
        raise _replaced()


@dataclass(frozen=True, slots=True)
class Scope:
    """An event and one of its tables, as loaded inside a write transaction."""

    event: EventState
    row: Row
    event_locked: bool = False

    @property
    def table(self) -> TableState:
        return table_state(self.row)


def load_scope(conn: Connection, actor: Actor, table_id: str, *,
               event_lock: q.Lock = "share") -> Scope:
    """The actor's event and one of its tables, locked for the rest of the transaction.

    Every read-then-write takes its locks here, always event before table, so
    that on PostgreSQL two actions on one table run one after the other (a vote
    limit, a step move) and an event-wide move waits for the table actions in
    flight (and they for it). NotFound if the table is not the event's.
    """
    event = q.event_row(conn, actor.event_id, lock=event_lock)
    row = q.table_row(conn, table_id, lock="update")
    if event is None or row is None or row["event_id"] != actor.event_id:
        raise NotFound("There is no such table in this event.")
    _check_on_scope(conn, actor, event, row)
    return Scope(event_state(event), row, event_locked=event["locked"])


def staff_scope(conn: Connection, actor: Actor, table_id: str | None, *,
                event_lock: q.Lock = "share") -> Scope:
    """The table a facilitator (theirs) or the organiser (named) is acting on."""
    table_id = table_id or actor.table_id
    if table_id is None:
        raise InvalidPayload("Say which table (the 'table' field).")
    authorize(actor, Action.RUN_TABLE, event_id=actor.event_id, table_id=table_id)
    return load_scope(conn, actor, table_id, event_lock=event_lock)


def load_event(conn: Connection, event_id: str) -> Row:
    """The event's row, locked for an event-wide change (NotFound if it is gone)."""
    row = q.event_row(conn, event_id, lock="update")
    if row is None:
        raise NotFound("This event no longer exists.")
    return row


def participant(actor: Actor, action: Action, table_id: str | None = None) -> None:
    """Check a participant may do ``action`` at their own table (and only there)."""
    authorize(actor, action, event_id=actor.event_id, table_id=table_id or actor.table_id)
    assert actor.table_id is not None and actor.participant_id is not None


def check_unlocked(scope: Scope, doing: str) -> None:
    """Refuse a change to a board locked on its own or with the whole event."""
    check_not_locked(scope.event_locked, scope.row["locked"], doing)


def without_votes(note: dict[str, Any]) -> dict[str, Any]:
    """A changed note's wire form without its count (one broadcast serves every viewer)."""
    # Phones are blind to counts during a vote, staff see them: clients keep theirs.
    del note["votes"]
    return note


def private_to(note: Row) -> str | None:
    """Changes to a note still in silent writing are for its author (and staff) only."""
    return note["participant_id"] if note["private"] else None
