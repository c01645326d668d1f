"""Reads and writes as small functions over a connection the caller holds.

The caller (``plenary.actions.transaction``, the write path) owns the
transaction; these functions never commit, so a change, its sequence number and
its log entry land together. They are plain synchronous functions over a
synchronous connection, so that a whole action runs in the driver's thread
(``AsyncConnection.run_sync``) instead of hopping there statement by statement.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection

from ..domain.board import CHANGE_TYPES
from .clock import now_ms as now_ms  # the actions read the time as q.now_ms
from .schema import (
    board_tables,
    changes,
    console_sessions,
    events,
    note_groups,
    notes,
    participants,
    summaries,
    topics,
    votes,
)

Row = dict[str, Any]


#: How a write transaction locks a row it reads before it writes (PostgreSQL;
#: SQLite's BEGIN IMMEDIATE already holds the whole database). "share" lets many
#: table actions read the event at once while keeping an event-wide change out;
#: "update" is FOR NO KEY UPDATE, which still lets rows referring to this one be
#: inserted meanwhile (a participant joining the table).
Lock = Literal["update", "share"] | None


# The hot paths (a post, a vote, a join, a table's snapshot) run prebuilt
# statements with bound parameters: building one per call and computing its
# cache key was most of SQLAlchemy's cost per statement. The rest build theirs
# as they go.

def _by_id(table: sa.Table, *columns: sa.Column[Any]) -> dict[Lock, sa.Select[Any]]:
    stmt = sa.select(*(columns or (table,))).where(table.c.id == sa.bindparam("id"))
    return {None: stmt, "update": stmt.with_for_update(key_share=True),
            "share": stmt.with_for_update(read=True)}


# Every action reads its event's row; the template in it (stages, steps, prompts:
# kilobytes of JSON) never changes once the event exists, so it is decoded once per
# process and the row is read without it.
_EVENT = _by_id(events, *(c for c in events.c if c.name != "template"))
_EVENT_TEMPLATE = sa.select(events.c.template).where(events.c.id == sa.bindparam("id"))
_TEMPLATES_KEPT = 64
_event_templates: dict[tuple[str, int], Any] = {}
_TABLE = _by_id(board_tables)
_NOTE = sa.select(notes).where(notes.c.id == sa.bindparam("id"))
_VOTE = sa.select(votes).where(votes.c.id == sa.bindparam("id"))
_TOPIC = sa.select(topics).where(topics.c.id == sa.bindparam("id"))
_TABLE_BY_CODE = sa.select(board_tables).where(board_tables.c.join_code == sa.bindparam("code"))
_PARTICIPANT_BY_KEY = sa.select(participants).where(
    participants.c.table_id == sa.bindparam("table_id"),
    participants.c.key_hash == sa.bindparam("key_hash"))
_NEXT_SEQ = (sa.update(board_tables).where(board_tables.c.id == sa.bindparam("table"))
             .values(seq=board_tables.c.seq + 1).returning(board_tables.c.seq))
_INSERT_NOTE = sa.insert(notes)
_INSERT_CHANGE = sa.insert(changes)
_INSERT_VOTE = sa.insert(votes)
_INSERT_PARTICIPANT = sa.insert(participants)
_VOTES_OF = sa.select(sa.func.count()).select_from(votes).where(
    votes.c.participant_id == sa.bindparam("participant_id"),
    votes.c.stage_index == sa.bindparam("stage_index"))
_VOTES_ON = sa.select(sa.func.count()).select_from(votes).where(
    votes.c.note_id == sa.bindparam("note_id"))
# A table's snapshot (every phone's page load and rejoin) and a join.
_TABLE_ID = sa.bindparam("table_id")
_NOTES_OF_TABLE = (sa.select(notes)
                   .where(notes.c.table_id == _TABLE_ID, notes.c.deleted_ms.is_(None),
                          notes.c.merged_into.is_(None))
                   .order_by(notes.c.created_seq))
_VOTE_COUNTS = (sa.select(votes.c.note_id, sa.func.count()).where(votes.c.table_id == _TABLE_ID)
                .group_by(votes.c.note_id))
_VOTES_OF_PARTICIPANT = (sa.select(votes)
                         .where(votes.c.participant_id == sa.bindparam("participant_id"),
                                votes.c.stage_index == sa.bindparam("stage_index"))
                         .order_by(votes.c.created_ms))
_GROUPS_OF_TABLE = (sa.select(note_groups).where(note_groups.c.table_id == _TABLE_ID)
                    .order_by(note_groups.c.created_ms))
_SUMMARIES_OF_TABLE = sa.select(summaries.c.stage_index, summaries.c.text).where(
    summaries.c.table_id == _TABLE_ID)
_HIDDEN_NOTE_IDS = sa.select(notes.c.id).where(notes.c.table_id == _TABLE_ID,
                                               notes.c.hidden.is_(True))
# A reconnecting phone's replay.
_CHANGES_SINCE = (sa.select(changes)
                  .where(changes.c.table_id == _TABLE_ID, changes.c.seq > sa.bindparam("since"))
                  .order_by(changes.c.seq)
                  .limit(sa.bindparam("limit", literal_execute=False)))
_PARTICIPANTS_AT = sa.select(sa.func.count()).select_from(participants).where(
    participants.c.table_id == _TABLE_ID)


def _first(conn: Connection, stmt: sa.Executable, **params: Any) -> Row | None:
    row = conn.execute(stmt, params).mappings().first()
    return dict(row) if row else None


def event_row(conn: Connection, event_id: str, *, lock: Lock = None) -> Row | None:
    """The event's row, or None; ``lock`` holds it until the transaction ends.
    Its ``template`` is shared between calls: read it, never change it."""
    row = _first(conn, _EVENT[lock], id=event_id)
    if row is not None:
        key = (row["id"], row["created_ms"])
        template = _event_templates.get(key)
        if template is None:
            template = conn.execute(_EVENT_TEMPLATE, {"id": event_id}).scalar_one()
            if len(_event_templates) >= _TEMPLATES_KEPT:
                _event_templates.clear()
            _event_templates[key] = template
        row["template"] = template
    return row


def table_row(conn: Connection, table_id: str, *, lock: Lock = None) -> Row | None:
    """The table's row, or None; ``lock`` holds it until the transaction ends."""
    return _first(conn, _TABLE[lock], id=table_id)


