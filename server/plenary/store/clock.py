"""The store's clock, with no other import: the themes process needs it too."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit every timestamp is stored in."""
    return time.time_ns() // 1_000_000
