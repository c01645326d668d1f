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


async def test_a_broadcast_wave_holds_collections_until_its_writers_have_run(monkeypatch):
    frozen: list[bool] = []
    monkeypatch.setattr(gcpolicy.gc, "freeze", lambda: frozen.append(gcpolicy.gc.isenabled()))
    monkeypatch.setattr(gcpolicy._Wave, "queued", 0)
    ran: list[bool] = []
    loop = asyncio.get_running_loop()
    assert gcpolicy.gc.isenabled()
    try:
        gcpolicy.frames_queued(gcpolicy.WAVE_FRAMES - 1)
        assert gcpolicy.gc.isenabled()  # not a wave yet
        # A writer woken by the frame that makes the wave, then one by a frame
        # queued after the hold began: both run before collections come back.
        loop.call_soon(lambda: ran.append(gcpolicy.gc.isenabled()))
        gcpolicy.frames_queued(1)
        assert not gcpolicy.gc.isenabled()
        loop.call_soon(lambda: ran.append(gcpolicy.gc.isenabled()))
        gcpolicy.frames_queued(10)
        for _ in range(5):
            await asyncio.sleep(0)
        assert ran == [False, False]
        assert gcpolicy.gc.isenabled()
        assert frozen == [False]  # what the writers left was frozen, once, before enabling
        assert gcpolicy._Wave.queued == 0
    finally:
        gcpolicy.gc.enable()


async def test_waves_without_end_hold_collections_no_longer_than_the_limit(monkeypatch):
    monkeypatch.setattr(gcpolicy.gc, "freeze", lambda: None)
    monkeypatch.setattr(gcpolicy._Wave, "queued", 0)
    monkeypatch.setattr(gcpolicy, "HOLD_MAX_S", 0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        gcpolicy.frames_queued(gcpolicy.WAVE_FRAMES)
        while not gcpolicy.gc.isenabled():
            gcpolicy.frames_queued(1)  # a writer queuing more every turn of the loop
            await asyncio.sleep(0)
            assert loop.time() - started < 5
        assert loop.time() - started >= 0.05
    finally:
        gcpolicy.gc.enable()


def test_a_hold_whose_loop_stopped_is_ended_by_the_next_wave(monkeypatch):
    monkeypatch.setattr(gcpolicy.gc, "freeze", lambda: None)
    monkeypatch.setattr(gcpolicy._Wave, "queued", 0)
    monkeypatch.setattr(gcpolicy, "HOLD_MAX_S", 0.0)
    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(gcpolicy.frames_queued, gcpolicy.WAVE_FRAMES)
        loop.call_soon(loop.stop)  # the loop ends before the release it schedules runs
        loop.run_forever()
        assert not gcpolicy.gc.isenabled()
        gcpolicy.frames_queued(1)  # the next broadcast, on a live loop or none
        assert gcpolicy.gc.isenabled()
    finally:
        gcpolicy.gc.enable()
        gcpolicy._Wave.held_at = None
        loop.close()
