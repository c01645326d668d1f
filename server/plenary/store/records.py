"""The event as a record: streaming reads for the exports, and restoring a record.

The only export code that knows SQLAlchemy. :func:`reading` opens one read
transaction, so every part of an export (notes, counts, summaries) comes from
the same moment of the event, and the notes and votes arrive in batches from a
server-side cursor: a 50,000-note conference never sits in memory at once.

Two rules hold for every reader of this module, whatever the format:

- Deleted notes do not exist here.
- Anonymity: a note's author is its ``author`` column, which is null for an
  anonymous note. Participants' display names are never read, and an anonymous
  note's ``participant_id`` is replaced by its table's *anonymous participant*
  (:func:`anonymous_participant_id`), so that no format can link an anonymous
  note to the same person's named notes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.errors import NotFound
from ..domain.template import Template, template_from_data
from .database import Database
from .schema import (
    board_tables,
    events,
    note_groups,
    notes,
    participants,
    summaries,
    theme_exclusions,
    themes,
    topics,
    votes,
)

#: Rows per batch from the server-side cursor: big enough that the per-batch
#: overhead (a thread hop in aiosqlite) is noise, small enough that turning a
#: batch into a format (the CSV's rows, say) takes under 10 ms of the event loop,
#: so other events' live boards are never kept waiting longer than that.
BATCH = 250

#: The key hash of a table's anonymous participant. A real key hash is 64 hex
#: digits (SHA-256), so no phone's key can ever match this one.
ANONYMOUS_KEY_HASH = "anonymous"

Row = dict[str, Any]


@functools.lru_cache(maxsize=4096)
def anonymous_participant_id(table_id: str) -> str:
    """The id of the table's anonymous participant: ``~`` and 15 characters of a hash.

    Fixed length, so it fits the 16-character column whatever the table id is;
    derived from the table id alone, so every export of the same event agrees.
    """
    digest = hashlib.sha256(f"anonymous:{table_id}".encode()).digest()
    return "~" + base64.urlsafe_b64encode(digest).decode()[:15]


# --- what is read ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventInfo:
    id: str
    title: str
    venue: str
    starts_on: str | None
    template_name: str
    template_data: dict[str, Any]
    template: Template
    status: str
    stage_index: int
    organiser_gen: int
    dashboard_gen: int
    created_ms: int
    #: Every column of the event's row, as stored (the JSON record writes them).
    columns: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TopicRecord:
    id: int
    position: int
    title: str
    brief: str


@dataclass(frozen=True, slots=True)
class TableRecord:
    id: str
    number: int
    topic_id: int | None
    topic_title: str | None
    join_code: str
    facilitator_name: str | None
    facilitator_gen: int
    stage_index: int
    step_index: int
    seq: int
    ready: bool
    locked: bool


@dataclass(slots=True)
class ParticipantRecord:
    """A participant without their name: names reach an export only on named notes."""

    id: str
    table_id: str
    key_hash: str
    created_ms: int


@dataclass(slots=True)
class GroupRecord:
    id: str
    table_id: str
    stage_index: int
    label: str
    created_ms: int


@dataclass(slots=True)
class SummaryRecord:
    table_id: str
    stage_index: int
    text: str
    updated_ms: int


@dataclass(slots=True)
class ThemeRecord:
    """A cross-table theme as stored (its notes: those not deleted, most central first)."""

    id: str
    stage_index: int
    category: str | None
    name: str
    named_size: int
    notes: list[str]
    keywords: list[str]
    tables: int
    topics: int
    rank: int
    active: bool
    label: str | None
    hidden: bool
    merged_into: str | None
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True)
class ThemeQuote:
    text: str
    author: str | None
    table_number: int
    topic_title: str | None


@dataclass(frozen=True, slots=True)
class AcrossTheme:
    """A theme as the report shows it: counted from the notes that are public now."""

    id: str
    title: str
    keywords: list[str]
    notes: int
    tables: int
    topics: int
    #: Most central first.
    quotes: list[ThemeQuote]


@dataclass(frozen=True, slots=True)
class AcrossScope:
    """One stage's themes under one category (label None: the stage has none)."""

    label: str | None
    themes: list[AcrossTheme]


