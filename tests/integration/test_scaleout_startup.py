"""Several processes starting at once on one fresh PostgreSQL database."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from plenary.store import Database

from .services import postgres_database

pytestmark = pytest.mark.integration


async def test_migrations_racing_on_a_fresh_database_all_succeed_once():
    async with postgres_database() as url:
        dbs = [Database(url) for _ in range(4)]  # four pools: four "processes"
        try:
            await asyncio.gather(*(db.migrate() for db in dbs))
            async with dbs[0].read() as conn:
                versions = (await conn.execute(
                    sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
                tables = (await conn.execute(sa.text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_name = 'events'"))).scalar_one()
        finally:
            for db in dbs:
                await db.close()
    assert len(versions) == 1
    assert tables == 1
