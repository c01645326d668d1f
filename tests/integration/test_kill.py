"""Kill test: ~100 phones posting through their outboxes while the server is SIGKILLed
and restarted every few seconds, and its disk is full for a few seconds.

Each phone keeps what it posted until the server acknowledges it (same id on
every resend, as the page's outbox does), follows its table's sequence numbers
(replay on a gap or a reconnect) and keeps its own copy of the board.

Asserted at the end: 0 acknowledged notes lost, 0 duplicates, gap-free sequence
numbers on every table, every phone's board equal to a fresh snapshot, and no
traceback in the server's logs. Printed (``-s``): notes acknowledged, restarts,
the restart time (exec -> serving) and what the phones were told.

The SQLite file lives on a small tmpfs (mounting needs root) that is filled to
the last byte for a few seconds: real ENOSPC. ``PLENARY_KILL_SECONDS`` sets the
length of the run (default 60).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from plenary import config as config_mod

from tests.conftest import ROOT, missing

from .conftest import participant_auth
from .server import RunningServer, free_port

pytestmark = pytest.mark.integration

SECONDS = float(os.environ.get("PLENARY_KILL_SECONDS", "60"))
TABLES, PHONES_PER_TABLE = 10, 10
KILL_EVERY_S = (3.0, 6.0)
DISK_FULL_S = 4.0
POST_EVERY_S = (0.8, 1.6)
RECONNECT_S = (1.0, 5.0)
#: What a phone may be told while the server dies, restarts or has no disk.
RETRY_CODES = {"storage_full", "server_error", "rate_limited"}


@contextlib.contextmanager
def small_disk(path: Path, size_mb: int = 48) -> Any:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        missing(f"a small tmpfs for the kill test (mount needs root): {done.stderr.decode()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem refuses (ENOSPC); return it."""
    filler = disk / "filler"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    with contextlib.suppress(OSError), open(filler, "ab") as f:  # the last few bytes too
        while True:
            f.write(b"\0" * 512)
            f.flush()
    return filler


@dataclass
class Server:
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "plenary", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=log, cwd=ROOT)

    async def start(self) -> None:
        """Exec the server and wait until it serves; the time it took is recorded."""
        started = time.monotonic()
        self.process = self.spawn()
        async with httpx.AsyncClient() as http:
            deadline = started + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/healthz", timeout=1)).status_code == 200:
                        break
                assert time.monotonic() < deadline, "the server did not come back in 30 s"
                assert self.process.poll() is None, self.log.read_text()[-2000:]
                await asyncio.sleep(0.02)  # polling the real condition: is it serving?
        self.restarts.append(time.monotonic() - started)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@dataclass
