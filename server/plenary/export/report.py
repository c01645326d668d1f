"""The report's content, once, for the DOCX, HTML and Markdown renderings.

The head (title page, contents, overview) is read first; then one section per
table, built as that table's notes arrive from the store, so a renderer holds
one table at a time. Pure data: nothing here knows a file format.

What the narrative leaves out: merged notes (their text lives on in the note
they were merged into) and notes the facilitator hid, which are counted, not
shown. Anonymous notes carry no name: their ``author`` is None.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..domain.template import Stage
from ..store.records import (
    AcrossScope,
    AcrossTheme,
    EventInfo,
    EventReader,
    NoteRecord,
    TableCounts,
    TableRecord,
    TopicRecord,
    Totals,
)
from ._text import plural

#: How many ideas the overview lists per stage.
OVERVIEW_LIMIT = 10


@dataclass(frozen=True, slots=True)
class OverviewStage:
    number: int
    title: str
    ideas: list[NoteRecord]


@dataclass(frozen=True, slots=True)
class AcrossStage:
    """A stage's cross-table themes (per category when the stage has categories)."""

    number: int
    title: str
    scopes: list[AcrossScope]


@dataclass(frozen=True, slots=True)
class ContentsTopic:
    """A topic and its tables, for the contents list."""

    anchor: str
    title: str
    tables: list[tuple[str, str]]  # (anchor, "Table 3")


@dataclass(frozen=True, slots=True)
class Head:
    event: EventInfo
    totals: Totals
    exported_ms: int
    overview: list[OverviewStage]
    contents: list[ContentsTopic]
    #: "Across the tables": only stages that have themes (none without the extra).
    across: list[AcrossStage] = field(default_factory=list)

    @property
    def draft(self) -> bool:
        """Whether the event was still open when this was exported."""
        return self.event.status != "closed"


@dataclass(frozen=True, slots=True)
class NoteList:
    """Notes under one label: a facilitator's group (None: not in a group)."""

    label: str | None
    notes: list[NoteRecord]


@dataclass(frozen=True, slots=True)
class Block:
    """A stage's notes under one category (label None when the stage has no categories)."""

    label: str | None
    lists: list[NoteList]


@dataclass(frozen=True, slots=True)
class StageSection:
    number: int
    title: str
    prompt: str
    summary: str | None
    big_ideas: list[NoteRecord]
    blocks: list[Block]
    hidden: int

    @property
    def shown(self) -> int:
        return len(self.big_ideas) + sum(len(lst.notes) for b in self.blocks for lst in b.lists)


@dataclass(frozen=True, slots=True)
class TableSection:
    table: TableRecord
    counts: TableCounts
    anchor: str
    #: The topic, when this is the first table of it (the renderer starts the topic).
    new_topic: TopicRecord | None
    topic_anchor: str
    stages: list[StageSection]


def topic_anchor(topic_id: int | None) -> str:
    return f"topic_{topic_id}" if topic_id is not None else "topic_none"


def table_anchor(number: int) -> str:
    return f"table_{number}"


def table_name(number: int) -> str:
    return f"Table {number}"


def note_meta(note: NoteRecord, *, place: bool = False, context: bool = False) -> list[str]:
    """What is said beside a note: votes, author, and where needed where it came from."""
    parts = []
    if note.votes:
        parts.append(plural(note.votes, "vote"))
    if note.author is not None:
        parts.append(note.author)
    if context:
        parts += [x for x in (note.category_label, note.group_label) if x]
    if place:
        parts.append(table_name(note.table_number)
                     + (f", {note.topic_title}" if note.topic_title else ""))
    if note.late:
        parts.append("arrived after the close")
    if note.private:
        parts.append("not yet revealed")
    return parts


async def read_head(reader: EventReader, exported_ms: int,
                    counts: list[TableCounts]) -> Head:
    """Title page, contents and overview."""
    event = reader.event
    overview = [OverviewStage(i + 1, stage.title, await reader.top_notes(i, OVERVIEW_LIMIT))
                for i, stage in enumerate(event.template.stages)]
    contents: list[ContentsTopic] = []
    for t in await reader.tables():
        anchor = topic_anchor(t.topic_id)
        if not contents or contents[-1].anchor != anchor:
            contents.append(ContentsTopic(anchor, t.topic_title or "No topic", []))
        contents[-1].tables.append((table_anchor(t.number), table_name(t.number)))
    across = [AcrossStage(i + 1, stage.title, scopes)
              for i, stage in enumerate(event.template.stages)
              if (scopes := await reader.across_tables(i))]
    return Head(event, await reader.totals(counts), exported_ms, overview, contents, across)