def lock_tables_of_event(conn: Connection, event_id: str) -> None:
    """Hold every table of the event (an event-wide move), in one statement."""
    conn.execute(sa.select(board_tables.c.id).where(board_tables.c.event_id == event_id)
                 .order_by(board_tables.c.id).with_for_update())


def table_by_join_code(conn: Connection, code: str) -> Row | None:
    """The table a join code opens, or None."""
    return _first(conn, _TABLE_BY_CODE, code=code)


def tables_of_event(conn: Connection, event_id: str) -> list[Row]:
    """Every table of the event, by number, with its topic's title and brief."""
    stmt = (
        sa.select(board_tables, topics.c.title.label("topic_title"),
                  topics.c.brief.label("topic_brief"))
        .select_from(board_tables.outerjoin(topics, board_tables.c.topic_id == topics.c.id))
        .where(board_tables.c.event_id == event_id)
        .order_by(board_tables.c.number)
    )
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


def topic_of(conn: Connection, topic_id: int | None) -> Row | None:
    """A topic's row, or None."""
    if topic_id is None:
        return None
    return _first(conn, _TOPIC, id=topic_id)


def list_events(conn: Connection) -> list[Row]:
    """Every event, newest first."""
    stmt = sa.select(events).order_by(events.c.created_ms.desc())
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


# --- writes -----------------------------------------------------------------

