"""Read-then-write rules hold under concurrency, on SQLite and on PostgreSQL.

Each test runs its actions through three Database objects on one store: three
connection pools and three write paths, as three server processes would be. On
SQLite they queue on the file's write lock (BEGIN IMMEDIATE); on PostgreSQL they
really run at once, so only the row locks keep the rules (a vote limit, a step
move from where the table is) and only REPEATABLE READ keeps an answer to one
instant.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from plenary.actions import Actions, Session
from plenary.actions.setup import create_event
from plenary.actions.transaction import read
from plenary.domain.errors import DomainError
from plenary.domain.payloads import (
    NotePost,
    ParticipantAuth,
    StageMove,
    StepMove,
    SyncRequest,
    VoteAdd,
)
from plenary.domain.permissions import Actor, Role
from plenary.domain.topics_csv import TopicSpec
from plenary.setup import load_template
from plenary.store import Database
from plenary.store import queries as q

from tests.conftest import TEMPLATES

pytestmark = pytest.mark.integration

SECRET = b"k" * 32
#: World café: its fourth stage is write (private) → reveal → group → vote → summarise.
VOTING_STAGE, VOTE_STEP = 3, 3


@pytest.fixture
async def processes(store: Database) -> AsyncIterator[list[Actions]]:
    """Three sets of actions over the one store, each with its own pool and write path."""
    others = [Database(store.url), Database(store.url)]
    for db in others:  # connected before the race, so that the race is one
        await read(db, q.list_events)
    yield [Actions(db, SECRET) for db in (store, *others)]
    for db in others:
        await db.close()


async def live_event(actions: Actions, tables: int = 1) -> tuple[str, list[dict[str, Any]]]:
    template = load_template(TEMPLATES, "world-cafe")
    event_id = await create_event(actions.db, template, title="Race", topics=[TopicSpec("A")],
                                  tables=tables)
    await actions.start_event(event_id)
    return event_id, await read(actions.db, q.tables_of_event, event_id)


async def join(actions: Actions, code: str, n: int) -> list[Session]:
    return [await actions.authenticate(ParticipantAuth(
        join_code=code, participant_key=secrets.token_bytes(16))) for _ in range(n)]


def nid() -> str:
    return uuid.uuid4().hex


async def settle(calls: list[Any]) -> tuple[list[Any], list[DomainError]]:
    """Run the calls at once; what succeeded, and the refusals (anything else is raised)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused = [r for r in results if isinstance(r, DomainError)]
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, DomainError):
            raise r
    return [r for r in results if not isinstance(r, BaseException)], refused


def table_log(db: Database, table_id: str) -> Any:
    return read(db, lambda conn: q.changes_since(conn, table_id, 0, limit=10_000))


async def test_ten_concurrent_votes_against_a_limit_of_three_store_three(processes):
    event_id, (table,) = await live_event(processes[0])
    organiser = Session(Actor(Role.ORGANISER, event_id))
    facilitator = Session(Actor(Role.FACILITATOR, event_id, table_id=table["id"]))
    for _ in range(VOTING_STAGE):
        await processes[0].move_stage(organiser, StageMove(), 1)
    (voter,) = await join(processes[0], table["join_code"], 1)
    note = nid()
    await processes[0].post_note(voter, NotePost(id=note, text="vote for me", category="insight"))
    for _ in range(VOTE_STEP):
        await processes[0].move_step(facilitator, StepMove(), 1)

    accepted, refused = await settle([
        processes[i % 3].add_vote(voter, VoteAdd(id=nid(), note=note)) for i in range(10)])

    assert len(accepted) == 3
    assert [e.code for e in refused] == ["vote_limit"] * 7
    stored = await read(processes[0].db, q.votes_of, voter.actor.participant_id, VOTING_STAGE)
    assert len(stored) == 3
    assert sorted(o.ack["votes_left"] for o in accepted) == [0, 1, 2]


async def test_two_step_moves_from_the_same_step_accept_one(processes):
    event_id, (table,) = await live_event(processes[0])
    facilitator = Session(Actor(Role.FACILITATOR, event_id, table_id=table["id"]))
    organiser = Session(Actor(Role.ORGANISER, event_id))
    # Two screens (the facilitator's tablet, the organiser's console) tap "next" at once.
    accepted, refused = await settle([
        processes[0].move_step(facilitator, StepMove(**{"from": 0}), 1),
        processes[1].move_step(organiser, StepMove(**{"from": 0}, table=table["id"]), 1)])

    assert len(accepted) == 1 and accepted[0].ack["step"] == 1
    assert [e.code for e in refused] == ["stale"]
    (now,) = await read(processes[0].db, q.tables_of_event, event_id)
    assert now["step_index"] == 1
    log = await table_log(processes[0].db, table["id"])
    assert [c["kind"] for c in log] == ["event.status", "step.changed"]


