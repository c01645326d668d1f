"""The websocket wrapper's receive: a hang-up ends a wait without a task per frame."""

from __future__ import annotations

import asyncio

import pytest
from plenary.live.guard import FrameGuard, hang_up

pytestmark = pytest.mark.asyncio


class Socket:
    """An ASGI websocket whose frames the test hands over one by one."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[dict] = asyncio.Queue()
        self.scope = {"type": "websocket", "client": ("10.0.0.1", 1)}
        self.waiting = asyncio.Event()  # set while a read waits for a frame

    async def receive(self) -> dict:
        if self.frames.empty():
            self.waiting.set()
        try:
            return await self.frames.get()
        finally:
            self.waiting.clear()


async def serve(socket: Socket, seen: list[dict]) -> None:
    """An app that reads frames until a disconnect, as engine.io does: each read in
    a task of its own."""
    async def app(scope, receive, send):
        while True:
            message = await asyncio.ensure_future(receive())
            seen.append(message)
            if message["type"] == "websocket.disconnect":
                return

    await FrameGuard(app)(socket.scope, socket.receive, None)


async def test_a_hang_up_ends_the_wait_for_the_next_frame_with_a_disconnect():
    socket, seen = Socket(), []
    app = asyncio.ensure_future(serve(socket, seen))
    socket.frames.put_nowait({"type": "websocket.receive", "text": "40"})
    await socket.waiting.wait()
    assert seen
    hang_up({"asgi.scope": socket.scope})  # the app is waiting in receive now
    await asyncio.wait_for(app, 5)
    assert [m["type"] for m in seen] == ["websocket.receive", "websocket.disconnect"]
    assert "plenary.hang_up" not in socket.scope  # no cycle left through the scope


async def test_a_hang_up_between_frames_disconnects_at_the_next_read():
    socket, seen = Socket(), []
    socket.frames.put_nowait({"type": "websocket.receive", "text": "40"})
    socket.frames.put_nowait({"type": "websocket.receive", "text": "2"})

    async def app(scope, receive, send):
        seen.append(await receive())
        hang_up({"asgi.scope": scope})  # while handling a frame, as the channel does
        seen.append(await receive())

    await FrameGuard(app)(socket.scope, socket.receive, None)
    assert [m["type"] for m in seen] == ["websocket.receive", "websocket.disconnect"]


async def test_a_cancellation_that_is_not_a_hang_up_still_cancels():
    socket, seen = Socket(), []
    app = asyncio.ensure_future(serve(socket, seen))
    await socket.waiting.wait()
    app.cancel()
    with pytest.raises(asyncio.CancelledError):
        await app
    assert seen == []


async def test_a_frame_that_is_not_engine_io_is_a_disconnect():
    socket, seen = Socket(), []
    socket.frames.put_nowait({"type": "websocket.receive", "text": ""})
    socket.frames.put_nowait({"type": "websocket.receive", "text": "hello"})
    await asyncio.wait_for(serve(socket, seen), 5)
    assert seen[-1]["type"] == "websocket.disconnect"