def insert_event(conn: Connection, **values: Any) -> None:
    """Insert an event row."""
    conn.execute(sa.insert(events).values(created_ms=now_ms(), **values))


def insert_topic(conn: Connection, **values: Any) -> int:
    """Insert a topic; returns its id."""
    result = conn.execute(sa.insert(topics).values(**values).returning(topics.c.id))
    return int(result.scalar_one())


def insert_table(conn: Connection, **values: Any) -> None:
    """Insert a table row."""
    conn.execute(sa.insert(board_tables).values(**values))


def update_event(conn: Connection, event_id: str, **values: Any) -> None:
    """Change columns of an event."""
    conn.execute(sa.update(events).where(events.c.id == event_id).values(**values))


def move_tables(conn: Connection, event_id: str, *, stage_index: int, step_index: int,
                two_changes: frozenset[str]) -> dict[str, int]:
    """Move every table of the event (the lockstep move) and take its numbers for the
    change(s) the move logs: two for the tables in ``two_changes``, one for the rest.

    One UPDATE ... RETURNING for the whole event; returns each table's last number.
    """
    step = 2 if two_changes else 1
    bump: Any = sa.case((board_tables.c.id.in_(two_changes), step), else_=1) \
        if two_changes else 1
    result = conn.execute(
        sa.update(board_tables)
        .where(board_tables.c.event_id == event_id)
        .values(stage_index=stage_index, step_index=step_index, ready=False,
                seq=board_tables.c.seq + bump)
        .returning(board_tables.c.id, board_tables.c.seq)
    )
    return {table_id: int(seq) for table_id, seq in result.all()}


def insert_changes(conn: Connection, rows: list[Row]) -> None:
    """Log many changes (numbers already taken) in one multi-row INSERT."""
    if rows:
        conn.execute(sa.insert(changes), rows)


def change_row(table_id: str, seq: int, kind: str, data: dict[str, Any],
               private_to: str | None = None, at: int | None = None) -> Row:
    """A change log row, ready for :func:`insert_changes`."""
    return {"table_id": table_id, "seq": seq, "kind": kind, "data": data,
            "created_ms": at if at is not None else now_ms(), "private_to": private_to}


def set_table_step(conn: Connection, table_id: str, step_index: int) -> None:
    """Move one table to a step of its current stage."""
    conn.execute(
        sa.update(board_tables).where(board_tables.c.id == table_id).values(step_index=step_index)
    )


def next_seq(conn: Connection, table_id: str) -> int:
    """Take the table's next sequence number, inside the caller's write transaction.

    UPDATE ... RETURNING in one statement: under BEGIN IMMEDIATE (SQLite) or the
    row lock the UPDATE takes (PostgreSQL), no two changes can get the same
    number, and a rolled-back transaction gives its number back, so none is skipped.
    """
    return int(conn.execute(_NEXT_SEQ, {"table": table_id}).scalar_one())


def _known_kind(kind: str) -> None:
    # Clients ignore kinds they do not know, so a misspelt kind would be lost
    # silently on every screen; refuse it before it is logged.
    if kind not in CHANGE_TYPES:
        raise ValueError(f"{kind!r} is not one of domain.board.CHANGE_TYPES")


def insert_change(
    conn: Connection, table_id: str, seq: int, kind: str, data: dict[str, Any],
    private_to: str | None = None,
) -> Row:
    """Log a change under a number taken with :func:`next_seq`."""
    _known_kind(kind)
    change = {"table_id": table_id, "seq": seq, "kind": kind, "data": data,
              "created_ms": now_ms(), "private_to": private_to}
    conn.execute(_INSERT_CHANGE, [change])
    return change


def append_change(
    conn: Connection, table_id: str, kind: str, data: dict[str, Any],
    private_to: str | None = None,
) -> Row:
    """Log a change to a table's board under the table's next sequence number."""
    seq = next_seq(conn, table_id)
    return insert_change(conn, table_id, seq, kind, data, private_to)


