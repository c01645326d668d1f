from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from plenary.store import Database

from .server import Client, RunningServer, connect, run_server
from .services import postgres_database


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    """A PostgreSQL database of this test's own, migrated; dropped afterwards."""
    async with postgres_database() as url:
        db = Database(url)
        try:
            await db.migrate()
            yield db
        finally:
            await db.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite file, migrated."""
    db = Database(f"sqlite:///{tmp_path / 'plenary.db'}")
    await db.migrate()
    yield db
    await db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Database:
    """The same test on each backend the server supports."""
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
async def event(server: RunningServer) -> dict[str, Any]:
    """A live two-table event whose first step is open discussion (notes public at once)."""
    return await server.create_event(tables=2, template="world-cafe")


def participant_auth(join_code: str, name: str | None = None, key: bytes | None = None) -> dict:
    return {"join_code": join_code, "participant_key": key or secrets.token_bytes(16),
            "name": name}


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    """Collects clients a test opens and closes them all afterwards."""
    opened: list[Client] = []
    yield opened
    for c in opened:
        if c.sio.connected:
            await c.close()


@pytest.fixture
def join(server: RunningServer, clients: list[Client]):
    async def _join(auth: dict[str, Any]) -> Client:
        client = await connect(server.url, auth)
        clients.append(client)
        return client
    return _join


