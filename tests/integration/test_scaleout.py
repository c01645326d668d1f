"""Two real server processes behind a real nginx, on one PostgreSQL database and one
Redis prefix (each made for this run): what one process guaranteed must hold
whichever process each screen is connected to."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from plenary.live.redis_state import HOST_TTL_S

from .cluster import Cluster, run_cluster
from .phones import Screen, wait_for
from .server import connect
from .services import REDIS, nginx_binary, postgres_database, redis_prefix

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    nginx = nginx_binary()
    loop = asyncio.new_event_loop()
    db_cm, redis_cm = postgres_database(), redis_prefix()
    url = loop.run_until_complete(db_cm.__aenter__())
    prefix = loop.run_until_complete(redis_cm.__aenter__())
    try:
        with run_cluster(tmp_path_factory.mktemp("cluster"), nginx=nginx, database_url=url,
                         redis_url=REDIS, redis_prefix=prefix) as running:
            yield running
    finally:
        loop.run_until_complete(redis_cm.__aexit__(None, None, None))
        loop.run_until_complete(db_cm.__aexit__(None, None, None))
        loop.close()


def phone(url: str, code: str, name: str | None = None, key: bytes | None = None) -> Screen:
    return Screen(url, {"join_code": code, "participant_key": key or secrets.token_bytes(16),
                        "name": name})


@pytest.fixture
async def screens() -> Any:
    opened: list[Screen] = []
    yield opened
    for s in opened:
        await s.close()


async def opened(screens: list[Screen], *new: Screen) -> list[Screen]:
    await asyncio.gather(*(s.connect() for s in new))
    screens.extend(new)
    await wait_for(lambda: all(s.syncs for s in new), "every screen's first sync")
    return list(new)


async def test_the_processes_came_up_together_and_nginx_passes_websockets(cluster):
    # Both started at the same moment on a fresh database (racing migrations).
    assert all(p.popen is not None and p.popen.poll() is None for p in cluster.processes)
    info = await cluster.as_server().create_event(tables=1, template="world-cafe")
    client = await connect(cluster.url, {"join_code": info["tables"][0]["join_code"],
                                         "participant_key": secrets.token_bytes(16)})
    try:
        assert client.sio.transport() == "websocket"
        ack = await client.call("sync", {"since": None})
        assert ack["ok"] and ack["mode"] == "snapshot"
    finally:
        await client.close()


def at(cluster: Cluster, i: int) -> str:
    """Process ``i`` itself (bypassing nginx), to pin a screen to one process."""
    return cluster.processes[i].url


async def test_phones_on_both_processes_see_each_others_notes_in_seq_order(cluster, screens):
    info = await cluster.as_server().create_event(tables=1, template="world-cafe")
    code = info["tables"][0]["join_code"]
    # Two pinned to each process, two through nginx (whichever it picks).
    phones = await opened(screens, *(phone(u, code) for u in (
        at(cluster, 0), at(cluster, 0), at(cluster, 1), at(cluster, 1),
        cluster.url, cluster.url)))
    per_phone = 8

    async def write(p: Screen) -> None:
        for i in range(per_phone):
            await p.post(f"note {i} from {id(p)}")

    base = phones[0].seq  # setting the event live is a change too
    await asyncio.gather(*(write(p) for p in phones))
    total = per_phone * len(phones)
    assert sorted(s for p in phones for s in p.acked.values()) == \
        list(range(base + 1, base + total + 1))
    last = base + total
    await wait_for(lambda: all(p.seq == last for p in phones), "every phone at the last seq")
    for p in phones:
        assert p.applied == list(range(1, last + 1))  # in seq order, none twice
        assert len(p.notes) == total
        assert p.gap_syncs == 0  # crossings in Redis were waited out, never resynced


async def test_the_organiser_on_one_process_moves_every_screen_on_both(cluster, screens):
    server = cluster.as_server()
    info = await server.create_event(tables=2, template="alchemy")
    t1, t2 = info["tables"]
    organiser = await connect(at(cluster, 0), {"token": info["organiser_token"]})
    dashboard = await connect(at(cluster, 1), {"token": info["dashboard_token"]})
    try:
        table_screens = await opened(
            screens, phone(at(cluster, 0), t1["join_code"]), phone(at(cluster, 1), t1["join_code"]),
            phone(at(cluster, 1), t2["join_code"]),
            Screen(at(cluster, 1), {"token": t1["facilitator_token"]}),
            Screen(at(cluster, 0), {"token": t2["facilitator_token"]}))
        await organiser.call("sync", {"since": None})
        ack = await organiser.call("stage.next", {"from": 0})
        assert ack["ok"], ack
        await wait_for(lambda: all(s.stage == 1 for s in table_screens),
                       "every table screen in stage 2")
        seen: dict[str, int] = {}
        while len(seen) < 2:
            change = await dashboard.next_change()
            if change["type"] == "stage.changed":
                seen[change["table"]] = change["data"]["stage"]
        assert seen == {t1["id"]: 1, t2["id"]: 1}
    finally:
        await organiser.close()
        await dashboard.close()


async def test_a_private_note_reaches_its_author_and_staff_only_wherever_connected(cluster,
                                                                                  screens):
    info = await cluster.as_server().create_event(tables=1, template="alchemy")  # silent writing
    t = info["tables"][0]
    key = secrets.token_bytes(16)
    author_a, author_b = phone(at(cluster, 0), t["join_code"], "Ada", key), \
        phone(at(cluster, 1), t["join_code"], "Ada", key)
    others = [phone(at(cluster, 0), t["join_code"]), phone(at(cluster, 1), t["join_code"])]
    facilitator = Screen(at(cluster, 1), {"token": t["facilitator_token"]})
    await opened(screens, author_a, author_b, *others, facilitator)
    organiser = await connect(at(cluster, 0), {"token": info["organiser_token"]})
    dashboard = await connect(at(cluster, 1), {"token": info["dashboard_token"]})
    try:
        note_id = await author_a.post("only for me and the staff")
        seq = author_a.acked[note_id]
        everyone = [author_a, author_b, *others, facilitator]
        await wait_for(lambda: all(s.seq >= seq for s in everyone), "the note's seq everywhere")
        await wait_for(lambda: all(any(c["seq"] == seq for c in s.received) for s in everyone),
                       "the broadcast of the note everywhere")
        for s in (author_a, author_b, facilitator):
            assert s.notes[note_id]["text"] == "only for me and the staff"
            # One message for the seq: the note, never also its placeholder.
            assert [c["type"] for c in s.received if c["seq"] == seq] == ["note.added"]
        for s in others:
            assert note_id not in s.notes and seq in s.placeholders
            assert [c["type"] for c in s.received if c["seq"] == seq] == ["private"]
        for staff, text_expected in ((organiser, True), (dashboard, False)):
            change = await staff.next_change()
            while change["seq"] != seq:
                change = await staff.next_change()
            if text_expected:
                assert change["data"]["note"]["text"] == "only for me and the staff"
            else:
                assert change["type"] == "private" and "note" not in change["data"]
    finally:
        await organiser.close()
        await dashboard.close()


async def test_presence_counts_every_phone_once_across_processes(cluster, screens):
    info = await cluster.as_server().create_event(tables=1, template="world-cafe")
    t = info["tables"][0]
    key = secrets.token_bytes(16)
    facilitator = Screen(at(cluster, 0), {"token": t["facilitator_token"]})
    await opened(screens, facilitator)
    two_devices = [phone(at(cluster, 0), t["join_code"], "Ada", key),
                   phone(at(cluster, 1), t["join_code"], "Ada", key)]
    other = phone(at(cluster, 1), t["join_code"], "Bo")
    await opened(screens, *two_devices, other)
    await wait_for(lambda: facilitator.presence and facilitator.presence[-1]["count"] == 2,
                   "presence of two people")
    assert facilitator.presence[-1]["names"] == ["Ada", "Bo"]
    before = len(facilitator.presence)
    await two_devices[1].close()
    screens.remove(two_devices[1])
    await wait_for(lambda: len(facilitator.presence) > before, "presence after a device left")
    assert facilitator.presence[-1]["count"] == 2  # Ada is still here on process A
    await other.close()
    screens.remove(other)
    await wait_for(lambda: facilitator.presence[-1]["count"] == 1, "presence after Bo left")


async def test_a_link_or_code_replaced_on_one_process_cuts_off_the_other(cluster, screens):
    import httpx

    info = await cluster.as_server().create_event(tables=1, template="world-cafe")
    t = info["tables"][0]
    facilitator = Screen(at(cluster, 1), {"token": t["facilitator_token"]})
    phone_b = phone(at(cluster, 1), t["join_code"])
    await opened(screens, facilitator, phone_b)
    async with httpx.AsyncClient(base_url=at(cluster, 0),
                                 headers={"origin": cluster.config.public_url}) as http:
        r = await http.post("/api/session", json={"token": info["organiser_token"]})
        assert r.status_code == 200, r.text
        for what, screen in (("facilitator_link", facilitator), ("join_code", phone_b)):
            r = await http.post(f"/api/events/{info['id']}/tables/{t['id']}/regenerate",
                                json={"what": what})
            assert r.status_code == 200, r.text
            # Disconnected by process B itself, not only told to go.
            await asyncio.wait_for(screen.gone.wait(), 10)
            assert screen.kicked[0]["code"] == "credential_replaced"


async def test_wrong_join_codes_are_counted_once_for_all_processes_by_the_real_address(
        cluster):
    """nginx replaces X-Forwarded-For (a client cannot choose its address) and both
    processes count into one Redis window: the 11th wrong code is refused."""
    import socketio
    from plenary.live.joins import WRONG_CODES_ALLOWED

    async def attempt(i: int) -> dict[str, Any] | None:
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        refusal: dict[str, Any] = {}
        sio.on("connect_error", lambda data=None: refusal.update(data or {}))
        try:
            await sio.connect(cluster.url, auth={"join_code": f"WRONG{i:04d}",
                                                 "participant_key": secrets.token_bytes(16)},
                              headers={"X-Forwarded-For": f"10.0.{i}.1"},
                              transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            return refusal.get("data")
        await sio.disconnect()
        return None

    codes = [(await attempt(i) or {}).get("code") for i in range(WRONG_CODES_ALLOWED + 1)]
    assert codes[:-1] == ["bad_join_code"] * WRONG_CODES_ALLOWED
    assert codes[-1] == "too_many_attempts"


async def board_in_store(cluster: Cluster, code: str) -> dict[str, dict[str, Any]]:
    """The table's notes as a fresh screen loads them (from the store), by id."""
    fresh = await connect(cluster.url, {"join_code": code,
                                        "participant_key": secrets.token_bytes(16)})
    try:
        ack = await fresh.call("sync", {"since": None})
        return {n["id"]: n for n in ack["notes"]}, ack["seq"]
    finally:
        await fresh.close()


