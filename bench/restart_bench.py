"""Restart time: exec of ``plenary serve`` until ``/healthz`` answers, on a migrated database.

Every phone of an event waits this long after a crash or a deploy. Target: < 2 s.
Prints each run, the median and the ratio to the target. Run:
``.venv/bin/python bench/restart_bench.py [runs]``.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_S = 2.0
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (Linux), independent of the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_once(env: dict[str, str]) -> tuple[float, float]:
    port = free_port()
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "plenary", "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started, cpu_seconds(server.pid)
            except httpx.HTTPError:
                time.sleep(0.01)
            if server.poll() is not None:
                raise RuntimeError("the server exited")
    finally:
        server.kill()
        server.wait()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/plenary.db",
               "PLENARY_SECRET_KEY": secrets.token_hex(32), "PLENARY_LOG_LEVEL": "warning",
               "PYTHONPATH": str(ROOT / "server")}
        first, _ = start_once(env)  # creates and migrates the database
        runs_done = [start_once(env) for _ in range(runs)]
    times = [wall for wall, _ in runs_done]
    median = statistics.median(times)
    print(f"first start (migrating a new database): {first:.2f} s")
    print("restarts at head: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print(f"CPU used until serving: median {statistics.median(c for _, c in runs_done):.2f} s "
          f"(what the wall time is on an idle machine)")
    print(f"median {median:.2f} s, target {TARGET_S:.1f} s, ratio {median / TARGET_S:.2f}")


if __name__ == "__main__":
    main()
