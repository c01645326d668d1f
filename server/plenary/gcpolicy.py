"""Garbage collection for a process holding thousands of long-lived connections.

Each connection keeps a couple of hundred tracked objects alive (Engine.IO socket,
queues, tasks, session), so 5,000 phones make a million. CPython's collector
scans every tracked object of a generation it collects: with defaults a full
collection then stalls the loop for most of a second, and every note waits.
What we do, and why, is in docs/performance.md; :func:`apply` does it,
:func:`keep_frozen` and :func:`frames_queued` keep what collections scan small, and
:func:`watch` logs every collection slow enough to be felt.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

#: A collection longer than this is logged (a warning: screens felt it);
#: PLENARY_GC_LOG_MS sets it (:func:`watch`).
SLOW_MS = 20.0

_started: list[float] = [0.0, 0.0]  # wall and thread CPU clocks at the start
_slow_ms: list[float] = [SLOW_MS]


def apply() -> None:
    """After start-up: collect once, then freeze what exists (modules, metadata,
    templates) so that no later collection scans it again."""
    gc.collect()
    gc.freeze()


#: Seconds between freezes of what has survived so far (see :func:`keep_frozen`).
#: Every 10 s left full collections of 20–70 ms every two seconds at 100 notes/s
#: (each scanned ten seconds of survivors); every second, none over 20 ms at
#: 100/s, but at 500/s a second of survivors (each delivery leaves its socket
#: waiting again) made young collections of ~30 ms. Every 0.1 s (bench burst,
#: two runs each): slow collections 27 -> 2.5 a run, the worst 28 -> 13 ms CPU.
#: A freeze is a list splice, so ten a second cost nothing measurable.
FREEZE_EVERY_S = 0.1


#: During a join storm, freeze as soon as this many connections have arrived.
FREEZE_AFTER_ARRIVALS = 250
#: How often the freezer looks at the arrivals.
_LOOK_EVERY_S = min(0.5, FREEZE_EVERY_S)
_arrived: list[int] = [0]


def connection_arrived() -> None:
    """One connection more (the live channel says so): its objects will live long."""
    _arrived[0] += 1


async def keep_frozen(interval: float = FREEZE_EVERY_S) -> None:
    """Every ``interval`` s, move every tracked object to the permanent generation;
    sooner while connections pour in.

    Freezing is a list splice (no scan), so it costs nothing; afterwards no
    collection looks at those objects again, so a collection only ever scans
    what was allocated in the last few seconds, however many connections are
    held. During a join storm (~200 connections a second) ten seconds of new
    connections made full collections of 75–370 ms; freezing every 250 arrivals
    keeps what a collection scans to about a second's worth. The price: garbage
    cycles among frozen objects (a closed connection's) stay until :func:`thaw`.
    So the paths that run per note leave no cycles (statements are built once: one
    built per call is a cycle of bound parameters; tests/integration/test_garbage.py);
    what a freeze catches in flight (tasks waiting for a client's next frame) is
    freed by reference counting when it ends. Collecting before each freeze was
    tried: at 5,000 connections a second's survivors (those waiting tasks) took
    ~30 ms to scan, every second, and found nothing to free.
    """
    since = 0.0
    while True:
        await asyncio.sleep(_LOOK_EVERY_S)
        since += _LOOK_EVERY_S
        if since >= interval or _arrived[0] >= FREEZE_AFTER_ARRIVALS:
            gc.freeze()
            since, _arrived[0] = 0.0, 0


#: Frames queued since the last hold that make a wave (a stage move or an
#: event-wide message makes one at once; ordinary notes every few hundred
#: milliseconds, when the hold is a cheap freeze). Each recipient's writer task wakes,
#: sends and waits again, leaving a dozen new objects (its next wait) per socket.
#: Those are churn, not growth (the old wait is freed as the new one is made), so
#: allocation counts stay low and no collection comes until one scans them all:
#: 35-50 ms at 5,000 sockets (docs/performance.md, "Memory and garbage collection").
WAVE_FRAMES = 500
#: However many waves follow one another, collections are held no longer than this.
HOLD_MAX_S = 0.5


class _Wave:
    queued = 0
    held_at: float | None = None
    more = False  # frames queued while held: their writers have not run yet


def frames_queued(count: int) -> None:
    """``count`` frames were put on sockets' queues. Past a wave's worth, hold
    collections until every writer woken so far has run, then freeze what they left."""
    _Wave.queued += count
    if _Wave.held_at is not None:
        if time.monotonic() - _Wave.held_at < HOLD_MAX_S:
            _Wave.more = True
            return
        _release_now()  # its loop never ran the release (stopped mid-wave)
    if _Wave.queued >= WAVE_FRAMES and gc.isenabled():
        gc.disable()
        _Wave.held_at, _Wave.more = time.monotonic(), False
        # The writers' wake-ups were scheduled as the frames were queued: this
        # runs after them.
        asyncio.get_running_loop().call_soon(_release)


def _release() -> None:
    if _Wave.more and time.monotonic() - (_Wave.held_at or 0.0) < HOLD_MAX_S:
        _Wave.more = False  # frames queued since: wait for their writers too
        asyncio.get_running_loop().call_soon(_release)
        return
    _release_now()


def _release_now() -> None:
    gc.freeze()
    gc.enable()
    _Wave.queued, _Wave.held_at, _Wave.more = 0, None, False


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
    #: At most one thaw this often: when a whole room leaves (or the server shuts
    #: down), one collection, not one per wave of departures.
    EVERY_S = 60.0

    def __init__(self) -> None:
        self.closed = 0
        self._last = float("-inf")

    def connection_closed(self, still_open: int) -> None:
        """One connection closed; ``still_open`` remain."""
        self.closed += 1
        now = time.monotonic()
        if self.closed >= 2 * still_open + self.MARGIN and now - self._last >= self.EVERY_S:
            self.closed = 0
            self._last = now
            thaw()


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0], _started[1] = time.perf_counter(), time.thread_time()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    if ms >= _slow_ms[0]:
        # CPU apart from wall time: on a busy core the collector is also kept
        # waiting by other threads and processes, which no GC setting changes.
        cpu_ms = (time.thread_time() - _started[1]) * 1000
        log.warning("gc: generation %d collection took %.0f ms (%.0f ms CPU, %d collected)",
                    info["generation"], ms, cpu_ms, info["collected"])


def watch(slow_ms: float = SLOW_MS) -> None:
    """Log collections of ``slow_ms`` or more from now on (installed once per process)."""
    _slow_ms[0] = slow_ms
    if _callback not in gc.callbacks:
        gc.callbacks.append(_callback)
