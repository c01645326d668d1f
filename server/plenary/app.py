"""The ASGI application: starlette for HTTP, socket.io beside it, one database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from . import console_session, gcpolicy
from .actions import Actions
from .api import ConsoleApi
from .config import Config
from .export import http as export_http
from .links import Links
from .live.channel import Channel
from .live.guard import FrameGuard
from .store import Database
from .themes import http as themes_http
from .themes.service import Themes
from .web import SecurityHeaders, routes

log = logging.getLogger("plenary")

#: Seconds uvicorn waits for open connections after SIGTERM before closing them.
SHUTDOWN_GRACE_S = 3


class Plenary:
    """One running Plenary: its database, its actions, its live channel and its ASGI app."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.db = Database(config.database_url)
        self.actions = Actions(self.db, config.secret())
        self.channel = Channel(self.actions)
        self.themes = Themes(self.db, interval_s=config.themes_interval,
                             model_path=config.themes_model)
        # Every committed change: posted, edited, revealed or hidden notes are
        # embedded and their stage re-themed (off the event loop).
        self.actions.writes.on_commit(self.themes.observe)

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            await self.db.migrate()
            log.info("database ready: %s", self.db.url.split("@")[-1])
            if self.themes.unavailable:
                log.info("themes off: %s", self.themes.unavailable)
            self.themes.start()
            gcpolicy.apply()
            gcpolicy.watch()
            freezer = asyncio.get_running_loop().create_task(gcpolicy.keep_frozen())
            try:
                yield
            finally:
                freezer.cancel()
                await self.themes.stop()
                await self.db.close()

        secret = config.secret()
        self.links = Links(config.public_url, secret)
        api = ConsoleApi(self.db, secret, self.links, config.templates_dir,
                         self.channel.revoke)
        http = Starlette(
            routes=[*api.routes(), *export_http.routes(self.db, secret),
                    *themes_http.routes(self.themes, self.actions, api, secret),
                    *routes(config.static_dir, self.db)],
            middleware=[
                # Venue wifi is slow: pages and scripts shrink to a third gzipped.
                Middleware(GZipMiddleware, minimum_size=1024),
                Middleware(
                    SessionMiddleware, secret_key=secret.decode(),
                    session_cookie="plenary_session",
                    # A day's event, with margin; the console signs in again from its link.
                    max_age=console_session.MAX_AGE_S, same_site="strict",
                    https_only=config.public_url.startswith("https://")),
            ],
            lifespan=lifespan,
        )
        # socketio.ASGIApp passes lifespan events through to the starlette app,
        # so the database opens and closes with the server.
        self.asgi = FrameGuard(socketio.ASGIApp(self.channel.sio,
                                                SecurityHeaders(http, config.public_url)))


def create_app(config: Config) -> Plenary:
    """Build the application for ``config``."""
    return Plenary(config)


def uvicorn_config(app: Plenary, **overrides: Any) -> uvicorn.Config:
    """How uvicorn serves Plenary (``plenary serve`` and the tests use the same)."""
    options: dict[str, Any] = {
        "host": app.config.host,
        "port": app.config.port,
        "log_level": app.config.log_level,
        # Compression doubles the memory of every websocket and multiplies the
        # cost of each broadcast; our messages are small msgpack already.
        "ws_per_message_deflate": False,
        # Forwarded headers only from proxies the deployment names: otherwise any
        # client could choose the address its join attempts are counted under.
        "proxy_headers": bool(app.config.trusted_proxies),
        "forwarded_allow_ips": app.config.trusted_proxies or None,
        "lifespan": "on",
        # SIGTERM with thousands of websockets open: stop accepting, give the
        # connections a moment, then close the rest, so the process ends in
        # seconds (every acknowledged change is already committed).
        "timeout_graceful_shutdown": SHUTDOWN_GRACE_S,
    } | overrides
    return uvicorn.Config(app.asgi, **options)
