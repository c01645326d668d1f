"""Redis stopped for 10 s under two processes, then started again. A redis-server of
this test's own (on a free port, no persistence): the machine's shared Redis is
never stopped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import missing

from .cluster import run_cluster
from .phones import Screen, wait_for
from .server import connect, free_port
from .services import REDIS_SERVER, nginx_binary, postgres_database
from .test_scaleout import at, board_in_store, opened, phone, screens  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

OUTAGE_S = 10


class RedisServer:
    """A throwaway redis-server, stopped and started on the same port."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(10)


@pytest.fixture(scope="module")
def outage_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    if not os.access(REDIS_SERVER, os.X_OK):
        missing(f"redis-server ({REDIS_SERVER})")
    nginx = nginx_binary()
    tmp = tmp_path_factory.mktemp("redis-down")
    server = RedisServer(tmp)
    server.start()
    loop = asyncio.new_event_loop()
    db_cm = postgres_database()
    url = loop.run_until_complete(db_cm.__aenter__())
    try:
        with run_cluster(tmp, nginx=nginx, database_url=url, redis_url=server.url,
                         redis_prefix="plenary-outage") as running:
            yield running, server
    finally:
        server.stop()
        loop.run_until_complete(db_cm.__aexit__(None, None, None))
        loop.close()


async def test_redis_down_for_ten_seconds_loses_nothing_and_every_board_converges(
        outage_cluster, screens):  # noqa: F811
    cluster, redis_server = outage_cluster
    info = await cluster.as_server().create_event(tables=1, template="world-cafe")
    t = info["tables"][0]
    phones = await opened(screens, *(phone(at(cluster, i % 2), t["join_code"])
                                     for i in range(4)))
    facilitator = Screen(at(cluster, 1), {"token": t["facilitator_token"]})
    await opened(screens, facilitator)
    await phones[0].post("before the outage")
    redis_server.stop()
    stopped = time.monotonic()
    during = []
    while time.monotonic() - stopped < OUTAGE_S:
        for p in phones:
            during.append(await p.post(f"during the outage from {id(p)}"))
        await asyncio.sleep(1)  # the outage's length, not a synchronisation
    acked_during = [n for p in phones for n in p.acked if n in during]
    assert len(acked_during) == len(during)  # the store takes notes while Redis is away
    redis_server.start()
    after = await phones[1].post("after the outage")
    store, seq = await board_in_store(cluster, t["join_code"])
    assert len(store) == len(during) + 2
    everyone = [*phones, facilitator]
    await wait_for(lambda: all(s.seq == seq for s in everyone), "every board converged",
                   within=20)
    for s in everyone:
        assert sorted(s.notes) == sorted(store)
        assert s.applied == list(range(1, seq + 1))
    assert after in store
    # Redis came back empty: each process put its people back into presence.
    await wait_for(lambda: facilitator.presence and facilitator.presence[-1]["count"] == 4,
                   "presence rebuilt", within=20)
    fresh = await connect(at(cluster, 0), {"token": t["facilitator_token"]})
    try:
        assert (await fresh.call("sync", {"since": None}))["presence"]["count"] == 4
    finally:
        await fresh.close()
