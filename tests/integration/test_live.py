"""The live channel end to end: a real server, real socket.io clients over msgpack."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import httpx
import msgpack
import pytest
import socketio

from .conftest import participant_auth
from .server import refused

pytestmark = pytest.mark.integration


def note_id() -> str:
    return uuid.uuid4().hex


async def test_healthz_and_pages(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        for path in ("/", "/j/ABCD2345", "/facilitator", "/organiser", "/dashboard"):
            page = await http.get(path)
            assert page.status_code == 200, path
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["x-content-type-options"] == "nosniff"


async def test_participant_posts_and_peers_receive_it(server, event, join):
    table = event["tables"][0]
    alice = await join(participant_auth(table["join_code"], name="Alice"))
    bob = await join(participant_auth(table["join_code"].lower()))  # codes are case-insensitive
    fac = await join({"token": table["facilitator_token"]})
    org = await join({"token": event["organiser_token"]})

    snap = await bob.call("sync", {})
    assert snap["ok"] and snap["mode"] == "snapshot"
    assert snap["table"]["topic"]["title"] == table["topic"]
    assert snap["event"]["template"]["stages"][0]["prompt"]
    assert snap["you"]["role"] == "participant"

    nid = note_id()
    ack = await alice.call("note.post", {"id": nid, "text": "  Early help works  "})
    assert ack["ok"] is True
    assert ack["note"]["text"] == "Early help works"
    assert ack["note"]["author"] == "Alice"
    for client in (alice, bob, fac, org):
        change = await client.next_change()
        assert change["type"] == "note.added"
        assert change["seq"] == ack["seq"]
        assert change["data"]["note"]["id"] == nid
        assert change["table"] == table["id"]


async def test_ack_arrives_only_after_commit(server, event, join):
    """When the ack arrives, a fresh connection (reading the store) already sees the note."""
    table = event["tables"][0]
    alice = await join(participant_auth(table["join_code"]))
    ack = await alice.call("note.post", {"id": note_id(), "text": "committed?"})
    late = await join(participant_auth(table["join_code"]))
    snap = await late.call("sync", {})
    assert snap["seq"] >= ack["seq"]
    assert ack["note"]["id"] in [n["id"] for n in snap["notes"]]


async def test_retried_post_creates_one_note(server, event, join):
    table = event["tables"][0]
    alice = await join(participant_auth(table["join_code"]))
    nid = note_id()
    first = await alice.call("note.post", {"id": nid, "text": "once"})
    again = await alice.call("note.post", {"id": nid, "text": "once"})
    assert again["ok"] and again["duplicate"] is True and again["seq"] == first["seq"]
    snap = await alice.call("sync", {})
    assert [n["id"] for n in snap["notes"]].count(nid) == 1
    # Someone else reusing the id is refused rather than merged.
    mallory = await join(participant_auth(table["join_code"]))
    clash = await mallory.call("note.post", {"id": nid, "text": "mine now"})
    assert clash["error"]["code"] == "id_conflict"


async def test_reconnect_replays_exactly_what_was_missed(server, event, join):
    table = event["tables"][0]
    key = secrets.token_bytes(16)
    phone = await join(participant_auth(table["join_code"], key=key))
    first = await phone.call("sync", {})
    seen = first["seq"]
    pid = first["you"]["participant"]
    await phone.close()

    other = await join(participant_auth(table["join_code"]))
    missed = [await other.call("note.post", {"id": note_id(), "text": f"missed {i}"})
              for i in range(3)]
    fac = await join({"token": table["facilitator_token"]})
    step = await fac.call("step.next", {"from": 0})
    assert step["ok"], step

    back = await join(participant_auth(table["join_code"], key=key))
    replay = await back.call("sync", {"since": seen})
    assert replay["mode"] == "changes"
    assert replay["you"]["participant"] == pid  # same phone, same participant
    assert [c["seq"] for c in replay["changes"]] == list(range(seen + 1, replay["seq"] + 1))
    assert [c["data"]["note"]["text"] for c in replay["changes"][:3]] == [
        f"missed {i}" for i in range(3)]
    assert replay["changes"][3]["type"] == "step.changed"
    assert replay["seq"] == step["seq"] == missed[-1]["seq"] + 1
    # Replaying onto the old snapshot gives the board a fresh snapshot shows.
    board = {n["id"] for n in first["notes"]} | {
        c["data"]["note"]["id"] for c in replay["changes"] if c["type"] == "note.added"}
    fresh = await back.call("sync", {})
    assert board == {n["id"] for n in fresh["notes"]}
    assert fresh["table"]["step"] == replay["changes"][-1]["data"]["step"]


async def test_sync_ahead_of_the_server_gets_a_snapshot(server, event, join):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    assert (await phone.call("sync", {"since": 10**9}))["mode"] == "snapshot"


async def test_organiser_advance_reaches_every_table(server, join):
    ev = await server.create_event(tables=3)
    org = await join({"token": ev["organiser_token"]})
    phones = [await join(participant_auth(t["join_code"])) for t in ev["tables"]]
    dash = await join({"token": ev["dashboard_token"]})
    ack = await org.call("stage.next", {"from": 0})
    assert ack == {"ok": True, "stage": 1}
    for phone, t in zip(phones, ev["tables"], strict=True):
        change = await phone.next_change()
        assert (change["type"], change["data"], change["table"]) == (
            "stage.changed", {"stage": 1, "step": 0}, t["id"])
    dash_tables = {(await dash.next_change())["table"] for _ in ev["tables"]}
    assert dash_tables == {t["id"] for t in ev["tables"]}
    # A second click from a screen that had not caught up does not skip a stage.
    stale = await org.call("stage.next", {"from": 0})
    assert stale["error"]["code"] == "stale"
    snap = await dash.call("sync", {})
    assert snap["event"]["stage"] == 1 and all(t["stage"] == 1 for t in snap["tables"])


async def test_a_stage_move_is_one_message_per_phone_carrying_the_new_event(server, join):
    ev = await server.create_event(tables=2)
    org = await join({"token": ev["organiser_token"]})
    phone = await join(participant_auth(ev["tables"][0]["join_code"]))
    await phone.call("sync", {})
    heard: list[str] = []
    arrived = asyncio.Event()

    def any_message(name: str, *args: object) -> None:
        heard.append(name)
        arrived.set()

    phone.sio.on("*", any_message)
    phone.sio.handlers["/"].pop("changes", None)  # let the catch-all see it
    ack = await org.call("stage.next", {"from": 0})
    assert ack == {"ok": True, "stage": 1}
    await asyncio.wait_for(arrived.wait(), 10)
    # Whatever else was in flight has landed once a round trip has.
    await phone.call("sync", {"since": 0})
    assert heard == ["changes"]
    phone.sio.handlers["/"].pop("*")
    phone.sio.on("changes", lambda batch, updated=None: phone.updates.append(updated))
    again = await org.call("stage.next", {"from": 1})
    assert again["ok"], again
    await phone.call("sync", {"since": 0})
    assert phone.updates and phone.updates[-1]["event"]["stage"] == 2
    assert phone.updates[-1]["server_time"] > 0
    # The template came with the snapshot and never changes: updates leave it out.
    assert "template" not in phone.updates[-1]["event"]
    caught_up = await phone.call("sync", {"since": 0})
    assert caught_up["mode"] == "changes" and "template" not in caught_up["event"]
    assert (await phone.call("sync", {}))["event"]["template"]["stages"]


async def test_event_status_lifecycle(server, join):
    ev = await server.create_event(tables=1, start=False)
    org = await join({"token": ev["organiser_token"]})
    phone = await join(participant_auth(ev["tables"][0]["join_code"]))
    early = await phone.call("note.post", {"id": note_id(), "text": "too early"})
    assert early["error"]["code"] == "event_not_live"
    assert (await org.call("event.status", {"action": "close"}))["error"]["code"] == \
        "event_status"
    assert (await org.call("event.status", {"action": "start"}))["status"] == "live"
    assert (await phone.next_change())["data"] == {"status": "live"}
    assert (await phone.call("note.post", {"id": note_id(), "text": "now"}))["ok"]
    assert (await org.call("event.status", {"action": "close"}))["status"] == "closed"
    closed = await phone.call("note.post", {"id": note_id(), "text": "too late"})
    assert closed["error"]["code"] == "event_closed"


@pytest.mark.parametrize(("event_name", "payload", "code"), [
    ("stage.next", {}, "forbidden"),
    ("step.next", {}, "forbidden"),
    ("event.status", {"action": "close"}, "forbidden"),
])
async def test_participant_cannot_run_the_event(server, event, join, event_name, payload, code):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call(event_name, payload)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert ack["error"]["message"]


async def test_nobody_acts_on_another_table(server, event, join):
    mine, other = event["tables"]
    phone = await join(participant_auth(mine["join_code"]))
    ack = await phone.call("note.post", {"id": note_id(), "text": "x", "table": other["id"]})
    assert ack["error"]["code"] == "wrong_table"
    fac = await join({"token": mine["facilitator_token"]})
    assert (await fac.call("step.next", {"table": other["id"]}))["error"]["code"] == "wrong_table"
    # The dashboard watches; it cannot post or steer.
    dash = await join({"token": event["dashboard_token"]})
    assert (await dash.call("stage.next", {}))["error"]["code"] == "forbidden"
    assert (await dash.call("note.post", {"id": note_id(), "text": "x"}))["error"]["code"] == \
        "forbidden"


async def test_organiser_of_one_event_cannot_touch_another(server, join):
    a, b = await server.create_event(tables=1), await server.create_event(tables=1)
    org_a = await join({"token": a["organiser_token"]})
    ack = await org_a.call("step.next", {"table": b["tables"][0]["id"]})
    assert ack["error"]["code"] == "wrong_table" or ack["error"]["code"] == "not_found"


async def test_wrong_join_code_is_refused_clearly(server):
    err = await refused(server.url, participant_auth("ZZZZZZZZ"))
    assert err["code"] == "bad_join_code"
    assert "join code" in err["message"]


@pytest.mark.parametrize(("auth", "code"), [
    (None, "unauthenticated"),
    ({}, "unauthenticated"),
    (msgpack.ExtType(0, b"\x00"), "unauthenticated"),  # a browser's `undefined`
    ({"token": "o.nope.nope"}, "bad_token"),
    ({"token": 12}, "invalid_payload"),
    ({"join_code": "ABCDEFGH", "participant_key": b"short"}, "invalid_payload"),
])
async def test_bad_credentials_are_refused_with_a_code(server, auth, code):
    err = await refused(server.url, auth)
    assert err["code"] == code


async def test_replaced_facilitator_link_stops_working(server, event):
    table = event["tables"][0]
    forged = table["facilitator_token"].rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert (await refused(server.url, {"token": forged}))["code"] == "bad_token"
    # A facilitator token is not an organiser token for the same id.
    as_org = "o." + table["facilitator_token"].split(".", 1)[1]
    assert (await refused(server.url, {"token": as_org}))["code"] == "bad_token"


@pytest.mark.parametrize(("payload", "code"), [
    ({"id": "n0000001", "text": "x" * 281}, "text_too_long"),
    ({"id": "n0000002", "text": "   "}, "empty_text"),
    ({"id": "n0000003", "text": "x", "sneaky": True}, "invalid_payload"),
    ({"id": "n0000004", "text": ["not", "text"]}, "invalid_payload"),
    ({"id": "../etc/passwd", "text": "x"}, "invalid_payload"),
    ("just a string", "invalid_payload"),
    ({"id": "n0000005", "text": "x", "category": "barrier"}, "bad_category"),
])
async def test_malformed_and_oversized_posts_are_refused(server, event, join, payload, code):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call("note.post", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code
    # ...and the server goes on serving this client and everyone else.
    assert (await phone.call("note.post", {"id": note_id(), "text": "still fine"}))["ok"]


async def test_unknown_event_name(server, event, join):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    assert (await phone.call("drop.tables", {}))["error"]["code"] == "unknown_event"


async def test_huge_packet_drops_only_its_sender(server, event, join):
    table = event["tables"][0]
    bystander = await join(participant_auth(table["join_code"]))
    attacker = await join(participant_auth(table["join_code"]))
    gone = asyncio.Event()
    attacker.sio.on("disconnect", lambda *a: gone.set())
    await attacker.sio.emit("note.post", {"id": note_id(), "text": "x" * 200_000})
    await asyncio.wait_for(gone.wait(), 10)
    assert not attacker.sio.connected
    assert (await bystander.call("note.post", {"id": note_id(), "text": "unharmed"}))["ok"]


async def test_flooding_client_is_rate_limited_then_disconnected(server, event, join):
    table = event["tables"][0]
    flood = await join(participant_auth(table["join_code"]))
    calm = await join(participant_auth(table["join_code"]))
    gone = asyncio.Event()
    flood.sio.on("disconnect", lambda *a: gone.set())
    acks: list[dict] = []
    # Far faster than the bucket refills, for as long as the server lets it (bounded).
    for _ in range(40):
        for _ in range(100):
            await flood.sio.emit("sync", {}, callback=acks.append)
        try:
            await asyncio.wait_for(gone.wait(), 0.5)
            break
        except TimeoutError:
            continue
    assert gone.is_set()
    codes = {a["error"]["code"] for a in acks if not a["ok"]}
    assert codes == {"rate_limited"}
    assert flood.kicked and flood.kicked[0]["code"] == "abuse"
    assert (await calm.call("sync", {}))["ok"]


async def test_organiser_steps_a_table_when_the_facilitator_is_away(server, event, join):
    table = event["tables"][1]
    org = await join({"token": event["organiser_token"]})
    missing = await org.call("step.next", {})
    assert missing["ok"] is False
    ack = await org.call("step.next", {"table": table["id"], "from": 0})
    assert ack["ok"] and ack["step"] == 1


async def test_concurrent_posts_over_the_wire_get_distinct_gap_free_seqs(server, join):
    ev = await server.create_event(tables=1, template="world-cafe")
    code = ev["tables"][0]["join_code"]
    phones = [await join(participant_auth(code)) for _ in range(10)]
    start = (await phones[0].call("sync", {}))["seq"]
    acks = await asyncio.gather(*[
        phones[i % 10].call("note.post", {"id": note_id(), "text": f"n{i}"}) for i in range(50)])
    seqs = sorted(a["seq"] for a in acks)
    assert seqs == list(range(start + 1, start + 51))


async def test_engine_io_sid_reuse_is_not_possible(server, event):
    """A client without auth gets no session, so no handler runs for it."""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, transports=["websocket"], wait_timeout=5)
    assert not sio.connected


async def test_websocket_compression_is_off(server):
    """permessage-deflate costs memory per socket and CPU per broadcast: we decline it."""
    import websockets

    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, compression="deflate") as ws:
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        assert (await ws.recv()).startswith("0{")  # the engine.io open packet


async def test_offline_notes_arriving_after_the_close_are_kept_marked_late(server, join):
    ev = await server.create_event(tables=1, template="world-cafe")
    org = await join({"token": ev["organiser_token"]})
    phone = await join(participant_auth(ev["tables"][0]["join_code"]))
    assert (await org.call("event.status", {"action": "close"}))["status"] == "closed"
    fresh = await phone.call("note.post", {"id": note_id(), "text": "after the close"})
    assert fresh["error"]["code"] == "event_closed"
    kept = await phone.call("note.post", {"id": note_id(), "text": "written offline",
                                          "queued": True})
    assert kept["ok"] and kept["late"] is True and kept["note"]["late"] is True
    snap = await phone.call("sync", {})
    assert [n["text"] for n in snap["notes"] if n["late"]] == ["written offline"]



async def test_a_sync_answer_is_followed_by_a_noop_so_the_socket_lets_go_of_it(server):
    # python-engineio's writer holds the last packet it sent until the next one:
    # after a join that is the snapshot, unless something small follows it.
    from .raw import ACK, EVENT, RawClient, sio_packet

    async def frame() -> bytes | str:
        while (got := await asyncio.wait_for(client.ws.recv(), 10)) == "2":  # a ping
            await client.ws.send("3")
        return got

    ev = await server.create_event(tables=1)
    client = await RawClient.open(server.url)
    try:
        assert (await client.join(participant_auth(ev["tables"][0]["join_code"])))["type"] == 0
        await client.send(sio_packet(EVENT, ["sync", {}], pid=1))
        while True:
            got = await frame()
            answer = msgpack.unpackb(got) if isinstance(got, bytes) else {}
            if answer.get("type") == ACK and answer.get("id") == 1:
                break
        assert answer["data"][0]["mode"] == "snapshot"
        assert await frame() == "6"  # an Engine.IO NOOP, right after the answer
        # A post's small answer has none after it: the next frame is the next packet.
        await client.send(sio_packet(EVENT, ["note.post", {"id": note_id(), "text": "hi"}],
                                     pid=2))
        got = await frame()
        assert isinstance(got, bytes), got
    finally:
        await client.close()


async def test_a_phone_that_stops_answering_pings_is_let_go(tmp_path, monkeypatch):
    # The sockets' writers wait with no timer of their own (live/lean_socket.py):
    # a client that goes silent must still be dropped, its writer ended, its seat freed.
    from plenary.live import channel

    from .raw import RawClient
    from .server import run_server

    monkeypatch.setattr(channel, "PING_INTERVAL_S", 0.2)
    monkeypatch.setattr(channel, "PING_TIMEOUT_S", 0.3)
    with run_server(tmp_path) as server:
        ev = await server.create_event(tables=1)
        live = server.app.channel
        client = await RawClient.open(server.url)
        try:
            assert (await client.join(participant_auth(ev["tables"][0]["join_code"])))[
                "type"] == 0
            assert len(live.connections) == 1
            # Read what comes, answer nothing: a phone whose wifi died mid-event.
            async def silent() -> None:
                while True:
                    await client.ws.recv()
            reader = asyncio.ensure_future(silent())
            done, _ = await asyncio.wait([reader], timeout=10)
            assert done, "the server never closed the socket of a silent client"
            # The server's loop runs in its own thread: nothing there to await from here.
            async with asyncio.timeout(5):
                while live.connections or live.sio.eio.sockets:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            await client.close()
