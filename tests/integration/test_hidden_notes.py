"""Hiding a note takes its text off every screen and out of every replay (issue 8, item 3)."""

from __future__ import annotations

import asyncio
import uuid

import msgpack
import pytest

from .conftest import participant_auth
from .server import WAIT_S

pytestmark = pytest.mark.integration


def nid() -> str:
    return uuid.uuid4().hex


def carries(obj, text: str) -> bool:
    """Whether ``text`` appears anywhere in what a client received."""
    return text.encode() in msgpack.packb(obj)


async def updates_of(client) -> asyncio.Queue:
    heard: asyncio.Queue = asyncio.Queue()
    client.sio.on("event.updated", heard.put_nowait)
    return heard


@pytest.mark.parametrize("take_down", ["hide", "delete", "merge"])
async def test_a_spotlighted_note_that_is_taken_down_leaves_the_spotlight(server, join,
                                                                          take_down):
    ev = await server.create_event(tables=1, template="world-cafe")
    t = ev["tables"][0]
    org = await join({"token": ev["organiser_token"]})
    dash = await join({"token": ev["dashboard_token"]})
    fac = await join({"token": t["facilitator_token"]})
    author = await join(participant_auth(t["join_code"], name="Ana"))
    phone = await join(participant_auth(t["join_code"], name="Ben"))
    secret = f"Words that must come down {nid()}"
    note = (await author.call("note.post", {"id": nid(), "text": secret}))["note"]
    other = (await phone.call("note.post", {"id": nid(), "text": "keeper"}))["note"]
    lit = await org.call("spotlight.set", {"kind": "note", "id": note["id"]})
    assert lit["ok"] and carries(lit, secret)
    dash_updates, phone_updates = await updates_of(dash), await updates_of(phone)

    if take_down == "hide":
        ack = await fac.call("note.hide", {"id": note["id"], "hidden": True})
    elif take_down == "delete":
        ack = await author.call("note.delete", {"id": note["id"]})
    else:
        ack = await fac.call("note.merge", {"id": note["id"], "into": other["id"]})
    assert ack["ok"], ack

    # Every screen is told at once: the spotlight is gone.
    for heard in (dash_updates, phone_updates):
        update = await asyncio.wait_for(heard.get(), WAIT_S)
        assert update["event"]["spotlight"] is None
        assert not carries(update, secret)
    # And nobody who connects or syncs later gets the text from the event either.
    for client in (dash, phone, await join({"token": ev["dashboard_token"]})):
        snap = await client.call("sync", {})
        assert snap["event"]["spotlight"] is None
        assert not carries(snap, secret), client
    late_phone = await join(participant_auth(t["join_code"]))
    assert not carries(await late_phone.call("sync", {}), secret)


async def test_a_revealed_then_hidden_note_is_not_replayed_in_the_reveal(server, join):
    ev = await server.create_event(tables=1)  # alchemy: stage 1 opens with private writing
    t = ev["tables"][0]
    fac = await join({"token": t["facilitator_token"]})
    alice = await join(participant_auth(t["join_code"], name="Alice"))
    bob = await join(participant_auth(t["join_code"], name="Bob"))
    before = (await bob.call("sync", {}))["seq"]
    secret = f"Something the facilitator will take down {nid()}"
    kept = f"Something that stays {nid()}"
    hidden = (await alice.call("note.post", {"id": nid(), "text": secret}))["note"]
    await alice.call("note.post", {"id": nid(), "text": kept})
    assert (await fac.call("step.next", {"from": 0}))["ok"]  # the reveal
    assert (await fac.call("note.hide", {"id": hidden["id"], "hidden": True}))["ok"]

    replay = await bob.call("sync", {"since": before})
    assert replay["mode"] == "changes"
    revealed = [c for c in replay["changes"] if c["type"] == "notes.revealed"]
    assert len(revealed) == 1
    assert [n["text"] for n in revealed[0]["data"]["notes"]] == [kept]
    assert not carries(replay, secret)
    # Seqs stay gap-free: the reveal is still there, only without the hidden note.
    seqs = [c["seq"] for c in replay["changes"]]
    assert seqs == list(range(before + 1, replay["seq"] + 1))
    # The facilitator (staff) still sees it, marked hidden, to give it back if need be.
    staff = await fac.call("sync", {"since": before})
    assert carries(staff, secret)
