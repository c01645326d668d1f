"""Reads and writes for cross-table themes: note vectors, themes, the organiser's choices.

Like ``queries``, these are synchronous functions over a connection the caller
holds (inside the write path or a read), and never commit.
The refresher writes a theme's computed columns; the organiser's actions write
``label``, ``hidden`` and ``merged_into``; neither statement touches the other's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from .clock import now_ms
from .schema import board_tables, note_vectors, notes, theme_exclusions, themes, topics

Row = dict[str, Any]

#: The refresher's columns (see the module docstring).
COMPUTED = ("name", "named_size", "notes", "keywords", "tables", "topics", "rank", "active")
#: The organiser's.
CHOSEN = ("label", "hidden", "merged_into")


def _source_ms() -> Any:
    return sa.func.coalesce(notes.c.updated_ms, notes.c.created_ms)


def _in_event(event_id: str) -> Any:
    return sa.and_(board_tables.c.id == notes.c.table_id, board_tables.c.event_id == event_id)


def _unembedded(model: Any) -> Any:
    """Notes with no vector of ``model`` (a name, or a bound parameter) for their text."""
    return sa.and_(notes.c.deleted_ms.is_(None),
                   sa.or_(note_vectors.c.note_id.is_(None),
                          note_vectors.c.source_ms != _source_ms(),
                          note_vectors.c.model != model))


def notes_to_embed(conn: Connection, event_id: str, model: str,
                         limit: int) -> list[Row]:
    """Notes of the event with no vector for their current text (new or edited)."""
    stmt = (
        sa.select(notes.c.id, notes.c.text, _source_ms().label("source_ms"))
        .select_from(notes.join(board_tables, _in_event(event_id))
                     .outerjoin(note_vectors, note_vectors.c.note_id == notes.c.id))
        .where(_unembedded(model))
        .order_by(notes.c.created_ms, notes.c.id)
        .limit(limit)
    )
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


# The embedding path runs for every few notes posted: its statements are built once
# (an expanding parameter for the ids). Building them per call cost CPU and, worse,
# left reference cycles (bound parameters) that the server's frozen-GC policy keeps.
_IDS = sa.bindparam("ids", expanding=True)
_MODEL = sa.bindparam("model")
_THESE_TO_EMBED = (
    sa.select(notes.c.id, notes.c.text, _source_ms().label("source_ms"))
    .select_from(notes.outerjoin(note_vectors, note_vectors.c.note_id == notes.c.id))
    .where(notes.c.id.in_(_IDS), _unembedded(_MODEL))
    .order_by(notes.c.created_ms, notes.c.id)
)
_DROP_VECTORS = sa.delete(note_vectors).where(note_vectors.c.note_id.in_(_IDS))
_ALIVE = sa.select(notes.c.id).where(notes.c.id.in_(_IDS), notes.c.deleted_ms.is_(None))
_INSERT_VECTORS = sa.insert(note_vectors)


def these_to_embed(conn: Connection, note_ids: Sequence[str], model: str) -> list[Row]:
    """Of these notes, those with no vector for their current text: found by key,
    not by scanning the event (which a busy event would do for every batch)."""
    rows = conn.execute(_THESE_TO_EMBED, {"ids": list(note_ids), "model": model})
    return [dict(r) for r in rows.mappings()]


def save_vectors(conn: Connection, event_id: str, model: str,
                       rows: Sequence[tuple[str, int, bytes]]) -> None:
    """Store (note id, source_ms, vector bytes), replacing a note's older vector."""
    if not rows:
        return
    ids = [r[0] for r in rows]
    conn.execute(_DROP_VECTORS, {"ids": ids})
    # A note deleted meanwhile keeps no vector: insert only those still there.
    alive = set(conn.execute(_ALIVE, {"ids": ids}).scalars())
    values = [{"note_id": n, "event_id": event_id, "model": model, "source_ms": ms,
               "vector": blob} for n, ms, blob in rows if n in alive]
    if values:
        conn.execute(_INSERT_VECTORS, values)


def _public() -> Any:
    """Notes everyone may see: not hidden, deleted, still private or merged away."""
    return sa.and_(notes.c.deleted_ms.is_(None), notes.c.hidden.is_(False),
                   notes.c.private.is_(False), notes.c.merged_into.is_(None))


