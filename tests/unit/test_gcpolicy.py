"""The freezer: frozen after a wave of arrivals, not only every ten seconds."""

from __future__ import annotations

import asyncio

from plenary import gcpolicy


async def test_a_join_storm_is_frozen_long_before_the_interval(monkeypatch):
    frozen = asyncio.Event()
    monkeypatch.setattr(gcpolicy.gc, "freeze", frozen.set)
    monkeypatch.setattr(gcpolicy, "_LOOK_EVERY_S", 0.01)
    monkeypatch.setattr(gcpolicy, "_arrived", [0])
    task = asyncio.create_task(gcpolicy.keep_frozen(interval=3600))
    try:
        for _ in range(gcpolicy.FREEZE_AFTER_ARRIVALS - 1):
            gcpolicy.connection_arrived()
        await asyncio.sleep(0.05)  # several looks: one arrival short of a freeze
        assert not frozen.is_set()
        gcpolicy.connection_arrived()
        await asyncio.wait_for(frozen.wait(), 5)
        assert gcpolicy._arrived[0] == 0  # counted afresh from the freeze
    finally:
        task.cancel()