def theme_facts(theme: AcrossTheme) -> str:
    """'5 tables · 3 topics · 12 notes'."""
    return " · ".join((plural(theme.tables, "table"), plural(theme.topics, "topic"),
                       plural(theme.notes, "note")))


def quote_place(table_number: int, topic_title: str | None) -> str:
    """Where a quote came from: 'Table 3, Homelessness'."""
    return table_name(table_number) + (f", {topic_title}" if topic_title else "")


ACROSS_INTRO = ("What came up at many tables: each stage's notes from every table grouped "
                "into themes by meaning (on the organiser's machine), widest first, with "
                "the notes closest to the heart of each theme as quotes.")


async def read_report(reader: EventReader,
                      exported_ms: int) -> tuple[Head, AsyncIterator[TableSection]]:
    """The head now, and the tables' sections as they are read."""
    counts = await reader.counts()
    head = await read_head(reader, exported_ms, counts)
    return head, _sections(reader, counts)


async def _sections(reader: EventReader,
                    counts: list[TableCounts]) -> AsyncIterator[TableSection]:
    template = reader.event.template
    topics = {t.id: t for t in await reader.topics()}
    summaries: dict[tuple[str, int], str] = {
        (s.table_id, s.stage_index): s.text for s in await reader.summaries()}
    counts_of = {c.table_id: c for c in counts}
    tables = await reader.tables()
    position = 0
    pending: list[NoteRecord] = []
    seen_topics: set[int | None] = set()

    def section(table: TableRecord, notes: list[NoteRecord]) -> TableSection:
        new_topic = None
        if table.topic_id not in seen_topics:
            seen_topics.add(table.topic_id)
            new_topic = topics.get(table.topic_id) if table.topic_id is not None else \
                TopicRecord(-1, -1, "No topic", "")
        stages = [
            _stage(i, stage, table, summaries.get((table.id, i)),
                   [n for n in notes if n.stage_index == i])
            for i, stage in enumerate(template.stages)
        ]
        return TableSection(
            table=table, counts=counts_of[table.id], anchor=table_anchor(table.number),
            new_topic=new_topic, topic_anchor=topic_anchor(table.topic_id),
            stages=[s for s in stages if s is not None])

    # Notes arrive in table order, the same order as ``tables``: a table's section
    # is complete when the first note of a later table arrives.
    async for batch in reader.notes():
        for note in batch:
            while tables[position].id != note.table_id:
                yield section(tables[position], pending)
                pending = []
                position += 1
            pending.append(note)
    while position < len(tables):
        yield section(tables[position], pending)
        pending = []
        position += 1


def _stage(index: int, stage: Stage, table: TableRecord, summary: str | None,
           notes: list[NoteRecord]) -> StageSection | None:
    shown = [n for n in notes if n.in_report]
    hidden = sum(1 for n in notes if n.hidden and n.merged_into is None)
    if index > table.stage_index and not notes and not summary:
        return None  # not reached yet (a draft taken during the event)

    def ranked(items: list[NoteRecord]) -> list[NoteRecord]:
        return sorted(items, key=lambda n: (-n.votes, n.created_seq))

    big = ranked([n for n in shown if n.starred])
    rest = [n for n in shown if not n.starred]
    if stage.categories:
        known = {c.id for c in stage.categories}
        order: list[tuple[str | None, list[NoteRecord]]] = [
            (c.label, [n for n in rest if n.category == c.id]) for c in stage.categories]
        order.append(("Not marked", [n for n in rest if n.category not in known]))
    else:
        order = [(None, rest)]
    blocks = []
    for label, items in order:
        if not items:
            continue
        lists: dict[str | None, list[NoteRecord]] = {}
        for n in items:  # groups in the order they come (the store gives creation order)
            lists.setdefault(n.group_id if n.group_label is not None else None, []).append(n)
        if None in lists:  # notes in no group go last
            lists[None] = lists.pop(None)
        grouped = len(lists) > 1 or None not in lists
        blocks.append(Block(label, [
            NoteList(members[0].group_label if group is not None
                     else ("Not in a group" if grouped else None), ranked(members))
            for group, members in lists.items()]))
    text = summary.strip() if summary and summary.strip() else None
    return StageSection(index + 1, stage.title, stage.prompt, text, big, blocks, hidden)
