"""Batching broadcasts per key (an event) so that bursts reach slow screens as one message."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Flush = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


class Coalescer:
    """Collects items per key and flushes each key's batch at most every ``interval`` s.

    The first item of a quiet key is flushed after ``interval`` at most; items that
    arrive meanwhile ride along. Order within a key is kept.
    """

    def __init__(self, flush: Flush, interval: float) -> None:
        self._flush = flush
        self.interval = interval
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, key: str, item: dict[str, Any]) -> None:
        """Queue ``item`` for ``key``'s next batch."""
        batch = self._pending.get(key)
        if batch is not None:
            batch.append(item)
            return
        self._pending[key] = [item]
        task = asyncio.get_running_loop().create_task(self._later(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, key: str) -> None:
        await asyncio.sleep(self.interval)
        batch = self._pending.pop(key, [])
        if batch:
            await self._flush(key, batch)
