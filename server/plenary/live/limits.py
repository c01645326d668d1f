"""Rate limits for the live channel: in memory, per process, rebuilt at will.

These protect the server and the other tables from one misbehaving client; they
are a cache of recent behaviour, not state, so losing them on restart is fine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
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


class FailureLimiter:
    """Slow down repeated failures (wrong join codes) from one address.

    After ``limit`` failures within ``window`` seconds, further attempts from
    that address are refused until the oldest failure leaves the window.
    """

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        cutoff = self.clock() - self.window
        recent = [t for t in self._failures.get(key, ()) if t > cutoff]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 if it may now)."""
        recent = self._recent(key)
        if len(recent) < self.limit:
            return 0.0
        return max(0.0, recent[-self.limit] + self.window - self.clock())

    def fail(self, key: str) -> None:
        """Record a failure for ``key``."""
        self._recent(key)
        self._failures.setdefault(key, []).append(self.clock())
        if len(self._failures) > 10_000:  # bound memory under a scan from many addresses
            self._failures.pop(next(iter(self._failures)))
