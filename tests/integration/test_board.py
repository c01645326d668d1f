"""The table board over the wire: silent writing, editing, voting, the facilitator's tools."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from .conftest import participant_auth

pytestmark = pytest.mark.integration


def nid() -> str:
    return uuid.uuid4().hex


async def drain(client, n: int) -> list[dict]:
    return [await client.next_change() for _ in range(n)]


@pytest.fixture
async def table(server, join):
    """A live alchemy event (stage 1 opens with private writing) and one table's people."""
    ev = await server.create_event(tables=2)
    t = ev["tables"][0]
    people = {
        "alice": await join(participant_auth(t["join_code"], name="Alice")),
        "bob": await join(participant_auth(t["join_code"], name="Bob")),
        "fac": await join({"token": t["facilitator_token"]}),
        "org": await join({"token": ev["organiser_token"]}),
        "dash": await join({"token": ev["dashboard_token"]}),
    }
    return ev, t, people


async def test_silent_writing_never_reaches_other_phones_until_the_reveal(table):
    _ev, t, p = table
    secret = "My private thought about care leavers"
    ack = await p["alice"].call("note.post", {"id": nid(), "text": secret})
    assert ack["ok"] and ack["note"]["private"] is True
    full = [await p[who].next_change() for who in ("alice", "fac", "org")]
    assert all(c["data"]["note"]["text"] == secret for c in full)
    for who in ("bob", "dash"):
        c = await p[who].next_change()
        assert c == {"table": t["id"], "seq": ack["seq"], "type": "private",
                     "data": {"of": "note.added"}, "at": c["at"]}
    snap = await p["bob"].call("sync", {})
    assert secret not in repr(snap)
    assert secret in repr(await p["fac"].call("sync", {}))
    assert secret in repr(await p["alice"].call("sync", {}))
    dash = await p["dash"].call("sync", {})
    assert secret not in repr(dash)

    # The reveal: the facilitator moves off the private step.
    step = await p["fac"].call("step.next", {"from": 0})
    assert step["ok"], step
    revealed, moved = await drain(p["bob"], 2)
    assert revealed["type"] == "notes.revealed"
    assert [n["text"] for n in revealed["data"]["notes"]] == [secret]
    assert moved["type"] == "step.changed" and moved["seq"] == step["seq"]
    assert secret in repr(await p["bob"].call("sync", {}))
    # A replay from before the note shows the placeholder, then the reveal.
    replay = await p["bob"].call("sync", {"since": ack["seq"] - 1})
    assert [c["type"] for c in replay["changes"]] == ["private", "notes.revealed", "step.changed"]


async def test_posting_after_the_reveal_is_public(table):
    _ev, _t, p = table
    await p["fac"].call("step.next", {"from": 0})
    await drain(p["bob"], 1)
    ack = await p["alice"].call("note.post", {"id": nid(), "text": "out loud"})
    assert ack["note"]["private"] is False
    assert (await p["bob"].next_change())["data"]["note"]["text"] == "out loud"


async def test_edit_and_delete_your_own_note_while_the_stage_is_open(table):
    _ev, _t, p = table
    await p["fac"].call("step.next", {"from": 0})  # public from here on
    note = (await p["alice"].call("note.post", {"id": nid(), "text": "first draft"}))["note"]
    edited = await p["alice"].call("note.edit", {"id": note["id"], "text": "second draft"})
    assert edited["ok"] and edited["note"]["text"] == "second draft" and edited["note"]["edited_at"]
    theirs = await p["bob"].call("note.edit", {"id": note["id"], "text": "vandalised"})
    assert theirs["error"]["code"] == "not_your_note"
    assert (await p["bob"].call("note.delete", {"id": note["id"]}))["error"]["code"] == \
        "not_your_note"
    gone = await p["alice"].call("note.delete", {"id": note["id"]})
    assert gone["ok"]
    assert (await p["alice"].call("note.delete", {"id": note["id"]}))["duplicate"] is True
    types = [c["type"] for c in await drain(p["bob"], 4)]
    assert types == ["step.changed", "note.added", "note.edited", "note.deleted"]
    assert note["id"] not in [n["id"] for n in (await p["bob"].call("sync", {}))["notes"]]

    other = (await p["alice"].call("note.post", {"id": nid(), "text": "stage one"}))["note"]
    assert (await p["org"].call("stage.next", {"from": 0}))["ok"]
    late = await p["alice"].call("note.edit", {"id": other["id"], "text": "changed later"})
    assert late["error"]["code"] == "stage_closed"


