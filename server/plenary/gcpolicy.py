"""Garbage collection for a process holding thousands of long-lived connections.

Each connection keeps a couple of hundred tracked objects alive (Engine.IO socket,
queues, tasks, session), so 5,000 phones make a million. CPython's collector
scans every tracked object of a generation it collects: with defaults a full
collection then stalls the loop for most of a second, and every note waits.
What we do, and why, is in docs/performance.md; :func:`apply` does it and
:func:`watch` logs every collection slow enough to be felt.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

#: A collection longer than this is logged (a warning: screens felt it).
SLOW_MS = 20.0

_started: list[float] = [0.0]


def apply() -> None:
    """After start-up: collect once, then freeze what exists (modules, metadata,
    templates) so that no later collection scans it again."""
    gc.collect()
    gc.freeze()


#: Seconds between freezes of what has survived so far (see :func:`keep_frozen`).
FREEZE_EVERY_S = 10.0


async def keep_frozen(interval: float = FREEZE_EVERY_S) -> None:
    """Every ``interval`` s, move every tracked object to the permanent generation.

    Freezing is a list splice (no scan), so it costs nothing; afterwards no
    collection looks at those objects again, so a collection only ever scans
    what was allocated in the last few seconds, however many connections are
    held. The price: garbage cycles among frozen objects (a closed connection's)
    stay until :func:`thaw` runs.
    """
    while True:
        await asyncio.sleep(interval)
        gc.freeze()


def thaw() -> None:
    """Give every frozen object back to the collector and collect once (a stall
    proportional to everything held: for when most of it is garbage)."""
    gc.unfreeze()
    gc.collect()


class Thaw:
    """Bounds what freezing keeps: once more connections have closed since the last
    thaw than twice those still open (plus a margin), the closed ones' frozen
    cycles outweigh the live objects, and a thaw is cheap next to what it frees."""

    MARGIN = 500

    def __init__(self) -> None:
        self.closed = 0

    def connection_closed(self, still_open: int) -> None:
        """One connection closed; ``still_open`` remain."""
        self.closed += 1
        if self.closed >= 2 * still_open + self.MARGIN:
            self.closed = 0
            thaw()


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    if ms >= SLOW_MS:
        log.warning("gc: generation %d collection took %.0f ms (%d collected)",
                    info["generation"], ms, info["collected"])


def watch() -> None:
    """Log slow collections from now on (once per process)."""
    if _callback not in gc.callbacks:
        gc.callbacks.append(_callback)
