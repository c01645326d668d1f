"""Rate limits for the live channel: in memory, per process, rebuilt at will.

These protect the server and the other tables from one misbehaving client; they
are a cache of recent behaviour, not state, so losing them on restart is fine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

Clock = Callable[[], float]


@dataclass(slots=True)
class TokenBucket:
    """Allow bursts of ``capacity`` actions, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    clock: Clock = time.monotonic
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.stamp = self.clock()

    def take(self) -> bool:
        """Spend one token if there is one; False means the caller is over the limit."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class WindowStore(Protocol):
    """Recent attempts, by key, over a sliding window: the join limiter's memory.

    A key holds *distinct members* (a join code guessed, an attempt's id), each
    with the time it was last seen. This process keeps them in memory
    (:class:`MemoryWindowStore`); several processes share one store (Redis).
    """

    async def add(self, key: str, member: str, window: float) -> None:
        """Record ``member`` under ``key`` now; entries older than ``window`` may go."""

    async def ages(self, key: str, window: float) -> list[float]:
        """Seconds since each member of ``key`` was seen, within ``window``, oldest first."""


class MemoryWindowStore:
    """A :class:`WindowStore` in this process's memory, bounded under a scan."""

    #: Keys kept at most; the oldest key is dropped first (a scan from many
    #: addresses costs memory, never correctness for anyone else).
    MAX_KEYS = 20_000

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._keys: dict[str, dict[str, float]] = {}

    def _recent(self, key: str, window: float) -> dict[str, float]:
        cutoff = self.clock() - window
        members = {m: t for m, t in self._keys.get(key, {}).items() if t > cutoff}
        if members:
            self._keys[key] = members
        else:
            self._keys.pop(key, None)
        return members

    async def add(self, key: str, member: str, window: float) -> None:
        """Record ``member`` under ``key`` now."""
        members = self._recent(key, window)
        members.pop(member, None)  # re-inserted last: dicts keep insertion order
        members[member] = self.clock()
        self._keys.pop(key, None)
        self._keys[key] = members
        while len(self._keys) > self.MAX_KEYS:
            self._keys.pop(next(iter(self._keys)))

    async def ages(self, key: str, window: float) -> list[float]:
        """Seconds since each member of ``key`` was seen, oldest first."""
        now = self.clock()
        return sorted((now - t for t in self._recent(key, window).values()), reverse=True)


def retry_after(ages: list[float], limit: int, window: float) -> float:
    """Seconds until fewer than ``limit`` of these entries are inside ``window`` (0: now)."""
    if len(ages) < limit:
        return 0.0
    # The entry that must expire is the limit-th newest; ages are oldest first.
    return max(0.0, window - ages[len(ages) - limit])
