"""Engine.IO sockets that wait for their next packet without a task or timer per wake-up.

Each websocket's writer in python-engineio waits for its next packet with
``asyncio.wait_for(queue.get(), ping_interval + ping_timeout)``. On Python 3.11
that wraps the wait in a new Task, with a waiter future, a timer and their
callbacks: about ten objects and three loop turns every time a socket is woken.
A stage move or a dashboard flush wakes thousands of sockets in one turn of the
loop, so the young generation filled with 40,000 such objects at once and each
collection of it took 40–60 ms (docs/performance.md, "Fan-out").

:class:`LeanSocket` waits in the writer's own task, with no timeout: the
library's timeout only ever fires when nothing was queued for 45 s, and a live
socket is sent a ping every 25 s. A client that stops answering is found by the
reader instead (its own wait for the client's next frame times out after the same
45 s; it then queues the close sentinel, which ends this writer), and a ping
sent to a late client closes the socket. The timer was most of a wake-up's cost:
9–10 µs against 3 µs without it (5,000 queues under uvloop), so at 1,000 notes a
second, a tenth of the server's core. :func:`make_lean` gives a new socket this
class before its writer starts. Written against python-engineio 4.x (the version
range in pyproject.toml pins it; tests/unit/test_lean_socket.py checks the
method it replaces is still there, tests/integration/test_live.py that a silent
client is still let go).
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio import async_socket, exceptions


class LeanSocket(async_socket.AsyncSocket):
    """python-engineio's socket, with :meth:`poll` waiting in the caller's task."""

    async def poll(self) -> list[Any]:
        """Wait for packets to send to the client (as the library's ``poll``, untimed)."""
        queue = self.queue
        try:
            packets = [await queue.get()]
        except asyncio.CancelledError:
            raise exceptions.QueueEmpty() from None
        queue.task_done()
        if packets == [None]:
            return []
        while True:
            try:
                pkt = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            queue.task_done()
            if pkt is None:  # the close sentinel: leave it for the next poll
                queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets


def make_lean(sock: Any) -> None:
    """Give a library socket the lean ``poll`` (same object, same state)."""
    if type(sock) is async_socket.AsyncSocket:
        sock.__class__ = LeanSocket
