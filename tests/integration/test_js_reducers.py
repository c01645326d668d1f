"""The JavaScript reducers that ship (static/js/board-state.js, overview-state.js), proven
with the consistency scenario against the real server: every viewer's first snapshot, every
broadcast it received and a fresh snapshot at each checkpoint are recorded to a JSON
fixture, and `node --test tests/js/` replays them through the reducers. A participant, a
facilitator, the organiser's console and a dashboard: four screens, one rule each."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, missing

from .conftest import participant_auth
from .scenarios import board_scenario
from .server import WAIT_S, Client

pytestmark = pytest.mark.integration

JS_TESTS = ROOT / "tests" / "js"
FIXTURE = JS_TESTS / "fixtures" / "consistency.json"


def node() -> str:
    path = shutil.which("node")
    if path is None:
        missing("Node.js (apt-get install nodejs)")
    return str(path)


class Recorder:
    """One viewer: what it was sent, in order (table changes and event-wide updates)."""

    def __init__(self, name: str, client: Client, kind: str) -> None:
        self.name, self.client, self.kind = name, client, kind
        self.log: list[dict[str, Any]] = []
        self.seqs: dict[str, int] = {}
        self.event: dict[str, Any] = {}
        self.own: list[str] = []
        self.checks: list[dict[str, Any]] = []
        self.first: dict[str, Any] = {}
        self.arrived = asyncio.Event()  # set whenever something is received
        sio = client.sio
        sio.on("change", self._change)
        sio.on("changes", self._changes)
        sio.on("event.updated", self._event)

    def _change(self, c: dict[str, Any]) -> None:
        self.log.append({"type": "change", "change": c})
        self.seqs[c["table"]] = max(self.seqs.get(c["table"], 0), c["seq"])
        self.arrived.set()

    def _changes(self, batch: list[dict[str, Any]], updated: dict[str, Any] | None = None
                 ) -> None:
        for c in batch:
            self._change(c)
        if updated is not None:  # a stage move's batch carries the event's new state
            self._event(updated)

    def _event(self, msg: dict[str, Any]) -> None:
        self.log.append({"type": "event", "event": msg["event"],
                         "server_time": msg.get("server_time")})
        self.event = msg["event"]
        self.arrived.set()

    async def start(self) -> None:
        self.first = await self.client.call("sync", {"since": None})
        self.event = self.first["event"]
        for t in self.first.get("tables", [self.first.get("table")]):
            self.seqs[t["id"]] = t["seq"] if "tables" in self.first else self.first["seq"]

    async def checkpoint(self) -> None:
        fresh = await self.client.call("sync", {"since": None})
        want = ({t["id"]: t["seq"] for t in fresh["tables"]} if "tables" in fresh
                else {fresh["table"]["id"]: fresh["seq"]})
        settings = ("message", "locked", "spotlight")

        def caught_up() -> bool:
            return (all(self.seqs.get(k, 0) >= v for k, v in want.items())
                    and all(self.event.get(k) == fresh["event"].get(k) for k in settings))

        # Dashboards get changes in batches a few times a second: wait for the batch.
        async def wait() -> None:
            while not caught_up():
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(wait(), WAIT_S)
        self.checks.append({"actions": self.log, "fresh": fresh})
        self.log = []

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "own": self.own, "first": self.first, "checks": self.checks}


async def record_scenario(server: Any, join: Any) -> dict[str, Any]:
    ev = await server.create_event(tables=2)
    t = ev["tables"][0]
    alice = await join(participant_auth(t["join_code"], name="Alice"))
    bob = await join(participant_auth(t["join_code"]))
    fac = await join({"token": t["facilitator_token"]})
    org = await join({"token": ev["organiser_token"]})
    dash = await join({"token": ev["dashboard_token"]})
    viewers = [Recorder("participant alice", alice, "board"),
               Recorder("participant bob", bob, "board"), Recorder("facilitator", fac, "board"),
               Recorder("organiser", org, "overview"), Recorder("dashboard", dash, "overview")]
    by_client = {id(v.client): v for v in viewers}
    for v in viewers:
        await v.start()

    async def act(client: Client, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        ack = await client.call(event, payload)
        assert ack["ok"], (event, ack)
        if event in ("note.post", "vote.add"):  # ids this device made: it knows they are its own
            by_client[id(client)].own.append(payload["id"])
        return ack

    async def check() -> None:
        for v in viewers:
            await v.checkpoint()

    await board_scenario(act, check, alice=alice, bob=bob, fac=fac, org=org, table=t["id"])
    return {"scenario": "tests/integration/scenarios.py: board_scenario",
            "viewers": {v.name: v.record() for v in viewers}}


async def test_the_shipped_reducers_rebuild_every_screen(server, join, tmp_path: Path):
    exe = node()
    fixture = await record_scenario(server, join)
    path = tmp_path / "consistency.json"
    path.write_text(json.dumps(fixture, ensure_ascii=False, indent=1))
    if os.environ.get("PLENARY_UPDATE_FIXTURES"):  # refresh the copy node --test runs alone
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(path.read_text())
    run = await asyncio.to_thread(
        subprocess.run, [exe, "--test", str(JS_TESTS)], capture_output=True, text=True,
        env={**os.environ, "PLENARY_FIXTURE": str(path)}, timeout=120)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    # Each of the four screens' replays ran (and passed), not an empty suite.
    for name in fixture["viewers"]:
        assert "ok" in run.stdout and f"{name}:" in run.stdout, (name, run.stdout[-3000:])
