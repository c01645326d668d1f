"""The themes feature of one server process: embed notes as they come, refresh themes.

Every committed change to notes (the write path calls :meth:`Themes.observe`
after each commit) marks its event: its new and edited notes are embedded
within moments, and its themes are refreshed at most every ``interval_s``.
Nothing heavy runs in this process: the model and the clustering run in one
spawned process at the lowest priority (``worker.py``), which reads a refresh's
notes and vectors from the database itself. This process sends it texts and gets
vectors back (768 bytes a note), and gets the rows of a refresh to write; it never
imports onnxruntime, numpy or scikit-learn.

Works without the ``themes`` extra: :attr:`Themes.unavailable` then says how
to turn it on, and nothing is embedded or clustered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from ..actions.common import Outcome
from ..actions.transaction import read, write_path
from ..domain import themes as rules
from ..domain.errors import IllegalMove, NotFound
from ..store import Database
from ..store import queries as q
from ..store import themes as st
from . import DIMENSIONS, MODEL_ID, missing, worker

log = logging.getLogger(__name__)

Row = dict[str, Any]
#: A stage's public notes now: id -> (table id, topic id).
Places = dict[str, tuple[str, int | None]]

#: Changes that can alter what is public in a stage, so its themes.
NOTE_CHANGES = frozenset({"note.added", "note.edited", "note.deleted", "note.hidden",
                          "note.shown", "note.merged", "notes.revealed", "stage.changed"})
#: Changes that give a note a new text, so a new vector.
TEXT_CHANGES = frozenset({"note.added", "note.edited"})
#: Notes embedded per model call: batching halves the CPU per note.
EMBED_BATCH = 32
#: Bytes of one stored vector (384 half floats).
VECTOR_BYTES = DIMENSIONS * 2
#: After a database error (a full disk), themes wait this long before trying again.
RETRY_S = 5.0
#: Themes shown per category, and quotes per theme, in the room's view.
TOP_THEMES = 8


class Themes:
    """Embedding and theme refreshes for every event of one database."""

    def __init__(self, db: Database, *, interval_s: float = 30.0,
                 model_path: str | None = None) -> None:
        self.db = db
        self.writes = write_path(db)
        self.interval_s = interval_s
        self.model_path = model_path
        #: Why themes are off (the extra is not installed), or None.
        self.unavailable = missing()
        if self.unavailable is None and db.is_sqlite and db.path in (None, "", ":memory:"):
            # The themes process reads the database itself: it needs one it can open.
            self.unavailable = "Themes need the database in a file (or on PostgreSQL)."
        #: The themes process: the model and the clustering (see worker.py).
        self._clusterer: ProcessPoolExecutor | None = None
        self._dirty: set[str] = set()
        # Per event, the notes the commits named as new or edited: embedded by key.
        # The full scan (embed_pending) runs before each refresh, so a note this
        # misses (posted through another process, say) waits at most one interval.
        self._texts: dict[str, set[str]] = {}
        self._pending: set[str] = set()  # events whose themes are behind their notes
        self._next: dict[str, float] = {}  # event -> earliest next refresh (monotonic)
        self._digests: dict[tuple[str, int], str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._refreshing = asyncio.Lock()
        #: Refreshes completed (for tests and the bench to wait on).
        self.refreshes = 0
        self.on_refresh: list[Callable[[str], Any]] = []

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start the background loop (no-op without the extra)."""
        if self.unavailable or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="themes")

    async def stop(self) -> None:
        """Stop the loop and the themes process."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._clusterer is not None:
            pool, self._clusterer = self._clusterer, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    @property
    def idle(self) -> bool:
        """Nothing waiting to be embedded or refreshed, and no refresh running."""
        return not self._dirty and not self._pending and not self._refreshing.locked()

    def observe(self, result: Any) -> None:
        """Told of every commit by the write path: an action's outcome that changed
        notes marks its event."""
        if self.unavailable or not isinstance(result, Outcome):
            return
        if any(c["kind"] in NOTE_CHANGES for c in result.changes):
            texts = [c["data"]["note"]["id"] for c in result.changes
                     if c["kind"] in TEXT_CHANGES]
            if texts:
                self._texts.setdefault(result.event_id, set()).update(texts)
            self.notify(result.event_id)

    def notify(self, event_id: str) -> None:
        """Notes of this event changed: embed them now, refresh its themes when due."""
        if self.unavailable:
            return
        self._dirty.add(event_id)
        self._wake.set()

    async def _run(self) -> None:
        paused = False
        while True:
            try:
                await self._step()
                paused = False
            except asyncio.CancelledError:
                raise
            except OperationalError:
                # A full disk or a busy database: the live channel already says so, once;
                # themes wait and try again (the notes are still there, unembedded).
                if not paused:
                    log.warning("themes paused by a database error; retrying every %.0f s",
                                RETRY_S)
                paused = True
                await asyncio.sleep(RETRY_S)
                continue
            except Exception:  # one bad refresh must not stop themes for good
                log.exception("themes refresh failed")
                await asyncio.sleep(1.0)

    async def _step(self) -> None:
        if not self._dirty:
            now = time.monotonic()
            wait = min((max(self._next.get(e, 0.0) - now, 0.0) for e in self._pending),
                       default=None)
            if wait is None or wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
        # New and edited notes are embedded at once, whatever the interval.
        while self._dirty:
            event_id = self._dirty.pop()
            # Pending from now on, so that `idle` is never true while it is embedded.
            self._pending.add(event_id)
            await self.embed_named(event_id)
        now = time.monotonic()
        for event_id in list(self._pending):
            if self._next.get(event_id, 0.0) <= now and not self._dirty:
                self._pending.discard(event_id)
                self._next[event_id] = time.monotonic() + self.interval_s
                await self.refresh(event_id)

    # --- the themes process ----------------------------------------------------

    async def _in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the themes process; a process that died (killed, out of
        memory) is replaced on the next call."""
        pool = self._process()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            if self._clusterer is pool:
                self._clusterer = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    @property
    def model_id(self) -> str:
        return MODEL_ID

    async def embed_pending(self, event_id: str) -> int:
        """Embed every note of the event that has no vector for its current text."""
        self._texts.pop(event_id, None)  # the scan finds them too
        done = 0
        while True:
            rows = await read(self.db, st.notes_to_embed, event_id, self.model_id,
                              EMBED_BATCH)
            if not rows:
                return done
            done += await self._embed(event_id, rows)

    async def embed_named(self, event_id: str) -> int:
        """Embed the notes that commits named as new or edited since the last call."""
        done = 0
        while ids := self._texts.get(event_id):
            batch = [ids.pop() for _ in range(min(EMBED_BATCH, len(ids)))]
            if not ids:
                del self._texts[event_id]
            rows = await read(self.db, st.these_to_embed, batch, self.model_id)
            if rows:
                done += await self._embed(event_id, rows)
        return done

    async def _embed(self, event_id: str, rows: list[dict[str, Any]]) -> int:
        blob = await self._in_worker(worker.embed, [r["text"] for r in rows])
        await self.writes.run(st.save_vectors, event_id, self.model_id, [
            (r["id"], r["source_ms"], blob[i * VECTOR_BYTES:(i + 1) * VECTOR_BYTES])
            for i, r in enumerate(rows)])
        return len(rows)

    # --- refreshing -------------------------------------------------------------

    async def refresh(self, event_id: str, *, stage: int | None = None,
                      force: bool = False) -> bool:
        """Recompute the themes of every stage whose public notes changed (or of one
        ``stage``, ``force``: even if they did not); True if anything was written."""
        if self.unavailable:
            return False
        async with self._refreshing:
            await self.embed_pending(event_id)
            # Two server processes refreshing one event at once would each match the
            # same stored themes and both create the new ones: one at a time. The
            # other skips this round; its next one starts from what this one wrote.
            async with self.db.try_lock(f"themes:{event_id}") as mine:
                done = await self._refresh_locked(event_id, stage, force) if mine else []
            wrote = bool(done)
            self.refreshes += 1
        if wrote:
            for listener in self.on_refresh:
                listener(event_id)
        return wrote

    async def _refresh_locked(self, event_id: str, stage: int | None, force: bool
                              ) -> list[Any]:
        known = {s: d for (e, s), d in self._digests.items() if e == event_id}
        # The themes process reads the notes, digests and clusters them; back come
        # only the rows to write, stage by stage.
        done = await self._in_worker(worker.refresh, self.db.url, event_id, stage,
                                     self.model_id, known, force)
        for s, digest, computed, gone in done:
            await self.writes.run(st.save_refresh, event_id, s, computed, gone)
            self._digests[(event_id, s)] = digest
        return done

    def _process(self) -> ProcessPoolExecutor:
        if self._clusterer is None:
            self._clusterer = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"),
                initializer=worker.init, initargs=(os.getpid(), self.model_path))
        return self._clusterer

    # --- what the room and the console see --------------------------------------

    async def view(self, event_id: str, stage: int | None = None, *,
                   staff: bool = False, theme_id: str | None = None) -> dict[str, Any]:
        """The themes of a stage (default: the current one), by category, as sent to the
        dashboard (public themes only) or the console (``staff``: hidden ones too).
        With ``theme_id``: that theme only, with every one of its public notes."""
        def load(conn: Connection) -> tuple[Row | None, list[Row], Places, dict[str, Row]]:
            event = q.event_row(conn, event_id)
            if event is None:
                return None, [], {}, {}
            at = event["stage_index"] if stage is None else stage
            rows = [r for r in st.theme_rows(conn, event_id, at)
                    if r["active"] and r["merged_into"] is None and (staff or not r["hidden"])
                    and (theme_id is None or r["id"] == theme_id)]
            # What is public now, for the counts; the text only of what is shown: each
            # theme's quote (its first public note), or every note of the one theme.
            places = st.public_places(conn, event_id, at)
            shown = [n for r in rows for n in ((r["notes"] or []) if theme_id is not None
                                                else _first(r["notes"], places))]
            return event, rows, places, st.public_details(conn, event_id, shown)

        event, rows, places, details = await read(self.db, load)
        if event is None:
            raise NotFound("This event no longer exists.")
        stage = event["stage_index"] if stage is None else stage
        stages = event["template"]["stages"]
        if not 0 <= stage < len(stages):
            raise NotFound("There is no such stage.")
        out: dict[str, Any] = {"available": self.unavailable is None, "stage": stage,
                               "stage_title": stages[stage]["title"], "scopes": []}
        if self.unavailable:
            return out | {"message": self.unavailable}
        if theme_id is not None and not rows:
            raise NotFound("There is no such theme on the board now.")
        labels = {c["id"]: c["label"] for c in stages[stage].get("categories") or []}
        scopes: dict[str | None, list[dict[str, Any]]] = {}
        for r in rows:
            shown = theme_out(r, places, details, all_notes=theme_id is not None)
            if shown is not None:
                scopes.setdefault(r["category"], []).append(shown)
        for category in sorted(scopes, key=lambda c: (c is not None, c or "")):
            themes = sorted(scopes[category], key=lambda t: (-t["tables"], -t["notes"],
                                                             t["title"].lower()))
            out["scopes"].append({"category": category,
                                  "label": labels.get(category or ""),
                                  "themes": themes if staff or theme_id else
                                  themes[:TOP_THEMES]})
        out["updated_ms"] = max((r["updated_ms"] for r in rows), default=None)
        return out

    # --- the organiser's choices ---------------------------------------------

    async def rename(self, event_id: str, theme_id: str, label: object) -> dict[str, Any]:
        """Give a theme the organiser's own name (None: back to the automatic one)."""
        text = rules.check_label(label)

        def body(conn: Connection) -> Row:
            row = _known(conn, event_id, theme_id)
            st.choose(conn, theme_id, label=text)
            return row

        row = await self.writes.run(body)
        return {"id": theme_id, "label": text, "stage": row["stage_index"]}

    async def hide(self, event_id: str, theme_id: str, hidden: bool) -> dict[str, Any]:
        """Take a theme off the dashboard and out of the report (or put it back)."""
        def body(conn: Connection) -> Row:
            row = _known(conn, event_id, theme_id)
            st.choose(conn, theme_id, hidden=bool(hidden))
            return row

        row = await self.writes.run(body)
        return {"id": theme_id, "hidden": bool(hidden), "stage": row["stage_index"]}

    async def merge(self, event_id: str, theme_id: str, into: str) -> dict[str, Any]:
        """Fold one theme into another of the same stage and category, for good."""
        def body(conn: Connection) -> Row:
            source = _known(conn, event_id, theme_id)
            target = _known(conn, event_id, into)
            rules.check_merge(_as_known(source), _as_known(target))
            if (source["stage_index"], source["category"]) != (target["stage_index"],
                                                                target["category"]):
                raise IllegalMove("Only themes of the same stage (and category) can be merged.",
                                  code="other_scope")
            st.choose(conn, theme_id, merged_into=into)
            return source

        source = await self.writes.run(body)
        await self.refresh(event_id, stage=source["stage_index"], force=True)
        return {"id": theme_id, "into": into, "stage": source["stage_index"]}

    async def move_out(self, event_id: str, theme_id: str, note_id: str) -> dict[str, Any]:
        """Take a note out of a theme; it stays out however the theme is recomputed."""
        def body(conn: Connection) -> Row:
            row = _known(conn, event_id, theme_id)
            if note_id not in (row["notes"] or []):
                raise NotFound("That note is not in this theme.")
            st.exclude(conn, theme_id, note_id)
            return row

        row = await self.writes.run(body)
        await self.refresh(event_id, stage=row["stage_index"], force=True)
        return {"id": theme_id, "note": note_id, "stage": row["stage_index"]}


