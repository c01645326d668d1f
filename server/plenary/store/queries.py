"""Reads and writes as small functions over a connection the caller holds.

The caller (``plenary.actions``) owns the transaction; these functions never
commit, so a change, its sequence number and its log entry land together.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.model import EventState, EventStatus, TableState
from ..domain.template import Template, template_from_data
from .schema import (
    board_tables,
    changes,
    events,
    note_groups,
    notes,
    participants,
    summaries,
    topics,
    votes,
)

Row = dict[str, Any]


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit every timestamp is stored in."""
    return time.time_ns() // 1_000_000


# Templates are stored with their event and parsed on every load; the parse is
# cached by content so a busy event does not re-validate on every note.
_template_cache: dict[str, Template] = {}


def _template(event_id: str, data: dict[str, Any]) -> Template:
    key = f"{event_id}:{hash(repr(data))}"
    cached = _template_cache.get(key)
    if cached is None:
        cached = template_from_data(data, source=f"event {event_id}")
        if len(_template_cache) > 256:
            _template_cache.clear()
        _template_cache[key] = cached
    return cached


async def event_row(conn: AsyncConnection, event_id: str) -> Row | None:
    """The event's row, or None."""
    row = (await conn.execute(sa.select(events).where(events.c.id == event_id))).mappings().first()
    return dict(row) if row else None


def event_state(row: Row) -> EventState:
    """The rules' view of an event row."""
    return EventState(
        id=row["id"],
        status=EventStatus(row["status"]),
        stage_index=row["stage_index"],
        template=_template(row["id"], row["template"]),
    )


async def load_event(conn: AsyncConnection, event_id: str) -> EventState | None:
    """The event's state, or None."""
    row = await event_row(conn, event_id)
    return event_state(row) if row else None


async def table_row(conn: AsyncConnection, table_id: str) -> Row | None:
    """The table's row, or None."""
    stmt = sa.select(board_tables).where(board_tables.c.id == table_id)
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


def table_state(row: Row) -> TableState:
    """The rules' view of a table row."""
    return TableState(
        id=row["id"],
        event_id=row["event_id"],
        stage_index=row["stage_index"],
        step_index=row["step_index"],
    )