async def test_fifty_concurrent_posts_get_fifty_gap_free_numbers(processes):
    _, (table,) = await live_event(processes[0])
    people = await join(processes[0], table["join_code"], 5)
    accepted, refused = await settle([
        processes[i % 3].post_note(people[i % 5], NotePost(id=nid(), text=f"n{i}"))
        for i in range(50)])

    assert refused == []
    assert sorted(o.ack["seq"] for o in accepted) == list(range(2, 52))  # 1: the start
    assert [c["seq"] for c in await table_log(processes[0].db, table["id"])] == list(range(1, 52))


async def test_a_stage_move_racing_posts_leaves_nothing_private_behind(processes):
    """Every note lands wholly before the move (and is revealed by it) or after it."""
    event_id, tables = await live_event(processes[0], tables=3)
    organiser = Session(Actor(Role.ORGANISER, event_id))
    for _ in range(VOTING_STAGE):  # into the (last) stage, which opens with private writing
        await processes[0].move_stage(organiser, StageMove(), 1)
    people = [p for t in tables for p in await join(processes[0], t["join_code"], 3)]
    posts = [processes[i % 3].post_note(people[i % len(people)],
                                        NotePost(id=nid(), text=f"n{i}", queued=True))
             for i in range(45)]
    move = processes[1].move_stage(organiser, StageMove(**{"from": VOTING_STAGE}), -1)
    accepted, refused = await settle([*posts[:20], move, *posts[20:]])

    assert refused == []
    assert sum(1 for o in accepted if "stage" in o.ack) == 1
    db = processes[0].db
    for t in tables:
        log = await table_log(db, t["id"])
        assert [c["seq"] for c in log] == list(range(1, len(log) + 1))
        notes = await read(db, q.notes_of_table, t["id"])
        assert not [n for n in notes if n["private"] and n["stage_index"] == VOTING_STAGE]
    posted = {o.ack["note"]["id"] for o in accepted if "note" in o.ack}
    assert len(posted) == 45


async def test_every_sync_answer_is_one_instant_while_others_write(processes):
    """Snapshots and replays taken while two phones write never run past their own seq."""
    event_id, (table,) = await live_event(processes[0])
    writers = await join(processes[0], table["join_code"], 2)
    (reader,) = await join(processes[0], table["join_code"], 1)
    staff = Session(Actor(Role.FACILITATOR, event_id, table_id=table["id"]))
    answers: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def write(who: Session, actions: Actions) -> None:
        for i in range(40):
            await actions.post_note(who, NotePost(id=nid(), text=f"w{i}"))

    async def sync(who: Session, actions: Actions) -> None:
        since = 1
        while not done.is_set():
            answers.append(await actions.sync(who, SyncRequest(since=None)))
            answer = await actions.sync(who, SyncRequest(since=since))
            answers.append(answer | {"since": since})
            since = max(1, answer["seq"] - 3)

    readers = [asyncio.create_task(sync(reader, processes[2])),
               asyncio.create_task(sync(staff, processes[1]))]
    await asyncio.gather(write(writers[0], processes[0]), write(writers[1], processes[1]))
    done.set()
    await asyncio.gather(*readers)

    log = await table_log(processes[0].db, table["id"])
    seq_of_note = {c["data"]["note"]["id"]: c["seq"] for c in log if c["kind"] == "note.added"}
    assert len(answers) > 10
    for answer in answers:
        seq = answer["seq"]
        if answer["mode"] == "snapshot":
            ids = {n["id"] for n in answer["notes"]}
            assert ids == {i for i, s in seq_of_note.items() if s <= seq}, seq
        else:
            seqs = [c["seq"] for c in answer["changes"]]
            assert seqs == list(range(answer["since"] + 1, seq + 1)), (answer["since"], seq)


async def test_twelve_concurrent_first_joins_against_a_table_of_five(processes, monkeypatch):
    from plenary.actions import joining

    monkeypatch.setattr(joining, "MAX_PARTICIPANTS_PER_TABLE", 5)
    _, (table,) = await live_event(processes[0])
    joined, refused = await settle([
        processes[i % 3].authenticate(ParticipantAuth(
            join_code=table["join_code"], participant_key=secrets.token_bytes(16)))
        for i in range(12)])
    assert len(joined) == 5
    assert [r.code for r in refused] == ["table_full"] * 7
    count = await read(processes[0].db, lambda conn: q.count_participants_locked(conn, table["id"]))
    assert count == 5
