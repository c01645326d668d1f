"""What reaches the handlers: only well-formed Socket.IO packets of the kinds Plenary uses.

python-socketio dispatches whatever a client sends: an event *named* ``connect``
re-runs the connect handler, a name that is not a string or an event with extra
arguments raises inside the library, an undecodable frame logs two tracebacks.
Every inbound packet is checked here first (:func:`check_packet`, plain Python);
what fails is handed to the channel as a :class:`Refusal` and never dispatched.

Frames that are not Engine.IO at all (an empty text frame, text that does not
start with a packet type) crash python-engineio's websocket loop; the ASGI
wrapper :class:`FrameGuard` closes such a socket before they get there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from .lean_socket import make_lean

log = logging.getLogger(__name__)

#: Event names the server or the client library use for themselves, and the
#: catch-all: no client may send them.
RESERVED_EVENTS = frozenset({
    "connect", "disconnect", "connect_error", "disconnecting",
    "newListener", "removeListener", "message", "*",
})
#: Longer than any real event name; keeps names in logs and errors short.
MAX_EVENT_NAME = 64
#: No payload is deeper than a list inside a map inside the event's map; 32 is
#: generous and stops a payload from being expensive to walk or to validate.
MAX_PAYLOAD_DEPTH = 32
#: The columns the values end up in are signed 64-bit (SQLite, PostgreSQL bigint).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Acknowledgement ids are counters the client library keeps; beyond 2**32 is not one.
MAX_ACK_ID = 2**32

#: Packet types a Plenary client sends. ACK (the server never asks a client for
#: one), CONNECT_ERROR and the binary types (the msgpack parser never uses them)
#: are refused.
_ACCEPTED_TYPES = (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a packet was not dispatched: ``code`` is one of the documented error codes."""

    code: str  # "bad_packet", "bad_event" or "invalid_payload"
    reason: str  # for the log: short, never the client's data
    packet_id: int | None = None  # the ack id, when the packet had a usable one


def check_packet(pkt: Any) -> Refusal | None:
    """The refusal for a decoded packet (``None`` when it failed to decode), or None if fine."""
    if pkt is None:
        return Refusal("bad_packet", "not a Socket.IO msgpack packet")
    if type(pkt.packet_type) is not int or pkt.packet_type not in _ACCEPTED_TYPES:
        return Refusal("bad_packet", f"packet type {pkt.packet_type!r:.20} not accepted")
    if pkt.namespace is not None and not isinstance(pkt.namespace, str):
        return Refusal("bad_packet", "namespace is not a string")
    ack_id = pkt.id
    if ack_id is not None and (type(ack_id) is not int or not 0 <= ack_id < MAX_ACK_ID):
        return Refusal("bad_packet", "acknowledgement id is not a counter")
    if pkt.packet_type != sio_packet.EVENT:
        return None
    data = pkt.data
    if not isinstance(data, list) or not data:
        return Refusal("bad_event", "event without a name", ack_id)
    name = data[0]
    if not isinstance(name, str) or not name or len(name) > MAX_EVENT_NAME:
        return Refusal("bad_event", "event name is not a short string", ack_id)
    if name in RESERVED_EVENTS:
        return Refusal("bad_event", f"reserved event name {name!r}", ack_id)
    if len(data) > 2:
        return Refusal("bad_event", f"{name}: {len(data) - 1} arguments", ack_id)
    if len(data) == 2:
        problem = payload_problem(data[1])
        if problem is not None:
            return Refusal("invalid_payload", f"{name}: {problem}", ack_id)
    return None


