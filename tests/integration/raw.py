"""A raw Engine.IO/Socket.IO client over a websocket: sends any frame, reads every frame.

The python-socketio client only sends well-formed packets; an attacker does not.
This speaks the wire protocol by hand (Engine.IO v4, msgpack Socket.IO packets)
so that tests can send what no library would, and see exactly what comes back.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import msgpack
import websockets

from .server import WAIT_S

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR = 0, 1, 2, 3, 4


def sio_packet(ptype: int, data: Any = None, *, pid: int | None = None, nsp: str = "/",
               **extra: Any) -> bytes:
    """A msgpack Socket.IO packet as the JS client encodes it."""
    pkt: dict[str, Any] = {"type": ptype, "nsp": nsp}
    if data is not None:
        pkt["data"] = data
    if pid is not None:
        pkt["id"] = pid
    pkt.update(extra)
    return msgpack.packb(pkt)


@dataclass
class RawClient:
    ws: Any
    packets: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    _next_id: int = 1

    @classmethod
    async def open(cls, url: str, *, headers: dict[str, str] | None = None) -> RawClient:
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await websockets.connect(ws_url, additional_headers=headers or {},
                                      open_timeout=WAIT_S)
        opening = await asyncio.wait_for(ws.recv(), WAIT_S)
        assert isinstance(opening, str) and opening.startswith("0"), opening
        json.loads(opening[1:])
        return cls(ws)

    async def join(self, auth: dict[str, Any]) -> dict[str, Any]:
        """Send CONNECT with ``auth``; return the server's CONNECT or CONNECT_ERROR packet."""
        await self.send(sio_packet(CONNECT, auth))
        return await self.expect(lambda p: p.get("type") in (CONNECT, CONNECT_ERROR))

    async def send(self, frame: bytes | str) -> None:
        await self.ws.send(frame)

    async def call(self, *args: Any) -> Any:
        """Send an EVENT with these arguments (name first, any types) and wait for its ack."""
        pid = self._next_id
        self._next_id += 1
        await self.send(sio_packet(EVENT, list(args), pid=pid))
        return await self.ack(pid)

    async def ack(self, pid: int) -> Any:
        pkt = await self.expect(lambda p: p.get("type") == ACK and p.get("id") == pid)
        return pkt["data"][0]

    async def expect(self, match: Any) -> dict[str, Any]:
        """Read frames until a Socket.IO packet matches; answer pings on the way."""
        async def read() -> dict[str, Any]:
            for pkt in self.packets:
                if match(pkt):
                    self.packets.remove(pkt)
                    return pkt
            while True:
                pkt = await self.next_packet()
                if match(pkt):
                    return pkt
                self.packets.append(pkt)
        return await asyncio.wait_for(read(), WAIT_S)

    async def next_packet(self) -> dict[str, Any]:
        while True:
            try:
                frame = await self.ws.recv()
            except websockets.ConnectionClosed:
                self.closed = True
                raise
            if isinstance(frame, bytes):
                return msgpack.unpackb(frame)
            if frame == "2":  # Engine.IO ping
                await self.ws.send("3")

    async def wait_closed(self) -> bool:
        """Read until the server closes the socket; True if it did within the wait."""
        async def drain() -> None:
            while True:
                await self.next_packet()
        try:
            await asyncio.wait_for(drain(), WAIT_S)
        except websockets.ConnectionClosed:
            return True
        except TimeoutError:
            return False
        return False

    async def close(self) -> None:
        await self.ws.close()
