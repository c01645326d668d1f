"""Broadcasts encoded once and queued straight onto each recipient's socket.

python-socketio's ``AsyncManager.emit`` already encodes a callback-less
broadcast once, but then starts one task per recipient to send it; at 5,000
screens a stage move was thousands of tasks. :class:`FanoutManager` puts the one
encoded packet on each recipient's Engine.IO queue directly (the queue its
writer task drains), with no task or await per recipient. Emits with a callback,
and sockets whose heartbeat is late (the library closes those as it sends), take
the library's own path.

It also remembers which rooms each client is in: the library finds a leaving
client's rooms by testing every room, which with a room per participant made
each disconnect O(connections) and 5,000 of them (a shutdown, the venue's wifi
dropping) minutes of CPU.

For several processes, compose it under a pub/sub manager
(``class M(socketio.AsyncRedisManager, FanoutManager)``): the pub/sub manager
hands each process's local delivery to this ``emit``.
"""

from __future__ import annotations

import time
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from .. import gcpolicy


class FanoutManager(socketio.AsyncManager):
    """An ``AsyncManager`` whose broadcasts cost one queue append per recipient,
    and whose disconnects cost the leaving client's rooms, not every room."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any,
                         eio_sid: str | None = None) -> None:
        """Add a client to a room (and remember it)."""
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        """Take a client out of a room."""
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)

    def basic_close_room(self, room: Any, namespace: str) -> None:
        """Empty a room."""
        for sid, _ in list(self.get_participants(namespace, room)):
            rooms = self._rooms_of.get((namespace, sid))
            if rooms is not None:
                rooms.discard(room)
        super().basic_close_room(room, namespace)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """Forget a client: its rooms (from our index), callbacks and pending state."""
        if namespace not in self.rooms:
            return
        # The client's own room and the all-clients room (None) last, as their
        # entries are what the library's lookups of the sid rely on.
        rooms = self._rooms_of.pop((namespace, sid), set())
        for room in sorted(rooms - {None, sid}, key=str):
            super().basic_leave_room(sid, namespace, room)
        for room in (sid, None):
            if room in rooms:
                super().basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None,
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        """Send ``event`` to a client, a room (or rooms), or everyone."""
        if callback is not None:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, to=to, **kwargs)
        room = to or room
        if namespace not in self.rooms:
            return
        # As the library does: a tuple is several arguments, None is none.
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace,
                                           data=[event, *args]).encode()
        frames = [eio_packet.Packet(eio_packet.MESSAGE, p)
                  for p in (encoded if isinstance(encoded, list) else [encoded])]
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        eio = self.server.eio
        sockets = eio.sockets
        late_after = time.time() - eio.ping_timeout
        late = []
        queued = 0
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            if sock.last_ping and sock.last_ping < late_after:
                late.append(eio_sid)
                continue
            for frame in frames:
                sock.queue.put_nowait(frame)
            queued += len(frames)
        # Thousands of writers about to wake (a stage move): no collection until they have.
        gcpolicy.frames_queued(queued)
        for eio_sid in late:  # the library's send notices the timeout and closes it
            for frame in frames:
                await self.server._send_eio_packet(eio_sid, frame)