async def to_vote_step(p) -> None:
    """Stage 2 of the alchemy template: write (private), reveal, group, vote, summarise."""
    assert (await p["org"].call("stage.next", {"from": 0}))["ok"]
    assert (await p["fac"].call("step.next", {"from": 0}))["ok"]


async def test_dot_voting_with_a_limit_blind_until_the_step_ends(table):
    _ev, _t, p = table
    await to_vote_step(p)
    ideas = [(await p["bob"].call("note.post", {"id": nid(), "text": f"idea {i}"}))["note"]["id"]
             for i in range(2)]
    early = await p["alice"].call("vote.add", {"id": nid(), "note": ideas[0]})
    assert early["error"]["code"] == "voting_closed"
    for frm in (1, 2):
        assert (await p["fac"].call("step.next", {"from": frm}))["ok"]
    while not p["bob"].changes.empty():
        p["bob"].changes.get_nowait()

    votes = [nid() for _ in range(3)]
    acks = [await p["alice"].call("vote.add", {"id": v, "note": ideas[0]}) for v in votes[:2]]
    acks.append(await p["alice"].call("vote.add", {"id": votes[2], "note": ideas[1]}))
    assert [a["votes_left"] for a in acks] == [2, 1, 0]
    again = await p["alice"].call("vote.add", {"id": votes[0], "note": ideas[0]})
    assert again["duplicate"] is True  # a retry counts once
    over = await p["alice"].call("vote.add", {"id": nid(), "note": ideas[1]})
    assert over["error"]["code"] == "vote_limit" and "3" in over["error"]["message"]
    # Blind: Bob sees that something happened, not what.
    assert {c["type"] for c in await drain(p["bob"], 3)} == {"private"}
    snap = await p["bob"].call("sync", {})
    assert all(n["votes"] is None for n in snap["notes"])
    mine = await p["alice"].call("sync", {})
    assert sorted(v["id"] for v in mine["my_votes"]) == sorted(votes)
    # Take one back, put it elsewhere.
    assert (await p["alice"].call("vote.remove", {"id": votes[2]}))["ok"]
    assert (await p["alice"].call("vote.add", {"id": nid(), "note": ideas[0]}))["ok"]
    # The step ends: everyone learns the counts.
    assert (await p["fac"].call("step.next", {"from": 3}))["ok"]
    changes = await drain(p["bob"], 4)
    revealed = next(c for c in changes if c["type"] == "votes.revealed")
    assert revealed["data"]["votes"] == {ideas[0]: 3}
    counts = {n["id"]: n["votes"] for n in (await p["bob"].call("sync", {}))["notes"]}
    assert counts[ideas[0]] == 3 and counts[ideas[1]] == 0


async def test_facilitator_tools(table):
    _ev, _t, p = table
    await p["fac"].call("step.next", {"from": 0})
    a, b, c = [(await p["alice"].call("note.post", {"id": nid(), "text": f"n{i}"}))["note"]["id"]
               for i in range(3)]
    # Participants cannot use the facilitator's tools.
    for event, payload in (("note.star", {"id": a, "starred": True}),
                           ("note.hide", {"id": a, "hidden": True}),
                           ("group.save", {"id": nid(), "label": "x"}),
                           ("summary.set", {"stage": 0, "text": "x"}),
                           ("table.ready", {"ready": True})):
        assert (await p["bob"].call(event, payload))["error"]["code"] == "forbidden", event

    assert (await p["fac"].call("note.star", {"id": a, "starred": True}))["ok"]
    group = nid()
    saved = await p["fac"].call("group.save", {"id": group, "label": "Housing", "notes": [a, b]})
    assert saved["ok"] and saved["group"]["label"] == "Housing"
    assert (await p["fac"].call("note.group", {"id": b, "group": None}))["ok"]
    assert (await p["fac"].call("note.merge", {"id": c, "into": a}))["ok"]
    assert (await p["fac"].call("note.merge", {"id": a, "into": a}))["error"]["code"] == \
        "bad_merge"
    assert (await p["fac"].call("note.hide", {"id": b, "hidden": True}))["ok"]
    assert (await p["fac"].call("summary.set", {"stage": 0, "text": "We agreed on housing."}))["ok"]
    assert (await p["fac"].call("table.ready", {"ready": True}))["ok"]

    bob = await p["bob"].call("sync", {})
    notes = {n["id"]: n for n in bob["notes"]}
    assert set(notes) == {a}  # b hidden, c merged into a
    assert notes[a]["starred"] is True and notes[a]["group"] == group
    assert bob["groups"] == [{"id": group, "stage": 0, "label": "Housing"}]
    assert bob["summaries"] == {"0": "We agreed on housing."}
    assert bob["table"]["ready"] is True
    fac = {n["id"]: n for n in (await p["fac"].call("sync", {}))["notes"]}
    assert fac[b]["hidden"] is True  # staff still see it, marked
    # A phone rejoining from the start replays no trace of the hidden note's text.
    replay = await p["bob"].call("sync", {"since": 0})
    assert "n1" not in repr(replay["changes"])
    # The organiser hears about readiness; the next stage clears it.
    org_types = [ch["type"] for ch in await drain(p["org"], 13)]
    assert org_types == ["step.changed", "note.added", "note.added", "note.added",
                         "note.starred", "group.saved", "note.grouped", "note.grouped",
                         "note.grouped", "note.merged", "note.hidden", "summary.changed",
                         "table.ready"]
    await p["org"].call("stage.next", {"from": 0})
    assert (await p["bob"].call("sync", {}))["table"]["ready"] is False


