"""Fuzz every client event from every role, while a sentinel table carries on.

Hypothesis generates what clients send: every client→server event name (and
reserved, unknown and non-string ones) with random and malformed payloads
(wrong types, unknown fields, deep nesting, huge integers and strings, msgpack
ExtTypes, binary), broken Socket.IO packets and garbage Engine.IO frames, from a
participant, a facilitator, the organiser and a dashboard of one event. Meanwhile
a sentinel participant of another event posts notes and a sentinel peer must
receive every one that was acknowledged.

Asserted: no traceback in the server's logs, every error code sent is one
docs/protocol.md lists, no acknowledged sentinel note missed.

A few hundred cases by default (about a minute on a shared CI machine);
``PLENARY_FUZZ_CASES=20000 pytest tests/integration/test_fuzz.py --timeout 0 -s``
for a long run. The figures are printed with ``-s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plenary.live import channel as channel_mod
from plenary.live.guard import RESERVED_EVENTS

from tests.protocol_doc import documented_codes

from .conftest import participant_auth
from .raw import ACK, EVENT, RawClient, sio_packet
from .server import Client, connect, run_server, server_logs

pytestmark = pytest.mark.integration

CASES = int(os.environ.get("PLENARY_FUZZ_CASES", "1500"))
ROLES = ("participant", "facilitator", "organiser", "dashboard")
#: How long one fuzz case may wait for its answer before it counts as unanswered.
ANSWER_S = 10.0


class ClientLoop:
    """An event loop in its own thread, so Hypothesis (synchronous) can drive async clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


# --- what clients send ---------------------------------------------------------------

ints = st.one_of(st.integers(-3, 5), st.integers(-(2**63), 2**64 - 1))
scalars = st.one_of(
    st.none(), st.booleans(), ints, st.floats(), st.text(max_size=30),
    st.text(min_size=900, max_size=6000), st.binary(max_size=40),
    st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=12)),
    st.just(msgpack.Timestamp(0, 5)),
)
values = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=12), kids, max_size=4)),
    max_leaves=12)
words = st.sampled_from([
    "start", "close", "reopen", "pause", "resume", "extend", "stop", "table", "topic",
    "note", "write", "", " ", "<b>x</b>", "=1+1", "\x00", "é" * 3])
client_ids = st.from_regex(r"[A-Za-z0-9_-]{8,20}", fullmatch=True)


def names_of(model: Any, *, required: bool | None = None) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()
            if required is None or f.is_required() == required]


def odd_names() -> Any:
    """Event names no client should send: reserved, unknown, not strings."""
    return st.one_of(
        st.sampled_from(sorted(RESERVED_EVENTS)), st.text(max_size=70), ints, st.none(),
        st.lists(ints, max_size=2), st.dictionaries(st.text(max_size=3), ints, max_size=2),
        st.booleans())


#: A small pool, so that posts, edits, votes, merges and groups meet the same notes.
NOTE_IDS = [f"fuzz-note-{i}" for i in range(5)]
note_ids = st.sampled_from(NOTE_IDS)


def plausible(field: str, known_ids: list[str]) -> Any:
    """Values that a real client might send in ``field``: deeper into the handlers."""
    texts = st.one_of(st.text(min_size=1, max_size=60), st.text(min_size=900, max_size=1200))
    by_name = {
        "id": note_ids, "note": note_ids, "into": note_ids, "group": note_ids,
        "text": texts, "label": texts, "name": texts,
        "stage": st.integers(0, 6), "from": st.integers(0, 6), "since": st.integers(0, 50),
        "table": st.sampled_from(known_ids), "notes": st.lists(note_ids, max_size=3),
        "seconds": st.integers(1, 600), "category": st.sampled_from([None, "idea", "x"]),
        "kind": st.sampled_from([None, "table", "topic", "note"]),
        "action": st.sampled_from(["start", "pause", "resume", "extend", "stop",
                                   "close", "reopen"]),
    }
    return by_name.get(field, st.booleans())


