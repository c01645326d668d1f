"""The msgpack packet mends three interop faults with socket.io-client 4.x."""

import msgpack
from plenary.live.packet import Packet
from socketio import packet as sio_packet


def test_disconnect_packet_has_no_data_field():
    # (a) the JS parser rejects DISCONNECT with any payload, even nil
    encoded = Packet(sio_packet.DISCONNECT, namespace="/").encode()
    assert msgpack.loads(encoded) == {"type": sio_packet.DISCONNECT, "nsp": "/"}


def test_event_packets_keep_their_data():
    encoded = Packet(sio_packet.EVENT, data=["change", {"seq": 1}], namespace="/").encode()
    assert msgpack.loads(encoded)["data"] == ["change", {"seq": 1}]


def test_js_undefined_decodes_as_none():
    # (b) notepack.io encodes undefined as fixext1 type 0 data 0
    raw = msgpack.dumps({"type": sio_packet.CONNECT, "nsp": "/",
                         "data": msgpack.ExtType(0, b"\x00")})
    assert raw.endswith(b"\xd4\x00\x00")
    assert Packet(encoded_packet=raw).data is None


def test_other_extension_types_survive():
    raw = msgpack.dumps({"type": 2, "nsp": "/", "data": ["x", msgpack.ExtType(5, b"ab")]})
    assert Packet(encoded_packet=raw).data == ["x", msgpack.ExtType(5, b"ab")]