@dataclass(slots=True)
class VoteRecord:
    id: str
    table_id: str
    note_id: str
    participant_id: str
    stage_index: int
    created_ms: int


@dataclass(slots=True)
class NoteRecord:
    """A note with everything an export shows beside it (titles, labels, votes).

    Not frozen, like the other per-row records, only because a frozen dataclass
    is several times slower to build and 50,000 of these are built per export;
    treat it as read-only.
    """

    id: str
    table_id: str
    table_number: int
    topic_title: str | None
    #: The author, or the table's anonymous participant for an anonymous note.
    participant_id: str
    stage_index: int
    stage_title: str
    step_index: int
    step_title: str
    category: str | None
    category_label: str | None
    group_id: str | None
    group_label: str | None
    text: str
    #: None for an anonymous note.
    author: str | None
    votes: int
    starred: bool
    hidden: bool
    late: bool
    private: bool
    merged_into: str | None
    created_ms: int
    created_seq: int
    updated_ms: int | None

    @property
    def in_report(self) -> bool:
        """Whether the report's narrative shows it (merged and hidden notes are left out)."""
        return self.merged_into is None and not self.hidden


@dataclass(frozen=True, slots=True)
class TableCounts:
    """One table's figures. ``notes`` counts every note that is not deleted or merged,
    hidden ones included; ``per_stage`` splits that count by stage."""

    table_id: str
    number: int
    topic_title: str | None
    facilitator_name: str | None
    participants: int
    notes: int
    hidden: int
    merged: int
    starred: int
    late: int
    private: int
    votes: int
    summaries: int
    per_stage: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    """The event's figures for a title page. ``notes`` excludes hidden notes."""

    topics: int
    tables: int
    participants: int
    notes: int
    hidden: int
    votes: int
    starred: int


# --- reading -----------------------------------------------------------------

@asynccontextmanager
async def reading(db: Database, event_id: str) -> AsyncIterator[EventReader]:
    """One consistent read of an event; raises NotFound if there is no such event."""
    async with db.read() as conn:
        row = (await conn.execute(sa.select(events).where(events.c.id == event_id))
               ).mappings().first()
        if row is None:
            raise NotFound(f"There is no event {event_id!r}.")
        yield EventReader(conn, _event_info(row))


def _event_info(row: Mapping[str, Any]) -> EventInfo:
    return EventInfo(
        id=row["id"], title=row["title"], venue=row["venue"] or "", starts_on=row["starts_on"],
        template_name=row["template_name"], template_data=row["template"],
        template=template_from_data(row["template"], source=f"event {row['id']}"),
        status=row["status"], stage_index=row["stage_index"],
        organiser_gen=row["organiser_gen"], dashboard_gen=row["dashboard_gen"],
        created_ms=row["created_ms"], columns=dict(row),
    )


def _live(*conditions: Any) -> Any:
    """Notes that exist: deleted notes are never exported."""
    return sa.and_(notes.c.deleted_ms.is_(None), *conditions)