class Phone:
    url: str
    code: str
    name: str
    key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    outbox: dict[str, str] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    board: set[str] = field(default_factory=set)
    seq: int = 0
    told: Counter[str] = field(default_factory=Counter)
    unexpected: list[Any] = field(default_factory=list)
    made: int = 0

    async def run(self, stop: asyncio.Event, posting: asyncio.Event,
                  progress: asyncio.Condition) -> None:
        backoff = RECONNECT_S[0]
        while not stop.is_set():
            sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
            changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            sio.on("change", changes.put_nowait)
            follower = None
            try:
                await sio.connect(self.url, auth=participant_auth(self.code, key=self.key),
                                  transports=["websocket"], wait_timeout=5)
                await self.resync(sio)
                backoff = RECONNECT_S[0]
                follower = asyncio.ensure_future(self.follow(sio, changes, progress))
                while sio.connected and not stop.is_set():
                    if posting.is_set():
                        self.made += 1
                        self.outbox[f"{self.name}-{self.made:04d}"] = f"{self.name} #{self.made}"
                    for nid, text in list(self.outbox.items()):
                        await self.post(sio, nid, text)
                    async with progress:
                        progress.notify_all()
                    await asyncio.sleep(random.uniform(*POST_EVERY_S))  # a person's pace
            except (socketio.exceptions.SocketIOError, TimeoutError, OSError):
                pass  # the server died under us: reconnect and resend the outbox
            finally:
                if follower is not None:
                    follower.cancel()
                with contextlib.suppress(Exception):
                    await sio.disconnect()
                # A failed connect leaves engine.io's aiohttp session open, and
                # its finaliser warns if the loop is gone by then.
                if sio.eio.http is not None and not sio.eio.http.closed:
                    await sio.eio.http.close()
            # socket.io's own back-off: 1 s +-50 %, doubling up to 5 s.
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, RECONNECT_S[1])

    async def post(self, sio: socketio.AsyncClient, nid: str, text: str) -> None:
        ack = await sio.call("note.post", {"id": nid, "text": text}, timeout=5)
        if ack.get("ok"):
            self.told["duplicate" if ack.get("duplicate") else "ok"] += 1
            self.acked.add(nid)
            self.outbox.pop(nid, None)
            return
        code = ack["error"]["code"]
        self.told[code] += 1
        if code not in RETRY_CODES:
            self.unexpected.append(ack)
            self.outbox.pop(nid, None)

    async def resync(self, sio: socketio.AsyncClient) -> None:
        ack = await sio.call("sync", {"since": self.seq or None}, timeout=5)
        assert ack["ok"], ack
        if ack["mode"] == "snapshot":
            self.board = {n["id"] for n in ack["notes"]}
            self.seq = ack["seq"]
            return
        for change in ack["changes"]:
            self.apply(change)

    def apply(self, change: dict[str, Any]) -> None:
        if change["seq"] != self.seq + 1:
            return
        if change["type"] == "note.added":
            self.board.add(change["data"]["note"]["id"])
        elif change["type"] == "note.deleted":
            self.board.discard(change["data"]["id"])
        self.seq = change["seq"]

    async def follow(self, sio: socketio.AsyncClient, changes: asyncio.Queue[dict[str, Any]],
                     progress: asyncio.Condition) -> None:
        while True:
            change = await changes.get()
            if change["seq"] > self.seq + 1:  # missed something: replay from where we are
                await self.resync(sio)
            self.apply(change)
            async with progress:
                progress.notify_all()


