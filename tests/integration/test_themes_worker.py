"""The clustering process dies with its server, even when the server is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import ROOT

#: The "server": a Themes service whose clustering pool has started its process.
SERVER = textwrap.dedent("""
    import asyncio, os, sys
    from plenary.store import Database
    from plenary.themes.service import Themes

    async def main():
        themes = Themes(Database("sqlite+aiosqlite:///" + sys.argv[1]))
        pool = themes._process()
        worker = await asyncio.get_running_loop().run_in_executor(pool, os.getpid)
        print(worker, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_the_clustering_process_exits_when_its_server_is_killed(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "db.sqlite")],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline() if server.stdout else ""
        assert line.strip().isdigit(), "the server never started its clustering process"
        worker = int(line)
        assert worker != server.pid and _alive(worker)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        if server.stdout:
            server.stdout.close()
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the clustering process outlived its SIGKILLed server")


async def test_the_themes_process_runs_last_and_loads_the_model_once(tmp_path):
    """Live work always wins the core (nice 19), and the model is loaded once for
    every embedding call, not per call; the server process never loads it."""
    import sys as _sys

    from plenary.store import Database
    from plenary.themes import missing as themes_missing
    from plenary.themes import worker
    from plenary.themes.service import Themes

    if themes_missing():
        from tests.conftest import missing

        missing("the themes extra (pip install '.[themes]')")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    themes = Themes(db)
    try:
        assert await themes._in_worker(worker.priority) == worker.NICE
        first = await themes._in_worker(worker.embed, ["Funding is year to year"])
        again = await themes._in_worker(worker.embed, ["Funding is year to year", "Housing"])
        assert len(first) == 384 * 2 and len(again) == 2 * 384 * 2
        assert await themes._in_worker(worker.model_loads) == 1
        assert "onnxruntime" not in _sys.modules or worker.loads == 0
    finally:
        await themes.stop()
        await db.close()


#: A server process that embeds and refreshes an event through its Themes service, then
#: says which of the heavy modules it imported itself.
HEAVY = textwrap.dedent("""
    import asyncio, sys
    from plenary.store import Database
    from plenary.themes.service import Themes
    from tests.integration.test_themes_worker import seeded

    async def main():
        db = Database("sqlite+aiosqlite:///" + sys.argv[1])
        await db.migrate()
        event_id = await seeded(db)
        themes = Themes(db)
        try:
            embedded = await themes.embed_pending(event_id)
            await themes.refresh(event_id, stage=0, force=True)
            view = await themes.view(event_id, 0, staff=True)
        finally:
            await themes.stop()
            await db.close()
        heavy = sorted(m for m in ("numpy", "onnxruntime", "tokenizers", "sklearn", "scipy")
                       if m in sys.modules)
        print(embedded, sum(len(s["themes"]) for s in view["scopes"]), ",".join(heavy))

    asyncio.run(main())
""")


async def seeded(db) -> str:
    """An event whose stage 0 has the labelled set's stage-0 notes, none embedded yet."""
    import sqlalchemy as sa
    from plenary.actions.setup import create_event
    from plenary.domain.credentials import new_id
    from plenary.domain.topics_csv import TopicSpec
    from plenary.setup import load_template
    from plenary.store.schema import board_tables, notes, participants

    from tests.themes_data import load

    template = load_template(ROOT / "board_templates", "alchemy")
    event_id = await create_event(db, template, title="Heavy", tables=2,
                                  topics=[TopicSpec(t.title) for t in template.topics])
    async with db.write() as conn:
        tables = [r[0] for r in await conn.execute(
            sa.select(board_tables.c.id).where(board_tables.c.event_id == event_id))]
        people = [new_id() for _ in tables]
        await conn.execute(sa.insert(participants), [
            {"id": p, "table_id": t, "key_hash": os.urandom(32).hex(), "display_name": None,
             "created_ms": 1} for p, t in zip(people, tables, strict=True)])
        await conn.execute(sa.insert(notes), [
            {"id": new_id(), "table_id": tables[i % 2], "participant_id": people[i % 2],
             "stage_index": 0, "step_index": 0, "category": None, "text": n.text,
             "author": None, "created_ms": 10 + i, "created_seq": i + 1}
            for i, n in enumerate(x for x in load() if x.stage == 0)])
    return event_id


