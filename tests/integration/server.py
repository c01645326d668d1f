"""A real Plenary server (uvicorn on a free port, its own fresh database) in a thread,
and real socket.io clients (msgpack) to talk to it."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
import uvicorn
from plenary import config as config_mod
from plenary.actions import Actions
from plenary.actions.setup import create_event
from plenary.actions.transaction import read
from plenary.app import create_app, uvicorn_config
from plenary.domain.topics_csv import TopicSpec
from plenary.links import Links
from plenary.setup import event_links, load_template
from plenary.store import Database
from plenary.store import queries as q

from tests.conftest import TEMPLATES

#: Long enough for a loaded CI machine, short enough to fail fast when a broadcast never comes.
WAIT_S = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    config: config_mod.Config
    app: Any

    @property
    def admin_url(self) -> str:
        """The server's admin console link (lists and creates events)."""
        return Links(self.url, self.config.secret()).admin()

    async def create_event(self, *, tables: int = 2, template: str = "alchemy",
                           start: bool = True, topics: list[str] | None = None) -> dict[str, Any]:
        """Create an event the way the CLI does (another connection to the same database)."""
        db = Database(self.config.database_url)
        try:
            tmpl = load_template(TEMPLATES, template)
            specs = [TopicSpec(t) for t in topics] if topics else [
                TopicSpec(t.title, t.brief) for t in tmpl.topics]
            event_id = await create_event(db, tmpl, title="Test event", topics=specs,
                                          tables=tables)
            if start:  # as `plenary demo` does: through the actions
                await Actions(db, self.config.secret()).start_event(event_id)
            info = await event_links(db, Links(self.url, self.config.secret()), event_id)
            rows = await read(db, q.tables_of_event, event_id)
            for t, row in zip(info["tables"], rows, strict=True):
                t["id"] = row["id"]
                t["facilitator_token"] = t["facilitator_url"].split("#", 1)[1]
            info["organiser_token"] = info["organiser_url"].split("#", 1)[1]
            info["dashboard_token"] = info["dashboard_url"].split("#", 1)[1]
            return info
        finally:
            await db.close()


@contextmanager
def run_server(tmp: Path, **env: str) -> Iterator[RunningServer]:
    """Start uvicorn with a fresh SQLite database under ``tmp``; stop it on exit."""
    port = free_port()
    cfg = config_mod.load({
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'plenary.db'}",
        "PLENARY_SECRET_FILE": str(tmp / "secret.key"),
        "PORT": str(port),
        **env,
    })
    app = create_app(cfg)
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()

    def wait_started() -> None:
        while not server.started and thread.is_alive():
            started.wait(0.01)

    wait_started()
    if not server.started:
        raise RuntimeError("the server did not start")
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", cfg, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Exception in ASGI application" in record.getMessage():
            self.found.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def server_logs() -> Iterator[list[str]]:
    """The lines with a traceback that the server logs meanwhile, uvicorn's too.

    uvicorn's loggers do not propagate to the root logger, and "Exception in ASGI
    application" is logged there, so this listens on both.
    """
    handler = _Tracebacks()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.found
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@dataclass
class Client:
    """A real socket.io client that records what it receives."""

    sio: socketio.AsyncClient
    changes: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    kicked: list[dict[str, Any]] = field(default_factory=list)
    #: The event states that came with stage moves' batches.
    updates: list[dict[str, Any]] = field(default_factory=list)
    connect_error: Any = None

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        return await self.sio.call(event, data, timeout=WAIT_S)

    async def next_change(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.changes.get(), WAIT_S)

    async def close(self) -> None:
        await self.sio.disconnect()


async def connect(url: str, auth: Any, *, connect: bool = True) -> Client:
    """Connect a msgpack socket.io client with ``auth``; raises on refusal."""
    sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
    client = Client(sio)
    sio.on("change", client.changes.put_nowait)

    def batch(changes: list[dict[str, Any]], updated: Any = None) -> None:
        # Dashboards get changes in batches; a stage move's batch also carries the
        # event's new state (kept like an event.updated).
        for change in changes:
            client.changes.put_nowait(change)
        if updated is not None:
            client.updates.append(updated)

    sio.on("changes", batch)
    sio.on("kicked", client.kicked.append)

    def on_error(data: Any = None) -> None:
        client.connect_error = data

    sio.on("connect_error", on_error)
    if connect:
        await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=WAIT_S)
    return client


async def refused(url: str, auth: Any) -> dict[str, Any]:
    """Try to connect; return the refusal's data (fails the test if accepted)."""
    client = await connect(url, auth, connect=False)
    try:
        await client.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=WAIT_S)
    except socketio.exceptions.ConnectionError:
        # The refusal is {"message": ..., "data": {"code": ..., "message": ...}}.
        assert isinstance(client.connect_error, dict), client.connect_error
        return client.connect_error["data"]
    await client.close()
    raise AssertionError("the connection was accepted")