def append_event_change(
    conn: Connection, event_id: str, kind: str, data: dict[str, Any]
) -> list[Row]:
    """The same change logged on every table of an event (a lockstep move), each under
    its own next number: one UPDATE ... RETURNING and one multi-row INSERT, so that
    moving 500 tables costs two statements, not a thousand."""
    _known_kind(kind)
    result = conn.execute(
        sa.update(board_tables)
        .where(board_tables.c.event_id == event_id)
        .values(seq=board_tables.c.seq + 1)
        .returning(board_tables.c.id, board_tables.c.seq)
    )
    at = now_ms()
    rows = [{"table_id": tid, "seq": int(seq), "kind": kind, "data": data, "created_ms": at,
             "private_to": None} for tid, seq in result.all()]
    if rows:
        conn.execute(sa.insert(changes), rows)
    return rows


def changes_since(
    conn: Connection, table_id: str, since: int, *, limit: int
) -> list[Row]:
    """The table's changes after ``since``, in order, at most ``limit`` of them."""
    params = {"table_id": table_id, "since": since, "limit": limit}
    return [dict(r) for r in conn.execute(_CHANGES_SINCE, params).mappings()]


#: The changes that move a table (its stage, its step, the event's status).
POSITION_KINDS = ("event.status", "stage.changed", "step.changed")


