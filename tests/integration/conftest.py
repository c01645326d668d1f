from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .server import Client, RunningServer, connect, run_server


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


