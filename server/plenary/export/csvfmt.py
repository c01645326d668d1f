"""CSV: the notes sheet's columns, for Excel and for other tools.

UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the local code
page and garbles every accent and emoji), CRLF line ends, and no cell that a
spreadsheet would run as a formula: those get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from ..store.records import EventReader
from ._text import neutralise_formula
from .columns import NOTE_COLUMNS, Value, note_row

BOM = "\ufeff"


def cell(value: Value) -> str:
    """A value as CSV text: yes/no, UTC times, and formula triggers neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int):
        return str(value)
    return neutralise_formula(value)


async def render(reader: EventReader, exported_ms: int) -> AsyncIterator[str]:
    """The notes as CSV text, one batch of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NOTE_COLUMNS)
    yield BOM + buffer.getvalue()
    event = reader.event
    async for batch in reader.notes():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([cell(v) for v in note_row(event, n)] for n in batch)
        yield buffer.getvalue()