def position_changes(conn: Connection, table_id: str) -> list[Row]:
    """The table's moves in order: ``created_ms``, ``kind`` and ``data`` of each."""
    stmt = (
        sa.select(changes.c.created_ms, changes.c.kind, changes.c.data)
        .where(changes.c.table_id == table_id, changes.c.kind.in_(POSITION_KINDS))
        .order_by(changes.c.seq)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def participant_by_key(conn: Connection, table_id: str, key_hash: str) -> Row | None:
    """The participant at this table holding this rejoin key, or None."""
    return _first(conn, _PARTICIPANT_BY_KEY, table_id=table_id, key_hash=key_hash)


def count_participants_locked(conn: Connection, table_id: str) -> int:
    """How many participants a table has, holding its row so a concurrent join waits."""
    # Two phones joining at once cannot both see room for one more.
    table_row(conn, table_id, lock="update")
    return int(conn.execute(_PARTICIPANTS_AT, {"table_id": table_id}).scalar_one())


def insert_participant(conn: Connection, **values: Any) -> None:
    """Insert a participant row."""
    conn.execute(_INSERT_PARTICIPANT, [{"display_name": None, **values,
                                        "created_ms": now_ms()}])


def rename_participant(conn: Connection, participant_id: str, name: str | None) -> None:
    """Change the name a participant's future notes carry."""
    conn.execute(
        sa.update(participants)
        .where(participants.c.id == participant_id)
        .values(display_name=name)
    )


def note_row(conn: Connection, note_id: str) -> Row | None:
    """A note's row, or None."""
    return _first(conn, _NOTE, id=note_id)


def insert_note(conn: Connection, **values: Any) -> None:
    """Insert a note row."""
    conn.execute(sa.insert(notes).values(**values))


def insert_full_note(conn: Connection, row: Row) -> None:
    """Insert a note row that names every column (the hot path: a prebuilt statement)."""
    conn.execute(_INSERT_NOTE, [row])


def notes_of_table(conn: Connection, table_id: str) -> list[Row]:
    """Every note of the table that is not deleted or merged away, oldest first."""
    return [dict(r) for r in conn.execute(_NOTES_OF_TABLE, {"table_id": table_id}).mappings()]


def update_note(conn: Connection, note_id: str, **values: Any) -> None:
    """Change columns of a note."""
    conn.execute(sa.update(notes).where(notes.c.id == note_id).values(**values))


def reveal_event_notes(conn: Connection, event_id: str) -> list[Row]:
    """Make every private note of the event visible to all (a stage move), in one
    statement; returns the notes it changed."""
    stmt = (
        sa.update(notes)
        .where(notes.c.private.is_(True),
               notes.c.table_id.in_(sa.select(board_tables.c.id)
                                    .where(board_tables.c.event_id == event_id)))
        .values(private=False)
        .returning(*notes.c)
    )
    # All rows at once, then plain dicts: a stage move reveals thousands, and row by
    # row through the result's mappings was 45 % of the move's time.
    result = conn.execute(stmt)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def reveal_notes(conn: Connection, table_id: str, stage_index: int) -> list[Row]:
    """Make the stage's private notes visible to all; returns every row it changed."""
    stmt = sa.select(notes).where(notes.c.table_id == table_id,
                                  notes.c.stage_index == stage_index,
                                  notes.c.private.is_(True))
    revealed = [dict(r) for r in (conn.execute(stmt)).mappings()]
    if revealed:
        conn.execute(sa.update(notes).where(notes.c.id.in_([n["id"] for n in revealed]))
                           .values(private=False))
        for n in revealed:
            n["private"] = False
    return revealed


def hidden_note_ids(conn: Connection, table_id: str) -> frozenset[str]:
    """Notes of the table the facilitator has hidden."""
    return frozenset(conn.execute(_HIDDEN_NOTE_IDS, {"table_id": table_id}).scalars())


# --- votes, groups, summaries ------------------------------------------------

def vote_counts(conn: Connection, table_id: str) -> dict[str, int]:
    """Dots per note of the table."""
    return dict(conn.execute(_VOTE_COUNTS, {"table_id": table_id}).all())


def count_votes_of(conn: Connection, participant_id: str, stage_index: int) -> int:
    """How many dots a participant has placed in one stage (one indexed count)."""
    params = {"participant_id": participant_id, "stage_index": stage_index}
    return int(conn.execute(_VOTES_OF, params).scalar_one())


def count_votes_on(conn: Connection, note_id: str) -> int:
    """How many dots one note has (one indexed count)."""
    return int(conn.execute(_VOTES_ON, {"note_id": note_id}).scalar_one())


def votes_of(conn: Connection, participant_id: str, stage_index: int) -> list[Row]:
    """A participant's dots in one stage."""
    params = {"participant_id": participant_id, "stage_index": stage_index}
    return [dict(r) for r in conn.execute(_VOTES_OF_PARTICIPANT, params).mappings()]


def vote_row(conn: Connection, vote_id: str) -> Row | None:
    """A vote's row, or None."""
    return _first(conn, _VOTE, id=vote_id)


def insert_vote(conn: Connection, **values: Any) -> None:
    """Insert a vote."""
    conn.execute(_INSERT_VOTE, [{**values, "created_ms": now_ms()}])


def delete_vote(conn: Connection, vote_id: str) -> None:
    """Take a vote back."""
    conn.execute(sa.delete(votes).where(votes.c.id == vote_id))


def move_votes(conn: Connection, from_note: str, to_note: str) -> None:
    """Carry a merged note's votes over to the note it merged into."""
    conn.execute(sa.update(votes).where(votes.c.note_id == from_note)
                       .values(note_id=to_note))


def groups_of_table(conn: Connection, table_id: str) -> list[Row]:
    """The table's note groups, oldest first."""
    return [dict(r) for r in conn.execute(_GROUPS_OF_TABLE, {"table_id": table_id}).mappings()]


def group_row(conn: Connection, group_id: str) -> Row | None:
    """A group's row, or None."""
    stmt = sa.select(note_groups).where(note_groups.c.id == group_id)
    row = (conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


def save_group(conn: Connection, row: Row, *, exists: bool) -> None:
    """Create a group, or change its label."""
    if exists:
        conn.execute(sa.update(note_groups).where(note_groups.c.id == row["id"])
                           .values(label=row["label"]))
    else:
        conn.execute(sa.insert(note_groups).values(created_ms=now_ms(), **row))


def delete_group(conn: Connection, group_id: str) -> None:
    """Remove a group; its notes become ungrouped."""
    conn.execute(sa.update(notes).where(notes.c.group_id == group_id).values(group_id=None))
    conn.execute(sa.delete(note_groups).where(note_groups.c.id == group_id))


def summaries_of_table(conn: Connection, table_id: str) -> dict[int, str]:
    """The facilitator's summary of each stage, by stage index."""
    return dict(conn.execute(_SUMMARIES_OF_TABLE, {"table_id": table_id}).all())


def save_summary(conn: Connection, table_id: str, stage: int, text: str) -> None:
    """Write (or overwrite) a stage's summary."""
    updated = conn.execute(
        sa.update(summaries)
        .where(summaries.c.table_id == table_id, summaries.c.stage_index == stage)
        .values(text=text, updated_ms=now_ms()))
    if updated.rowcount == 0:
        conn.execute(sa.insert(summaries).values(table_id=table_id, stage_index=stage,
                                                       text=text, updated_ms=now_ms()))


def set_table(conn: Connection, table_id: str, **values: Any) -> None:
    """Change columns of a table."""
    if not values:
        return
    conn.execute(sa.update(board_tables).where(board_tables.c.id == table_id)
                       .values(**values))


def note_counts(conn: Connection, event_id: str, *,
                hidden: bool = False) -> dict[str, dict[int, int]]:
    """Per table, per stage: how many live notes there are (or, ``hidden``, hidden ones)."""
    stmt = (
        sa.select(notes.c.table_id, notes.c.stage_index, sa.func.count())
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.deleted_ms.is_(None),
               notes.c.merged_into.is_(None), notes.c.hidden.is_(hidden))
        .group_by(notes.c.table_id, notes.c.stage_index)
    )
    counts: dict[str, dict[int, int]] = {}
    for table_id, stage, n in (conn.execute(stmt)).all():
        counts.setdefault(table_id, {})[stage] = n
    return counts


def recent_notes(conn: Connection, event_id: str, *, per_table: int) -> list[Row]:
    """The latest visible notes of each table of the event (for the dashboard)."""
    ranked = (
        sa.select(
            notes,
            sa.func.row_number()
            .over(partition_by=notes.c.table_id, order_by=notes.c.created_seq.desc())
            .label("rank"),
        )
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.deleted_ms.is_(None),
               notes.c.merged_into.is_(None), notes.c.hidden.is_(False),
               notes.c.private.is_(False))
        .subquery()
    )
    stmt = sa.select(ranked).where(ranked.c.rank <= per_table).order_by(ranked.c.created_ms)
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