def payload(models: dict[str, Any], name: Any, known_ids: list[str]) -> Any:
    model = models.get(name) if isinstance(name, str) else None
    fields = names_of(model) if model else []
    needed = names_of(model, required=True) if model else []
    wild = st.one_of(values, words, client_ids, st.integers(0, 8), st.booleans(), st.none())
    real = st.fixed_dictionaries({f: plausible(f, known_ids) for f in needed},
                                 optional={f: plausible(f, known_ids) for f in fields
                                           if f not in needed})
    odd = st.fixed_dictionaries({}, optional={f: st.one_of(plausible(f, known_ids), wild)
                                              for f in fields})
    extra = st.dictionaries(st.text(max_size=12), values, max_size=2)
    return st.one_of(real, real, real, odd, odd, st.builds(lambda a, b: a | b, odd, extra),
                     values)


@st.composite
def cases(draw: Any, models: dict[str, Any], known_ids: list[str]) -> dict[str, Any]:
    role = draw(st.sampled_from(ROLES))
    kind = draw(st.sampled_from(["event"] * 8 + ["oddname", "packet", "bytes", "text", "deep"]))
    if kind in ("event", "oddname"):
        name = draw(st.sampled_from(sorted(models)) if kind == "event" else odd_names())
        count = draw(st.sampled_from([1] * 8 + [0, 2, 3]))
        args = [draw(payload(models, name, known_ids)) for _ in range(count)]
        return {"role": role, "kind": kind, "name": name, "args": args}
    if kind == "packet":  # a msgpack map that is not quite a Socket.IO packet
        fields = draw(st.dictionaries(st.sampled_from(["type", "data", "nsp", "id", "x"]),
                                      values, max_size=5))
        return {"role": role, "kind": kind, "frame": msgpack.packb(fields)}
    if kind == "bytes":
        return {"role": role, "kind": kind, "frame": draw(st.binary(max_size=64))}
    if kind == "text":
        return {"role": role, "kind": kind, "frame": draw(st.text(max_size=40))}
    depth = draw(st.integers(20, 1600))
    frame = (b"\x84\xa4type\x02\xa4data\x92\xa9note.post" + b"\x91" * depth + b"\xc0"
             + b"\xa3nsp\xa1/\xa2id\x01")
    return {"role": role, "kind": kind, "frame": frame}


# --- the world the cases run in ---------------------------------------------------------

@dataclass
class World:
    url: str
    auths: dict[str, dict[str, Any]]
    models: dict[str, Any]
    clients: dict[str, RawClient] = field(default_factory=dict)
    codes: Counter[str] = field(default_factory=Counter)
    by_event: Counter[tuple[str, str]] = field(default_factory=Counter)
    undocumented: list[Any] = field(default_factory=list)
    unanswered: list[Any] = field(default_factory=list)
    reconnects: int = 0
    cases: int = 0
    next_id: int = 1
    sentinel_acked: set[str] = field(default_factory=set)
    sentinel_seen: set[str] = field(default_factory=set)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self, role: str) -> RawClient:
        c = self.clients.get(role)
        if c is None or c.closed:
            c = await RawClient.open(self.url)
            answer = await c.join(self.auths[role])
            assert answer["type"] == 0, answer
            self.clients[role] = c
            self.reconnects += 1
        return c

    def note(self, where: str, answer: Any) -> None:
        if isinstance(answer, dict) and answer.get("ok") is True:
            self.codes["ok"] += 1
            self.by_event[(where, "ok")] += 1
            return
        code = answer.get("error", answer).get("code") if isinstance(answer, dict) else None
        self.codes[str(code)] += 1
        self.by_event[(where, str(code))] += 1
        if code not in self.documented:
            self.undocumented.append((where, answer))

    @property
    def documented(self) -> set[str]:
        return documented_codes()

    async def answer_to(self, c: RawClient, pid: int) -> Any:
        """The ack for ``pid``; server events seen meanwhile are checked and dropped."""
        deadline = time.monotonic() + ANSWER_S
        while True:
            pkt = await asyncio.wait_for(c.next_packet(), max(0.01, deadline - time.monotonic()))
            if pkt.get("type") == ACK and pkt.get("id") == pid:
                return pkt["data"][0]
            if pkt.get("type") == EVENT and pkt["data"][0] in ("refused", "kicked"):
                self.note(pkt["data"][0], pkt["data"][1])

    async def run(self, case: dict[str, Any]) -> None:
        self.cases += 1
        c = await self.client(case["role"])
        pid = self.next_id
        self.next_id += 1
        try:
            if case["kind"] in ("event", "oddname"):
                await c.send(sio_packet(EVENT, [case["name"], *case["args"]], pid=pid))
                self.note(str(case["name"])[:20], await self.answer_to(c, pid))
                return
            await c.send(case["frame"])
            # Whatever that was, the connection answers a well-formed request next,
            # or the server has closed it (and only it).
            await c.send(sio_packet(EVENT, ["sync", {}], pid=pid))
            self.note("probe", await self.answer_to(c, pid))
        except websockets.ConnectionClosed:
            c.closed = True
        except TimeoutError:
            self.unanswered.append(case)
            c.closed = True
            await c.close()

    async def sentinel(self, poster: Client, peer: Client) -> None:
        caught_up = asyncio.Event()

        def check() -> None:
            if self.stop.is_set() and self.sentinel_acked <= self.sentinel_seen:
                caught_up.set()

        async def collect() -> None:
            while True:
                change = await peer.changes.get()
                if change["type"] == "note.added":
                    self.sentinel_seen.add(change["data"]["note"]["id"])
                    check()
        collector = asyncio.ensure_future(collect())
        while not self.stop.is_set():
            nid = uuid.uuid4().hex
            ack = await poster.call("note.post", {"id": nid, "text": f"sentinel {nid[:6]}"})
            if ack.get("ok"):
                self.sentinel_acked.add(nid)
            await asyncio.sleep(0.02)  # pace: a person posting, not a flood
        check()
        with contextlib.suppress(TimeoutError):  # what is missing then is reported as missed
            await asyncio.wait_for(caught_up.wait(), 10)
        collector.cancel()