@pytest.mark.timeout(SECONDS * 3 + 120)
async def test_killed_restarted_and_out_of_disk_loses_nothing_acknowledged(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{disk / 'plenary.db'}",
               "PLENARY_SECRET_KEY": secrets.token_hex(32), "PLENARY_LOG_LEVEL": "warning",
               "PYTHONPATH": str(ROOT / "server")}
        cfg = config_mod.load({"DATABASE_URL": env["DATABASE_URL"],
                               "PLENARY_SECRET_KEY": env["PLENARY_SECRET_KEY"],
                               "PORT": str(port)})
        server = Server(port, env, tmp_path / "server.log")
        await server.start()  # migrates the new database
        info = await RunningServer(server.url, cfg, None).create_event(
            tables=TABLES, template="world-cafe")
        phones = [Phone(server.url, t["join_code"], f"t{n}p{i}")
                  for n, t in enumerate(info["tables"]) for i in range(PHONES_PER_TABLE)]
        stop, posting, progress = asyncio.Event(), asyncio.Event(), asyncio.Condition()
        posting.set()
        tasks = [asyncio.ensure_future(p.run(stop, posting, progress)) for p in phones]

        began = time.monotonic()
        disk_full_at = began + SECONDS / 2
        disk_was_full, full_for = False, 0.0
        while time.monotonic() - began < SECONDS:
            await asyncio.sleep(random.uniform(*KILL_EVERY_S))  # the chaos schedule
            if not disk_was_full and time.monotonic() >= disk_full_at:
                filler = fill(disk)
                full_since = time.monotonic()
                # SQLite may go on overwriting WAL pages it already has, so the
                # disk stays full until writes are really refused (at most 30 s).
                def refused() -> bool:
                    return sum(p.told["storage_full"] for p in phones) > 0
                with contextlib.suppress(TimeoutError):
                    async with progress:
                        await asyncio.wait_for(progress.wait_for(refused), 30)
                await asyncio.sleep(DISK_FULL_S)  # phones meanwhile are told storage_full
                filler.unlink()
                full_for = time.monotonic() - full_since
                disk_was_full = True
            server.kill()
            await server.start()

        # Calm: no more new notes; every outbox empties; every phone catches up.
        posting.clear()

        def settled() -> bool:
            return all(not p.outbox for p in phones)
        async with progress:
            await asyncio.wait_for(progress.wait_for(settled), 60)
        fresh = await snapshots(server.url, info)
        stop.set()
        await asyncio.gather(*tasks)
        for phone in phones:  # one last replay, as a phone does on its next event
            async with connected(server.url, phone) as sio:
                await phone.resync(sio)
        server.kill()

        db = sqlite3.connect(disk / "plenary.db")
        notes = dict(db.execute("SELECT id, text FROM notes").fetchall())
        added = Counter(k for (k,) in db.execute(
            "SELECT json_extract(data, '$.note.id') FROM changes WHERE kind = 'note.added'"))
        gaps = {t: seqs for t, seqs in _seqs(db).items() if seqs != list(range(1, len(seqs) + 1))}
        db.close()

    acked = set().union(*(p.acked for p in phones))
    lost = acked - set(notes)
    duplicates = sum(n - 1 for n in added.values() if n > 1) + (
        len(notes) - len(set(notes.values())))
    table_of = {t["join_code"]: t["id"] for t in info["tables"]}
    unequal = [p.name for p in phones if (p.board, p.seq) != fresh[table_of[p.code]]]
    told = sum((p.told for p in phones), Counter())
    log = server.log.read_text(errors="replace")
    restarts = server.restarts[1:]
    print(f"\nkill test: {len(phones)} phones, {len(acked)} notes acknowledged, "
          f"{len(restarts)} SIGKILL restarts in {SECONDS:.0f} s, disk full {full_for:.1f} s; "
          f"lost {len(lost)}, duplicates {duplicates}, tables with seq gaps {len(gaps)}, "
          f"boards unequal to a fresh snapshot {len(unequal)}\n"
          f"restart exec->serving: median {statistics.median(restarts):.2f} s, "
          f"max {max(restarts):.2f} s (first start {server.restarts[0]:.2f} s)\n"
          f"phones were told: {dict(told)}; 'disk is full' logged {log.count('disk is full')}x")
    assert disk_was_full and told["storage_full"] > 0, "the full disk was never seen"
    assert [u for p in phones for u in p.unexpected] == []
    assert lost == set()
    assert duplicates == 0
    assert gaps == {}
    assert unequal == []
    assert "Traceback" not in log, log[log.find("Traceback") - 500:][:3000]
    assert log.count("disk is full") == 1, "the full disk is logged once, not per refusal"


def _seqs(db: sqlite3.Connection) -> dict[str, list[int]]:
    seqs: dict[str, list[int]] = {}
    for table_id, seq in db.execute("SELECT table_id, seq FROM changes ORDER BY table_id, seq"):
        seqs.setdefault(table_id, []).append(seq)
    return seqs


@contextlib.asynccontextmanager
async def connected(url: str, phone: Phone) -> Any:
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    await sio.connect(url, auth=participant_auth(phone.code, key=phone.key),
                      transports=["websocket"], wait_timeout=10)
    try:
        yield sio
    finally:
        await sio.disconnect()


async def snapshots(url: str, info: dict[str, Any]) -> dict[str, tuple[set[str], int]]:
    """Each table's notes and last seq, from a fresh facilitator connection."""
    fresh = {}
    for table in info["tables"]:
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        await sio.connect(url, auth={"token": table["facilitator_token"]},
                          transports=["websocket"], wait_timeout=10)
        snap = await sio.call("sync", {}, timeout=10)
        await sio.disconnect()
        fresh[table["id"]] = ({n["id"] for n in snap["notes"]}, snap["seq"])
    return fresh
