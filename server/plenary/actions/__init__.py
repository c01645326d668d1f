"""Every change to an event: validate, check the rules, commit, then report.

Shaped like Zulip's ``zerver/actions/``: one module per kind of change
(:mod:`.notes`, :mod:`.votes`, :mod:`.tidying`, :mod:`.moves`, :mod:`.controls`,
:mod:`.setup`, :mod:`.restore`), plus :mod:`.joining` (who is connecting) and
:mod:`.reading` (catching a client up). Each action is a synchronous body over
one connection; :mod:`.transaction` (the write path) runs it in one
transaction and hands back what to acknowledge and broadcast only after the
commit. :class:`Actions` is the facade the transports (socket.io, HTTP) call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from ..domain.payloads import (
    BoardLock,
    GroupDelete,
    GroupSave,
    MessageSet,
    NoteEdit,
    NoteGroup,
    NoteHide,
    NoteMerge,
    NotePost,
    NoteRef,
    NoteStar,
    ParticipantAuth,
    SpotlightSet,
    StaffAuth,
    StageMove,
    StatusChange,
    StepMove,
    SummarySet,
    SyncRequest,
    TableReady,
    TimerSet,
    VoteAdd,
    VoteRemove,
)
from ..domain.permissions import Actor, Role
from ..store import Database
from . import controls, joining, moves, notes, reading, tidying, votes
from .common import Outcome, Session, run_checked
from .transaction import read, write_path

__all__ = ["Actions", "Outcome", "Session"]

T = TypeVar("T")


def _checked(conn: Connection, body: Callable[..., T], session: Session, *args: Any) -> T:
    # Every action, whatever process runs it: a replaced link or join code acts no more.
    return run_checked(conn, body, session, *args)


class Actions:
    """The application's actions over one database (and its one write path)."""

    def __init__(self, db: Database, secret: bytes) -> None:
        self.db = db
        self._secret = secret
        self.writes = write_path(db)

    async def authenticate(self, auth: ParticipantAuth | StaffAuth, *,
                           admit: joining.Admit | None = None) -> Session:
        """Check a connection's credentials and return its session (or Unauthenticated).

        ``admit`` is awaited before a new participant is created (it may refuse).
        """
        return await joining.authenticate(self.db, self._secret, auth, admit)

    async def sync(self, session: Session, req: SyncRequest) -> dict[str, Any]:
        """Bring a client up to date: the changes since ``req.since``, or a snapshot."""
        return await read(self.db, _checked, reading.sync, session, req)

    async def events_of_tables(self, table_ids: list[str]) -> dict[str, str]:
        """The event of each of these tables (those that exist)."""
        return await read(self.db, reading.events_of_tables, table_ids)

    # --- participants --------------------------------------------------------

    async def post_note(self, session: Session, p: NotePost) -> Outcome:
        """Add a participant's note (see :func:`.notes.post_note`)."""
        return await self._on_table(notes.post_note, session, p)

    async def edit_note(self, session: Session, p: NoteEdit) -> Outcome:
        """Rewrite one's own note while its stage is open."""
        return await self._may_move_spotlight(notes.edit_note, session, p)

    async def delete_note(self, session: Session, p: NoteRef) -> Outcome:
        """Take back one's own note while its stage is open."""
        return await self._may_move_spotlight(notes.delete_note, session, p)

    async def add_vote(self, session: Session, p: VoteAdd) -> Outcome:
        """One dot on a note."""
        return await self._on_table(votes.add_vote, session, p)

    async def remove_vote(self, session: Session, p: VoteRemove) -> Outcome:
        """Take one of one's dots back."""
        return await self._on_table(votes.remove_vote, session, p)

    # --- the facilitator's tidying -------------------------------------------

    async def star_note(self, session: Session, p: NoteStar) -> Outcome:
        """Mark (or unmark) a note as a big idea."""
        return await self._on_table(tidying.star_note, session, p)

    async def hide_note(self, session: Session, p: NoteHide) -> Outcome:
        """Take a note off participants' boards (or give it back)."""
        return await self._may_move_spotlight(tidying.hide_note, session, p)

    async def save_group(self, session: Session, p: GroupSave) -> Outcome:
        """Create or relabel a group, optionally with notes."""
        return await self._on_table(tidying.save_group, session, p)

    async def group_note(self, session: Session, p: NoteGroup) -> Outcome:
        """Put a note in a group or take it out."""
        return await self._on_table(tidying.group_note, session, p)

    async def delete_group(self, session: Session, p: GroupDelete) -> Outcome:
        """Remove a group; its notes stay."""
        return await self._on_table(tidying.delete_group, session, p)

    async def merge_note(self, session: Session, p: NoteMerge) -> Outcome:
        """Fold a duplicate into another note."""
        return await self._may_move_spotlight(tidying.merge_note, session, p)

    async def set_summary(self, session: Session, p: SummarySet) -> Outcome:
        """Save a stage's summary."""
        return await self._on_table(tidying.set_summary, session, p)

    async def set_ready(self, session: Session, p: TableReady) -> Outcome:
        """Mark the table ready (or not) for the next stage."""
        return await self._on_table(tidying.set_ready, session, p)

    # --- moving the event ----------------------------------------------------

    async def move_step(self, session: Session, p: StepMove, delta: int) -> Outcome:
        """Move one table a step forward (+1) or back (-1)."""
        return await self._on_table(moves.move_step, session, p, delta)

    async def move_stage(self, session: Session, p: StageMove, delta: int) -> Outcome:
        """Move every table a stage forward (+1) or back (-1)."""
        return await self.writes.run(_checked, moves.move_stage, session, p, delta)

    async def change_status(self, session: Session, p: StatusChange) -> Outcome:
        """Start, close or reopen the event."""
        return await self.writes.run(_checked, moves.change_status, session, p)

    async def start_event(self, event_id: str) -> Outcome:
        """Set an event live as its organiser would (``plenary demo``, tests): rules and log."""
        organiser = Session(Actor(Role.ORGANISER, event_id))
        return await self.change_status(organiser, StatusChange(action="start"))

    # --- the organiser's live controls ---------------------------------------

    async def set_timer(self, session: Session, p: TimerSet) -> Outcome:
        """Change the stage timer."""
        return await self.writes.run(_checked, controls.set_timer, session, p)

    async def set_message(self, session: Session, p: MessageSet) -> Outcome:
        """Show (or clear) a message on every screen."""
        return await self.writes.run(_checked, controls.set_message, session, p)

    async def set_spotlight(self, session: Session, p: SpotlightSet) -> Outcome:
        """Put a table, topic or note on the dashboard's full screen."""
        return await self.writes.run(_checked, controls.set_spotlight, session, p)

    async def lock_board(self, session: Session, p: BoardLock) -> Outcome:
        """Lock (or unlock) one board or every board."""
        return await self.writes.run(_checked, controls.lock_board, session, p, table=p.table)

    async def _may_move_spotlight(self, body: Any, session: Session, p: Any) -> Outcome:
        """A note action that takes the note off the spotlight (or refreshes it) runs alone.

        Changing the spotlight locks the event for update. In a batch of its table's
        actions, the ones before it would already hold the table (and share the
        event), which is the wrong order; alone, it takes the event first, as every
        action does. Only the spotlighted note's actions pay for this.
        """
        if await read(self.db, controls.spotlights_note, session.actor.event_id, p.id):
            return await self.writes.run(_checked, body, session, p)
        return await self._on_table(body, session, p)

    async def _on_table(self, body: Any, session: Session, p: Any, *more: Any) -> Outcome:
        """A table action: a participant's own table, the one staff name, else their own."""
        actor = session.actor
        named = None if actor.role is Role.PARTICIPANT else getattr(p, "table", None)
        table = named or actor.table_id
        return await self.writes.run(_checked, body, session, p, *more, table=table)