class EventReader:
    """Reads of one event inside one read transaction (see :func:`reading`)."""

    def __init__(self, conn: AsyncConnection, event: EventInfo) -> None:
        self._conn = conn
        self.event = event
        self._tables: list[TableRecord] | None = None

    def _id(self, column: Any) -> Any:
        """An id column to sort by, in byte order on every database: SQLite sorts text
        by bytes already, PostgreSQL by its locale unless told. So a record comes out
        in the same order whichever database it was exported from."""
        return column.collate("C") if self._conn.dialect.name == "postgresql" else column

    # The event's tables, joined to topics: the report's order is by topic
    # (its position in the event), then by table number.
    def _table_order(self) -> list[Any]:
        return [topics.c.position.is_(None), topics.c.position, board_tables.c.number]

    def _tables_join(self, left: Any) -> Any:
        return left.join(board_tables, board_tables.c.id == left.c.table_id).outerjoin(
            topics, topics.c.id == board_tables.c.topic_id)

    async def topics(self) -> list[TopicRecord]:
        """The event's topics by position."""
        stmt = (sa.select(topics).where(topics.c.event_id == self.event.id)
                .order_by(topics.c.position, topics.c.id))
        return [TopicRecord(r["id"], r["position"], r["title"], r["brief"])
                for r in (await self._conn.execute(stmt)).mappings()]

    async def tables(self) -> list[TableRecord]:
        """The event's tables, by topic position then number."""
        if self._tables is None:
            stmt = (
                sa.select(board_tables, topics.c.title.label("topic_title"))
                .select_from(board_tables.outerjoin(topics,
                                                    topics.c.id == board_tables.c.topic_id))
                .where(board_tables.c.event_id == self.event.id)
                .order_by(*self._table_order())
            )
            self._tables = [
                TableRecord(id=r["id"], number=r["number"], topic_id=r["topic_id"],
                            topic_title=r["topic_title"], join_code=r["join_code"],
                            facilitator_name=r["facilitator_name"],
                            facilitator_gen=r["facilitator_gen"], stage_index=r["stage_index"],
                            step_index=r["step_index"], seq=r["seq"], ready=bool(r["ready"]),
                            locked=bool(r["locked"]))
                for r in (await self._conn.execute(stmt)).mappings()
            ]
        return self._tables

    async def groups(self) -> list[GroupRecord]:
        """The facilitators' groups, by table, stage and creation."""
        stmt = (
            sa.select(note_groups).select_from(self._tables_join(note_groups))
            .where(board_tables.c.event_id == self.event.id)
            .order_by(*self._table_order(), note_groups.c.stage_index,
                      note_groups.c.created_ms, self._id(note_groups.c.id))
        )
        return [GroupRecord(r["id"], r["table_id"], r["stage_index"], r["label"],
                            r["created_ms"])
                for r in (await self._conn.execute(stmt)).mappings()]

    async def summaries(self) -> list[SummaryRecord]:
        """The facilitators' stage summaries, by table and stage."""
        stmt = (
            sa.select(summaries).select_from(self._tables_join(summaries))
            .where(board_tables.c.event_id == self.event.id)
            .order_by(*self._table_order(), summaries.c.stage_index)
        )
        return [SummaryRecord(r["table_id"], r["stage_index"], r["text"], r["updated_ms"])
                for r in (await self._conn.execute(stmt)).mappings()]

    async def participants(self) -> AsyncIterator[list[ParticipantRecord]]:
        """Participants in batches, by table then id, with each table's anonymous
        participant (if it has anonymous notes) in its place among them."""
        anonymous_tables = set((await self._conn.execute(
            sa.select(notes.c.table_id).distinct()
            .select_from(notes.join(board_tables, board_tables.c.id == notes.c.table_id))
            .where(board_tables.c.event_id == self.event.id, _live(notes.c.author.is_(None)))
        )).scalars())
        stmt = (
            sa.select(participants.c.id, participants.c.table_id, participants.c.key_hash,
                      participants.c.created_ms)
            .select_from(self._tables_join(participants))
            .where(board_tables.c.event_id == self.event.id,
                   participants.c.key_hash != ANONYMOUS_KEY_HASH)
            .order_by(*self._table_order(), self._id(participants.c.id))
        )
        pending = [t for t in await self.tables() if t.id in anonymous_tables]
        # Real participants stream in table order; each anonymous participant goes
        # in before the first real one it sorts before, so the order is stable.
        order = {t.id: i for i, t in enumerate(await self.tables())}

        def anonymous(t: TableRecord) -> ParticipantRecord:
            return ParticipantRecord(anonymous_participant_id(t.id), t.id, ANONYMOUS_KEY_HASH,
                                     self.event.created_ms)

        def key(p: ParticipantRecord) -> tuple[int, str]:
            return order[p.table_id], p.id

        result = await self._conn.stream(stmt)
        async for rows in result.partitions(BATCH):
            batch = [ParticipantRecord(*r) for r in rows]
            out: list[ParticipantRecord] = []
            for p in batch:
                while pending and key(anonymous(pending[0])) < key(p):
                    out.append(anonymous(pending.pop(0)))
                out.append(p)
            yield out
        if pending:
            yield [anonymous(t) for t in pending]

    async def notes(self, *, batch: int = BATCH) -> AsyncIterator[list[NoteRecord]]:
        """Every note that is not deleted, in batches, in the report's order: topic
        position, table number, stage, group (in the order the groups were made;
        ungrouped notes last), then the order they were posted."""
        template = self.event.template
        vote_count = (sa.select(sa.func.count()).where(votes.c.note_id == notes.c.id)
                      .scalar_subquery())
        stmt = (
            sa.select(*_note_columns(),
                      vote_count.label("votes"))
            .select_from(
                self._tables_join(notes).outerjoin(
                    note_groups, note_groups.c.id == notes.c.group_id))
            .where(board_tables.c.event_id == self.event.id, _live())
            .order_by(*self._table_order(), notes.c.stage_index,
                      note_groups.c.id.is_(None), note_groups.c.created_ms,
                      self._id(note_groups.c.id), notes.c.created_seq, self._id(notes.c.id))
        )
        result = await self._conn.stream(stmt)
        async for rows in result.partitions(batch):
            yield [_note_record(r, template) for r in rows]

    async def votes(self) -> AsyncIterator[list[VoteRecord]]:
        """Every vote on a note that is not deleted, in batches, by table then time."""
        stmt = (
            sa.select(votes.c.id, votes.c.table_id, votes.c.note_id, votes.c.participant_id,
                      votes.c.stage_index, votes.c.created_ms)
            .select_from(self._tables_join(votes).join(notes, notes.c.id == votes.c.note_id))
            .where(board_tables.c.event_id == self.event.id, _live())
            .order_by(*self._table_order(), votes.c.created_ms, self._id(votes.c.id))
        )
        result = await self._conn.stream(stmt)
        async for rows in result.partitions(BATCH):
            yield [VoteRecord(*r) for r in rows]

    async def top_notes(self, stage_index: int, limit: int) -> list[NoteRecord]:
        """The stage's notes that rose to the top across every table: most votes first,
        then starred ones; only notes with a vote or a star, never hidden or merged."""
        vote_totals = (
            sa.select(votes.c.note_id, sa.func.count().label("n"))
            .select_from(votes.join(board_tables, board_tables.c.id == votes.c.table_id))
            .where(board_tables.c.event_id == self.event.id,
                   votes.c.stage_index == stage_index)
            .group_by(votes.c.note_id)
            .subquery()
        )
        n = sa.func.coalesce(vote_totals.c.n, 0)
        stmt = (
            sa.select(*_note_columns(),
                      n.label("votes"))
            .select_from(
                self._tables_join(notes)
                .outerjoin(note_groups, note_groups.c.id == notes.c.group_id)
                .outerjoin(vote_totals, vote_totals.c.note_id == notes.c.id))
            .where(board_tables.c.event_id == self.event.id, notes.c.stage_index == stage_index,
                   _live(notes.c.merged_into.is_(None), notes.c.hidden.is_(False)),
                   sa.or_(n > 0, notes.c.starred.is_(True)))
            .order_by(n.desc(), notes.c.starred.desc(), board_tables.c.number,
                      notes.c.created_seq, notes.c.id)
            .limit(limit)
        )
        template = self.event.template
        return [_note_record(r, template) for r in (await self._conn.execute(stmt))]

    async def themes(self) -> list[ThemeRecord]:
        """The event's themes (for the record), by stage, category, rank and id; each
        theme's notes only those that are in the record (not deleted)."""
        stmt = (sa.select(themes).where(themes.c.event_id == self.event.id)
                .order_by(themes.c.stage_index, themes.c.category.is_not(None),
                          themes.c.category, themes.c.rank, self._id(themes.c.id)))
        rows = [dict(r) for r in (await self._conn.execute(stmt)).mappings()]
        alive = await self._live_note_ids(n for r in rows for n in r["notes"] or ())
        return [ThemeRecord(
            id=r["id"], stage_index=r["stage_index"], category=r["category"], name=r["name"],
            named_size=r["named_size"], notes=[n for n in r["notes"] or () if n in alive],
            keywords=list(r["keywords"] or ()), tables=r["tables"], topics=r["topics"],
            rank=r["rank"], active=bool(r["active"]), label=r["label"],
            hidden=bool(r["hidden"]), merged_into=r["merged_into"],
            created_ms=r["created_ms"], updated_ms=r["updated_ms"]) for r in rows]

    async def theme_exclusions(self) -> list[tuple[str, str]]:
        """(theme id, note id) the organiser moved out, for notes in the record."""
        stmt = (sa.select(theme_exclusions.c.theme_id, theme_exclusions.c.note_id)
                .select_from(theme_exclusions.join(themes, themes.c.id ==
                                                   theme_exclusions.c.theme_id)
                             .join(notes, notes.c.id == theme_exclusions.c.note_id))
                .where(themes.c.event_id == self.event.id, _live())
                .order_by(self._id(theme_exclusions.c.theme_id),
                          self._id(theme_exclusions.c.note_id)))
        return [(a, b) for a, b in (await self._conn.execute(stmt)).all()]

    async def _live_note_ids(self, ids: Iterable[str], *, public: bool = False) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        out: set[str] = set()
        for start in range(0, len(wanted), 500):
            cond = [notes.c.id.in_(wanted[start:start + 500]), _live()]
            if public:
                cond += [notes.c.hidden.is_(False), notes.c.private.is_(False),
                         notes.c.merged_into.is_(None)]
            out |= set((await self._conn.execute(sa.select(notes.c.id).where(*cond))
                        ).scalars())
        return out

    async def across_tables(self, stage_index: int, *, quotes: int = 3) -> list[AcrossScope]:
        """The stage's themes for the report: not hidden or merged away, counted from
        the notes everyone may see now, widest first, with a few quotes each."""
        template = self.event.template
        stage = template.stages[stage_index] if 0 <= stage_index < len(template.stages) \
            else None
        labels = {c.id: c.label for c in stage.categories} if stage else {}
        shown = [t for t in await self.themes() if t.stage_index == stage_index and t.active
                 and not t.hidden and t.merged_into is None]
        public = await self._live_note_ids((n for t in shown for n in t.notes), public=True)
        wanted = [n for t in shown for n in t.notes if n in public]
        places: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(wanted), 500):
            rows = await self._conn.execute(
                sa.select(notes.c.id, notes.c.text, notes.c.author, notes.c.table_id,
                          board_tables.c.number, topics.c.title, board_tables.c.topic_id)
                .select_from(self._tables_join(notes))
                .where(notes.c.id.in_(wanted[start:start + 500])))
            for nid, text, author, table_id, number, topic, topic_id in rows:
                places[nid] = (text, author, table_id, number, topic, topic_id)
        scopes: dict[str | None, list[AcrossTheme]] = {}
        for t in shown:
            members = [places[n] for n in t.notes if n in places]
            if not members:
                continue
            scopes.setdefault(t.category, []).append(AcrossTheme(
                id=t.id, title=t.label or t.name, keywords=t.keywords, notes=len(members),
                tables=len({m[2] for m in members}),
                topics=len({m[5] for m in members if m[5] is not None}),
                quotes=[ThemeQuote(m[0], m[1], m[3], m[4]) for m in members[:quotes]]))
        order = sorted(scopes, key=lambda c: (c is not None, c or ""))
        return [AcrossScope(labels.get(c, c) if c else None,
                            sorted(scopes[c], key=lambda a: (-a.tables, -a.notes,
                                                             a.title.lower())))
                for c in order]

    async def counts(self) -> list[TableCounts]:
        """Each table's figures, in table order."""
        event_id = self.event.id
        stages = len(self.event.template.stages)
        in_event = board_tables.c.event_id == event_id

        def grouped(*cols: Any, source: Any, where: Any) -> Any:
            return (sa.select(source.c.table_id, *cols)
                    .select_from(source.join(board_tables,
                                             board_tables.c.id == source.c.table_id))
                    .where(in_event, where).group_by(source.c.table_id))

        def flag(col: Any) -> Any:
            return sa.func.sum(sa.case((col.is_(True), 1), else_=0))

        note_rows = await self._conn.execute(
            grouped(sa.func.count(), flag(notes.c.hidden), flag(notes.c.starred),
                    flag(notes.c.late), flag(notes.c.private), source=notes,
                    where=_live(notes.c.merged_into.is_(None))))
        by_table = {r[0]: r[1:] for r in note_rows}
        merged = dict((await self._conn.execute(
            grouped(sa.func.count(), source=notes,
                    where=_live(notes.c.merged_into.is_not(None))))).all())
        per_stage: dict[str, list[int]] = {}
        stage_rows = await self._conn.execute(
            sa.select(notes.c.table_id, notes.c.stage_index, sa.func.count())
            .select_from(notes.join(board_tables, board_tables.c.id == notes.c.table_id))
            .where(in_event, _live(notes.c.merged_into.is_(None)))
            .group_by(notes.c.table_id, notes.c.stage_index))
        for table_id, stage, n in stage_rows:
            if 0 <= stage < stages:
                per_stage.setdefault(table_id, [0] * stages)[stage] = n
        vote_n = dict((await self._conn.execute(
            sa.select(votes.c.table_id, sa.func.count())
            .select_from(votes.join(board_tables, board_tables.c.id == votes.c.table_id)
                         .join(notes, notes.c.id == votes.c.note_id))
            .where(in_event, _live()).group_by(votes.c.table_id))).all())
        people = dict((await self._conn.execute(
            grouped(sa.func.count(), source=participants,
                    where=participants.c.key_hash != ANONYMOUS_KEY_HASH))).all())
        summary_n = dict((await self._conn.execute(
            grouped(sa.func.count(), source=summaries, where=sa.true()))).all())
        out = []
        for t in await self.tables():
            n, hidden, starred, late, private = by_table.get(t.id, (0, 0, 0, 0, 0))
            out.append(TableCounts(
                table_id=t.id, number=t.number, topic_title=t.topic_title,
                facilitator_name=t.facilitator_name, participants=people.get(t.id, 0),
                notes=n, hidden=int(hidden or 0), merged=merged.get(t.id, 0),
                starred=int(starred or 0), late=int(late or 0), private=int(private or 0),
                votes=vote_n.get(t.id, 0), summaries=summary_n.get(t.id, 0),
                per_stage=tuple(per_stage.get(t.id, [0] * stages))))
        return out

    async def totals(self, counts: Sequence[TableCounts] | None = None) -> Totals:
        """The event's figures (from :meth:`counts`, read again if not given)."""
        counts = await self.counts() if counts is None else counts
        return Totals(
            topics=len(await self.topics()),
            tables=len(counts),
            participants=sum(c.participants for c in counts),
            notes=sum(c.notes - c.hidden for c in counts),
            hidden=sum(c.hidden for c in counts),
            votes=sum(c.votes for c in counts),
            starred=sum(c.starred for c in counts),
        )


