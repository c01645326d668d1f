"""Zulip's verify_action, for boards: a snapshot plus the broadcasts of every action must
equal the board read back fresh from the store, for each kind of viewer."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .conftest import participant_auth
from .scenarios import board_scenario

pytestmark = pytest.mark.integration


def apply(board: dict[str, Any], change: dict[str, Any], *, staff: bool) -> None:
    """What a client does with a change (the rules of docs/protocol.md)."""
    assert change["seq"] == board["seq"] + 1, "broadcasts must arrive gap-free and in order"
    board["seq"] = change["seq"]
    kind, data = change["type"], change["data"]
    notes, table = board["notes"], board["table"]
    if kind == "note.added":
        notes[data["note"]["id"]] = data["note"]
    elif kind in ("note.edited", "note.shown"):  # no vote count: keep the one we have
        note = data["note"]
        notes[note["id"]] = notes.get(note["id"], {"votes": 0}) | note
    elif kind == "notes.revealed":
        for n in data["notes"]:
            notes[n["id"]] = n
    elif kind == "note.deleted":
        notes.pop(data["id"], None)
    elif kind == "note.hidden":
        if staff:
            notes[data["id"]]["hidden"] = True
        else:
            notes.pop(data["id"], None)
    elif kind == "note.starred":
        notes[data["id"]]["starred"] = data["starred"]
    elif kind == "note.merged":
        notes.pop(data["id"], None)
        notes[data["into"]]["votes"] = data["votes"]
    elif kind == "note.grouped":
        notes[data["id"]]["group"] = data["group"]
    elif kind == "group.saved":
        board["groups"][data["group"]["id"]] = data["group"]
    elif kind == "group.deleted":
        board["groups"].pop(data["id"])
        for n in notes.values():
            if n["group"] == data["id"]:
                n["group"] = None
    elif kind in ("vote.added", "vote.removed"):
        notes[data["vote"]["note"]]["votes"] = data["votes"]
    elif kind == "votes.revealed":
        for n in notes.values():
            if n["stage"] == data["stage"]:
                n["votes"] = data["votes"].get(n["id"], 0)
    elif kind == "summary.changed":
        board["summaries"][str(data["stage"])] = data["text"]
    elif kind in ("step.changed", "stage.changed"):
        table["stage"], table["step"] = data["stage"], data["step"]
        if kind == "stage.changed":
            table["ready"] = False
        step = board["stages"][data["stage"]]["steps"][data["step"]]
        if step["kind"] == "vote" and board["vote_counts"] == "after_vote":
            for n in notes.values():  # a blind vote: counts are hidden until it ends
                if n["stage"] == data["stage"]:
                    n["votes"] = None
    elif kind in ("table.ready", "table.locked"):
        table[kind.split(".")[1]] = data[kind.split(".")[1]]
    elif kind == "event.status":
        board["status"] = data["status"]
    else:
        assert kind == "private", kind


def differences(mine: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Where a rebuilt board and the fresh one disagree, field by field."""
    out = [f"{k}: {mine[k]!r} != {fresh[k]!r}" for k in mine if k != "notes"
           and mine[k] != fresh[k]]
    for note_id in mine["notes"].keys() | fresh["notes"].keys():
        a, b = mine["notes"].get(note_id), fresh["notes"].get(note_id)
        if a is None or b is None:
            out.append(f"note {note_id}: {'missing' if a is None else 'extra'}")
        else:
            out += [f"note {b['text']!r}.{k}: {a[k]!r} != {b[k]!r}" for k in b if a.get(k) != b[k]]
    return out


def view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The parts of a snapshot a client keeps, in a comparable shape."""
    return {
        "seq": snapshot["seq"],
        "notes": {n["id"]: {k: v for k, v in n.items() if k != "mine"}
                  for n in snapshot["notes"]},
        "groups": {g["id"]: g for g in snapshot["groups"]},
        "summaries": dict(snapshot["summaries"]),
        "table": {k: snapshot["table"][k] for k in ("stage", "step", "ready", "locked")},
        "status": snapshot["event"]["status"],
        "stages": snapshot["event"]["template"]["stages"],
        "vote_counts": snapshot["event"]["template"]["vote_counts"],
    }


async def test_broadcasts_rebuild_every_viewers_board(server, join):
    ev = await server.create_event(tables=1)  # alchemy: stage 2 has write, reveal, group, vote
    t = ev["tables"][0]
    alice = await join(participant_auth(t["join_code"], name="Alice"))
    bob = await join(participant_auth(t["join_code"]))
    fac = await join({"token": t["facilitator_token"]})
    org = await join({"token": ev["organiser_token"]})
    viewers = {"alice": (alice, False), "bob": (bob, False), "fac": (fac, True)}
    boards = {name: view(await c.call("sync", {})) for name, (c, _) in viewers.items()}

    async def act(client, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        ack = await client.call(event, payload)
        assert ack["ok"], (event, ack)
        return ack

    async def check() -> None:
        for name, (client, staff) in viewers.items():
            while not client.changes.empty():
                apply(boards[name], client.changes.get_nowait(), staff=staff)
            fresh = view(await client.call("sync", {}))
            assert boards[name] == fresh, (name, differences(boards[name], fresh))
            boards[name] = copy.deepcopy(fresh)

    await board_scenario(act, check, alice=alice, bob=bob, fac=fac, org=org, table=t["id"])
