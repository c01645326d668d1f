"""Every change to an event: validate, check the rules, commit, then report.

Shaped like Zulip's ``do_*`` actions: each method runs one write transaction
and returns what to acknowledge and what to broadcast. The transport sends
both only after this returns, that is, after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from . import views
from .domain import board as rules_board
from .domain import rules
from .domain.controls import Timer, TimerState, change_timer, check_message, check_not_locked
from .domain.credentials import hash_key, new_id, normalise_join_code, read_token, verify_token
from .domain.errors import Conflict, IllegalMove, InvalidPayload, NotFound, Unauthenticated
from .domain.model import EventState, TableState
from .domain.payloads import (
    GROUP_LABEL_MAX,
    SUMMARY_CEILING,
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
    clean_name,
    clean_text,
)
from .domain.permissions import Action, Actor, Role, authorize
from .store import Database
from .store import queries as q
from .store.themes import theme_row
from .wire import change_out, event_out, group_out, note_out

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


@dataclass(frozen=True, slots=True)
class _Scope:
    """An event and one of its tables, as loaded inside a write transaction."""

    event: EventState
    row: Row
    event_locked: bool = False

    @property
    def table(self) -> TableState:
        return q.table_state(self.row)


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

    async def _save_participant(self, table_id: str, key_hash: str, name: str | None) -> Row:
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
                snapshot = await views.event_snapshot(conn, actor)
                if snapshot is None:
                    raise NotFound("This event no longer exists.")
                return snapshot | {"server_time": q.now_ms()}
            authorize(actor, Action.VIEW_TABLE, event_id=actor.event_id, table_id=actor.table_id)
            table = await q.table_row(conn, actor.table_id)
            if table is None:
                raise NotFound("This table no longer exists.")
            viewer = views.viewer_of(actor)
            now = {"server_time": q.now_ms()}
            if req.since is not None:
                changes = await views.replay(conn, viewer, table, req.since)
                if changes is not None:
                    event = await q.event_row(conn, actor.event_id)
                    assert event is not None
                    # Event-wide settings (timer, message) are not in the log: send
                    # them fresh with every catch-up.
                    return {"mode": "changes", "seq": table["seq"], "changes": changes,
                            "event": event_out(event), "you": views.you(actor, session.name),
                            **now}
            snapshot = await views.table_snapshot(conn, viewer, table)
            return snapshot | {"you": views.you(actor, session.name), **now}

    # --- participants' notes and votes -----------------------------------------

    async def post_note(self, session: Session, p: NotePost) -> Outcome:
        """Add a participant's note; a retry with the same id returns the first result."""
        actor = session.actor
        _participant(actor, Action.POST_NOTE, p.table)
        async with self.db.write() as conn:
            existing = await q.note_row(conn, p.id)
            if existing is not None:
                return self._repeat_post(actor, existing)
            scope = await self._scope(conn, actor, actor.table_id)
            event, table = scope.event, scope.table
            late = rules.check_can_post(event, table, queued=p.queued)
            if not late:
                _check_unlocked(scope, "post a note")
            category = p.category
            if p.queued:
                # An idea written offline in stage 1 answers stage 1's prompt.
                if p.stage is not None and p.stage < table.stage_index:
                    table = replace(table, stage_index=p.stage, step_index=0)
                category = rules.fit_category(event.template, table, category)
            else:
                rules.check_category(event.template, table, category)
            text = clean_text(p.text, limit=event.template.note_max_length)
            private = (table.stage_index == scope.table.stage_index
                       and rules_board.posting_is_private(event, table))
            row = {
                "id": p.id, "table_id": table.id, "participant_id": actor.participant_id,
                "stage_index": table.stage_index, "step_index": table.step_index,
                "category": category, "text": text,
                "author": session.name if event.template.show_author_names else None,
                "created_ms": q.now_ms(), "created_seq": await q.next_seq(conn, table.id),
                "private": private, "updated_ms": None, "starred": False, "hidden": False,
                "group_id": None, "late": late, "deleted_ms": None, "merged_into": None,
            }
            await q.insert_note(conn, **row)
            note = note_out(row, votes=0)
            change = await q.insert_change(conn, table.id, row["created_seq"], "note.added",
                                           {"note": note},
                                           private_to=actor.participant_id if private else None)
        return Outcome({"seq": change["seq"], "note": note, "late": late}, actor.event_id,
                       [change])

    def _repeat_post(self, actor: Actor, existing: Row) -> Outcome:
        if existing["participant_id"] != actor.participant_id:
            raise Conflict("That note id is already taken; your page will pick another.",
                           code="id_conflict")
        # Already committed: acknowledge again with the original sequence number
        # and broadcast nothing, so a retry after a lost ack creates no second note.
        return Outcome({"seq": existing["created_seq"], "note": note_out(existing),
                        "duplicate": True}, actor.event_id)

    async def edit_note(self, session: Session, p: NoteEdit) -> Outcome:
        """A participant rewrites their own note while its stage is open."""
        actor = session.actor
        _participant(actor, Action.EDIT_OWN_NOTE)
        async with self.db.write() as conn:
            scope = await self._scope(conn, actor, actor.table_id)
            note = await q.note_row(conn, p.id)
            rules_board.check_own_note(note, actor.participant_id, actor.table_id)
            assert note is not None
            rules_board.check_stage_open(scope.event, scope.table, note)
            rules_board.check_not_hidden(note)
            _check_unlocked(scope, "change a note")
            rules.check_category(scope.event.template, scope.table, p.category)
            text = clean_text(p.text, limit=scope.event.template.note_max_length)
            if text == note["text"] and p.category == note["category"]:
                return Outcome({"seq": scope.row["seq"], "note": note_out(note),
                                "unchanged": True}, actor.event_id)
            note |= {"text": text, "category": p.category, "updated_ms": q.now_ms()}
            await q.update_note(conn, p.id, text=text, category=p.category,
                                updated_ms=note["updated_ms"])
            wire = _without_votes(note_out(note))
            change = await q.append_change(conn, actor.table_id, "note.edited", {"note": wire},
                                           private_to=_private_to(note))
        return Outcome({"seq": change["seq"], "note": wire}, actor.event_id, [change])

    async def delete_note(self, session: Session, p: NoteRef) -> Outcome:
        """A participant takes back their own note while its stage is open."""
        actor = session.actor
        _participant(actor, Action.EDIT_OWN_NOTE, p.table)
        async with self.db.write() as conn:
            scope = await self._scope(conn, actor, actor.table_id)
            note = await q.note_row(conn, p.id)
            if note is not None and note["deleted_ms"] is not None \
                    and note["participant_id"] == actor.participant_id:
                return Outcome({"seq": scope.row["seq"], "duplicate": True}, actor.event_id)
            rules_board.check_own_note(note, actor.participant_id, actor.table_id)
            assert note is not None
            rules_board.check_stage_open(scope.event, scope.table, note)
            rules_board.check_not_hidden(note)
            _check_unlocked(scope, "delete a note")
            await q.update_note(conn, p.id, deleted_ms=q.now_ms())
            change = await q.append_change(conn, actor.table_id, "note.deleted", {"id": p.id},
                                           private_to=_private_to(note))
        return Outcome({"seq": change["seq"]}, actor.event_id, [change])

    async def add_vote(self, session: Session, p: VoteAdd) -> Outcome:
        """One dot on a note; a retried vote (same id) counts once."""
        actor = session.actor
        _participant(actor, Action.VOTE)
        async with self.db.write() as conn:
            scope = await self._scope(conn, actor, actor.table_id)
            existing = await q.vote_row(conn, p.id)
            if existing is not None:
                if existing["participant_id"] != actor.participant_id:
                    raise Conflict("That vote id is already taken.", code="id_conflict")
                used = len(await q.votes_of(conn, actor.participant_id, existing["stage_index"]))
                limit = scope.event.template.votes_for(existing["stage_index"])
                return Outcome({"seq": scope.row["seq"], "duplicate": True,
                                "vote": {"id": p.id, "note": existing["note_id"]},
                                "votes_left": limit - used}, actor.event_id)
            note = rules_board.check_table_note(await q.note_row(conn, p.note), actor.table_id)
            used = len(await q.votes_of(conn, actor.participant_id, scope.table.stage_index))
            rules_board.check_vote(scope.event, scope.table, note, used)
            _check_unlocked(scope, "vote")
            await q.insert_vote(conn, id=p.id, table_id=actor.table_id, note_id=p.note,
                                participant_id=actor.participant_id,
                                stage_index=scope.table.stage_index)
            blind = rules_board.vote_counts_hidden(scope.event, scope.table)
            total = (await q.vote_counts(conn, actor.table_id)).get(p.note, 0)
            change = await q.append_change(
                conn, actor.table_id, "vote.added",
                {"vote": {"id": p.id, "note": p.note}, "votes": None if blind else total},
                private_to=actor.participant_id if blind else None)
        limit = scope.event.template.votes_for(scope.table.stage_index)
        return Outcome({"seq": change["seq"], "vote": {"id": p.id, "note": p.note},
                        "votes_left": limit - used - 1}, actor.event_id, [change])

    async def remove_vote(self, session: Session, p: VoteRemove) -> Outcome:
        """Take one of your dots back while voting is open."""
        actor = session.actor
        _participant(actor, Action.VOTE)
        async with self.db.write() as conn:
            scope = await self._scope(conn, actor, actor.table_id)
            vote = await q.vote_row(conn, p.id)
            if vote is None:  # already taken back (a retry): nothing to do
                return Outcome({"seq": scope.row["seq"], "duplicate": True}, actor.event_id)
            if vote["participant_id"] != actor.participant_id:
                raise NotFound("That is not one of your votes.")
            rules_board.check_unvote(scope.event, scope.table, vote)
            _check_unlocked(scope, "change a vote")
            await q.delete_vote(conn, p.id)
            blind = rules_board.vote_counts_hidden(scope.event, scope.table)
            total = (await q.vote_counts(conn, actor.table_id)).get(vote["note_id"], 0)
            change = await q.append_change(
                conn, actor.table_id, "vote.removed",
                {"vote": {"id": p.id, "note": vote["note_id"]},
                 "votes": None if blind else total},
                private_to=actor.participant_id if blind else None)
        return Outcome({"seq": change["seq"]}, actor.event_id, [change])

    # --- the facilitator's tidying ---------------------------------------------

    async def star_note(self, session: Session, p: NoteStar) -> Outcome:
        """Mark (or unmark) a note as one of the table's big ideas."""
        return await self._flag(session, p.id, p.table, "starred", p.starred, "note.starred")

    async def hide_note(self, session: Session, p: NoteHide) -> Outcome:
        """Take an inappropriate note off participants' boards (kept, marked, for staff)."""
        return await self._flag(session, p.id, p.table, "hidden", p.hidden,
                                "note.hidden" if p.hidden else "note.shown")

    async def _flag(self, session: Session, note_id: str, table_id: str | None, column: str,
                    value: bool, kind: str) -> Outcome:
        actor = session.actor
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, table_id)
            note = rules_board.check_table_note(await q.note_row(conn, note_id), scope.row["id"])
            if note[column] == value:
                return Outcome({"seq": scope.row["seq"], "unchanged": True}, actor.event_id)
            await q.update_note(conn, note_id, **{column: value})
            note[column] = value
            data: dict[str, Any] = {"id": note_id, column: value}
            if kind == "note.shown":  # participants removed it: give it back
                data["note"] = _without_votes(note_out(note))
            change = await q.append_change(conn, scope.row["id"], kind, data,
                                           private_to=_private_to(note))
        return Outcome({"seq": change["seq"]}, actor.event_id, [change])

    async def save_group(self, session: Session, p: GroupSave) -> Outcome:
        """Create a labelled group (or relabel it) and optionally put notes in it."""
        actor = session.actor
        label = clean_text(p.label, limit=GROUP_LABEL_MAX, what="group label")
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            table_id = scope.row["id"]
            existing = await q.group_row(conn, p.id)
            if existing is not None and existing["table_id"] != table_id:
                raise Conflict("That group id is already taken.", code="id_conflict")
            rules.require_live(scope.event, "group notes")
            group = {"id": p.id, "table_id": table_id, "label": label,
                     "stage_index": existing["stage_index"] if existing
                     else scope.table.stage_index}
            await q.save_group(conn, group, exists=existing is not None)
            changes = [await q.append_change(conn, table_id, "group.saved",
                                             {"group": group_out(group)})]
            for note_id in dict.fromkeys(p.notes):
                changes += await self._regroup(conn, table_id, note_id, p.id)
        return Outcome({"seq": changes[-1]["seq"], "group": group_out(group)}, actor.event_id,
                       changes)

    async def group_note(self, session: Session, p: NoteGroup) -> Outcome:
        """Put a note in a group, or take it out (``group`` null)."""
        actor = session.actor
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            rules.require_live(scope.event, "group notes")
            if p.group is not None:
                group = await q.group_row(conn, p.group)
                if group is None or group["table_id"] != scope.row["id"]:
                    raise NotFound("That group is not on this board.")
            changes = await self._regroup(conn, scope.row["id"], p.id, p.group)
        seq = changes[-1]["seq"] if changes else scope.row["seq"]
        return Outcome({"seq": seq}, actor.event_id, changes)

    async def _regroup(self, conn: AsyncConnection, table_id: str, note_id: str,
                       group_id: str | None) -> list[Row]:
        note = rules_board.check_table_note(await q.note_row(conn, note_id), table_id)
        if note["group_id"] == group_id:
            return []
        await q.update_note(conn, note_id, group_id=group_id)
        return [await q.append_change(conn, table_id, "note.grouped",
                                      {"id": note_id, "group": group_id},
                                      private_to=_private_to(note))]

    async def delete_group(self, session: Session, p: GroupDelete) -> Outcome:
        """Remove a group; its notes stay, ungrouped."""
        actor = session.actor
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            group = await q.group_row(conn, p.id)
            if group is None or group["table_id"] != scope.row["id"]:
                raise NotFound("That group is not on this board.")
            await q.delete_group(conn, p.id)
            change = await q.append_change(conn, scope.row["id"], "group.deleted", {"id": p.id})
        return Outcome({"seq": change["seq"]}, actor.event_id, [change])

    async def merge_note(self, session: Session, p: NoteMerge) -> Outcome:
        """Fold a duplicate into another note; its votes carry over."""
        actor = session.actor
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            table_id = scope.row["id"]
            rules.require_live(scope.event, "merge notes")
            source = rules_board.check_table_note(await q.note_row(conn, p.id), table_id)
            target = rules_board.check_table_note(await q.note_row(conn, p.into), table_id)
            rules_board.check_merge(source, target)
            await q.move_votes(conn, p.id, p.into)
            await q.update_note(conn, p.id, merged_into=p.into)
            total = (await q.vote_counts(conn, table_id)).get(p.into, 0)
            blind = rules_board.vote_counts_hidden(scope.event, scope.table)
            change = await q.append_change(
                conn, table_id, "note.merged",
                {"id": p.id, "into": p.into, "votes": None if blind else total})
        return Outcome({"seq": change["seq"], "votes": total}, actor.event_id, [change])

    async def set_summary(self, session: Session, p: SummarySet) -> Outcome:
        """The facilitator's summary of a stage; saved as they type."""
        actor = session.actor
        if len(p.text) > SUMMARY_CEILING:
            raise InvalidPayload(f"The summary is over {SUMMARY_CEILING} characters.",
                                 code="text_too_long")
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            rules.require_live(scope.event, "write the summary")
            if p.stage >= len(scope.event.template.stages) or p.stage > scope.table.stage_index:
                raise InvalidPayload("There is no such stage to summarise yet.",
                                     code="bad_stage")
            text = p.text.replace("\r\n", "\n")
            await q.save_summary(conn, scope.row["id"], p.stage, text)
            change = await q.append_change(conn, scope.row["id"], "summary.changed",
                                           {"stage": p.stage, "text": text})
        return Outcome({"seq": change["seq"]}, actor.event_id, [change])

    async def set_ready(self, session: Session, p: TableReady) -> Outcome:
        """The facilitator tells the organiser the table is ready for the next stage."""
        actor = session.actor
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            rules.require_live(scope.event, "mark the table ready")
            if scope.row["ready"] == p.ready:
                return Outcome({"seq": scope.row["seq"], "unchanged": True}, actor.event_id)
            await q.set_table(conn, scope.row["id"], ready=p.ready)
            change = await q.append_change(conn, scope.row["id"], "table.ready",
                                           {"ready": p.ready})
        return Outcome({"seq": change["seq"]}, actor.event_id, [change])

    # --- moving the event ----------------------------------------------------

    async def move_step(self, session: Session, p: StepMove, delta: int) -> Outcome:
        """Move one table to the next (+1) or previous (-1) step of its stage."""
        actor = session.actor
        async with self.db.write() as conn:
            scope = await self._staff_scope(conn, actor, p.table)
            event, table = scope.event, scope.table
            target = rules.move_step(event, table, delta, expected=p.expected)
            changes = await self._leave_step(conn, event, table, target)
            await q.set_table_step(conn, table.id, target)
            changes.append(await q.append_change(conn, table.id, "step.changed",
                                                 {"stage": table.stage_index, "step": target}))
        return Outcome({"seq": changes[-1]["seq"], "step": target}, actor.event_id, changes)

    async def _leave_step(self, conn: AsyncConnection, event: EventState, table: TableState,
                          target: int) -> list[Row]:
        """What leaving the current step publishes: private notes, blind vote counts."""
        changes = []
        if rules_board.reveals_on_move(event, table, target):
            changes += await self._reveal(conn, table.id, table.stage_index)
        if rules_board.vote_step_ends(event, table, target):
            counts = await q.vote_counts(conn, table.id)
            changes.append(await q.append_change(conn, table.id, "votes.revealed",
                                                 {"stage": table.stage_index, "votes": counts}))
        return changes

    async def _reveal(self, conn: AsyncConnection, table_id: str, stage: int) -> list[Row]:
        revealed = await q.reveal_notes(conn, table_id, stage)
        if not revealed:
            return []
        notes = [note_out(n, votes=0) for n in revealed if not n["hidden"]]
        return [await q.append_change(conn, table_id, "notes.revealed",
                                      {"stage": stage, "notes": notes})]

    async def move_stage(self, session: Session, p: StageMove, delta: int) -> Outcome:
        """Move every table of the event to the next (+1) or previous (-1) stage at once."""
        actor = session.actor
        authorize(actor, Action.MOVE_STAGE, event_id=actor.event_id)
        async with self.db.write() as conn:
            event = await q.load_event(conn, actor.event_id)
            if event is None:
                raise NotFound("This event no longer exists.")
            target = rules.move_stage(event, delta, expected=p.expected)
            changes: list[Row] = []
            # Nothing written in silence stays unseen once the stage moves.
            for t in await q.tables_with_private_notes(conn, event.id):
                changes += await self._reveal(conn, t["id"], t["stage_index"])
            # The old stage's timer means nothing in the new stage.
            await q.update_event(conn, event.id, stage_index=target, timer_state="stopped",
                                 timer_ends_ms=None, timer_remaining_ms=None)
            await q.set_tables_position(conn, event.id, stage_index=target, step_index=0)
            changes += await q.append_event_change(conn, event.id, "stage.changed",
                                                   {"stage": target, "step": 0})
            row = await q.event_row(conn, event.id)
        assert row is not None
        return Outcome({"stage": target}, actor.event_id, changes, event=event_out(row))

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
            changes = await q.append_event_change(conn, event.id, "event.status",
                                                  {"status": status.value})
        return Outcome({"status": status.value}, actor.event_id, changes)

    # --- the organiser's live controls -------------------------------------------

    async def set_timer(self, session: Session, p: TimerSet) -> Outcome:
        """Start, pause, resume, extend or stop the stage timer."""
        async def change(conn: AsyncConnection, row: Row) -> dict[str, Any]:
            current = Timer(TimerState(row["timer_state"]), row["timer_ends_ms"],
                            row["timer_remaining_ms"])
            timer = change_timer(current, p.action, p.seconds, q.now_ms())
            return {"timer_state": timer.state.value, "timer_ends_ms": timer.ends_ms,
                    "timer_remaining_ms": timer.remaining_ms}
        return await self._event_setting(session, change)

    async def set_message(self, session: Session, p: MessageSet) -> Outcome:
        """Show a short message on every screen (or clear it)."""
        text = check_message(p.text)
        return await self._event_setting(session, lambda conn, row: _const({"message": text}))

    async def set_spotlight(self, session: Session, p: SpotlightSet) -> Outcome:
        """Put one table, topic or note on the dashboard's full screen (or clear it)."""
        async def change(conn: AsyncConnection, row: Row) -> dict[str, Any]:
            if p.kind is None:
                return {"spotlight": None}
            spotlight = {"kind": p.kind, "id": p.id}
            note = await self._check_spotlight(conn, row["id"], p.kind, p.id)
            if note is not None:  # a dashboard may never have seen it
                spotlight["note"] = note_out(note)
            return {"spotlight": spotlight}
        return await self._event_setting(session, change)

    async def _check_spotlight(self, conn: AsyncConnection, event_id: str, kind: str,
                               target: str | int | None) -> Row | None:
        """Check the spotlight's target is this event's (and public); a note is returned."""
        missing = NotFound(f"There is no such {kind} in this event.")
        if kind == "themes":
            return None
        if kind == "theme":
            theme = await theme_row(conn, target) if isinstance(target, str) else None
            if theme is None or theme["event_id"] != event_id or theme["hidden"]:
                raise missing
            return None
        if kind == "topic":
            topic = await q.topic_of(conn, target if isinstance(target, int) else None)
            if topic is None or topic["event_id"] != event_id:
                raise missing
            return None
        if not isinstance(target, str):
            raise missing
        if kind == "table":
            table = await q.table_row(conn, target)
            if table is None or table["event_id"] != event_id:
                raise missing
            return None
        note = await q.note_row(conn, target)
        table = await q.table_row(conn, note["table_id"]) if note else None
        if note is None or table is None or table["event_id"] != event_id \
                or note["deleted_ms"] is not None:
            raise missing
        if note["hidden"] or note["private"]:
            # The dashboard is projected to the whole room.
            raise IllegalMove("That note is hidden or still private, so it cannot go on "
                              "the big screen.", code="not_public")
        return note

    async def lock_board(self, session: Session, p: BoardLock) -> Outcome:
        """Lock (or unlock) one table's board or every board: read, but no changes."""
        actor = session.actor
        authorize(actor, Action.CHANGE_EVENT_STATUS, event_id=actor.event_id)
        if p.table is None:
            # The event-wide lock is its own flag: a table locked on its own stays
            # locked when the whole event is unlocked.
            return await self._event_setting(session,
                                             lambda conn, row: _const({"locked": p.locked}))
        async with self.db.write() as conn:
            await self._scope(conn, actor, p.table)  # the table is in this event
            await q.set_table(conn, p.table, locked=p.locked)
            change_row = await q.append_change(conn, p.table, "table.locked",
                                               {"locked": p.locked})
        return Outcome({"seq": change_row["seq"]}, actor.event_id, [change_row])

    async def _event_setting(self, session: Session, change: Any) -> Outcome:
        actor = session.actor
        authorize(actor, Action.CHANGE_EVENT_STATUS, event_id=actor.event_id)
        async with self.db.write() as conn:
            row = await q.event_row(conn, actor.event_id)
            if row is None:
                raise NotFound("This event no longer exists.")
            values = await change(conn, row)
            await q.update_event(conn, actor.event_id, **values)
            row |= values
        event = event_out(row)
        return Outcome({"event": event}, actor.event_id, event=event)

    # --- loading inside a transaction ------------------------------------------

    async def _scope(self, conn: AsyncConnection, actor: Actor, table_id: str) -> _Scope:
        event = await q.event_row(conn, actor.event_id)
        row = await q.table_row(conn, table_id)
        if event is None or row is None or row["event_id"] != actor.event_id:
            raise NotFound("There is no such table in this event.")
        return _Scope(q.event_state(event), row, event_locked=event["locked"])

    async def _staff_scope(self, conn: AsyncConnection, actor: Actor,
                           table_id: str | None) -> _Scope:
        """The table a facilitator (theirs) or the organiser (named) is acting on."""
        table_id = table_id or actor.table_id
        if table_id is None:
            raise InvalidPayload("Say which table (the 'table' field).")
        authorize(actor, Action.RUN_TABLE, event_id=actor.event_id, table_id=table_id)
        return await self._scope(conn, actor, table_id)


async def _const(values: dict[str, Any]) -> dict[str, Any]:
    return values


def _participant(actor: Actor, action: Action, table_id: str | None = None) -> None:
    """Check a participant may do ``action`` at their own table (and only there)."""
    authorize(actor, action, event_id=actor.event_id, table_id=table_id or actor.table_id)
    assert actor.table_id is not None and actor.participant_id is not None


def _check_unlocked(scope: _Scope, doing: str) -> None:
    check_not_locked(scope.event_locked, scope.row["locked"], doing)


def _without_votes(note: dict[str, Any]) -> dict[str, Any]:
    # One broadcast serves phones (blind to counts during a vote) and staff (who
    # see them): a changed note leaves its count out, and clients keep theirs.
    del note["votes"]
    return note


def _private_to(note: Row) -> str | None:
    """Changes to a note still in silent writing are for its author (and staff) only."""
    return note["participant_id"] if note["private"] else None


def _stale_link() -> Unauthenticated:
    return Unauthenticated(
        "This link is for an event or table that no longer exists. Ask the organiser "
        "for the current link.",
        code="bad_token",
    )