# --- the event at a glance (organiser console, dashboard) ----------------------

def vote_totals(conn: Connection, event_id: str) -> dict[str, dict[int, int]]:
    """Per table, per stage: how many dots have been placed."""
    stmt = (
        sa.select(votes.c.table_id, votes.c.stage_index, sa.func.count())
        .select_from(votes.join(board_tables, votes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id)
        .group_by(votes.c.table_id, votes.c.stage_index)
    )
    totals: dict[str, dict[int, int]] = {}
    for table_id, stage, n in (conn.execute(stmt)).all():
        totals.setdefault(table_id, {})[stage] = n
    return totals


def last_activity(conn: Connection, event_id: str) -> dict[str, int]:
    """When each table's board last changed (the time of its latest logged change)."""
    stmt = (
        sa.select(board_tables.c.id, changes.c.created_ms)
        .select_from(board_tables.join(changes, sa.and_(changes.c.table_id == board_tables.c.id,
                                                        changes.c.seq == board_tables.c.seq)))
        .where(board_tables.c.event_id == event_id)
    )
    return {table_id: ms for table_id, ms in (conn.execute(stmt)).all()}


def stage_notes_with_votes(conn: Connection, event_id: str,
                                 stage_index: int) -> list[Row]:
    """Every public note of one stage across the event, each with its vote count."""
    counts = (sa.select(votes.c.note_id, sa.func.count().label("n"))
              .group_by(votes.c.note_id).subquery())
    stmt = (
        sa.select(notes, sa.func.coalesce(counts.c.n, 0).label("votes"))
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id)
                     .outerjoin(counts, counts.c.note_id == notes.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.stage_index == stage_index,
               notes.c.deleted_ms.is_(None), notes.c.merged_into.is_(None),
               notes.c.hidden.is_(False), notes.c.private.is_(False))
    )
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


