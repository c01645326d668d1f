"""The store against a real SQLite file: sequence numbers, durability settings, migrations."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from plenary.actions import Actions, Session
from plenary.actions.setup import create_event
from plenary.actions.transaction import read, write_path
from plenary.domain.payloads import NotePost, ParticipantAuth
from plenary.domain.topics_csv import TopicSpec
from plenary.setup import load_template
from plenary.store import Database
from plenary.store import queries as q
from plenary.store.migrate import alembic_config
from plenary.store.schema import metadata

from tests.conftest import TEMPLATES

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    await database.migrate()
    yield database
    await database.close()


async def live_table(db: Database) -> tuple[str, str]:
    template = load_template(TEMPLATES, "alchemy")
    event_id = await create_event(db, template, title="T", topics=[TopicSpec("A")], tables=1)
    await Actions(db, b"k" * 32).start_event(event_id)
    table = (await read(db, q.tables_of_event, event_id))[0]
    return event_id, table["join_code"]


async def participants(board: Actions, code: str, n: int) -> list[Session]:
    return [await board.authenticate(ParticipantAuth(
        join_code=code, participant_key=secrets.token_bytes(16))) for _ in range(n)]


def post(i: int) -> NotePost:
    return NotePost(id=uuid.uuid4().hex, text=f"note {i}")


async def test_fifty_concurrent_posts_get_fifty_gap_free_numbers(db):
    _, code = await live_table(db)
    board = Actions(db, b"k" * 32)
    people = await participants(board, code, 5)
    outcomes = await asyncio.gather(*[board.post_note(people[i % 5], post(i)) for i in range(50)])
    seqs = sorted(o.ack["seq"] for o in outcomes)
    assert seqs == list(range(2, 52))  # 1 is the event's start, logged on every table


async def test_two_writers_on_one_file_still_never_share_a_number(db, tmp_path):
    """Two Database objects are two connection pools, as two processes would be:
    BEGIN IMMEDIATE and the busy timeout serialise them without losing an update."""
    _, code = await live_table(db)
    other = Database(db.url)
    try:
        boards = [Actions(db, b"k" * 32), Actions(other, b"k" * 32)]
        people = await participants(boards[0], code, 2)
        outcomes = await asyncio.gather(*[
            boards[i % 2].post_note(people[i % 2], post(i)) for i in range(50)])
        assert sorted(o.ack["seq"] for o in outcomes) == list(range(2, 52))
        table_id = outcomes[0].changes[0]["table_id"]
        logged = await read(db, lambda conn: q.changes_since(conn, table_id, 0, limit=100))
        assert [c["seq"] for c in logged] == list(range(1, 52))
    finally:
        await other.close()


async def test_a_failed_change_gives_its_number_back(db):
    """A transaction that fails after taking a number rolls the number back too."""
    _, code = await live_table(db)
    board = Actions(db, b"k" * 32)
    (person,) = await participants(board, code, 1)
    first = await board.post_note(person, post(1))
    table_id = person.actor.table_id
    with pytest.raises(RuntimeError):
        def crash(conn: sa.Connection) -> None:
            q.next_seq(conn, table_id)
            raise RuntimeError("crash mid-transaction")
        await write_path(db).run(crash)
    second = await board.post_note(person, post(2))
    assert second.ack["seq"] == first.ack["seq"] + 1


async def test_sqlite_is_in_wal_mode_with_full_sync(db):
    async with db.write() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 5000
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_migrations_match_the_schema_and_rerun_safely(db):
    await db.migrate()  # a second run is a no-op
    async with db.read() as conn:
        def diff(sync_conn: sa.Connection) -> list:
            return compare_metadata(MigrationContext.configure(sync_conn), metadata)
        assert await conn.run_sync(diff) == []
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
    # The newest migration, whatever its number (branches chain theirs at merge).
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert version == head and head is not None


async def test_rejoining_with_the_same_key_is_the_same_participant(db):
    _, code = await live_table(db)
    board = Actions(db, b"k" * 32)
    key = secrets.token_bytes(16)
    first = await board.authenticate(ParticipantAuth(join_code=code, participant_key=key))
    again = await asyncio.gather(*[board.authenticate(
        ParticipantAuth(join_code=code.lower(), participant_key=key, name="Sam"))
        for _ in range(5)])
    assert {s.actor.participant_id for s in again} == {first.actor.participant_id}
    async with db.read() as conn:
        count = (await conn.exec_driver_sql("SELECT count(*) FROM participants")).scalar()
    assert count == 1
