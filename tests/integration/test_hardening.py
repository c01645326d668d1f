"""The live channel attacked from outside: raw frames, reserved names, floods, guessing.

Every test here failed on the code before issue 8 (see docs/protocol.md "Refusals").
Each one also checks that the server logged no traceback while it happened.
"""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from plenary.actions import joining
from plenary.live.joins import JoinLimiter
from plenary.live.limits import MemoryWindowStore

from .conftest import participant_auth
from .raw import EVENT, RawClient, sio_packet
from .server import connect, refused, run_server, server_logs

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO, logger="plenary")
    with server_logs() as tracebacks:
        yield
    assert tracebacks == []


@pytest.fixture(autouse=True)
def _fresh_limits(server: Any) -> None:
    # The module's server is shared: each test starts with no recorded attempts.
    server.app.channel.joins = JoinLimiter(MemoryWindowStore())


@pytest.fixture
async def raw(server: Any) -> Any:
    opened: list[RawClient] = []

    async def _open(**kw: Any) -> RawClient:
        client = await RawClient.open(server.url, **kw)
        opened.append(client)
        return client

    yield _open
    for c in opened:
        await c.close()


async def joined(raw: Any, auth: dict[str, Any]) -> RawClient:
    client = await raw()
    answer = await client.join(auth)
    assert answer["type"] == 0, answer
    return client


def key() -> bytes:
    return secrets.token_bytes(16)


# --- item 2: reserved and non-string event names ---------------------------------

async def test_an_event_named_connect_cannot_move_a_socket_to_another_table(event, raw):
    a, b = event["tables"]
    phone = await joined(raw, participant_auth(a["join_code"]))
    ack = await phone.call("connect", {"REMOTE_ADDR": "x"},
                           participant_auth(b["join_code"]))
    assert ack["ok"] is False and ack["error"]["code"] == "bad_event"
    snap = await phone.call("sync", {})
    assert snap["ok"] and snap["you"]["table"] == a["id"]


async def test_an_event_named_disconnect_does_not_drop_the_session(event, raw):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call("disconnect", "client disconnect")
    assert ack["error"]["code"] == "bad_event"
    assert (await phone.call("sync", {}))["ok"] is True


@pytest.mark.parametrize("name", [
    "connect_error", "*", 7, None, [1], {"a": 1}, True, "", "x" * 65])
async def test_reserved_and_non_string_event_names_are_refused(event, raw, name):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call(name, {})
    assert ack == {"ok": False, "error": {"code": "bad_event", "message": ack["error"]["message"]}}
    assert (await phone.call("sync", {}))["ok"] is True


# --- item 6: requests that hung or crashed a handler -------------------------------

@pytest.mark.parametrize("extra", [1, 2])
async def test_events_with_extra_arguments_are_answered(event, raw, extra):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call("sync", {}, *([{}] * extra))
    assert ack["error"]["code"] == "bad_event"


async def test_integers_beyond_64_bits_are_refused_as_invalid(event, raw):
    org = await joined(raw, {"token": event["organiser_token"]})
    ack = await org.call("spotlight.set", {"kind": "topic", "id": 2**64 - 1})
    assert ack["error"]["code"] == "invalid_payload"
    ack = await org.call("spotlight.set", {"kind": "topic", "id": 2**63})  # uint64 on the wire
    assert ack["error"]["code"] == "invalid_payload"


async def test_an_empty_websocket_text_frame_closes_that_socket_only(event, raw):
    other = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    bad = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    await bad.send("")
    assert await bad.wait_closed()
    assert (await other.call("sync", {}))["ok"] is True


@pytest.mark.parametrize("frame", ["x", "9", "b!!!", "40garbage"])
async def test_text_frames_that_are_not_socket_io_never_crash_the_handler(event, raw, frame):
    bad = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    await bad.send(frame)
    if frame[0] in "0123456":  # Engine.IO, but no Socket.IO packet: answered, still open
        refusal = await bad.expect(lambda p: p.get("data", [None])[0] == "refused")
        assert refusal["data"][1]["code"] == "bad_packet"
        assert (await bad.call("sync", {}))["ok"] is True
    else:
        assert await bad.wait_closed()


async def test_a_packet_nested_deeper_than_msgpack_reads_is_answered(event, raw):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    deep = (b"\x84\xa4type\x02\xa4data\x92\xa4sync" + b"\x91" * 1100 + b"\xc0"
            + b"\xa3nsp\xa1/\xa2id\x05")
    await phone.send(deep)
    refusal = await phone.expect(lambda p: p.get("data", [None])[0] == "refused")
    assert refusal["data"][1]["code"] == "bad_packet"
    assert (await phone.call("sync", {}))["ok"] is True


async def test_a_payload_nested_deeply_but_readable_is_invalid(event, raw):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    ack = await phone.call("note.post", {"id": "n" * 10, "text": deep})
    assert ack["error"]["code"] == "invalid_payload"


async def test_client_acks_and_binary_packets_are_refused(event, raw):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    for ptype in (3, 4, 5, 6):
        await phone.send(sio_packet(ptype, ["sync", {}], pid=1))
    for _ in range(4):
        ack = await phone.expect(lambda p: p.get("data", [None])[0] == "refused"
                                 or p.get("type") == 3)
        assert ack["data"][1]["code"] == "bad_packet" if ack["type"] == EVENT else True
    assert (await phone.call("sync", {}))["ok"] is True