def _note_columns() -> list[Any]:
    """The columns a NoteRecord is built from, but its vote count, in _note_record's order."""
    return [notes.c.id, notes.c.table_id, notes.c.participant_id, notes.c.stage_index,
            notes.c.step_index, notes.c.category, notes.c.text, notes.c.author,
            notes.c.created_ms, notes.c.created_seq, notes.c.updated_ms, notes.c.hidden,
            notes.c.starred, notes.c.group_id, notes.c.late, notes.c.private,
            notes.c.merged_into, board_tables.c.number.label("table_number"),
            topics.c.title.label("topic_title"), note_groups.c.label.label("group_label")]


def _note_record(r: Any, template: Template) -> NoteRecord:
    # Unpacked by position (the order of _note_columns): much faster than by name.
    (id_, table_id, participant_id, stage_index, step_index, category, text, author,
     created_ms, created_seq, updated_ms, hidden, starred, group_id, late, private,
     merged_into, table_number, topic_title, group_label, votes_n) = r
    stage_title, step_title, category_label = _labels(template, stage_index, step_index,
                                                      category)
    return NoteRecord(
        id_, table_id, table_number, topic_title,
        participant_id if author is not None else anonymous_participant_id(table_id),
        stage_index, stage_title, step_index, step_title, category, category_label,
        group_id, group_label, text, author, int(votes_n or 0), bool(starred), bool(hidden),
        bool(late), bool(private), merged_into, created_ms, created_seq, updated_ms,
    )


