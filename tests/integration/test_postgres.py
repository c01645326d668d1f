"""The same store on PostgreSQL (the ``pg`` fixture: a database of its own per test)."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import pytest
from plenary.actions import Actions
from plenary.actions.setup import create_event
from plenary.actions.transaction import read
from plenary.domain.payloads import NotePost, ParticipantAuth
from plenary.domain.topics_csv import TopicSpec
from plenary.setup import load_template
from plenary.store import Database
from plenary.store import queries as q

from tests.conftest import TEMPLATES

pytestmark = pytest.mark.integration

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


async def test_a_named_lock_is_held_by_one_process_at_a_time(pg):
    # A second Database is what a second server process has: its own connections.
    other = Database(pg.url)
    try:
        # Entered left to right: the first holder is in before the others ask.
        async with pg.try_lock("themes:e1") as first, \
                other.try_lock("themes:e1") as second, \
                other.try_lock("themes:e2") as unrelated:
            assert (first, second, unrelated) == (True, False, True)
        async with other.try_lock("themes:e1") as after:
            assert after  # released when the block ended
    finally:
        await other.close()