async def test_sigkill_of_one_process_loses_and_duplicates_nothing(cluster, screens):
    """Last in this module: it kills process 0 (and starts it again afterwards)."""
    info = await cluster.as_server().create_event(tables=1, template="world-cafe")
    t = info["tables"][0]
    facilitator = Screen(at(cluster, 1), {"token": t["facilitator_token"]})
    await opened(screens, facilitator)
    phones = await opened(screens, *(phone(cluster.url, t["join_code"]) for _ in range(8)))
    stranded = phone(at(cluster, 0), t["join_code"], "Stranded")  # can only come back to A
    await opened(screens, stranded)
    await wait_for(lambda: facilitator.presence and facilitator.presence[-1]["count"] == 9,
                   "nine people present")
    posted: list[str] = []
    killed = asyncio.Event()

    async def write(p: Screen) -> None:
        for i in range(6):
            posted.append(await p.post(f"{id(p)} #{i}"))
            if i == 2:
                await killed.wait()  # half before the kill, half after

    writers = [asyncio.create_task(write(p)) for p in phones]
    await wait_for(lambda: len(posted) >= 3 * len(phones), "the first half posted")
    cluster.processes[0].kill()
    killed.set()
    await asyncio.gather(*writers)
    await wait_for(lambda: all(not p.outbox for p in phones), "every outbox empty", within=30)
    moved = [p for p in phones if p.connects > 1]
    assert moved and len(moved) < len(phones)  # nginx had put phones on both processes
    store, seq = await board_in_store(cluster, t["join_code"])
    assert sorted(store) == sorted(posted)  # every acknowledged note, once
    assert len({n["text"] for n in store.values()}) == len(posted)
    await wait_for(lambda: all(p.seq == seq for p in phones), "every phone at the store's seq")
    for p in phones:
        assert sorted(p.notes) == sorted(store)
        assert p.applied == list(range(1, seq + 1))
    # The stranded phone's process is gone: it stops being counted within a
    # heartbeat or two, although it never said goodbye.
    await wait_for(lambda: facilitator.presence[-1]["count"] == 8,
                   "the dead process's phone leaving presence", within=HOST_TTL_S + 10)
    screens.remove(stranded)
    await stranded.close()
    cluster.processes[0].start()
    cluster.processes[0].wait_healthy()
