"""The themes process: the model and the clustering, away from the server's core.

The server starts one spawned process (a one-worker ``ProcessPoolExecutor``) whose
initializer, :func:`init`, lowers its priority to the lowest (``nice 19``): live
boards always win the core, and embedding and refreshes use what is left and catch
up later. Child processes inherit the server's CPU pinning, so without the lower
priority a process of its own would still take the live channel's core.

Everything heavy lives here, loaded once per process:

- the model (:func:`embed`: texts in, one blob of half-float vectors out);
- the database reads of a refresh (:func:`refresh`): this process reads the stage's
  notes and vectors itself, column by column into one array, so 50,000 notes never
  cross the pipe nor sit as rows in the server; it sends back only the rows to
  write (themes and their note ids), which the server writes through its write path.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

Row = dict[str, Any]

#: How often the process checks that its server is still there.
PARENT_CHECK_S = 1.0
#: The process's priority: the lowest, so that live work always comes first.
NICE = 19
#: A refresh of a stage with more notes than this lets the model go first (it is
#: loaded again at the next embedding): the process then never holds both a large
#: refresh and the model, and a conference's 50,000 notes stay within the memory
#: target. A stage this size takes ~0.3 s to refresh, and the seed event's stay below.
UNLOAD_ABOVE = 5000

_settings: dict[str, Any] = {}
_embedder: Any = None
#: Times this process loaded the model (once, or the model is reloaded per call).
loads = 0
_readers: dict[str, _Reader] = {}


def init(parent_pid: int, model_path: str | None = None) -> None:
    """The process's initializer: follow the server, lowest priority, remember settings,
    and a fixed threshold for the allocator's mappings (:func:`_fixed_mmap_threshold`)."""
    follow_parent(parent_pid)
    with contextlib.suppress(OSError):
        os.nice(NICE)
    _fixed_mmap_threshold()
    _settings["model_path"] = model_path


#: Blocks of this size or more get mappings of their own (glibc's default start).
MMAP_THRESHOLD = 256 * 1024


def _fixed_mmap_threshold() -> None:
    """glibc raises its threshold for giving a block a mapping of its own each time
    such a block is freed (up to 32 MB): after the model's runs, a refresh's arrays
    then come from the heap, whose freed pages stay the process's. Fixed, they are
    mapped and given back when freed: a 50,000-note refresh peaks ~20 MB lower."""
    libc = _glibc()
    if libc:
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD


def follow_parent(parent_pid: int) -> None:
    """Exit as soon as the server that started this process is gone.

    A server killed outright (SIGKILL, the OOM killer) never shuts its pool down, and
    the worker holds both ends of its own call queue, so it would wait forever as an
    orphan holding its memory (and its parent's stdout).
    """
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


# --- embedding ---------------------------------------------------------------------


def embed(texts: list[str]) -> bytes:
    """The texts' vectors as stored (384 half floats each), one after the other."""
    global _embedder, loads
    from .embedder import STORED, Embedder, model_file

    if _embedder is None:  # once per process
        _embedder = Embedder(model_file(_settings.get("model_path")))
        loads += 1
    out = _embedder.embed(texts).astype(STORED).tobytes()
    _trim()  # what a run frees (its activations) goes back to the system
    return out


def unload() -> None:
    """Let the model go until the next embedding: a large refresh needs the memory
    more, and loading it again from its optimised copy takes ~0.1 s (embedder.py)."""
    global _embedder
    _embedder = None  # its session is freed at once; the refresh trims at its end


def model_loads() -> int:
    """How often this process loaded the model (for the tests)."""
    return loads


def priority() -> int:
    """This process's nice value (for the tests)."""
    return os.nice(0)


def cpu_s() -> float:
    """CPU seconds this process has used (for the bench)."""
    return time.process_time()


def rss() -> tuple[float, float]:
    """Resident memory of this process now and at its peak, MB (for the bench)."""
    now = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return now, peak


