"""Replacing a credential cuts off everything that used it (issue 8, item 5).

Before: nothing rotated organiser or dashboard links; the console cookie held only
event ids, so a copied cookie outlived sign-out; and regenerating a join code left
the phones joined with it connected.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from plenary.actions import Actions
from plenary.actions.common import Session
from plenary.domain.payloads import NoteHide, NotePost, ParticipantAuth, StaffAuth, SyncRequest
from plenary.store import Database

from .conftest import participant_auth
from .server import WAIT_S, refused
from .test_console import console, token_of

pytestmark = pytest.mark.integration


def nid() -> str:
    return uuid.uuid4().hex


def watch(client) -> asyncio.Event:
    """Set once the server disconnects ``client`` (watch before the cause)."""
    event = asyncio.Event()
    client.sio.on("disconnect", lambda *a: event.set())
    return event


async def gone(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), WAIT_S)


def copy_of(http: httpx.AsyncClient, server) -> httpx.AsyncClient:
    """Another browser holding the same console cookie (copied, or stolen)."""
    return httpx.AsyncClient(base_url=server.url, headers={"origin": server.url},
                             cookies=dict(http.cookies))


async def test_replacing_the_organiser_link_cuts_off_its_screens_and_consoles(server, join):
    ev = await server.create_event(tables=1)
    http = await console(server, ev["organiser_token"])
    other = await console(server, ev["organiser_token"])  # a co-organiser's laptop
    copied = copy_of(other, server)
    live = await join({"token": ev["organiser_token"]})
    live_gone = watch(live)
    try:
        r = await http.post(f"/api/events/{ev['id']}/regenerate", json={"what": "organiser_link"})
        assert r.status_code == 200, r.text
        new = r.json()["links"]["organiser_url"]
        assert new != ev["organiser_url"]
        await gone(live_gone)
        assert live.kicked and live.kicked[0]["code"] == "credential_replaced"
        assert (await refused(server.url, {"token": ev["organiser_token"]}))["code"] == \
            "bad_token"
        await join({"token": token_of(new)})  # the new link works
        for stale in (other, copied):  # consoles signed in with the old link
            assert (await stale.get(f"/api/events/{ev['id']}")).status_code in (401, 403)
        assert (await http.get(f"/api/events/{ev['id']}")).status_code == 200  # this one
        stale = await other.post("/api/session", json={"token": ev["organiser_token"]})
        assert stale.status_code == 401
    finally:
        for c in (http, other, copied):
            await c.aclose()


async def test_replacing_the_dashboard_link_cuts_off_the_dashboards(server, join):
    ev = await server.create_event(tables=1)
    http = await console(server, ev["organiser_token"])
    dash = await join({"token": ev["dashboard_token"]})
    dash_gone = watch(dash)
    try:
        r = await http.post(f"/api/events/{ev['id']}/regenerate", json={"what": "dashboard_link"})
        assert r.status_code == 200, r.text
        await gone(dash_gone)
        assert dash.kicked[0]["code"] == "credential_replaced"
        assert (await refused(server.url, {"token": ev["dashboard_token"]}))["code"] == \
            "bad_token"
        await join({"token": token_of(r.json()["links"]["dashboard_url"])})
        bad = await http.post(f"/api/events/{ev['id']}/regenerate", json={"what": "admin"})
        assert bad.status_code == 400
    finally:
        await http.aclose()


async def test_a_new_join_code_disconnects_the_phones_joined_with_the_old(server, join):
    ev = await server.create_event(tables=2, template="world-cafe")
    t, elsewhere = ev["tables"]
    http = await console(server, ev["organiser_token"])
    phones = [await join(participant_auth(t["join_code"])) for _ in range(2)]
    neighbour = await join(participant_auth(elsewhere["join_code"]))
    watched = [watch(phone) for phone in phones]
    try:
        r = await http.post(f"/api/events/{ev['id']}/tables/{t['id']}/regenerate",
                            json={"what": "join_code"})
        assert r.status_code == 200
        for phone, event in zip(phones, watched, strict=True):
            await gone(event)
            assert phone.kicked[0]["code"] == "credential_replaced"
        # The other table's phone is untouched.
        assert (await neighbour.call("note.post", {"id": nid(), "text": "still here"}))["ok"]
    finally:
        await http.aclose()


@pytest.fixture
async def direct(server):
    """An event of one table, and the actions over the server's store as another
    process would run them (no socket, no kick reaches them)."""
    ev = await server.create_event(tables=1, template="world-cafe")
    db = Database(server.config.database_url)
    try:
        yield ev, ev["tables"][0], Actions(db, server.config.secret())
    finally:
        await db.close()


async def test_a_connection_elsewhere_with_a_replaced_credential_can_do_nothing(server, direct):
    """What a socket on another process (which never saw the kick) meets: every action
    checks the credential against the store."""
    ev, t, actions = direct
    phone = await actions.authenticate(
        ParticipantAuth(join_code=t["join_code"], participant_key=b"k" * 16))
    fac = await actions.authenticate(StaffAuth(token=t["facilitator_token"]))
    assert isinstance(phone, Session) and phone.credential is not None
    first = nid()
    assert (await actions.post_note(phone, NotePost(id=first, text="before"))).ack["seq"]
    http = await console(server, ev["organiser_token"])
    try:
        for what in ("join_code", "facilitator_link"):
            r = await http.post(f"/api/events/{ev['id']}/tables/{t['id']}/regenerate",
                                json={"what": what})
            assert r.status_code == 200
    finally:
        await http.aclose()
    for session, call in ((phone, actions.post_note(phone, NotePost(id=nid(), text="x"))),
                          (fac, actions.hide_note(fac, NoteHide(id=first, hidden=True))),
                          (phone, actions.sync(phone, SyncRequest())),
                          (fac, actions.sync(fac, SyncRequest()))):
        with pytest.raises(Exception) as err:
            await call
        assert getattr(err.value, "code", None) == "credential_replaced", session


async def test_signing_out_ends_every_copy_of_the_cookie(server):
    ev = await server.create_event(tables=1)
    http = await console(server, ev["organiser_token"])
    copied = copy_of(http, server)
    try:
        assert (await copied.get(f"/api/events/{ev['id']}")).status_code == 200
        assert (await http.delete("/api/session")).status_code == 204
        for client in (http, copied):
            assert (await client.get(f"/api/events/{ev['id']}")).status_code == 401
            assert (await client.get("/api/session")).status_code == 401
            r = await client.get(f"/api/events/{ev['id']}/export.json")
            assert r.status_code == 401
    finally:
        await http.aclose()
        await copied.aclose()


async def test_an_action_that_loads_no_table_is_checked_after_it_ran_and_undone(direct):
    """Bodies that never load their scope are checked once they have run, in the same
    savepoint: a replaced credential refuses them and what they wrote is rolled back."""
    from plenary.actions.common import run_checked
    from plenary.actions.transaction import read
    from plenary.store import queries as q

    _, t, actions = direct
    phone = await actions.authenticate(
        ParticipantAuth(join_code=t["join_code"], participant_key=b"j" * 16))
    stale = Session(phone.actor, name=None, credential="code:REPLACED")
    doomed = nid()[:16]

    def writes(conn, session):
        q.insert_participant(conn, id=doomed, table_id=t["id"], key_hash="q" * 64)
        return "done"

    with pytest.raises(Exception) as err:
        await actions.writes.run(run_checked, writes, stale, table=t["id"])
    assert getattr(err.value, "code", None) == "credential_replaced"
    # Had the refused write stood, the same id again would be a duplicate key.
    assert await actions.writes.run(run_checked, writes, phone, table=t["id"]) == "done"
    row = await read(actions.db, q.participant_by_key, t["id"], "q" * 64)
    assert row is not None and row["id"] == doomed