def public_notes(conn: Connection, event_id: str, stage: int | None,
                       model: str, *, vectors: bool = True) -> list[Row]:
    """The notes everyone may see, with table, topic, category and (``vectors``) their
    current vector (None if not embedded yet)."""
    conditions = [_public()]
    if stage is not None:
        conditions.append(notes.c.stage_index == stage)
    vector = note_vectors.c.vector if vectors else note_vectors.c.source_ms
    stmt = (
        sa.select(notes.c.id, notes.c.table_id, board_tables.c.topic_id, notes.c.text,
                  notes.c.category, notes.c.stage_index, vector.label("vector"))
        .select_from(notes.join(board_tables, _in_event(event_id)).outerjoin(
            note_vectors, _current_vector(model)))
        .where(*conditions)
        .order_by(notes.c.created_ms, notes.c.id)
    )
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


def public_note_keys(conn: Connection, event_id: str, stage: int | None, model: str
                     ) -> list[tuple[str, int, str | None, int | None, str]]:
    """What a stage's themes depend on, per public note: (id, stage, category, the
    source_ms of its current vector or None, text). Plain tuples: no vectors, no dicts."""
    conditions = [_public()]
    if stage is not None:
        conditions.append(notes.c.stage_index == stage)
    stmt = (
        sa.select(notes.c.id, notes.c.stage_index, notes.c.category,
                  note_vectors.c.source_ms, notes.c.text)
        .select_from(notes.join(board_tables, _in_event(event_id)).outerjoin(
            note_vectors, _current_vector(model)))
        .where(*conditions)
    )
    return [tuple(r) for r in conn.execute(stmt)]


@dataclass(slots=True)
class NoteColumns:
    """A stage's embedded public notes, column by column; ``vectors`` is every note's
    stored vector, one after the other, in one buffer (no object per note)."""

    ids: list[str] = field(default_factory=list)
    table_ids: list[str] = field(default_factory=list)
    topic_ids: list[int | None] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)
    vectors: bytearray = field(default_factory=bytearray)

    def __len__(self) -> int:
        return len(self.ids)


def public_note_columns(conn: Connection, event_id: str, stage: int, model: str
                        ) -> NoteColumns:
    """The stage's public notes that have a vector for their current text, as columns."""
    stmt = (
        sa.select(notes.c.id, notes.c.table_id, board_tables.c.topic_id, notes.c.text,
                  notes.c.category, note_vectors.c.vector)
        .select_from(notes.join(board_tables, _in_event(event_id)).join(
            note_vectors, _current_vector(model)))
        .where(_public(), notes.c.stage_index == stage)
        .order_by(notes.c.created_ms, notes.c.id)
    )
    out = NoteColumns()
    # A table's (and topic's) id once, not once per note: 50,000 notes at 500 tables
    # would otherwise hold 50,000 copies of each (~5 MB).
    same: dict[Any, Any] = {}
    # Rows are consumed as the driver hands them over: one at a time, never all at once.
    for note_id, table_id, topic_id, text, category, vector in conn.execute(stmt):
        out.ids.append(note_id)
        out.table_ids.append(same.setdefault(table_id, table_id))
        out.topic_ids.append(same.setdefault(topic_id, topic_id))
        out.texts.append(text)
        out.categories.append(category)
        out.vectors += vector
    return out


def _current_vector(model: str) -> Any:
    return sa.and_(note_vectors.c.note_id == notes.c.id,
                   note_vectors.c.source_ms == _source_ms(), note_vectors.c.model == model)