def reset_peak() -> None:
    """Start the peak (VmHWM) over from now (for the bench)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


# --- the database, read here ---------------------------------------------------------


class _Reader:
    """Read transactions on the server's database from this process: a plain sqlite3
    connection for SQLite, the async driver on a loop of its own otherwise."""

    def __init__(self, url: str) -> None:
        from ..store.database import _begin_deferred, _sqlite_pragmas

        parsed = make_url(url)
        self.loop: asyncio.AbstractEventLoop | None = None
        if parsed.get_backend_name() == "sqlite":
            self.engine = sa.create_engine(parsed.set(drivername="sqlite+pysqlite"),
                                           pool_size=1, max_overflow=0)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _begin_deferred)
        else:
            from sqlalchemy.ext.asyncio import create_async_engine

            self.loop = asyncio.new_event_loop()
            self.async_engine = create_async_engine(
                url, pool_size=1, max_overflow=0, pool_pre_ping=True
            ).execution_options(isolation_level="REPEATABLE READ")

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.loop is None:
            with self.engine.begin() as conn:
                return fn(conn, *args)

        async def body() -> Any:
            async with self.async_engine.begin() as conn:
                return await conn.run_sync(fn, *args)

        return self.loop.run_until_complete(body())


def _reader(url: str) -> _Reader:
    if url not in _readers:
        _readers[url] = _Reader(url)
    return _readers[url]


def digests(conn: sa.Connection, event_id: str, stage: int | None, model: str,
            counts: dict[int, int] | None = None) -> dict[int, str]:
    """A digest per stage of what its themes depend on: its public notes and vectors
    (and in ``counts``, if given, how many notes each stage has)."""
    from ..store import themes as st

    hashes: dict[int, Any] = {}
    for r in sorted(st.public_note_keys(conn, event_id, stage, model), key=lambda r: r[0]):
        note_id, stage_index, category, source_ms, text = r
        h = hashes.setdefault(stage_index, hashlib.sha256())
        h.update(f"{note_id}\0{category}\0{source_ms}\0{text}\1".encode())
        if counts is not None:
            counts[stage_index] = counts.get(stage_index, 0) + 1
    return {s: h.hexdigest() for s, h in hashes.items()}


def refresh(url: str, event_id: str, stage: int | None, model: str,
            known: dict[int, str], force: bool) -> list[tuple[int, str, list[Row], set[str]]]:
    """The event's refresh (or one ``stage``'s): for every stage whose digest is not
    ``known`` (or every asked one if ``force``), ``(stage, digest, rows to write,
    themes gone)``. Reads the database itself."""
    from ..domain.credentials import new_id
    from ..store import themes as st
    from . import engine

    reader = _reader(url)
    out = []
    try:
        counts: dict[int, int] = {}
        now = reader.run(digests, event_id, stage, model, counts)
        stages = [stage] if stage is not None else sorted(now)
        for s in stages:
            digest = now.get(s, "")
            if not force and known.get(s) == digest:
                continue
            if counts.get(s, 0) > UNLOAD_ABOVE:
                unload()

            def load(conn: sa.Connection, s: int = s) -> tuple[Any, list[Row],
                                                               dict[str, set[str]]]:
                stored = st.theme_rows(conn, event_id, s)
                return (st.public_note_columns(conn, event_id, s, model), stored,
                        st.exclusions(conn, [r["id"] for r in stored]))

            notes, stored, excluded = reader.run(load)
            known_themes = engine.known_of(stored, excluded)
            scopes = engine.compute(notes, known_themes, new_id)
            del notes
            computed, gone = engine.rows_to_write(scopes, known_themes)
            out.append((s, digest, computed, gone))
    finally:
        release()
    return out


def release() -> None:
    """Give the memory of a refresh back to the system: a 50,000-note stage's arrays
    are gone, but the allocator keeps their pages unless asked."""
    gc.collect()
    _trim()


def _glibc() -> Any:
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
        except OSError:  # not glibc: nothing to ask
            _libc = False
    return _libc


def _trim() -> None:
    libc = _glibc()
    if libc:
        libc.malloc_trim(0)


_libc: Any = None