def test_the_server_process_never_loads_the_model_nor_the_clustering(tmp_path):
    """Texts go to the themes process and vectors come back; the refresh's reads and
    clustering happen there too: the server imports none of the heavy libraries."""
    from plenary.themes import missing as themes_missing

    if themes_missing():
        from tests.conftest import missing

        missing("the themes extra (pip install '.[themes]')")
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'server'}:{ROOT}"}
    out = subprocess.run([sys.executable, "-c", HEAVY, str(tmp_path / "db.sqlite")],
                         capture_output=True, text=True, env=env, timeout=120, check=True)
    embedded, themes, heavy = [*out.stdout.strip().split(" "), ""][:3]
    assert int(embedded) > 50 and int(themes) >= 3, out.stdout
    assert heavy == "", f"the server process imported {heavy}"


async def test_the_notes_a_commit_names_are_found_by_key_and_only_while_unembedded(tmp_path):
    """embed_named reads the notes the commits named (by key) instead of scanning the
    event for every batch; a note with a current vector is not read again."""
    import sqlalchemy as sa
    from plenary.actions.transaction import read, write_path
    from plenary.store import Database
    from plenary.store import themes as st
    from plenary.store.schema import notes

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await db.migrate()
    try:
        event_id = await seeded(db)
        async with db.write() as conn:
            ids = [r[0] for r in await conn.execute(
                sa.select(notes.c.id).order_by(notes.c.created_ms).limit(3))]
        named = await read(db, st.these_to_embed, ids, "m")
        assert [r["id"] for r in named] == ids
        first = named[0]
        await write_path(db).run(st.save_vectors, event_id, "m",
                                 [(first["id"], first["source_ms"], b"\0" * 768)])
        assert [r["id"] for r in await read(db, st.these_to_embed, ids, "m")] == ids[1:]
        # Another model's vector is not this one's.
        assert [r["id"] for r in await read(db, st.these_to_embed, ids, "n")] == ids
    finally:
        await db.close()

async def test_a_large_refresh_lets_the_model_go_until_the_next_embedding(tmp_path,
                                                                          monkeypatch):
    """Above UNLOAD_ABOVE notes a refresh drops the model first (the process never holds
    both), and the next embedding loads it again; a smaller refresh keeps it. Run here,
    in this process, with the threshold lowered."""
    from plenary.store import Database
    from plenary.themes import missing as themes_missing
    from plenary.themes import worker
    from plenary.themes.embedder import MODEL_ID
    from plenary.themes.service import Themes

    if themes_missing():
        from tests.conftest import missing

        missing("the themes extra (pip install '.[themes]')")
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    db = Database(url)
    try:
        await db.migrate()
        event_id = await seeded(db)
        themes = Themes(db)
        try:
            assert await themes.embed_pending(event_id) > 50
        finally:
            await themes.stop()
    finally:
        await db.close()
    monkeypatch.setattr(worker, "loads", 0)  # restored after: this process loads it here
    monkeypatch.setattr(worker, "_embedder", None)
    first = worker.embed(["Funding is year to year"])
    assert worker.loads == 1
    monkeypatch.setattr(worker, "UNLOAD_ABOVE", 10_000)
    [(_stage, _digest, rows, _gone)] = worker.refresh(url, event_id, 0, MODEL_ID, {}, True)
    assert rows and worker._embedder is not None  # a small stage: the model stays
    monkeypatch.setattr(worker, "UNLOAD_ABOVE", 10)
    [(_stage, _digest, again, _gone)] = worker.refresh(url, event_id, 0, MODEL_ID, {}, True)
    assert worker._embedder is None
    assert [r["notes"] for r in again] == [r["notes"] for r in rows]  # the same themes
    assert worker.embed(["Funding is year to year"]) == first
    assert worker.loads == 2
