"""The msgpack packet, mended for the published socket.io browser client (4.x).

python-socketio's msgpack packet and the JS bundle's parser disagree on three
points; each is fixed here, where packets are encoded and decoded:

(a) A DISCONNECT packet from the server carries ``data: nil``; the JS parser
    rejects any payload on DISCONNECT, so the browser treated a deliberate
    disconnect as a transport error and reconnected. We omit the field.
(b) JS ``undefined`` (for example no ``auth`` at all) is encoded as the msgpack
    extension ExtType(0, b"\\x00"); we decode it as None.
(c) A Uint8Array is encoded as a map of index -> byte; payload fields that take
    bytes convert it back (see ``domain.payloads.typed_array_to_bytes``).
"""

from __future__ import annotations

from typing import Any

import msgpack
from socketio import msgpack_packet

# The JS encoder (notepack.io) writes undefined as fixext 1, type 0, data 0.
_JS_UNDEFINED = msgpack.ExtType(0, b"\x00")


def _ext_hook(code: int, data: bytes) -> Any:
    ext = msgpack.ExtType(code, data)
    if ext == _JS_UNDEFINED:
        return None
    return ext


class Packet(msgpack_packet.MsgPackPacket):
    """A socket.io packet in msgpack that the browser client accepts."""

    ext_hook = _ext_hook

    def _to_dict(self) -> dict[str, Any]:
        packet = super()._to_dict()
        if packet.get("data") is None:
            del packet["data"]
        return packet
