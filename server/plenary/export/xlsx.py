"""XLSX: notes, summaries, per-table counts, the event's details and the themes, one sheet each.

openpyxl's write-only workbook writes each row to a temporary file as it is
appended, so the notes stream through; the appends and the final zip run in a
worker thread, a batch at a time, so the event loop keeps serving live boards.
Every cell of text people typed is stored as text, never as a formula, even
when it starts with ``=``; the text itself is kept exactly as written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ..store.records import BATCH, EventReader
from ._text import YIELD_EVERY, looks_like_formula, utc, xml_safe
from .columns import (
    NOTE_COLUMNS,
    SUMMARY_COLUMNS,
    THEME_COLUMNS,
    Value,
    note_row,
    summary_row,
    table_columns,
    table_row,
    theme_row,
)

#: Column widths in characters; anything not listed gets 12.
WIDTHS = {
    "Event": 24, "Topic": 32, "Table": 7, "Stage no.": 9, "Stage": 30, "Step": 16,
    "Category": 14, "Group": 20, "Note": 60, "Author": 16, "Votes": 7, "Starred": 9,
    "Hidden": 8, "Late": 7, "Private": 8, "Merged into": 14, "Created (UTC)": 19,
    "Edited (UTC)": 19, "Note id": 14, "Summary": 80, "Updated (UTC)": 19,
    "Facilitator": 20, "Participants": 12, "Notes": 8, "Field": 18, "Value": 60,
    "Theme": 36, "Keywords": 30, "Tables": 7, "Topics": 7, "Quote": 60, "Quote from": 30,
    "Theme id": 14,
}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_WRAP = Alignment(wrap_text=True, vertical="top")


class _Sheet:
    """A write-only sheet with a bold frozen header, sized columns and a filter."""

    def __init__(self, wb: Workbook, title: str, columns: Sequence[str],
                 wrap: frozenset[str] = frozenset()) -> None:
        ws: WriteOnlyWorksheet = wb.create_sheet(title)
        # Write-only sheets take their layout before the first row is written.
        for i, name in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(name, 12)
        ws.freeze_panes = "A2"
        self.ws = ws
        self.width = len(columns)
        self.rows = 0
        self._wrap = {i for i, name in enumerate(columns) if name in wrap}
        header = []
        for name in columns:
            c = WriteOnlyCell(ws, value=name)
            c.font = _HEADER_FONT
            c.fill = _HEADER_FILL
            header.append(c)
        ws.append(header)

    def _cell(self, i: int, value: Value) -> Any:
        if not isinstance(value, str):
            return value
        value = xml_safe(value)
        formula_like = looks_like_formula(value)
        if i not in self._wrap and not formula_like:
            return value  # plain text: openpyxl stores it as a string cell
        c = WriteOnlyCell(self.ws, value=value)
        # openpyxl reads a string starting with "=" as a formula; say it is text.
        c.data_type = "s"
        if formula_like:
            # Excel's own "text" marker (the hidden apostrophe): the cell stays text
            # even when someone edits it, and the value is kept exactly as written.
            c.quotePrefix = True
        if i in self._wrap:
            c.alignment = _WRAP
        return c

    def append(self, rows: Sequence[Sequence[Value]]) -> None:
        for n, row in enumerate(rows, 1):
            self.ws.append([self._cell(i, v) for i, v in enumerate(row)])
            if n % YIELD_EVERY == 0:
                time.sleep(0)
        self.rows += len(rows)

    def finish(self) -> None:
        last = get_column_letter(self.width)
        self.ws.auto_filter.ref = f"A1:{last}{self.rows + 1}"


async def write(reader: EventReader, exported_ms: int, out: IO[bytes]) -> None:
    """Write the workbook to ``out``."""
    event = reader.event
    wb = Workbook(write_only=True)
    notes = _Sheet(wb, "Notes", NOTE_COLUMNS, wrap=frozenset({"Note"}))
    summaries = _Sheet(wb, "Summaries", SUMMARY_COLUMNS, wrap=frozenset({"Summary"}))
    tables_sheet = _Sheet(wb, "Tables", table_columns(event))
    about = _Sheet(wb, "Event", ("Field", "Value"))
    themes = _Sheet(wb, "Themes", THEME_COLUMNS, wrap=frozenset({"Theme", "Quote"}))

    async for batch in reader.notes():
        rows = [note_row(event, n) for n in batch]
        await asyncio.to_thread(notes.append, rows)

    tables = {t.id: t for t in await reader.tables()}
    rows = [summary_row(event, tables[s.table_id], s) for s in await reader.summaries()]
    for start in range(0, len(rows), BATCH):
        await asyncio.to_thread(summaries.append, rows[start:start + BATCH])
    counts = await reader.counts()
    rows = [table_row(c) for c in counts]
    for start in range(0, len(rows), BATCH):
        await asyncio.to_thread(tables_sheet.append, rows[start:start + BATCH])
    totals = await reader.totals(counts)
    details: list[tuple[str, Value]] = [
        ("Event", event.title), ("Venue", event.venue), ("Date", event.starts_on),
        ("Status", event.status), ("Template", event.template.title),
        ("Exported (UTC)", utc(exported_ms)),
        ("Topics", totals.topics), ("Tables", totals.tables),
        ("Participants", totals.participants), ("Notes shown", totals.notes),
        ("Notes hidden", totals.hidden), ("Votes", totals.votes),
        ("Big ideas (starred)", totals.starred),
    ]
    details += [(f"Stage {i + 1}", s.title) for i, s in enumerate(event.template.stages)]
    about.append(details)
    rows = []
    for i, stage in enumerate(event.template.stages):
        for scope in await reader.across_tables(i, quotes=1):
            rows += [theme_row(i + 1, stage.title, scope.label, t) for t in scope.themes]
    await asyncio.to_thread(themes.append, rows)
    for sheet in (notes, summaries, tables_sheet, about, themes):
        sheet.finish()
    await asyncio.to_thread(wb.save, out)

