"""Hiding and spotlighting race without deadlock or a hidden note on the big screen,
on SQLite and on PostgreSQL (issue 8, item 3; three write paths as three processes)."""

from __future__ import annotations

import pytest
from plenary.actions import Session
from plenary.actions.transaction import read
from plenary.domain.payloads import NoteEdit, NoteHide, NotePost, SpotlightSet, StaffAuth
from plenary.domain.permissions import Actor, Role
from plenary.links import Links
from plenary.store import queries as q

from .test_concurrency import SECRET, join, live_event, nid, processes, settle

__all__ = ["processes"]  # the fixture, shared with test_concurrency

pytestmark = pytest.mark.integration


async def facilitator(actions, table) -> Session:
    token = Links("http://x", SECRET).facilitator(table["id"], table["facilitator_gen"])
    return await actions.authenticate(StaffAuth(token=token.split("#", 1)[1]))


async def test_hiding_the_spotlighted_note_while_others_post_and_edit(processes):
    event_id, (table,) = await live_event(processes[0])
    organiser = Session(Actor(Role.ORGANISER, event_id))
    people = await join(processes[0], table["join_code"], 4)
    fac = await facilitator(processes[0], table)
    lit = (await processes[0].post_note(people[0], NotePost(id=nid(), text="on screen"))).ack
    mine = [(await processes[0].post_note(p, NotePost(id=nid(), text="mine"))).ack
            for p in people[1:]]
    await processes[0].set_spotlight(organiser, SpotlightSet(kind="note", id=lit["note"]["id"]))
    calls = [processes[i % 3].post_note(people[i % 4], NotePost(id=nid(), text=f"n{i}"))
             for i in range(20)]
    calls += [processes[(i + 1) % 3].edit_note(people[i + 1], NoteEdit(
        id=m["note"]["id"], text=f"edited {i}")) for i, m in enumerate(mine)]
    calls.insert(10, processes[2].hide_note(fac, NoteHide(id=lit["note"]["id"], hidden=True)))

    accepted, refused = await settle(calls)  # a deadlock would raise here

    assert refused == []
    hide = next(o for o in accepted if o.event is not None and "note" not in o.ack)
    assert hide.event["spotlight"] is None
    event = await read(processes[0].db, q.event_row, event_id)
    assert event["spotlight"] is None


@pytest.mark.parametrize("round_", range(3))
async def test_a_note_lit_while_it_is_hidden_is_never_left_on_screen(processes, round_):
    event_id, (table,) = await live_event(processes[0])
    organiser = Session(Actor(Role.ORGANISER, event_id))
    (person,) = await join(processes[0], table["join_code"], 1)
    fac = await facilitator(processes[0], table)
    note = (await processes[0].post_note(person, NotePost(id=nid(), text="x"))).ack["note"]
    _, refused = await settle([
        processes[round_ % 3].set_spotlight(organiser, SpotlightSet(kind="note", id=note["id"])),
        processes[(round_ + 1) % 3].hide_note(fac, NoteHide(id=note["id"], hidden=True))])

    assert all(r.code == "not_public" for r in refused)
    event = await read(processes[0].db, q.event_row, event_id)
    assert event["spotlight"] is None  # lit then taken down, or refused: never left lit