def theme_rows(conn: Connection, event_id: str, stage: int | None = None, *,
                     for_update: bool = False) -> list[Row]:
    """The event's themes (of one stage), active or not, by stage, category and rank."""
    stmt = sa.select(themes).where(themes.c.event_id == event_id)
    if stage is not None:
        stmt = stmt.where(themes.c.stage_index == stage)
    stmt = stmt.order_by(themes.c.stage_index, themes.c.category, themes.c.rank, themes.c.id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return [dict(r) for r in (conn.execute(stmt)).mappings()]


def theme_row(conn: Connection, theme_id: str, *, for_update: bool = False
                    ) -> Row | None:
    """One theme, or None."""
    stmt = sa.select(themes).where(themes.c.id == theme_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (conn.execute(stmt)).mappings().first()
    return dict(row) if row else None


def exclusions(conn: Connection, theme_ids: Iterable[str]) -> dict[str, set[str]]:
    """Theme id -> the notes the organiser moved out of it."""
    ids = list(theme_ids)
    out: dict[str, set[str]] = {}
    if not ids:
        return out
    rows = conn.execute(sa.select(theme_exclusions).where(
        theme_exclusions.c.theme_id.in_(ids)))
    for theme_id, note_id in rows:
        out.setdefault(theme_id, set()).add(note_id)
    return out


def save_refresh(conn: Connection, event_id: str, stage: int,
                       computed: Sequence[Row], gone: Iterable[str]) -> None:
    """Write one refresh of a stage: new themes inserted, known ones' computed columns
    updated, and themes no group matched (``gone``) left without notes."""
    now = now_ms()
    existing = set((conn.execute(
        sa.select(themes.c.id).where(themes.c.event_id == event_id,
                                     themes.c.stage_index == stage))).scalars())
    for row in computed:
        values = {k: row[k] for k in COMPUTED} | {"updated_ms": now}
        if row["id"] in existing:
            conn.execute(sa.update(themes).where(themes.c.id == row["id"]).values(**values))
        else:
            conn.execute(sa.insert(themes).values(
                id=row["id"], event_id=event_id, stage_index=stage, category=row["category"],
                created_ms=now, **values))
    gone = [g for g in gone if g in existing]
    if gone:
        conn.execute(sa.update(themes).where(themes.c.id.in_(gone)).values(
            notes=[], tables=0, topics=0, active=False, updated_ms=now))


def choose(conn: Connection, theme_id: str, **values: Any) -> None:
    """The organiser's choice for a theme: a label, hidden, or merged into another."""
    assert set(values) <= set(CHOSEN)
    conn.execute(sa.update(themes).where(themes.c.id == theme_id).values(
        updated_ms=now_ms(), **values))


def exclude(conn: Connection, theme_id: str, note_id: str) -> bool:
    """Keep a note out of a theme from now on; False if it already was."""
    present = (conn.execute(sa.select(theme_exclusions.c.note_id).where(
        theme_exclusions.c.theme_id == theme_id, theme_exclusions.c.note_id == note_id))).first()
    if present is not None:
        return False
    conn.execute(sa.insert(theme_exclusions).values(theme_id=theme_id, note_id=note_id))
    return True


def note_event(conn: Connection, note_id: str) -> str | None:
    """The event a note belongs to, or None."""
    return (conn.execute(
        sa.select(board_tables.c.event_id).select_from(notes.join(
            board_tables, board_tables.c.id == notes.c.table_id)).where(notes.c.id == note_id)
    )).scalar()


def public_places(conn: Connection, event_id: str, stage: int
                  ) -> dict[str, tuple[str, int | None]]:
    """Every note of the stage that everyone may see now: id -> (table, topic). One
    query over the stage (50,000 notes: ~0.25 s), where asking for each theme's notes
    by id took 100 queries of 500 ids (11 s)."""
    stmt = (
        sa.select(notes.c.id, notes.c.table_id, board_tables.c.topic_id)
        .select_from(notes.join(board_tables, _in_event(event_id)))
        .where(_public(), notes.c.stage_index == stage)
    )
    return {note_id: (table_id, topic_id) for note_id, table_id, topic_id in conn.execute(stmt)}


def public_details(conn: Connection, event_id: str, note_ids: Iterable[str]
                         ) -> dict[str, Row]:
    """Of these notes, those everyone may see now, with their table and topic."""
    ids = list(dict.fromkeys(note_ids))
    out: dict[str, Row] = {}
    for start in range(0, len(ids), 500):
        stmt = (
            sa.select(notes.c.id, notes.c.text, notes.c.author, notes.c.table_id,
                      board_tables.c.number.label("table_number"), board_tables.c.topic_id,
                      topics.c.title.label("topic_title"))
            .select_from(notes.join(board_tables, _in_event(event_id)).outerjoin(
                topics, topics.c.id == board_tables.c.topic_id))
            .where(notes.c.id.in_(ids[start:start + 500]), _public())
        )
        out.update({r["id"]: dict(r) for r in (conn.execute(stmt)).mappings()})
    return out
