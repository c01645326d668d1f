"""The organiser's console API and live controls, against a real server."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from .conftest import participant_auth
from .server import refused

pytestmark = pytest.mark.integration

CSV = "\ufefftitle,brief\nHousing,Where people live\n\"Health, and care\",\"Two lines\nof brief\"\n"


def token_of(url: str) -> str:
    return url.split("#", 1)[1]


async def console(server, token: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=server.url, headers={"origin": server.url})
    r = await http.post("/api/session", json={"token": token})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    return http


async def test_admin_sets_up_an_event_from_nothing(server):
    http = await console(server, token_of(server.admin_url))
    try:
        templates = (await http.get("/api/templates")).json()
        assert "alchemy" in [t["name"] for t in templates]
        created = await http.post("/api/events", json={
            "title": "Spring assembly", "date": "2027-03-14", "venue": "Town hall",
            "template": "alchemy", "topics": [], "tables": 0})
        assert created.status_code == 201, created.text
        event_id = created.json()["event"]["id"]
        ev = f"/api/events/{event_id}"
        r = await http.post(ev + "/topics/import", content=CSV.encode(),
                            headers={"content-type": "text/csv"})
        assert r.status_code == 200, r.text
        assert [t["title"] for t in r.json()["topics"]] == ["Housing", "Health, and care"]
        assert r.json()["topics"][1]["brief"] == "Two lines\nof brief"
        r = await http.post(ev + "/tables", json={"count": 8})
        tables = r.json()["tables"]
        assert [t["number"] for t in tables] == list(range(1, 9))
        assert [t["topic"] for t in tables[:3]] == ["Housing", "Health, and care", "Housing"]
        r = await http.patch(f"{ev}/tables/{tables[0]['id']}", json={"facilitator_name": "Ana"})
        assert r.json()["tables"][0]["facilitator_name"] == "Ana"
        r = await http.patch(ev, json={"title": "Spring people's assembly"})
        assert r.json()["event"]["title"] == "Spring people's assembly"

        cards = await http.get(f"/events/{event_id}/cards?layout=a4")
        assert cards.status_code == 200 and "layout-a4" in cards.text
        assert cards.text.count('class="card"') == 8
        assert tables[0]["join_code"][:4] in cards.text and "<svg" in cards.text
        sheet = await http.get(f"/events/{event_id}/facilitators")
        assert "Ana" in sheet.text and tables[0]["facilitator_url"] in sheet.text
        listed = (await http.get("/api/events")).json()
        assert event_id in [e["id"] for e in listed]
    finally:
        await http.aclose()


async def test_console_refuses_without_session_wrong_event_or_cross_site(server):
    a = await server.create_event(tables=1, start=False)
    b = await server.create_event(tables=1, start=False)
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as anon:
        assert (await anon.get(f"/api/events/{a['id']}")).status_code == 401
        assert (await anon.post("/api/session", json={"token": "o.x.y"})).status_code == 401
        dash = await anon.post("/api/session", json={"token": token_of(a["dashboard_url"])})
        assert dash.status_code == 401  # a dashboard link does not open the console
    http = await console(server, a["organiser_token"])
    try:
        assert (await http.get(f"/api/events/{a['id']}")).status_code == 200
        other = await http.get(f"/api/events/{b['id']}")
        assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
        assert (await http.post("/api/events", json={"title": "x", "template": "alchemy"})
                ).status_code == 403  # only the admin link creates events
        evil = await http.patch(f"/api/events/{a['id']}", json={"title": "pwned"},
                                headers={"origin": "https://evil.example"})
        assert evil.status_code == 403 and evil.json()["error"]["code"] == "csrf"
        form = await http.post(f"/api/events/{a['id']}/topics", content=b"title=x",
                               headers={"content-type": "application/x-www-form-urlencoded"})
        assert form.status_code == 403
        bad = await http.post(f"/api/events/{a['id']}/topics/import", content=b"name\nx",
                              headers={"content-type": "text/csv"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_csv"
        unknown = await http.patch(f"/api/events/{a['id']}", json={"status": "live"})
        assert unknown.status_code == 400
    finally:
        await http.aclose()


async def test_set_up_is_fixed_once_live_but_links_can_be_replaced(server, join):
    ev = await server.create_event(tables=2)  # live
    http = await console(server, ev["organiser_token"])
    try:
        r = await http.post(f"/api/events/{ev['id']}/tables", json={"count": 1})
        assert r.status_code == 409 and r.json()["error"]["code"] == "event_not_draft"
        t = ev["tables"][0]
        fac = await join({"token": t["facilitator_token"]})
        gone = asyncio.Event()
        fac.sio.on("disconnect", lambda *a: gone.set())
        r = await http.post(f"/api/events/{ev['id']}/tables/{t['id']}/regenerate",
                            json={"what": "facilitator_link"})
        assert r.status_code == 200
        await asyncio.wait_for(gone.wait(), 10)
        assert fac.kicked[0]["code"] == "credential_replaced"
        assert (await refused(server.url, {"token": t["facilitator_token"]}))["code"] == \
            "bad_token"
        new = next(x for x in r.json()["tables"] if x["id"] == t["id"])["facilitator_url"]
        await join({"token": token_of(new)})  # the new link works

        r = await http.post(f"/api/events/{ev['id']}/tables/{t['id']}/regenerate",
                            json={"what": "join_code"})
        code = next(x for x in r.json()["tables"] if x["id"] == t["id"])["join_code"]
        assert code != t["join_code"]
        assert (await refused(server.url, participant_auth(t["join_code"])))["code"] == \
            "bad_join_code"
        await join(participant_auth(code))
    finally:
        await http.aclose()


async def test_timer_is_held_by_the_server_and_reaches_every_screen(server, join):
    ev = await server.create_event(tables=1)
    org = await join({"token": ev["organiser_token"]})
    phone = await join(participant_auth(ev["tables"][0]["join_code"]))
    heard: asyncio.Queue = asyncio.Queue()
    phone.sio.on("event.updated", heard.put_nowait)
    before = time.time() * 1000
    ack = await org.call("timer.set", {"action": "start", "seconds": 600})
    assert ack["ok"] and ack["event"]["timer"]["state"] == "running"
    update = await asyncio.wait_for(heard.get(), 10)
    ends = update["event"]["timer"]["ends_at"]
    assert before + 599_000 <= ends <= time.time() * 1000 + 600_000
    assert abs(update["server_time"] - time.time() * 1000) < 5_000
    paused = await org.call("timer.set", {"action": "pause"})
    assert paused["event"]["timer"]["state"] == "paused"
    assert 590_000 <= paused["event"]["timer"]["remaining_ms"] <= 600_000
    extended = await org.call("timer.set", {"action": "extend", "seconds": 60})
    assert extended["event"]["timer"]["remaining_ms"] >= 650_000
    resumed = await org.call("timer.set", {"action": "resume"})
    assert resumed["event"]["timer"]["state"] == "running"
    assert (await org.call("timer.set", {"action": "resume"}))["error"]["code"] == "timer_state"
    assert (await phone.call("timer.set", {"action": "stop"}))["error"]["code"] == "forbidden"
    # A phone that reconnects gets the timer with its catch-up.
    snap = await phone.call("sync", {"since": 0})
    assert snap["event"]["timer"]["state"] == "running" and "server_time" in snap
    # The next stage stops the old stage's timer.
    await org.call("stage.next", {"from": 0})
    assert (await phone.call("sync", {}))["event"]["timer"]["state"] == "stopped"


async def test_message_spotlight_and_locks(server, join):
    ev = await server.create_event(tables=2, template="world-cafe")
    org = await join({"token": ev["organiser_token"]})
    dash = await join({"token": ev["dashboard_token"]})
    phone = await join(participant_auth(ev["tables"][0]["join_code"]))
    assert (await org.call("message.set", {"text": "  Five minutes left  "}))["event"][
        "message"] == "Five minutes left"
    assert (await org.call("message.set", {"text": "x" * 141}))["error"]["code"] == \
        "text_too_long"
    note = (await phone.call("note.post", {"id": uuid.uuid4().hex, "text": "spot me"}))["note"]
    lit = await org.call("spotlight.set", {"kind": "note", "id": note["id"]})
    spot = lit["event"]["spotlight"]
    assert (spot["kind"], spot["id"], spot["note"]["text"]) == ("note", note["id"], "spot me")
    other = await server.create_event(tables=1, template="world-cafe")
    missing = await org.call("spotlight.set", {"kind": "table", "id": other["tables"][0]["id"]})
    assert missing["error"]["code"] == "not_found"
    snap = await dash.call("sync", {})
    assert snap["event"]["message"] == "Five minutes left"
    assert snap["event"]["spotlight"]["id"] == note["id"]

    assert (await org.call("board.lock", {"locked": True}))["event"]["locked"] is True
    locked = await phone.call("note.post", {"id": uuid.uuid4().hex, "text": "x"})
    assert locked["error"]["code"] == "board_locked"
    await org.call("board.lock", {"locked": False})
    assert (await phone.call("note.post", {"id": uuid.uuid4().hex, "text": "x"}))["ok"]
    one = await org.call("board.lock", {"locked": True, "table": ev["tables"][0]["id"]})
    assert one["ok"]
    assert (await phone.call("note.post", {"id": uuid.uuid4().hex, "text": "y"}))["error"][
        "code"] == "board_locked"
    elsewhere = await join(participant_auth(ev["tables"][1]["join_code"]))
    assert (await elsewhere.call("note.post", {"id": uuid.uuid4().hex, "text": "z"}))["ok"]


async def test_a_burst_reaches_dashboards_in_a_few_batches(server, join):
    ev = await server.create_event(tables=1, template="world-cafe")
    dash = await join({"token": ev["dashboard_token"]})
    batches: list[list] = []
    done = asyncio.Event()

    def collect(batch: list, _event: object = None) -> None:
        batches.append(batch)
        if sum(len(b) for b in batches) >= 100:
            done.set()

    dash.sio.on("changes", collect)
    phones = [await join(participant_auth(ev["tables"][0]["join_code"])) for _ in range(5)]
    await asyncio.gather(*[phones[i % 5].call("note.post", {"id": uuid.uuid4().hex,
                                                           "text": f"burst {i}"})
                           for i in range(100)])
    await asyncio.wait_for(done.wait(), 10)
    assert sum(len(b) for b in batches) == 100
    assert len(batches) < 30  # 100 changes, a handful of redraws
    seqs = [c["seq"] for b in batches for c in b]
    assert seqs == sorted(seqs)


async def test_console_snapshot_has_what_the_organiser_watches(server, join):
    ev = await server.create_event(tables=2, template="world-cafe")
    org = await join({"token": ev["organiser_token"]})
    phone = await join(participant_auth(ev["tables"][0]["join_code"], name="Ana"))
    fac = await join({"token": ev["tables"][0]["facilitator_token"]})
    note = (await phone.call("note.post", {"id": uuid.uuid4().hex, "text": "big idea"}))["note"]
    await fac.call("note.star", {"id": note["id"], "starred": True})
    await fac.call("summary.set", {"stage": 0, "text": "So far: one big idea"})
    snap = await org.call("sync", {})
    t1 = next(t for t in snap["tables"] if t["id"] == ev["tables"][0]["id"])
    assert t1["notes"] == {"0": 1} and t1["last_activity"]
    assert snap["presence"][t1["id"]] == 1
    assert [n["text"] for n in snap["top"][t1["id"]]] == ["big idea"]
    assert snap["summaries"][t1["id"]] == "So far: one big idea"
    assert snap["hidden"] == []
