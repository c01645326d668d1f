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
