"""The real services scale-out tests need: a fresh PostgreSQL database, a Redis key
prefix, nginx. Each is made per run and removed after; missing ones skip on a laptop
and fail in CI (``tests.conftest.missing``)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

from tests.conftest import missing

POSTGRES_ADMIN = os.environ.get("PLENARY_TEST_POSTGRES",
                                "postgresql://postgres@127.0.0.1/postgres")
REDIS = os.environ.get("PLENARY_TEST_REDIS", "redis://127.0.0.1:6379/0")
NGINX = os.environ.get("PLENARY_TEST_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards."""
    import asyncpg

    admin = make_url(POSTGRES_ADMIN)
    try:
        conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(
            hide_password=False), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        missing(f"PostgreSQL at {admin.host} ({exc})")
    name = f"plenary_test_{secrets.token_hex(6)}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


@asynccontextmanager
async def redis_prefix(url: str = REDIS) -> AsyncIterator[str]:
    """A key prefix (and socket.io channel) of its own; its keys are deleted afterwards."""
    from redis import asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.Redis.from_url(url)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        missing(f"Redis at {url} ({exc})")
    prefix = f"plenary-test-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def nginx_binary() -> str:
    """Debian's nginx (nginx-light), or a failure in CI."""
    if not os.access(NGINX, os.X_OK):
        missing(f"nginx ({NGINX})")
    return NGINX
