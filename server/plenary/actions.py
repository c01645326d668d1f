"""Every change to an event: validate, check the rules, commit, then report.

Shaped like Zulip's ``do_*`` actions: each method runs one write transaction
and returns what to acknowledge and what to broadcast. The transport sends
both only after this returns, that is, after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from .domain import rules
from .domain.credentials import hash_key, new_id, normalise_join_code, read_token, verify_token
from .domain.errors import Conflict, NotFound, Unauthenticated
from .domain.model import EventStatus
from .domain.payloads import (
    NotePost,
    ParticipantAuth,
    StaffAuth,
    StageMove,
    StatusChange,
    StepMove,
    SyncRequest,
    clean_name,
    clean_text,
)
from .domain.permissions import Action, Actor, Role, authorize
from .store import Database
from .store import queries as q
from .wire import change_out, event_out, note_out, table_out

#: A client this far behind gets a fresh snapshot instead of a replay: past
#: a few hundred changes, one snapshot is smaller and quicker to apply.
REPLAY_LIMIT = 500

#: Latest notes per table in the dashboard's snapshot.
DASHBOARD_RECENT_NOTES = 3


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action returns: the acknowledgement, and the changes to broadcast."""

    ack: dict[str, Any]
    event_id: str
    changes: list[dict[str, Any]] = field(default_factory=list)

    def broadcasts(self) -> list[dict[str, Any]]:
        """The changes in their wire form."""
        return [change_out(c) for c in self.changes]


@dataclass(frozen=True, slots=True)
class Session:
    """A connection's authenticated identity and what it may see."""

    actor: Actor
    name: str | None = None