async def test_summary_reaches_every_screen_of_the_table(server, join):
    ev = await server.create_event(tables=1, template="world-cafe")
    t = ev["tables"][0]
    tablet = await join({"token": t["facilitator_token"]})
    phone = await join({"token": t["facilitator_token"]})
    participant = await join(participant_auth(t["join_code"]))
    for text in ("We", "We agreed", "We agreed on three things"):
        assert (await tablet.call("summary.set", {"stage": 0, "text": text}))["ok"]
    for screen in (phone, participant):
        last = [await screen.next_change() for _ in range(3)][-1]
        assert last["data"] == {"stage": 0, "text": "We agreed on three things"}
    assert (await tablet.call("summary.set", {"stage": 3, "text": "x"}))["error"]["code"] == \
        "bad_stage"


async def test_presence_tells_the_facilitator_who_is_here(server, join, clients):
    ev = await server.create_event(tables=1)
    t = ev["tables"][0]
    fac = await join({"token": t["facilitator_token"]})
    heard: asyncio.Queue = asyncio.Queue()
    fac.sio.on("presence", heard.put_nowait)
    assert (await fac.call("sync", {}))["presence"]["count"] == 0
    ana = await join(participant_auth(t["join_code"], name="Ana"))
    seen = await asyncio.wait_for(heard.get(), 10)
    assert seen == {"table": t["id"], "count": 1, "names": ["Ana"], "anonymous": 0}
    await join(participant_auth(t["join_code"]))
    seen = await asyncio.wait_for(heard.get(), 10)
    assert (seen["count"], seen["anonymous"]) == (2, 1)
    await ana.close()
    seen = await asyncio.wait_for(heard.get(), 10)
    assert (seen["count"], seen["names"]) == (1, [])


async def test_hidden_notes_stay_down_and_old_votes_stay_put(table):
    _ev, _t, p = table
    await p["fac"].call("step.next", {"from": 0})
    note = (await p["alice"].call("note.post", {"id": nid(), "text": "rude"}))["note"]
    assert (await p["fac"].call("note.hide", {"id": note["id"], "hidden": True}))["ok"]
    edit = await p["alice"].call("note.edit", {"id": note["id"], "text": "still rude"})
    assert edit["error"]["code"] == "note_hidden"
    # A vote cast in stage 2 cannot be taken back during stage 5's vote.
    await to_vote_step(p)
    idea = (await p["bob"].call("note.post", {"id": nid(), "text": "idea"}))["note"]["id"]
    for frm in (1, 2):
        await p["fac"].call("step.next", {"from": frm})
    vote = nid()
    assert (await p["alice"].call("vote.add", {"id": vote, "note": idea}))["ok"]
    again = await p["alice"].call("vote.add", {"id": vote, "note": idea})
    assert again["duplicate"] and again["votes_left"] == 2 and "seq" in again
    for frm in (1, 2, 3):
        await p["org"].call("stage.next", {"from": frm})
    for frm in (0, 1, 2):
        assert (await p["fac"].call("step.next", {"from": frm}))["ok"]
    late = await p["alice"].call("vote.remove", {"id": vote})
    assert late["error"]["code"] == "voting_closed"


async def test_a_note_kept_offline_is_filed_under_the_stage_it_answers(table):
    _ev, _t, p = table
    await p["org"].call("stage.next", {"from": 0})
    ack = await p["alice"].call("note.post", {"id": nid(), "text": "from stage one",
                                              "queued": True, "stage": 0})
    assert ack["ok"] and ack["note"]["stage"] == 0 and ack["note"]["private"] is False
    future = await p["alice"].call("note.post", {"id": nid(), "text": "x", "queued": True,
                                                 "stage": 4})
    assert future["note"]["stage"] == 1  # never ahead of the table
