"""A table screen that follows docs/protocol.md the way the pages do: it applies
changes in seq order (holding one that arrives early for REORDER_WAIT_S), keeps
an outbox of unacknowledged notes, and after every (re)connection or ``resync``
catches up with ``sync`` and resends its outbox."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio
from plenary.live.channel import REORDER_WAIT_S

WAIT_S = 15


@dataclass
class Screen:
    """A participant or facilitator screen with its own copy of the table's board."""

    url: str
    auth: dict[str, Any]
    sio: socketio.AsyncClient = field(init=False)
    seq: int = 0
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    applied: list[int] = field(default_factory=list)  # every seq, in the order applied
    placeholders: set[int] = field(default_factory=set)
    received: list[dict[str, Any]] = field(default_factory=list)  # every change, as it came
    early: dict[int, dict[str, Any]] = field(default_factory=dict)
    outbox: dict[str, str] = field(default_factory=dict)  # note id -> text
    acked: dict[str, int] = field(default_factory=dict)  # note id -> seq
    presence: list[dict[str, Any]] = field(default_factory=list)
    kicked: list[dict[str, Any]] = field(default_factory=list)
    connects: int = 0
    syncs: int = 0
    gap_syncs: int = 0
    stage: int | None = None
    step: int | None = None
    gone: asyncio.Event = field(default_factory=asyncio.Event)  # disconnected at least once
    _gap_timer: asyncio.TimerHandle | None = None
    _catching_up: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.sio = socketio.AsyncClient(serializer="msgpack", reconnection=True,
                                        reconnection_delay=0.2, reconnection_delay_max=1,
                                        randomization_factor=0)
        self.sio.on("connect", self._on_connect)
        self.sio.on("change", self._on_change)
        self.sio.on("changes", self._on_changes)  # a stage move: one message per screen
        self.sio.on("resync", self._on_resync)
        self.sio.on("presence", self.presence.append)
        self.sio.on("kicked", self.kicked.append)
        self.sio.on("disconnect", lambda *_: self.gone.set())

    async def connect(self) -> None:
        await self.sio.connect(self.url, auth=self.auth, transports=["websocket"],
                               wait_timeout=WAIT_S)

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        await self.sio.disconnect()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_connect(self) -> None:
        self.connects += 1
        self._spawn(self.catch_up(resend=True))

    async def _on_resync(self, _data: Any = None) -> None:
        self._spawn(self.catch_up(resend=False))

    async def catch_up(self, *, resend: bool) -> None:
        """``sync`` from the last applied seq, then resend what is not acknowledged."""
        async with self._catching_up:
            try:
                ack = await self.sio.call("sync", {"since": self.seq or None}, timeout=WAIT_S)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.SocketIOError):
                return  # disconnected meanwhile: the next connect catches up
            self.syncs += 1
            if not ack.get("ok"):
                return
            if isinstance(ack.get("presence"), dict) and "count" in ack["presence"]:
                self.presence.append(ack["presence"])  # a facilitator's: who is here now
            if ack["mode"] == "snapshot":
                self.notes = {n["id"]: n for n in ack["notes"]}
                self.applied.extend(range(self.seq + 1, ack["seq"] + 1))
                self.seq = ack["seq"]
                self.stage, self.step = ack["table"]["stage"], ack["table"]["step"]
            else:
                for change in ack["changes"]:
                    self._apply(change)
            self._drain()
        if resend:
            for note_id, text in list(self.outbox.items()):
                self._spawn(self._send(note_id, text))

    def _on_changes(self, changes: list[dict[str, Any]], _event: Any = None) -> None:
        for change in changes:
            self._on_change(change)

    def _on_change(self, change: dict[str, Any]) -> None:
        self.received.append(change)
        seq = change["seq"]
        if seq <= self.seq:
            return
        self.early[seq] = change
        self._drain()
        if self.early and self._gap_timer is None:
            # Changes committed by two processes can cross in Redis: wait a
            # moment for the missing one before asking the store.
            self._gap_timer = asyncio.get_running_loop().call_later(
                REORDER_WAIT_S, self._gap_expired)

    def _gap_expired(self) -> None:
        self._gap_timer = None
        if self.early:
            self.gap_syncs += 1
            self._spawn(self.catch_up(resend=False))

    def _drain(self) -> None:
        while self.seq + 1 in self.early:
            self._apply(self.early.pop(self.seq + 1))
        for s in [s for s in self.early if s <= self.seq]:
            del self.early[s]
        if not self.early and self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None

    def _apply(self, change: dict[str, Any]) -> None:
        if change["seq"] != self.seq + 1:
            return
        self.seq = change["seq"]
        self.applied.append(self.seq)
        kind, data = change["type"], change["data"]
        if kind == "note.added":
            self.notes[data["note"]["id"]] = data["note"]
        elif kind == "notes.revealed":
            for n in data["notes"]:
                self.notes[n["id"]] = n
        elif kind == "note.deleted":
            self.notes.pop(data["id"], None)
        elif kind in ("stage.changed", "step.changed"):
            self.stage, self.step = data["stage"], data["step"]
        elif kind == "private":
            self.placeholders.add(self.seq)

    async def post(self, text: str) -> str:
        """Queue a note and send it; it stays in the outbox until acknowledged."""
        note_id = uuid.uuid4().hex
        self.outbox[note_id] = text
        await self._send(note_id, text)
        return note_id

    async def _send(self, note_id: str, text: str) -> None:
        with contextlib.suppress(socketio.exceptions.TimeoutError,
                                 socketio.exceptions.SocketIOError):
            ack = await self.sio.call("note.post", {"id": note_id, "text": text, "queued": True},
                                      timeout=5)
            if ack.get("ok") and note_id in self.outbox:
                del self.outbox[note_id]
                self.acked[note_id] = ack["seq"]


async def wait_for(condition: Any, what: str, within: float = WAIT_S) -> None:
    """Wait until ``condition()`` is true, polling; fail with ``what`` after ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
