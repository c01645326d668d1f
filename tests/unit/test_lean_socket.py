"""LeanSocket.poll answers as python-engineio's poll does, without a task per wait."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from engineio import async_socket, exceptions, packet
from plenary.live.lean_socket import LeanSocket, make_lean


def lean(ping_interval: float = 25, ping_timeout: float = 20) -> LeanSocket:
    server = SimpleNamespace(ping_interval=ping_interval, ping_timeout=ping_timeout,
                             async_mode="asgi", _async={})
    sock = async_socket.AsyncSocket.__new__(async_socket.AsyncSocket)
    sock.server, sock.queue = server, asyncio.Queue()
    make_lean(sock)
    return sock


def test_make_lean_changes_only_the_class():
    sock = async_socket.AsyncSocket.__new__(async_socket.AsyncSocket)
    sock.queue = q = object()
    make_lean(sock)
    assert type(sock) is LeanSocket and sock.queue is q
    # The method it replaces is still the library's to replace.
    assert "poll" in vars(async_socket.AsyncSocket)


async def test_poll_takes_everything_queued_in_order():
    sock = lean()
    pkts = [packet.Packet(packet.MESSAGE, data=f"m{i}") for i in range(3)]
    for p in pkts:
        sock.queue.put_nowait(p)
    assert await sock.poll() == pkts
    assert sock.queue.empty()


async def test_poll_waits_for_a_packet_in_its_own_task():
    sock = lean()
    tasks_before = len(asyncio.all_tasks())
    waiting = asyncio.ensure_future(sock.poll())
    await asyncio.sleep(0)
    # The library's wait_for made a second task here; the lean poll makes none.
    assert len(asyncio.all_tasks()) == tasks_before + 1
    p = packet.Packet(packet.MESSAGE, data="late")
    sock.queue.put_nowait(p)
    assert await waiting == [p]


async def test_the_close_sentinel_ends_the_batch_and_stays_for_the_next_poll():
    sock = lean()
    p = packet.Packet(packet.MESSAGE, data="last")
    sock.queue.put_nowait(p)
    sock.queue.put_nowait(None)
    assert await sock.poll() == [p]
    assert await sock.poll() == []


async def test_the_wait_has_no_timer_and_outlasts_the_ping_timeout():
    # The reader's own timeout and the pings find a silent client
    # (tests/integration/test_live.py); the writer just waits, with no timer.
    sock = lean(ping_interval=0.01, ping_timeout=0.01)
    timers = asyncio.get_running_loop()._scheduled  # type: ignore[attr-defined]
    before = len(timers)
    waiting = asyncio.ensure_future(sock.poll())
    await asyncio.sleep(0)
    assert len(timers) == before
    done, _ = await asyncio.wait([waiting], timeout=0.1)
    assert not done  # five times the library's timeout, still waiting
    p = packet.Packet(packet.MESSAGE, data="at last")
    sock.queue.put_nowait(p)
    assert await waiting == [p]


async def test_a_cancelled_writer_is_queue_empty_as_in_the_library():
    sock = lean()
    waiting = asyncio.ensure_future(sock.poll())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(exceptions.QueueEmpty):
        await waiting