# The server and client threads use the `random` module (websocket ping data,
# masks) while Hypothesis draws in this thread; it cannot tell them from a
# strategy's own use, which these strategies do not make.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning")
def test_fuzz_every_event_from_every_role(tmp_path, caplog, monkeypatch):
    # Let the fuzzer reach the handlers instead of the rate limit (tested on its own).
    monkeypatch.setattr(channel_mod, "BUCKET_CAPACITY", 10**9)
    caplog.set_level("WARNING")
    loop = ClientLoop()
    try:
        with server_logs() as crashes, run_server(tmp_path) as server:
            world, sentinel_task = loop.run(_start(server))
            known_ids = [t["id"] for t in world.auths["_tables"]]

            @settings(max_examples=CASES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=cases(world.models, known_ids))
            def one(case: dict[str, Any]) -> None:
                loop.run(world.run(case))

            started = time.monotonic()
            try:
                one()
            finally:
                elapsed = time.monotonic() - started
                loop.loop.call_soon_threadsafe(world.stop.set)
                sentinel_task.result(timeout=30)
                for c in world.clients.values():
                    loop.run(c.close())
    finally:
        loop.close()
    missed = world.sentinel_acked - world.sentinel_seen
    print(f"\nfuzz: {world.cases} cases in {elapsed:.1f} s, tracebacks {len(crashes)}, "
          f"undocumented codes {len(world.undocumented)}, unanswered {len(world.unanswered)}, "
          f"sentinel notes acked {len(world.sentinel_acked)}, missed {len(missed)}, "
          f"reconnects {world.reconnects}\ncodes: {dict(world.codes.most_common())}\n"
          f"commonest: {world.by_event.most_common(12)}")
    assert crashes == []
    assert world.undocumented == []
    assert world.unanswered == []
    assert world.sentinel_acked and missed == set()


async def _start(server: Any) -> tuple[World, Any]:
    fuzzed = await server.create_event(tables=2, template="world-cafe")
    guarded = await server.create_event(tables=1, template="world-cafe")
    table = fuzzed["tables"][0]
    auths: dict[str, Any] = {
        "participant": participant_auth(table["join_code"], name="Fuzz"),
        "facilitator": {"token": table["facilitator_token"]},
        "organiser": {"token": fuzzed["organiser_token"]},
        "dashboard": {"token": fuzzed["dashboard_token"]},
        "_tables": fuzzed["tables"],
    }
    world = World(server.url, auths, server.app.channel.models)
    poster = await connect(server.url, participant_auth(guarded["tables"][0]["join_code"]))
    peer = await connect(server.url, participant_auth(guarded["tables"][0]["join_code"]))
    task = asyncio.ensure_future(world.sentinel(poster, peer))
    return world, asyncio.run_coroutine_threadsafe(_wait(task, poster, peer),
                                                   asyncio.get_running_loop())


async def _wait(task: Any, *clients: Client) -> None:
    await task
    for c in clients:
        await c.close()
