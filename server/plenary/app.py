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
from .live.pubsub import RedisManager, redis_options
from .live.redis_state import RedisPresence, RedisWindowStore
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
        config.check()
        self.config = config
        self.db = Database(config.database_url)
        self.actions = Actions(self.db, config.secret())
        self.redis: Any = None
        self.shared_presence: RedisPresence | None = None
        if config.redis_url:
            self.channel = self._shared_channel(config.redis_url, config.redis_prefix)
        else:
            self.channel = Channel(self.actions, joins_per_minute=config.joins_per_minute)
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
            gcpolicy.watch(config.gc_log_ms)
            freezer = asyncio.get_running_loop().create_task(gcpolicy.keep_frozen())
            if self.shared_presence is not None:
                self.shared_presence.start()
            try:
                yield
            finally:
                freezer.cancel()
                await self.themes.stop()
                if self.shared_presence is not None:
                    await self.shared_presence.stop()
                if self.redis is not None:
                    await self.redis.aclose()
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


    def _shared_channel(self, url: str, prefix: str) -> Channel:
        # Several processes: broadcasts through one Redis channel; presence and
        # join limits in Redis, presence keyed by each process's id (the
        # manager's host id).
        from redis import asyncio as aioredis

        manager = RedisManager(url, channel=f"{prefix}:socketio")
        self.redis = aioredis.Redis.from_url(url, **redis_options())
        presence = RedisPresence(self.redis, prefix, manager.host_id, self._presence_elsewhere)
        self.shared_presence = presence
        channel = Channel(self.actions, client_manager=manager, presence=presence,
                          join_store=RedisWindowStore(self.redis, prefix),
                          joins_per_minute=self.config.joins_per_minute)
        manager.on_resubscribed = channel.resync_everyone_here
        log.info("sharing broadcasts, presence and join limits through Redis (prefix %r)",
                 prefix)
        return channel

    async def _presence_elsewhere(self, table_ids: list[str]) -> None:
        await self.channel.presence_changed_elsewhere(table_ids)


def create_app(config: Config) -> Plenary:
    """Build the application for ``config``."""
    return Plenary(config)


def from_environment() -> Any:
    """The ASGI app from the environment: the factory each worker of ``--workers N`` calls."""
    from . import config as config_mod

    return create_app(config_mod.load()).asgi


def uvicorn_config(app: Plenary, **overrides: Any) -> uvicorn.Config:
    """How uvicorn serves Plenary (``plenary serve`` and the tests use the same)."""
    return uvicorn.Config(app.asgi, **uvicorn_options(app.config, **overrides))


def uvicorn_options(config: Config, **overrides: Any) -> dict[str, Any]:
    """uvicorn's settings for ``config`` (one process, or each of several workers)."""
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": config.log_level,
        # Compression doubles the memory of every websocket and multiplies the
        # cost of each broadcast; our messages are small msgpack already.
        "ws_per_message_deflate": False,
        # Engine.IO's heartbeat (live/channel.py: a ping every 25 s, 20 s to answer)
        # already finds dead connections; uvicorn's own websocket pings on top were
        # a second heartbeat, 250 pings and pongs a second at 5,000 phones, and one
        # more radio wake-up per phone.
        "ws_ping_interval": None,
        # Forwarded headers only from proxies the deployment names: otherwise any
        # client could choose the address its join attempts are counted under.
        "proxy_headers": bool(config.trusted_proxies),
        "forwarded_allow_ips": config.trusted_proxies or None,
        "lifespan": "on",
        # SIGTERM with thousands of websockets open: stop accepting, give the
        # connections a moment, then close the rest, so the process ends in
        # seconds (every acknowledged change is already committed).
        "timeout_graceful_shutdown": SHUTDOWN_GRACE_S,
    } | overrides
    return options