def _labels(template: Template, stage_index: int, step_index: int,
            category: str | None) -> tuple[str, str, str | None]:
    """Stage title, step title and category label from the event's template."""
    if not 0 <= stage_index < len(template.stages):
        return f"Stage {stage_index + 1}", f"Step {step_index + 1}", category
    stage = template.stages[stage_index]
    step = (stage.steps[step_index].title if 0 <= step_index < len(stage.steps)
            else f"Step {step_index + 1}")
    label = category
    if category is not None:
        label = next((c.label for c in stage.categories if c.id == category), category)
    return stage.title, step, label


# --- restoring ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RecordRows:
    """A whole event as rows keyed by column name, ready to insert (see :func:`insert_record`)."""

    event: Row
    topics: Sequence[Row]
    tables: Sequence[Row]
    participants: Sequence[Row]
    groups: Sequence[Row]
    summaries: Sequence[Row]
    notes: Sequence[Row]
    votes: Sequence[Row]
    themes: Sequence[Row] = ()
    theme_exclusions: Sequence[Row] = ()


#: Each part of a record and the table it fills, in the order the foreign keys need.
RESTORE_ORDER: tuple[tuple[str, sa.Table], ...] = (
    ("topics", topics),
    ("tables", board_tables),
    ("participants", participants),
    ("groups", note_groups),
    ("summaries", summaries),
    ("notes", notes),
    ("votes", votes),
    ("themes", themes),
    ("theme_exclusions", theme_exclusions),
)


def event_exists(conn: sa.Connection, event_id: str) -> bool:
    """Whether an event with this id is in the database."""
    return conn.execute(sa.select(events.c.id).where(events.c.id == event_id)).first() is not None


def insert_record(conn: sa.Connection, record: RecordRows) -> None:
    """Insert a whole event's rows, every id kept, in the caller's transaction."""
    conn.execute(sa.insert(events).values(**record.event))
    for part, table in RESTORE_ORDER:
        for batch in _batches(getattr(record, part), BATCH):
            conn.execute(sa.insert(table), batch)
    if conn.dialect.name == "postgresql":
        # Topic ids were given explicitly, which does not move the id sequence
        # on: move it past them so later topics do not collide.
        conn.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('topics', 'id'), "
            "GREATEST((SELECT max(id) FROM topics), 1))"))


def _batches(rows: Iterable[Row], size: int) -> Iterable[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