def _known(conn: Connection, event_id: str, theme_id: str) -> Row:
    row = st.theme_row(conn, theme_id, for_update=True)
    if row is None or row["event_id"] != event_id:
        raise NotFound("There is no such theme in this event.")
    return row


def theme_out(row: Row, places: Places, details: dict[str, Row], *,
              all_notes: bool = False) -> dict[str, Any] | None:
    """A stored theme as the room sees it now: only notes that are public now count
    (``places``: the stage's public notes; ``details``: the texts of those shown)."""
    members = [n for n in row["notes"] or () if n in places]
    if not members or members[0] not in details:
        return None
    out = {
        "id": row["id"], "title": row["label"] or row["name"], "name": row["name"],
        "label": row["label"], "hidden": bool(row["hidden"]), "category": row["category"],
        "keywords": list(row["keywords"] or [])[:rules.NAME_WORDS + 2],
        "notes": len(members),
        "tables": len({places[n][0] for n in members}),
        "topics": len({places[n][1] for n in members if places[n][1] is not None}),
        "quote": _note(details[members[0]]),
    }
    if all_notes:
        out["members"] = [_note(details[n]) for n in members if n in details]
    return out


def _first(note_ids: list[str] | None, places: Places) -> list[str]:
    """The first of a theme's notes that is public now (its quote), if any."""
    return next(([n] for n in note_ids or () if n in places), [])


def _note(m: Row) -> dict[str, Any]:
    return {"id": m["id"], "text": m["text"], "table": m["table_id"],
            "table_number": m["table_number"], "topic": m["topic_title"]}


def _as_known(row: Row) -> rules.Known:
    return rules.Known(id=row["id"], notes=frozenset(row["notes"] or ()), name=row["name"],
                       merged_into=row["merged_into"])