def payload_problem(value: Any) -> str | None:
    """What makes a decoded payload unacceptable before any model sees it, or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return "a number is too large"
        elif isinstance(item, dict | list):
            if depth >= MAX_PAYLOAD_DEPTH:
                return "nested too deeply"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


OnRefused = Callable[[str, Refusal], Awaitable[None]]


class GuardedServer(socketio.AsyncServer):
    """python-socketio's server, dispatching only packets that pass :func:`check_packet`.

    Two transport details ride along: each new socket gets :class:`LeanSocket`'s
    ``poll``, and each ``sync`` answer is followed by a NOOP (see ``_send_packet``).
    """

    def __init__(self, *args: Any, on_refused: OnRefused, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_refused = on_refused

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        # Replaces the library's dispatcher (same branches, python-socketio 5.x)
        # so that nothing unchecked reaches it; binary attachments never occur
        # because their packet types are refused.
        try:
            pkt = self.packet_class(encoded_packet=data)
        except Exception:  # msgpack and the packet class raise many kinds; all mean "bad"
            pkt = None
        refusal = check_packet(pkt)
        if refusal is not None:
            await self._on_refused(eio_sid, refusal)
        elif pkt.packet_type == sio_packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif pkt.packet_type == sio_packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        else:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        # Before the socket's writer starts: it then waits without a task per wake-up.
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            make_lean(sock)
        await super()._handle_eio_connect(eio_sid, environ)

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        await super()._send_packet(eio_sid, pkt)
        if pkt.packet_type == sio_packet.ACK and _is_sync_answer(pkt.data):
            # python-engineio's websocket writer keeps the last packet it sent until
            # it sends another. A phone's last one after joining is its snapshot
            # (~6 kB with the template): 5,000 phones held 30 MB of them until their
            # table next changed. A NOOP (ignored by every client) takes its place.
            await self._send_eio_packet(eio_sid, _NOOP)

    async def answer(self, eio_sid: str, packet_id: int, data: Any) -> None:
        """Acknowledge packet ``packet_id`` with ``data`` (for packets never dispatched)."""
        await self._send_packet(eio_sid, self.packet_class(
            sio_packet.ACK, namespace="/", id=packet_id, data=[data]))


_NOOP = eio_packet.Packet(eio_packet.NOOP)


def _is_sync_answer(data: Any) -> bool:
    """Whether an ACK's arguments are a ``sync`` answer (a snapshot or a replay)."""
    return (isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict)
            and "mode" in data[0])


#: Engine.IO v4 packet types are the digits 0-6; a text frame starts with one.
_ENGINEIO_TYPES = frozenset("0123456")
_ENGINEIO_CLOSE = "1"


def is_engineio_text(text: str) -> bool:
    """Whether a websocket text frame can be an Engine.IO packet."""
    return bool(text) and text[0] in _ENGINEIO_TYPES


_HANG_UP = "plenary.hang_up"
_DISCONNECT = {"type": "websocket.disconnect", "code": 1002}


def hang_up(environ: dict[str, Any]) -> None:
    """Close the websocket behind an engine.io ``environ`` now, whatever the client does.

    engine.io's own close sends a CLOSE packet and waits for the client to hang
    up, which a hostile client never does; this ends the connection from our side.
    """
    guarded = (environ.get("asgi.scope") or {}).get(_HANG_UP)
    if guarded is not None:
        guarded.hang_up()


class _Guarded:
    """One websocket's receive, checked. Thousands are held at once, each waiting
    in ``receive``, so it is one slotted object: no task, future or closure per
    connection or per message (racing every receive against a hang-up future
    made a task and an ``asyncio.wait`` per frame, ~1.5 kB held per connection)."""

    __slots__ = ("_by_us", "_client", "_done", "_receive", "_waiting")

    def __init__(self, scope: dict[str, Any], receive: Any) -> None:
        self._receive = receive
        self._client = scope.get("client") or ("unknown",)
        self._waiting: asyncio.Task[Any] | None = None
        self._done = False  # hung up, or the client said goodbye
        self._by_us = False  # a hang-up cancelled the task waiting in receive

    def hang_up(self) -> None:
        self._done = True
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            # The task waiting for the next frame (engine.io's own) stops waiting;
            # receive() below turns our cancellation into a disconnect.
            self._by_us = True
            waiting.cancel()

    async def receive(self) -> dict[str, Any]:
        if self._done:
            return _DISCONNECT
        task = asyncio.current_task()
        self._waiting = task
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            if not self._by_us or task is None:
                raise
            self._by_us = False
            task.uncancel()
            return _DISCONNECT
        finally:
            self._waiting = None
        text = message.get("text")
        if text and text[0] == _ENGINEIO_CLOSE:
            # engine.io forgets the session but keeps reading the socket
            # until a ping timeout: end the connection with the session.
            self._done = True
        if message["type"] == "websocket.receive" and text is not None \
                and not is_engineio_text(text):
            # Hand the app a disconnect: engine.io then closes the socket
            # itself, exactly as when the client hangs up.
            log.warning("closing a websocket from %s: a text frame that is not Engine.IO",
                        self._client[0])
            return _DISCONNECT
        return message


class FrameGuard:
    """ASGI wrapper: a websocket text frame that is not Engine.IO closes that socket,
    and :func:`hang_up` can close any websocket from the server's side."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        # The scope is this connection's own, so it carries the guard (for hang_up).
        guarded = scope[_HANG_UP] = _Guarded(scope, receive)
        try:
            await self.app(scope, guarded.receive, send)
        finally:
            guarded.hang_up()
            # The scope holds the guard and the guard the server's receive, which
            # holds the scope: no cycle left for the collector (see gcpolicy).
            del scope[_HANG_UP]
