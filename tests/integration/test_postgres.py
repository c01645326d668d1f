"""The same store on PostgreSQL: each run makes its own database and drops it after."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator

import pytest
from plenary.actions import Actions
from plenary.actions.setup import create_event
from plenary.actions.transaction import read
from plenary.domain.payloads import NotePost, ParticipantAuth
from plenary.domain.topics_csv import TopicSpec
from plenary.setup import load_template
from plenary.store import Database
from plenary.store import queries as q
from sqlalchemy.engine import make_url

from tests.conftest import TEMPLATES, missing

pytestmark = pytest.mark.integration

ADMIN_URL = os.environ.get("PLENARY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/postgres")


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    import asyncpg

    admin = make_url(ADMIN_URL)
    try:
        conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(
            hide_password=False), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        missing(f"PostgreSQL at {admin.host} ({exc})")
    name = f"plenary_test_{secrets.token_hex(6)}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(admin.set(database=name).render_as_string(hide_password=False))
    try:
        await db.migrate()
        yield db
    finally:
        await db.close()
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


async def test_fifty_concurrent_posts_are_gap_free_on_postgres(pg):
    template = load_template(TEMPLATES, "world-cafe")
    event_id = await create_event(pg, template, title="PG", topics=[TopicSpec("A")], tables=1)
    boards = [Actions(pg, b"k" * 32), Actions(Database(pg.url), b"k" * 32)]  # two pools
    await boards[0].start_event(event_id)
    code = (await read(pg, q.tables_of_event, event_id))[0]["join_code"]
    people = [await boards[0].authenticate(ParticipantAuth(
        join_code=code, participant_key=secrets.token_bytes(16))) for _ in range(5)]
    try:
        outcomes = await asyncio.gather(*[
            boards[i % 2].post_note(people[i % 5], NotePost(id=uuid.uuid4().hex, text=f"n{i}"))
            for i in range(50)])
    finally:
        await boards[1].db.close()
    assert sorted(o.ack["seq"] for o in outcomes) == list(range(2, 52))  # 1: the start