class Board:
    """The application's actions over one database."""

    def __init__(self, db: Database, secret: bytes) -> None:
        self.db = db
        self._secret = secret

    # --- who is connecting ---------------------------------------------------

    async def authenticate(self, auth: ParticipantAuth | StaffAuth) -> Session:
        """Check a connection's credentials and return its session (or Unauthenticated)."""
        if isinstance(auth, StaffAuth):
            return await self._authenticate_staff(auth)
        return await self._join(auth)

    async def _authenticate_staff(self, auth: StaffAuth) -> Session:
        claim = read_token(auth.token)
        async with self.db.read() as conn:
            if claim.role is Role.FACILITATOR:
                table = await q.table_row(conn, claim.scope_id)
                if table is None:
                    raise _stale_link()
                verify_token(self._secret, claim, table["facilitator_gen"])
                return Session(Actor(Role.FACILITATOR, table["event_id"], table_id=table["id"]))
            event = await q.event_row(conn, claim.scope_id)
            if event is None:
                raise _stale_link()
            gen = event["organiser_gen"] if claim.role is Role.ORGANISER else event["dashboard_gen"]
            verify_token(self._secret, claim, gen)
            return Session(Actor(claim.role, event["id"]))

    async def _join(self, auth: ParticipantAuth) -> Session:
        code = normalise_join_code(auth.join_code)
        key_hash = hash_key(auth.participant_key)
        name = clean_name(auth.name)
        async with self.db.read() as conn:
            table = await q.table_by_join_code(conn, code)
            if table is None:
                raise Unauthenticated(
                    "That join code does not match any table. Check the code on your "
                    "table's card and try again.",
                    code="bad_join_code",
                )
            known = await q.participant_by_key(conn, table["id"], key_hash)
        if known is None or known["display_name"] != name:
            known = await self._save_participant(table["id"], key_hash, name)
        return Session(Actor(Role.PARTICIPANT, table["event_id"], table_id=table["id"],
                             participant_id=known["id"]), name=name)

    async def _save_participant(self, table_id: str, key_hash: str, name: str | None) -> q.Row:
        # The phone keeps its key across reloads and lost connections, so the same
        # key is the same participant: rejoining never creates a second one.
        for _ in range(2):
            try:
                async with self.db.write() as conn:
                    known = await q.participant_by_key(conn, table_id, key_hash)
                    if known is None:
                        known = {"id": new_id(), "table_id": table_id, "key_hash": key_hash,
                                 "display_name": name}
                        await q.insert_participant(conn, **known)
                    elif known["display_name"] != name:
                        await q.rename_participant(conn, known["id"], name)
                    return known
            except IntegrityError:  # a simultaneous first join with the same key won
                continue
        raise Conflict("Could not join the table; please try again.")

    # --- reading -------------------------------------------------------------

    async def sync(self, session: Session, req: SyncRequest) -> dict[str, Any]:
        """Bring a client up to date: the changes since ``req.since``, or a snapshot."""
        actor = session.actor
        async with self.db.read() as conn:
            if actor.table_id is None:
                authorize(actor, Action.VIEW_EVENT, event_id=actor.event_id)
                return await self._event_snapshot(conn, actor)
            authorize(actor, Action.VIEW_TABLE, event_id=actor.event_id, table_id=actor.table_id)
            table = await q.table_row(conn, actor.table_id)
            if table is None:
                raise NotFound("This table no longer exists.")
            since = req.since
            if since is not None and since <= table["seq"] and table["seq"] - since <= REPLAY_LIMIT:
                rows = await q.changes_since(conn, table["id"], since, limit=REPLAY_LIMIT)
                return {"mode": "changes", "seq": table["seq"],
                        "changes": [change_out(c) for c in rows], "you": _you(session)}
            return await self._table_snapshot(conn, session, table)

    async def _table_snapshot(self, conn: Any, session: Session, table: q.Row) -> dict[str, Any]:
        event = await q.event_row(conn, table["event_id"])
        assert event is not None  # the foreign key guarantees it
        topic = await q.topic_of(conn, table["topic_id"])
        notes = await q.notes_of_table(conn, table["id"])
        me = session.actor.participant_id
        return {
            "mode": "snapshot",
            "seq": table["seq"],
            "event": event_out(event),
            "table": table_out(table, topic),
            "notes": [note_out(n) | {"mine": n["participant_id"] == me}
                      for n in notes if not n["hidden"]],
            "you": _you(session),
        }

    async def _event_snapshot(self, conn: Any, actor: Actor) -> dict[str, Any]:
        event = await q.event_row(conn, actor.event_id)
        if event is None:
            raise NotFound("This event no longer exists.")
        tables = await q.tables_of_event(conn, actor.event_id)
        counts = await q.note_counts(conn, actor.event_id)
        recent = await q.recent_notes(conn, actor.event_id, per_table=DASHBOARD_RECENT_NOTES)
        out_tables = []
        for t in tables:
            topic = None
            if t["topic_id"] is not None:
                topic = {"title": t["topic_title"], "brief": t["topic_brief"]}
            per_stage = counts.get(t["id"], {})
            out_tables.append(table_out(t, topic) | {
                "notes": {str(stage): n for stage, n in sorted(per_stage.items())},
            })
        return {
            "mode": "snapshot",
            "event": event_out(event),
            "tables": out_tables,
            "recent": [note_out(n) for n in recent],
            "you": {"role": actor.role.value},
        }

    # --- changing ------------------------------------------------------------

    async def post_note(self, session: Session, p: NotePost) -> Outcome:
        """Add a participant's note; a retry with the same id returns the first result."""
        actor = session.actor
        authorize(actor, Action.POST_NOTE, event_id=actor.event_id,
                  table_id=p.table or actor.table_id)
        assert actor.table_id is not None and actor.participant_id is not None
        async with self.db.write() as conn:
            existing = await q.note_row(conn, p.id)
            if existing is not None:
                return self._repeat_post(actor, existing)
            event = await q.load_event(conn, actor.event_id)
            table_row = await q.table_row(conn, actor.table_id)
            assert event is not None and table_row is not None
            table = q.table_state(table_row)
            rules.check_can_post(event, table)
            rules.check_category(event.template, table, p.category)
            text = clean_text(p.text, limit=event.template.note_max_length)
            row = {
                "id": p.id, "table_id": table.id, "participant_id": actor.participant_id,
                "stage_index": table.stage_index, "step_index": table.step_index,
                "category": p.category, "text": text,
                "author": session.name if event.template.show_author_names else None,
                "created_ms": q.now_ms(), "created_seq": await q.next_seq(conn, table.id),
            }
            await q.insert_note(conn, **row)
            change = await q.insert_change(conn, table.id, row["created_seq"], "note.added",
                                           {"note": note_out(row)})
        return Outcome({"seq": change["seq"], "note": note_out(row)}, actor.event_id, [change])

    def _repeat_post(self, actor: Actor, existing: q.Row) -> Outcome:
        if existing["participant_id"] != actor.participant_id:
            raise Conflict("That note id is already taken; your page will pick another.",
                           code="id_conflict")
        # Already committed: acknowledge again with the original sequence number
        # and broadcast nothing, so a retry after a lost ack creates no second note.
        return Outcome({"seq": existing["created_seq"], "note": note_out(existing),
                        "duplicate": True}, actor.event_id)

    async def move_step(self, session: Session, p: StepMove, delta: int) -> Outcome:
        """Move one table to the next (+1) or previous (-1) step of its stage."""
        actor = session.actor
        table_id = p.table or actor.table_id
        if table_id is None:
            raise NotFound("Say which table to move (the 'table' field).", code="invalid_payload")
        authorize(actor, Action.MOVE_STEP, event_id=actor.event_id, table_id=table_id)
        async with self.db.write() as conn:
            event = await q.load_event(conn, actor.event_id)
            table_row = await q.table_row(conn, table_id)
            if table_row is None or table_row["event_id"] != actor.event_id or event is None:
                raise NotFound("There is no such table in this event.")
            table = q.table_state(table_row)
            target = rules.move_step(event, table, delta, expected=p.expected)
            await q.set_table_step(conn, table.id, target)
            change = await q.append_change(conn, table.id, "step.changed",
                                           {"stage": table.stage_index, "step": target})
        return Outcome({"seq": change["seq"], "step": target}, actor.event_id, [change])

    async def move_stage(self, session: Session, p: StageMove, delta: int) -> Outcome:
        """Move every table of the event to the next (+1) or previous (-1) stage at once."""
        actor = session.actor
        authorize(actor, Action.MOVE_STAGE, event_id=actor.event_id)
        async with self.db.write() as conn:
            event = await q.load_event(conn, actor.event_id)
            if event is None:
                raise NotFound("This event no longer exists.")
            target = rules.move_stage(event, delta, expected=p.expected)
            await q.update_event(conn, event.id, stage_index=target)
            await q.set_tables_position(conn, event.id, stage_index=target, step_index=0)
            tables = await q.tables_of_event(conn, event.id)
            changes = await q.append_changes(conn, [t["id"] for t in tables], "stage.changed",
                                             {"stage": target, "step": 0})
        return Outcome({"stage": target}, actor.event_id, changes)

    async def change_status(self, session: Session, p: StatusChange) -> Outcome:
        """Start, close or reopen the event; every table hears of it."""
        actor = session.actor
        authorize(actor, Action.CHANGE_EVENT_STATUS, event_id=actor.event_id)
        async with self.db.write() as conn:
            event = await q.load_event(conn, actor.event_id)
            if event is None:
                raise NotFound("This event no longer exists.")
            status = rules.change_status(event.status, p.action)
            await q.update_event(conn, event.id, status=status.value)
            tables = await q.tables_of_event(conn, event.id)
            changes = await q.append_changes(conn, [t["id"] for t in tables], "event.status",
                                             {"status": status.value})
        return Outcome({"status": status.value}, actor.event_id, changes)


def _you(session: Session) -> dict[str, Any]:
    actor = session.actor
    you: dict[str, Any] = {"role": actor.role.value, "table": actor.table_id}
    if actor.participant_id is not None:
        you |= {"participant": actor.participant_id, "name": session.name}
    return you


def _stale_link() -> Unauthenticated:
    return Unauthenticated(
        "This link is for an event or table that no longer exists. Ask the organiser "
        "for the current link.",
        code="bad_token",
    )


__all__ = ["Board", "EventStatus", "Outcome", "Session"]
