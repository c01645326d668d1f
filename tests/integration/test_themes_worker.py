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
