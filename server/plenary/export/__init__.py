"""Exports: the event as a report (DOCX, HTML, Markdown), a spreadsheet (XLSX, CSV)
and the complete record (JSON). docs/export.md describes each one.

Every format reads through :mod:`plenary.store.records` (one consistent read of
the event, notes in batches) and knows nothing of the web or the database.
Text formats can stream as they are read; the zipped ones (DOCX, XLSX) are built
in a worker thread into a spooled temporary file, then sent (and so is every
format downloaded over HTTP: see :mod:`plenary.export.http`).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO, BinaryIO

from ..domain.errors import InvalidPayload
from ..store import Database
from ..store.clock import now_ms
from ..store.records import EventInfo, EventReader, reading
from . import csvfmt, html, jsonfmt, markdown
from ._text import slug

#: Bytes per piece sent on; also how much text is gathered before it is sent.
CHUNK = 64 * 1024
#: A spooled export stays in memory up to this size, then moves to a temporary file.
SPOOL_MAX = 4 * 1024 * 1024

TextRender = Callable[[EventReader, int], AsyncIterator[str]]
FileWrite = Callable[[EventReader, int, IO[bytes]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    media_type: str
    description: str
    #: Text formats: pieces of text as they are read.
    text: TextRender | None = None
    #: Zipped formats: written whole to a file.
    write: FileWrite | None = None


def _lazy_write(module: str) -> FileWrite:
    """The writer of ``module``, imported on first use: python-docx and openpyxl take
    a third of a second to import, which every restart of the server would wait for."""
    async def write(reader: EventReader, exported_ms: int, out: IO[bytes]) -> None:
        await importlib.import_module(f"{__name__}.{module}").write(reader, exported_ms, out)
    return write


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "the report, for Word", write=_lazy_write("docx")),
    Format("html", "text/html; charset=utf-8", "the report as a printable web page",
           text=html.render),
    Format("md", "text/markdown; charset=utf-8", "the report as Markdown",
           text=markdown.render),
    Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "notes, summaries and per-table counts, for Excel", write=_lazy_write("xlsx")),
    Format("csv", "text/csv; charset=utf-8", "one row per note, for any spreadsheet",
           text=csvfmt.render),
    Format("json", "application/json", "the complete record (plenary import reads it)",
           text=jsonfmt.render),
)}


def get_format(name: str) -> Format:
    """The format called ``name``, or InvalidPayload naming the ones there are."""
    try:
        return FORMATS[name]
    except KeyError:
        raise InvalidPayload(f"There is no export format {name!r}; choose one of "
                             f"{', '.join(FORMATS)}.", code="bad_format") from None


def filename(event: EventInfo, fmt: str) -> str:
    """A safe file name for the export: ``plenary-<title>-<date>.<fmt>`` in ASCII."""
    parts = ["plenary", slug(event.title) or event.id.lower()]
    if event.starts_on:
        parts.append(slug(event.starts_on))
    return "-".join(p for p in parts if p) + f".{fmt}"


async def render(db: Database, event_id: str, fmt: str, *, exported_ms: int | None = None,
                 spool: bool = False) -> AsyncIterator[bytes]:
    """The export as pieces of bytes. Raises NotFound (no such event) before the first.

    Text formats come out as they are read, unless ``spool``: then, like DOCX and
    XLSX, the whole file is built into a spooled temporary file first, and the
    database read is over before the first piece (what a download wants: a slow
    client never holds a database connection or transaction open).
    """
    spec = get_format(fmt)
    exported_ms = now_ms() if exported_ms is None else exported_ms
    if spec.write is None and not spool:
        async with reading(db, event_id) as reader:
            async for piece in _text_pieces(spec, reader, exported_ms):
                yield piece
        return
    with SpooledTemporaryFile(max_size=SPOOL_MAX) as file:
        async with reading(db, event_id) as reader:
            if spec.write is not None:
                await spec.write(reader, exported_ms, file)
            else:
                async for piece in _text_pieces(spec, reader, exported_ms):
                    file.write(piece)
        file.seek(0)
        while piece := file.read(CHUNK):
            yield piece


async def _text_pieces(spec: Format, reader: EventReader,
                       exported_ms: int) -> AsyncIterator[bytes]:
    assert spec.text is not None
    pending: list[str] = []
    size = 0
    first = True
    async for text in spec.text(reader, exported_ms):
        pending.append(text)
        size += len(text)
        # Each piece is a batch of rows: let other tasks (live boards) run
        # between batches even when nothing here had to wait.
        await asyncio.sleep(0)
        # The first piece goes at once: it proves the export started.
        if first or size >= CHUNK:
            yield "".join(pending).encode("utf-8")
            pending, size, first = [], 0, False
    if pending:
        yield "".join(pending).encode("utf-8")


async def event_info(db: Database, event_id: str) -> EventInfo:
    """The event's details (for a file name); NotFound if there is none."""
    async with reading(db, event_id) as reader:
        return reader.event


async def export_event(db: Database, event_id: str, fmt: str, out: BinaryIO, *,
                       exported_ms: int | None = None) -> None:
    """Write the export of ``event_id`` in format ``fmt`` (docx, html, md, xlsx, csv,
    json) to ``out``."""
    async for piece in render(db, event_id, fmt, exported_ms=exported_ms):
        out.write(piece)
