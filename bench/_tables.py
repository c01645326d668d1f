"""Bench events of any size: the set-up actions make an event with one table, and a
benchmark replaces its tables with as many as it needs, spread over the topics."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from plenary.domain.credentials import new_id, new_join_code
from plenary.store.schema import board_tables
from sqlalchemy.ext.asyncio import AsyncConnection


async def replace_tables(conn: AsyncConnection, event_id: str, count: int,
                         **values: Any) -> list[dict[str, Any]]:
    """Give the event ``count`` tables (topics dealt round in order); returns their rows."""
    topic_ids = [r[0] for r in await conn.execute(sa.text(
        "SELECT id FROM topics WHERE event_id = :e ORDER BY position"), {"e": event_id})]
    await conn.execute(sa.delete(board_tables).where(board_tables.c.event_id == event_id))
    rows = [{"id": new_id(), "event_id": event_id, "number": i + 1,
             "topic_id": topic_ids[i % len(topic_ids)], "join_code": new_join_code(), **values}
            for i in range(count)]
    await conn.execute(sa.insert(board_tables), rows)
    return rows