def stage_summaries(conn: Connection, event_id: str, stage_index: int) -> dict[str, str]:
    """Each table's summary of one stage."""
    stmt = (
        sa.select(summaries.c.table_id, summaries.c.text)
        .select_from(summaries.join(board_tables, summaries.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, summaries.c.stage_index == stage_index)
    )
    return {table_id: text for table_id, text in (conn.execute(stmt)).all()}


def hidden_notes_of_event(conn: Connection, event_id: str) -> list[Row]:
    """Every hidden note of the event, for the organiser to review."""
    stmt = (
        sa.select(notes)
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.hidden.is_(True),
               notes.c.deleted_ms.is_(None))
        .order_by(notes.c.created_ms)
    )
    return [dict(r) for r in (conn.execute(stmt)).mappings()]



def topics_of_event(conn: Connection, event_id: str) -> list[Row]:
    """The event's topics in order."""
    stmt = sa.select(topics).where(topics.c.event_id == event_id).order_by(topics.c.position,
                                                                           topics.c.id)
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


def update_topic(conn: Connection, topic_id: int, **values: Any) -> None:
    """Change columns of a topic."""
    if values:
        conn.execute(sa.update(topics).where(topics.c.id == topic_id).values(**values))


def delete_topic(conn: Connection, event_id: str, topic_id: int) -> None:
    """Remove a topic."""
    conn.execute(sa.delete(topics).where(topics.c.id == topic_id,
                                               topics.c.event_id == event_id))


def delete_table(conn: Connection, table_id: str) -> None:
    """Remove a table and what hangs off it (a draft table has nothing but its log)."""
    conn.execute(sa.delete(changes).where(changes.c.table_id == table_id))
    conn.execute(sa.delete(board_tables).where(board_tables.c.id == table_id))


# --- console sign-ins ----------------------------------------------------------

def insert_console_session(conn: Connection, id_hash: str, created_ms: int) -> None:
    """Record a console sign-in (by the hash of the id its cookie carries)."""
    conn.execute(sa.insert(console_sessions).values(id_hash=id_hash, created_ms=created_ms))


def console_session_exists(conn: Connection, id_hash: str, since_ms: int) -> bool:
    """Whether this sign-in is still open (not signed out, not older than ``since_ms``)."""
    stmt = sa.select(console_sessions.c.id_hash).where(
        console_sessions.c.id_hash == id_hash, console_sessions.c.created_ms >= since_ms)
    return conn.execute(stmt).first() is not None


def delete_console_sessions(conn: Connection, *, id_hash: str | None = None,
                            before_ms: int | None = None) -> None:
    """Sign one console out (``id_hash``), or forget every sign-in older than ``before_ms``."""
    stmt = sa.delete(console_sessions)
    if id_hash is not None:
        stmt = stmt.where(console_sessions.c.id_hash == id_hash)
    if before_ms is not None:
        stmt = stmt.where(console_sessions.c.created_ms < before_ms)
    conn.execute(stmt)


def organiser_gens(conn: Connection, event_ids: list[str]) -> dict[str, int]:
    """The current organiser-link generation of each of these events (gone ones left out)."""
    if not event_ids:
        return {}
    stmt = sa.select(events.c.id, events.c.organiser_gen).where(events.c.id.in_(event_ids))
    return {r.id: r.organiser_gen for r in conn.execute(stmt)}
