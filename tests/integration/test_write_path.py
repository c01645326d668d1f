"""Group commit: waiting actions share a transaction, a SAVEPOINT each, on both backends."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid

import pytest
import sqlalchemy as sa
from plenary.actions import Actions, transaction
from plenary.actions.setup import create_event
from plenary.actions.transaction import read, write_path
from plenary.domain.errors import Conflict, DomainError
from plenary.domain.payloads import NotePost, ParticipantAuth
from plenary.domain.topics_csv import TopicSpec
from plenary.setup import load_template
from plenary.store import Database
from plenary.store import queries as q
from plenary.store.schema import participants

from tests.conftest import TEMPLATES

pytestmark = pytest.mark.integration


async def one_table(db: Database) -> tuple[Actions, str, str]:
    actions = Actions(db, b"k" * 32)
    template = load_template(TEMPLATES, "world-cafe")
    event_id = await create_event(db, template, title="Batch", topics=[TopicSpec("A")],
                                  tables=1)
    await actions.start_event(event_id)
    (table,) = await read(db, q.tables_of_event, event_id)
    return actions, table["id"], table["join_code"]


def post() -> NotePost:
    return NotePost(id=uuid.uuid4().hex, text="an idea")


async def test_a_failing_action_rolls_back_alone_and_gets_its_own_error(store):
    actions, table_id, code = await one_table(store)
    person = await actions.authenticate(ParticipantAuth(join_code=code,
                                                        participant_key=secrets.token_bytes(16)))
    doomed = uuid.uuid4().hex[:16]

    def writes_then_fails(conn: sa.Connection) -> None:
        q.next_seq(conn, table_id)  # takes a number, which must come back
        q.insert_participant(conn, id=doomed, table_id=table_id, key_hash="x" * 64)
        raise Conflict("refused after writing", code="test_refusal")

    before = write_path(store).stats.transactions
    results = await asyncio.gather(
        *[actions.post_note(person, post()) for _ in range(10)],
        write_path(store).run(writes_then_fails, table=table_id),
        *[actions.post_note(person, post()) for _ in range(10)],
        return_exceptions=True)

    failed = results[10]
    assert isinstance(failed, Conflict) and failed.code == "test_refusal"
    acks = [r for i, r in enumerate(results) if i != 10]
    assert not [r for r in acks if isinstance(r, BaseException)]
    assert [r.ack["seq"] for r in acks] == list(range(2, 22))  # in commit order, no gap
    ids = await read(store, lambda c: c.execute(sa.select(participants.c.id)).scalars().all())
    assert doomed not in ids
    # 21 actions, far fewer transactions: they waited together and committed together.
    assert write_path(store).stats.transactions - before < 21


async def test_refusals_in_a_batch_do_not_touch_the_others(store):
    actions, _, code = await one_table(store)
    person = await actions.authenticate(ParticipantAuth(join_code=code,
                                                        participant_key=secrets.token_bytes(16)))
    taken = post()
    await actions.post_note(person, taken)
    stranger = await actions.authenticate(ParticipantAuth(
        join_code=code, participant_key=secrets.token_bytes(16)))
    results = await asyncio.gather(
        actions.post_note(person, post()),
        actions.post_note(stranger, taken),  # someone else's note id
        actions.post_note(person, NotePost(id=uuid.uuid4().hex, text="   ")),  # empty
        actions.post_note(person, post()),
        return_exceptions=True)

    assert [type(r).__name__ for r in results] == ["Outcome", "Conflict", "InvalidPayload",
                                                   "Outcome"]
    assert all(isinstance(r, DomainError) for r in results[1:3])
    assert [results[0].ack["seq"], results[3].ack["seq"]] == [3, 4]


async def test_postgresql_commits_different_tables_side_by_side_and_one_table_in_order(pg):
    """Batches of different tables overlap; two of one table never do; an event-wide
    body waits for everything before it and nothing after it starts until it ends."""
    spans: dict[str, tuple[float, float]] = {}
    loop = asyncio.get_running_loop()

    def body(name: str):
        def run(conn: sa.Connection) -> str:
            start = loop.time()
            conn.execute(sa.text("SELECT pg_sleep(0.2)"))
            spans[name] = (start, loop.time())
            return name
        return run

    path = write_path(pg)
    names = await asyncio.gather(
        path.run(body("a1"), table="A"), path.run(body("b1"), table="B"),
        path.run(body("a2"), table="A"), path.run(body("event"), table=None),
        path.run(body("c1"), table="C"))
    assert names == ["a1", "b1", "a2", "event", "c1"]

    def overlap(x: str, y: str) -> bool:
        return spans[x][0] < spans[y][1] and spans[y][0] < spans[x][1]

    assert overlap("a1", "b1")  # side by side
    # a1 and a2 were queued for one table: one batch, one after the other in it.
    assert spans["a1"][1] <= spans["a2"][0]
    assert all(spans[n][1] <= spans["event"][0] for n in ("a1", "b1", "a2"))
    assert spans["event"][1] <= spans["c1"][0]  # queued after the barrier: waits for it


async def test_a_database_error_in_a_batch_rolls_back_that_action_only(store):
    """A statement the database refuses (here a duplicate key) aborts the whole
    transaction on PostgreSQL until its savepoint is rolled back: the others commit."""
    actions, table_id, code = await one_table(store)
    person = await actions.authenticate(ParticipantAuth(join_code=code,
                                                        participant_key=secrets.token_bytes(16)))
    taken = uuid.uuid4().hex[:16]
    await write_path(store).run(
        lambda c: q.insert_participant(c, id=taken, table_id=table_id, key_hash="y" * 64),
        table=table_id)

    def duplicate(conn: sa.Connection) -> None:
        q.insert_participant(conn, id=taken, table_id=table_id, key_hash="z" * 64)

    results = await asyncio.gather(
        *[actions.post_note(person, post()) for _ in range(5)],
        write_path(store).run(duplicate, table=table_id),
        *[actions.post_note(person, post()) for _ in range(5)],
        return_exceptions=True)
    assert isinstance(results[5], sa.exc.IntegrityError)
    acks = results[:5] + results[6:]
    assert not [r for r in acks if isinstance(r, BaseException)]
    assert sorted(r.ack["seq"] for r in acks) == list(range(2, 12))
    stored = await read(store, q.notes_of_table, table_id)
    assert len(stored) == 10


async def test_a_transaction_that_holds_the_writer_long_is_logged(sqlite_db, caplog,
                                                                   monkeypatch):
    monkeypatch.setattr(transaction, "SLOW_COMMIT_MS", 30.0)

    def slow(conn: sa.Connection) -> None:
        conn.execute(sa.text("SELECT 1"))
        time.sleep(0.05)  # holds the writer, as a move revealing thousands of notes does

    with caplog.at_level("WARNING", logger="plenary.actions.transaction"):
        await write_path(sqlite_db).run(lambda conn: None)
        assert not [r for r in caplog.records if "to commit" in r.getMessage()]
        await write_path(sqlite_db).run(slow)
    (line,) = [r.getMessage() for r in caplog.records if "to commit" in r.getMessage()]
    assert line.startswith("write: a transaction of 1 action(s) took ")
    assert int(line.split("took ")[1].split(" ms")[0]) >= 50
