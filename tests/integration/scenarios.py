"""The scenarios that prove "a snapshot plus every broadcast equals a fresh snapshot": one
sequence of actions, run by the Python check (test_consistency.py) and recorded for the
JavaScript reducers that ship (test_js_reducers.py, tests/js/)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from .server import Client

Act = Callable[[Client, str, dict[str, Any]], Awaitable[dict[str, Any]]]
Check = Callable[[], Awaitable[None]]


def nid() -> str:
    return uuid.uuid4().hex


async def board_scenario(act: Act, check: Check, *, alice: Client, bob: Client, fac: Client,
                         org: Client, table: str) -> None:
    """Silent writing, reveal, groups, stars, hiding, a lockstep move, a blind vote,
    merging, a summary, the ready flag, locks (one table, then every board) and the
    close: every kind of change a table's log carries, at every privacy level."""
    secret = (await act(alice, "note.post", {"id": nid(), "text": "silent"}))["note"]["id"]
    await act(alice, "note.edit", {"id": secret, "text": "silent, edited"})
    await act(org, "message.set", {"text": "Coffee at eleven"})
    await check()
    await act(fac, "step.next", {"from": 0})  # reveal
    a = (await act(alice, "note.post", {"id": nid(), "text": "a"}))["note"]["id"]
    b = (await act(bob, "note.post", {"id": nid(), "text": "b ✨ مرحبا"}))["note"]["id"]
    gone = (await act(bob, "note.post", {"id": nid(), "text": "oops"}))["note"]["id"]
    await act(bob, "note.delete", {"id": gone})
    await check()
    await act(fac, "step.next", {"from": 1})  # group
    g = nid()
    await act(fac, "group.save", {"id": g, "label": "Theme", "notes": [a, b]})
    await act(fac, "note.star", {"id": a, "starred": True})
    await act(fac, "note.hide", {"id": secret, "hidden": True})
    await check()
    await act(org, "stage.next", {"from": 0})  # stage 2, private writing again
    c = (await act(alice, "note.post", {"id": nid(), "text": "c"}))["note"]["id"]
    d = (await act(bob, "note.post", {"id": nid(), "text": "d"}))["note"]["id"]
    dup = (await act(bob, "note.post", {"id": nid(), "text": "d again"}))["note"]["id"]
    await check()
    for frm in (0, 1, 2):
        await act(fac, "step.next", {"from": frm})  # reveal, group, vote (blind)
    v1, v2 = nid(), nid()
    await act(alice, "vote.add", {"id": v1, "note": c})
    await act(bob, "vote.add", {"id": v2, "note": dup})
    await act(bob, "vote.add", {"id": nid(), "note": d})
    await check()
    await act(alice, "vote.remove", {"id": v1})
    await act(fac, "note.merge", {"id": dup, "into": d})
    await act(alice, "note.edit", {"id": c, "text": "c, edited during the vote"})
    await check()
    await act(fac, "step.next", {"from": 3})  # summarise: counts revealed
    await act(fac, "summary.set", {"stage": 1, "text": "Two themes."})
    await act(fac, "table.ready", {"ready": True})
    await act(fac, "note.hide", {"id": secret, "hidden": False})
    await act(org, "board.lock", {"locked": True, "table": table})
    await act(org, "board.lock", {"locked": True})  # every board
    await act(org, "board.lock", {"locked": False})  # "Unlock all": the table's own lock stays
    await check()
    await act(fac, "group.delete", {"id": g})
    await act(org, "message.set", {"text": None})
    await act(org, "event.status", {"action": "close"})
    await check()