async def test_long_polling_is_refused_at_once(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"},
                                timeout=5)
        assert answer.status_code == 400
        # The oversized long-polling POST that used to hang a shutdown.
        answer = await http.post("/socket.io/", params={"EIO": "4", "transport": "polling",
                                                        "sid": "x"},
                                 content=b"x" * (2 * 1024 * 1024), timeout=10)
        assert answer.status_code == 400


def test_a_stuck_request_cannot_hold_up_a_shutdown(tmp_path):
    with run_server(tmp_path) as running:
        port = int(running.url.rsplit(":", 1)[1])
        stuck = socket.create_connection(("127.0.0.1", port))
        # A request whose body never arrives keeps its handler waiting for ever.
        stuck.sendall(b"POST /api/session HTTP/1.1\r\nHost: x\r\n"
                      b"Origin: " + running.url.encode() + b"\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{")
        # A full round trip after it: by then the server has read the stuck request.
        assert httpx.get(f"{running.url}/healthz", timeout=10).status_code == 200
        leaving = time.monotonic()
    took = time.monotonic() - leaving  # run_server waits up to 15 s for the server to stop
    stuck.close()
    assert took < 12, f"shutdown took {took:.1f} s"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


# --- item 7: floods ------------------------------------------------------------------

async def test_unknown_event_names_count_against_the_rate_limit(event, raw):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    codes = [(await phone.call(f"no.such.{i}", {}))["error"]["code"] for i in range(70)]
    assert codes[0] == "unknown_event"
    assert "rate_limited" in codes


async def test_a_flood_of_bad_frames_is_logged_once_and_disconnected(event, raw, caplog):
    phone = await joined(raw, participant_auth(event["tables"][0]["join_code"]))
    caplog.clear()
    for _ in range(2000):
        try:
            await phone.send(b"\xc1")
        except Exception:  # the server closed the socket mid-flood
            break
    assert await phone.wait_closed()
    lines = [r for r in caplog.records if r.name.startswith(("plenary", "engineio", "socketio"))
             and r.levelno >= logging.WARNING]
    assert len(lines) <= 3, [r.getMessage() for r in lines]


async def test_participants_per_table_are_capped(server, monkeypatch, event):
    monkeypatch.setattr(joining, "MAX_PARTICIPANTS_PER_TABLE", 3)
    code = event["tables"][1]["join_code"]
    keys = [key() for _ in range(3)]
    phones = [await connect(server.url, participant_auth(code, key=k)) for k in keys]
    try:
        err = await refused(server.url, participant_auth(code))
        assert err["code"] == "table_full"
        again = await connect(server.url, participant_auth(code, key=keys[0]))  # rejoin works
        await again.close()
    finally:
        for p in phones:
            await p.close()


async def test_new_participants_per_address_are_capped_but_rejoins_are_not(server, event):
    server.app.channel.joins.joins = 3
    code = event["tables"][0]["join_code"]
    keys = [key() for _ in range(3)]
    for k in keys:
        await (await connect(server.url, participant_auth(code, key=k))).close()
    err = await refused(server.url, participant_auth(code))
    assert err["code"] == "too_many_joins" and err["retry_after"] >= 1
    await (await connect(server.url, participant_auth(code, key=keys[1]))).close()


# --- item 1: the join-code limiter ---------------------------------------------------

def wrong_codes(n: int) -> list[str]:
    return [f"ZZZZZ{i:03d}".replace("0", "Q").replace("1", "R") for i in range(n)]


async def test_wrong_codes_never_lock_out_a_right_code_or_staff(server, event):
    for code in wrong_codes(10):
        assert (await refused(server.url, participant_auth(code)))["code"] == "bad_join_code"
    err = await refused(server.url, participant_auth("YYYYYYYY"))
    assert err["code"] == "too_many_attempts" and err["retry_after"] >= 1
    phone = await connect(server.url, participant_auth(event["tables"][0]["join_code"]))
    org = await connect(server.url, {"token": event["organiser_token"]})
    dash = await connect(server.url, {"token": event["dashboard_token"]})
    for c in (phone, org, dash):
        assert (await c.call("sync", {}))["ok"] is True
        await c.close()


async def test_the_same_wrong_code_again_is_not_another_guess(server):
    for _ in range(15):
        assert (await refused(server.url, participant_auth("WWWWWWWW")))["code"] \
            == "bad_join_code"


async def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(tmp_path):
    for trusted, separate in (("127.0.0.1", True), ("", False)):
        with run_server(tmp_path / (trusted or "none"),
                        PLENARY_TRUSTED_PROXIES=trusted) as running:
            for code in wrong_codes(10):
                client = await RawClient.open(running.url,
                                              headers={"X-Forwarded-For": "10.0.0.1"})
                assert (await client.join(participant_auth(code)))["type"] == 4
                await client.close()
            client = await RawClient.open(running.url, headers={"X-Forwarded-For": "10.0.0.2"})
            answer = await client.join(participant_auth("YYYYYYYY"))
            await client.close()
            assert answer["data"]["data"]["code"] == (
                "bad_join_code" if separate else "too_many_attempts")
