"""The spreadsheet's columns, shared by the XLSX notes sheet and the CSV."""

from __future__ import annotations

from datetime import datetime

from ..store.records import (
    AcrossTheme,
    EventInfo,
    NoteRecord,
    SummaryRecord,
    TableCounts,
    TableRecord,
)
from ._text import utc
from .report import quote_place

Value = str | int | bool | datetime | None

#: The notes sheet: one row per note that is not deleted (hidden and merged ones included).
NOTE_COLUMNS: tuple[str, ...] = (
    "Event", "Topic", "Table", "Stage no.", "Stage", "Step", "Category", "Group", "Note",
    "Author", "Votes", "Starred", "Hidden", "Late", "Private", "Merged into",
    "Created (UTC)", "Edited (UTC)", "Note id",
)

#: Columns whose text came from people at the event (or its organiser): never formulas.
NOTE_TEXT_COLUMNS = frozenset({"Event", "Topic", "Stage", "Step", "Category", "Group", "Note",
                               "Author"})

ANONYMOUS = "anonymous"


def note_row(event: EventInfo, n: NoteRecord) -> tuple[Value, ...]:
    """One note as native values (the CSV turns them into text)."""
    return (
        event.title, n.topic_title, n.table_number, n.stage_index + 1, n.stage_title,
        n.step_title, n.category_label, n.group_label, n.text,
        n.author if n.author is not None else ANONYMOUS, n.votes, n.starred, n.hidden, n.late,
        n.private, n.merged_into, utc(n.created_ms),
        utc(n.updated_ms) if n.updated_ms is not None else None, n.id,
    )


SUMMARY_COLUMNS: tuple[str, ...] = ("Topic", "Table", "Stage no.", "Stage", "Summary",
                                    "Updated (UTC)")


def summary_row(event: EventInfo, table: TableRecord, s: SummaryRecord) -> tuple[Value, ...]:
    stages = event.template.stages
    title = stages[s.stage_index].title if 0 <= s.stage_index < len(stages) else ""
    return (table.topic_title, table.number, s.stage_index + 1, title, s.text,
            utc(s.updated_ms))


def table_columns(event: EventInfo) -> tuple[str, ...]:
    stages = tuple(f"Stage {i + 1} notes" for i in range(len(event.template.stages)))
    return ("Table", "Topic", "Facilitator", "Participants", "Notes", "Hidden", "Merged",
            "Starred", "Late", "Votes", "Summaries", *stages)


def table_row(c: TableCounts) -> tuple[Value, ...]:
    return (c.number, c.topic_title, c.facilitator_name, c.participants, c.notes, c.hidden,
            c.merged, c.starred, c.late, c.votes, c.summaries, *c.per_stage)


THEME_COLUMNS: tuple[str, ...] = ("Stage no.", "Stage", "Category", "Theme", "Keywords",
                                  "Tables", "Topics", "Notes", "Quote", "Quote from",
                                  "Theme id")


def theme_row(stage_number: int, stage_title: str, category: str | None,
              t: AcrossTheme) -> tuple[Value, ...]:
    """One "Across the tables" theme, as a spreadsheet row."""
    quote = t.quotes[0] if t.quotes else None
    return (stage_number, stage_title, category, t.title, ", ".join(t.keywords), t.tables,
            t.topics, t.notes, quote.text if quote else None,
            quote_place(quote.table_number, quote.topic_title) if quote else None, t.id)