async def table_by_join_code(conn: AsyncConnection, code: str) -> Row | None:
    """The table a join code opens, or None."""
    stmt = sa.select(board_tables).where(board_tables.c.join_code == code)
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def tables_of_event(conn: AsyncConnection, event_id: str) -> list[Row]:
    """Every table of the event, by number, with its topic's title and brief."""
    stmt = (
        sa.select(board_tables, topics.c.title.label("topic_title"),
                  topics.c.brief.label("topic_brief"))
        .select_from(board_tables.outerjoin(topics, board_tables.c.topic_id == topics.c.id))
        .where(board_tables.c.event_id == event_id)
        .order_by(board_tables.c.number)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def topic_of(conn: AsyncConnection, topic_id: int | None) -> Row | None:
    """A topic's row, or None."""
    if topic_id is None:
        return None
    row = (await conn.execute(sa.select(topics).where(topics.c.id == topic_id))).mappings().first()
    return dict(row) if row else None


async def list_events(conn: AsyncConnection) -> list[Row]:
    """Every event, newest first."""
    stmt = sa.select(events).order_by(events.c.created_ms.desc())
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


# --- writes -----------------------------------------------------------------

async def insert_event(conn: AsyncConnection, **values: Any) -> None:
    """Insert an event row."""
    await conn.execute(sa.insert(events).values(created_ms=now_ms(), **values))


async def insert_topic(conn: AsyncConnection, **values: Any) -> int:
    """Insert a topic; returns its id."""
    result = await conn.execute(sa.insert(topics).values(**values).returning(topics.c.id))
    return int(result.scalar_one())


async def insert_table(conn: AsyncConnection, **values: Any) -> None:
    """Insert a table row."""
    await conn.execute(sa.insert(board_tables).values(**values))


async def update_event(conn: AsyncConnection, event_id: str, **values: Any) -> None:
    """Change columns of an event."""
    await conn.execute(sa.update(events).where(events.c.id == event_id).values(**values))


async def set_tables_position(
    conn: AsyncConnection, event_id: str, *, stage_index: int, step_index: int
) -> None:
    """Move every table of the event to the given stage and step (the lockstep move)."""
    await conn.execute(
        sa.update(board_tables)
        .where(board_tables.c.event_id == event_id)
        .values(stage_index=stage_index, step_index=step_index, ready=False)
    )


async def set_table_step(conn: AsyncConnection, table_id: str, step_index: int) -> None:
    """Move one table to a step of its current stage."""
    await conn.execute(
        sa.update(board_tables).where(board_tables.c.id == table_id).values(step_index=step_index)
    )


async def next_seq(conn: AsyncConnection, table_id: str) -> int:
    """Take the table's next sequence number, inside the caller's write transaction.

    UPDATE ... RETURNING in one statement: under BEGIN IMMEDIATE (SQLite) or the
    row lock the UPDATE takes (PostgreSQL), no two changes can get the same
    number, and a rolled-back transaction gives its number back, so none is skipped.
    """
    result = await conn.execute(
        sa.update(board_tables)
        .where(board_tables.c.id == table_id)
        .values(seq=board_tables.c.seq + 1)
        .returning(board_tables.c.seq)
    )
    return int(result.scalar_one())


async def insert_change(
    conn: AsyncConnection, table_id: str, seq: int, kind: str, data: dict[str, Any],
    private_to: str | None = None,
) -> Row:
    """Log a change under a number taken with :func:`next_seq`."""
    change = {"table_id": table_id, "seq": seq, "kind": kind, "data": data,
              "created_ms": now_ms(), "private_to": private_to}
    await conn.execute(sa.insert(changes).values(**change))
    return change


async def append_change(
    conn: AsyncConnection, table_id: str, kind: str, data: dict[str, Any],
    private_to: str | None = None,
) -> Row:
    """Log a change to a table's board under the table's next sequence number."""
    seq = await next_seq(conn, table_id)
    return await insert_change(conn, table_id, seq, kind, data, private_to)


async def append_event_change(
    conn: AsyncConnection, event_id: str, kind: str, data: dict[str, Any]
) -> list[Row]:
    """The same change logged on every table of an event (a lockstep move), each under
    its own next number: one UPDATE ... RETURNING and one multi-row INSERT, so that
    moving 500 tables costs two statements, not a thousand."""
    result = await conn.execute(
        sa.update(board_tables)
        .where(board_tables.c.event_id == event_id)
        .values(seq=board_tables.c.seq + 1)
        .returning(board_tables.c.id, board_tables.c.seq)
    )
    at = now_ms()
    rows = [{"table_id": tid, "seq": int(seq), "kind": kind, "data": data, "created_ms": at,
             "private_to": None} for tid, seq in result.all()]
    if rows:
        await conn.execute(sa.insert(changes), rows)
    return rows


async def changes_since(
    conn: AsyncConnection, table_id: str, since: int, *, limit: int
) -> list[Row]:
    """The table's changes after ``since``, in order, at most ``limit`` of them."""
    stmt = (
        sa.select(changes)
        .where(changes.c.table_id == table_id, changes.c.seq > since)
        .order_by(changes.c.seq)
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def participant_by_key(conn: AsyncConnection, table_id: str, key_hash: str) -> Row | None:
    """The participant at this table holding this rejoin key, or None."""
    stmt = sa.select(participants).where(
        participants.c.table_id == table_id, participants.c.key_hash == key_hash
    )
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def count_participants_locked(conn: AsyncConnection, table_id: str) -> int:
    """How many participants a table has, holding its row so a concurrent join waits."""
    # FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the lock):
    # two phones joining at once cannot both see room for one more.
    await conn.execute(sa.select(board_tables.c.id).where(board_tables.c.id == table_id)
                       .with_for_update())
    stmt = sa.select(sa.func.count()).select_from(participants).where(
        participants.c.table_id == table_id)
    return int((await conn.execute(stmt)).scalar_one())


async def insert_participant(conn: AsyncConnection, **values: Any) -> None:
    """Insert a participant row."""
    await conn.execute(sa.insert(participants).values(created_ms=now_ms(), **values))


async def rename_participant(conn: AsyncConnection, participant_id: str, name: str | None) -> None:
    """Change the name a participant's future notes carry."""
    await conn.execute(
        sa.update(participants)
        .where(participants.c.id == participant_id)
        .values(display_name=name)
    )


async def note_row(conn: AsyncConnection, note_id: str) -> Row | None:
    """A note's row, or None."""
    row = (await conn.execute(sa.select(notes).where(notes.c.id == note_id))).mappings().first()
    return dict(row) if row else None


async def insert_note(conn: AsyncConnection, **values: Any) -> None:
    """Insert a note row."""
    await conn.execute(sa.insert(notes).values(**values))


async def notes_of_table(conn: AsyncConnection, table_id: str) -> list[Row]:
    """Every note of the table that is not deleted or merged away, oldest first."""
    stmt = (
        sa.select(notes)
        .where(notes.c.table_id == table_id, notes.c.deleted_ms.is_(None),
               notes.c.merged_into.is_(None))
        .order_by(notes.c.created_seq)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def update_note(conn: AsyncConnection, note_id: str, **values: Any) -> None:
    """Change columns of a note."""
    await conn.execute(sa.update(notes).where(notes.c.id == note_id).values(**values))


async def tables_with_private_notes(conn: AsyncConnection, event_id: str) -> list[Row]:
    """The event's tables that have notes still private (to reveal on a stage move)."""
    stmt = (
        sa.select(board_tables.c.id, board_tables.c.stage_index).distinct()
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.private.is_(True))
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def reveal_notes(conn: AsyncConnection, table_id: str, stage_index: int) -> list[Row]:
    """Make the stage's private notes visible to all; returns the notes revealed."""
    stmt = sa.select(notes).where(notes.c.table_id == table_id,
                                  notes.c.stage_index == stage_index,
                                  notes.c.private.is_(True))
    revealed = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    if revealed:
        await conn.execute(sa.update(notes).where(notes.c.id.in_([n["id"] for n in revealed]))
                           .values(private=False))
        for n in revealed:
            n["private"] = False
    return [n for n in revealed if n["deleted_ms"] is None and n["merged_into"] is None]


async def hidden_note_ids(conn: AsyncConnection, table_id: str) -> frozenset[str]:
    """Notes of the table the facilitator has hidden."""
    stmt = sa.select(notes.c.id).where(notes.c.table_id == table_id, notes.c.hidden.is_(True))
    return frozenset((await conn.execute(stmt)).scalars())


# --- votes, groups, summaries ------------------------------------------------

async def vote_counts(conn: AsyncConnection, table_id: str) -> dict[str, int]:
    """Dots per note of the table."""
    stmt = (sa.select(votes.c.note_id, sa.func.count()).where(votes.c.table_id == table_id)
            .group_by(votes.c.note_id))
    return {note_id: n for note_id, n in (await conn.execute(stmt)).all()}


async def votes_of(conn: AsyncConnection, participant_id: str, stage_index: int) -> list[Row]:
    """A participant's dots in one stage."""
    stmt = sa.select(votes).where(votes.c.participant_id == participant_id,
                                  votes.c.stage_index == stage_index).order_by(votes.c.created_ms)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def vote_row(conn: AsyncConnection, vote_id: str) -> Row | None:
    """A vote's row, or None."""
    row = (await conn.execute(sa.select(votes).where(votes.c.id == vote_id))).mappings().first()
    return dict(row) if row else None


async def insert_vote(conn: AsyncConnection, **values: Any) -> None:
    """Insert a vote."""
    await conn.execute(sa.insert(votes).values(created_ms=now_ms(), **values))


async def delete_vote(conn: AsyncConnection, vote_id: str) -> None:
    """Take a vote back."""
    await conn.execute(sa.delete(votes).where(votes.c.id == vote_id))


async def move_votes(conn: AsyncConnection, from_note: str, to_note: str) -> None:
    """Carry a merged note's votes over to the note it merged into."""
    await conn.execute(sa.update(votes).where(votes.c.note_id == from_note)
                       .values(note_id=to_note))


async def groups_of_table(conn: AsyncConnection, table_id: str) -> list[Row]:
    """The table's note groups, oldest first."""
    stmt = (sa.select(note_groups).where(note_groups.c.table_id == table_id)
            .order_by(note_groups.c.created_ms))
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def group_row(conn: AsyncConnection, group_id: str) -> Row | None:
    """A group's row, or None."""
    stmt = sa.select(note_groups).where(note_groups.c.id == group_id)
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def save_group(conn: AsyncConnection, row: Row, *, exists: bool) -> None:
    """Create a group, or change its label."""
    if exists:
        await conn.execute(sa.update(note_groups).where(note_groups.c.id == row["id"])
                           .values(label=row["label"]))
    else:
        await conn.execute(sa.insert(note_groups).values(created_ms=now_ms(), **row))


async def delete_group(conn: AsyncConnection, group_id: str) -> None:
    """Remove a group; its notes become ungrouped."""
    await conn.execute(sa.update(notes).where(notes.c.group_id == group_id).values(group_id=None))
    await conn.execute(sa.delete(note_groups).where(note_groups.c.id == group_id))


async def summaries_of_table(conn: AsyncConnection, table_id: str) -> dict[int, str]:
    """The facilitator's summary of each stage, by stage index."""
    stmt = sa.select(summaries.c.stage_index, summaries.c.text).where(
        summaries.c.table_id == table_id)
    return {stage: text for stage, text in (await conn.execute(stmt)).all()}


async def save_summary(conn: AsyncConnection, table_id: str, stage: int, text: str) -> None:
    """Write (or overwrite) a stage's summary."""
    updated = await conn.execute(
        sa.update(summaries)
        .where(summaries.c.table_id == table_id, summaries.c.stage_index == stage)
        .values(text=text, updated_ms=now_ms()))
    if updated.rowcount == 0:
        await conn.execute(sa.insert(summaries).values(table_id=table_id, stage_index=stage,
                                                       text=text, updated_ms=now_ms()))


async def set_table(conn: AsyncConnection, table_id: str, **values: Any) -> None:
    """Change columns of a table."""
    if not values:
        return
    await conn.execute(sa.update(board_tables).where(board_tables.c.id == table_id)
                       .values(**values))


async def note_counts(conn: AsyncConnection, event_id: str) -> dict[str, dict[int, int]]:
    """Per table, per stage: how many live notes there are."""
    stmt = (
        sa.select(notes.c.table_id, notes.c.stage_index, sa.func.count())
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.deleted_ms.is_(None),
               notes.c.merged_into.is_(None), notes.c.hidden.is_(False))
        .group_by(notes.c.table_id, notes.c.stage_index)
    )
    counts: dict[str, dict[int, int]] = {}
    for table_id, stage, n in (await conn.execute(stmt)).all():
        counts.setdefault(table_id, {})[stage] = n
    return counts


async def recent_notes(conn: AsyncConnection, event_id: str, *, per_table: int) -> list[Row]:
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
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


# --- the event at a glance (organiser console, dashboard) ----------------------

async def vote_totals(conn: AsyncConnection, event_id: str) -> dict[str, dict[int, int]]:
    """Per table, per stage: how many dots have been placed."""
    stmt = (
        sa.select(votes.c.table_id, votes.c.stage_index, sa.func.count())
        .select_from(votes.join(board_tables, votes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id)
        .group_by(votes.c.table_id, votes.c.stage_index)
    )
    totals: dict[str, dict[int, int]] = {}
    for table_id, stage, n in (await conn.execute(stmt)).all():
        totals.setdefault(table_id, {})[stage] = n
    return totals


async def last_activity(conn: AsyncConnection, event_id: str) -> dict[str, int]:
    """When each table's board last changed (the time of its latest logged change)."""
    stmt = (
        sa.select(board_tables.c.id, changes.c.created_ms)
        .select_from(board_tables.join(changes, sa.and_(changes.c.table_id == board_tables.c.id,
                                                        changes.c.seq == board_tables.c.seq)))
        .where(board_tables.c.event_id == event_id)
    )
    return {table_id: ms for table_id, ms in (await conn.execute(stmt)).all()}


async def stage_notes_with_votes(conn: AsyncConnection, event_id: str,
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
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def stage_summaries(conn: AsyncConnection, event_id: str, stage_index: int) -> dict[str, str]:
    """Each table's summary of one stage."""
    stmt = (
        sa.select(summaries.c.table_id, summaries.c.text)
        .select_from(summaries.join(board_tables, summaries.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, summaries.c.stage_index == stage_index)
    )
    return {table_id: text for table_id, text in (await conn.execute(stmt)).all()}


async def hidden_notes_of_event(conn: AsyncConnection, event_id: str) -> list[Row]:
    """Every hidden note of the event, for the organiser to review."""
    stmt = (
        sa.select(notes)
        .select_from(notes.join(board_tables, notes.c.table_id == board_tables.c.id))
        .where(board_tables.c.event_id == event_id, notes.c.hidden.is_(True),
               notes.c.deleted_ms.is_(None))
        .order_by(notes.c.created_ms)
    )
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]



async def topics_of_event(conn: AsyncConnection, event_id: str) -> list[Row]:
    """The event's topics in order."""
    stmt = sa.select(topics).where(topics.c.event_id == event_id).order_by(topics.c.position,
                                                                           topics.c.id)
    return [dict(r) for r in (await conn.execute(stmt)).mappings()]


async def update_topic(conn: AsyncConnection, topic_id: int, **values: Any) -> None:
    """Change columns of a topic."""
    if values:
        await conn.execute(sa.update(topics).where(topics.c.id == topic_id).values(**values))


async def delete_topic(conn: AsyncConnection, event_id: str, topic_id: int) -> None:
    """Remove a topic."""
    await conn.execute(sa.delete(topics).where(topics.c.id == topic_id,
                                               topics.c.event_id == event_id))


async def delete_table(conn: AsyncConnection, table_id: str) -> None:
    """Remove a table and what hangs off it (a draft table has nothing but its log)."""
    await conn.execute(sa.delete(changes).where(changes.c.table_id == table_id))
    await conn.execute(sa.delete(board_tables).where(board_tables.c.id == table_id))
