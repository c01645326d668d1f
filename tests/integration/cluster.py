"""Several real ``plenary serve`` processes on one PostgreSQL database and one Redis
prefix, behind a real nginx running deploy/nginx/plenary.conf.

Processes are subprocesses (so that one can be killed with SIGKILL); nginx runs
in the foreground with a throwaway prefix. Everything is per run: database, Redis
prefix, ports, secret.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from plenary import config as config_mod

from tests.conftest import ROOT

from .server import RunningServer, free_port

NGINX_SITE = ROOT / "deploy" / "nginx" / "plenary.conf"
START_TIMEOUT_S = 30


def nginx_main_config(tmp: Path) -> str:
    """A whole nginx.conf around the site file: foreground, its own pid, logs and temp dirs."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # temp dirs under tmp are root's
    temps = "\n".join(f"    {kind}_temp_path {tmp / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Two workers: each proxied websocket holds two descriptors, and a container's
    # root may not raise its limit (20,000 here) past 10,000 sockets per worker.
    return (f"{user}daemon off;\nworker_processes 2;\npid {tmp / 'nginx.pid'};\n"
            f"error_log {tmp / 'nginx-error.log'} warn;\n"
            f"events {{ worker_connections 16384; }}\n"
            f"http {{\n    access_log off;\n{temps}\n    include {tmp / 'plenary.conf'};\n}}\n")


def site_for(listen: int, upstreams: list[int]) -> str:
    """deploy/nginx/plenary.conf with its listen port and upstream servers replaced."""
    text = NGINX_SITE.read_text()
    text, n = re.subn(r"^    listen 8080;$", f"    listen 127.0.0.1:{listen};", text,
                      flags=re.M)
    assert n == 1, "deploy/nginx/plenary.conf has no 'listen 8080;' line"
    servers = re.findall(r"^    server 127\.0\.0\.1:800\d( .*);$", text, flags=re.M)
    assert len(servers) == 2, "deploy/nginx/plenary.conf's upstream has changed shape"
    lines = "".join(f"    server 127.0.0.1:{p}{servers[0]};\n" for p in upstreams)
    text = re.sub(r"(^    server 127\.0\.0\.1:800\d .*;\n)+", lines, text, flags=re.M)
    return text


@dataclass
class Process:
    """One ``plenary serve`` subprocess."""

    port: int
    log: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "plenary", "serve", "--port", str(self.port)],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.log.parent)
        out.close()

    def wait_healthy(self) -> None:
        def alive() -> None:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise RuntimeError(f"plenary serve exited ({self.popen.returncode}):\n"
                                   + self.log.read_text()[-3000:])

        _wait_healthy(self.url, "plenary serve", self.log, alive)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to Redis or the clients."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


@dataclass
class Cluster:
    """The processes, nginx in front, and a way to create events in their database."""

    url: str
    processes: list[Process]
    config: config_mod.Config
    nginx_log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def as_server(self) -> RunningServer:
        """The integration tests' server handle, pointed at nginx."""
        return RunningServer(self.url, self.config, None)

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.log.read_text()[-4000:]}"
                         for p in self.processes)


def _wait_healthy(url: str, what: str, log: Path, alive: Any = None) -> None:
    """Wait for ``url``/healthz to answer 200; ``alive()`` raises if the process died."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer at {url}:\n"
                       + (log.read_text()[-3000:] if log.exists() else ""))


@contextmanager
def run_cluster(tmp: Path, *, nginx: str, database_url: str, redis_url: str | None,
                redis_prefix: str, processes: int = 2) -> Iterator[Cluster]:
    """Start ``processes`` servers at once (a fresh database: they race to migrate) and nginx."""
    secret = secrets.token_hex(32)
    ports = [free_port() for _ in range(processes)]
    front = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLENARY_", "REDIS_"))}
    env |= {"DATABASE_URL": database_url, "REDIS_URL": redis_url or "",
            "PLENARY_REDIS_PREFIX": redis_prefix, "PLENARY_SECRET_KEY": secret,
            "PLENARY_PUBLIC_URL": f"http://127.0.0.1:{front}",
            "PLENARY_TRUSTED_PROXIES": "127.0.0.1", "PLENARY_LOG_LEVEL": "warning"}
    procs = [Process(p, tmp / f"plenary-{i}.log", env) for i, p in enumerate(ports)]
    nginx_dir = tmp / "nginx"
    nginx_dir.mkdir()
    site = site_for(front, ports)
    (nginx_dir / "plenary.conf").write_text(site)
    (nginx_dir / "nginx.conf").write_text(nginx_main_config(nginx_dir))
    nginx_log = nginx_dir / "nginx-error.log"
    front_proc: subprocess.Popen[bytes] | None = None
    try:
        for p in procs:  # all at once: the migrations race, as on a real deploy
            p.start()
        for p in procs:
            p.wait_healthy()
        with (nginx_dir / "nginx.out").open("wb") as out:
            front_proc = subprocess.Popen(
                [nginx, "-p", str(nginx_dir), "-e", str(nginx_dir / "startup.log"),
                 "-c", str(nginx_dir / "nginx.conf")],
                stdout=subprocess.DEVNULL, stderr=out)
        _wait_healthy(f"http://127.0.0.1:{front}", "nginx", nginx_dir / "nginx.out")
        cfg = config_mod.load(env)
        yield Cluster(f"http://127.0.0.1:{front}", procs, cfg, nginx_log)
    finally:
        if front_proc is not None:
            front_proc.terminate()
            front_proc.wait(10)
        for p in procs:
            p.stop()
