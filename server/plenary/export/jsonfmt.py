"""JSON: the complete record (see record.py), written as it is read.

One object per line inside each list, so a 50,000-note record streams out in
batches and a person can still read or diff it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from importlib import metadata
from typing import Any

from ..store.records import BATCH, EventReader
from . import record
from ._text import iso_utc

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode = _ENCODER.encode


def _generator() -> str:
    try:
        return f"plenary {metadata.version('plenary')}"
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "plenary"


def _items(items: Iterable[Any], to_item: Callable[[Any], dict[str, Any]],
           first: bool) -> str:
    out = []
    for item in items:
        out.append(("\n    " if first else ",\n    ") + _encode(to_item(item)))
        first = False
    return "".join(out)


async def render(reader: EventReader, exported_ms: int) -> AsyncIterator[str]:
    """The record as JSON text, in pieces."""
    head = {
        "format": record.FORMAT,
        "schema_version": record.SCHEMA_VERSION,
        "exported_at": iso_utc(exported_ms),
        "generator": _generator(),
    }
    text = "{\n" + "".join(f"  {_encode(k)}: {_encode(v)},\n" for k, v in head.items())
    text += f'  "event": {_encode(record.event_item(reader.event))}'
    yield text

    async def part(name: str, batches: AsyncIterator[list[Any]],
                   to_item: Callable[[Any], dict[str, Any]]) -> AsyncIterator[str]:
        yield f',\n  "{name}": ['
        first = True
        async for batch in batches:
            chunk = _items(batch, to_item, first)
            first = first and not batch
            yield chunk
        yield "]" if first else "\n  ]"

    async def once(items: list[Any]) -> AsyncIterator[list[Any]]:
        # In batches like the streamed parts, so no one piece is large.
        for start in range(0, len(items), BATCH):
            yield items[start:start + BATCH]

    parts: list[tuple[str, AsyncIterator[list[Any]], Callable[[Any], dict[str, Any]]]] = [
        ("topics", once(await reader.topics()), record.topic_item),
        ("tables", once(await reader.tables()), record.table_item),
        ("participants", reader.participants(), record.participant_item),
        ("groups", once(await reader.groups()), record.group_item),
        ("summaries", once(await reader.summaries()), record.summary_item),
        ("notes", reader.notes(), record.note_item),
        ("votes", reader.votes(), record.vote_item),
        ("themes", once(await reader.themes()), record.theme_item),
        ("theme_exclusions", once(await reader.theme_exclusions()),
         record.theme_exclusion_item),
    ]
    for name, batches, to_item in parts:
        async for piece in part(name, batches, to_item):
            yield piece
    yield "\n}\n"
