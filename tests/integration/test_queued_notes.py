"""Notes kept offline (`queued: true`) are trusted only so far (issue 8, item 8).

Before, a client could post during any step, into any earlier stage and into a
closed event, for ever; and a retry with the same id and another text was
acknowledged as a duplicate while the new text was silently dropped.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from plenary.domain.rules import QUEUED_GRACE_MS
from plenary.store.schema import changes

from .conftest import participant_auth
from .test_http_hardening import raw_write

pytestmark = pytest.mark.integration


def nid() -> str:
    return uuid.uuid4().hex


def queued(text: str, **extra) -> dict:
    return {"id": nid(), "text": text, "queued": True, **extra}


async def time_passes(server, table_id: str, ms: int) -> None:
    """Move the table's logged history ``ms`` into the past (as if that long had passed)."""
    await raw_write(server, lambda conn: conn.execute(
        sa.update(changes).where(changes.c.table_id == table_id)
        .values(created_ms=changes.c.created_ms - ms)))


@pytest.fixture
async def board(server, join):
    """A live alchemy table (stage 1: private write, reveal, group, summarise)."""
    ev = await server.create_event(tables=1)
    t = ev["tables"][0]
    return {"ev": ev, "t": t, "fac": await join({"token": t["facilitator_token"]}),
            "org": await join({"token": ev["organiser_token"]}),
            "phone": await join(participant_auth(t["join_code"], name="Ana"))}


async def test_a_queued_note_is_taken_shortly_after_writing_closed_not_long_after(
        server, board):
    fac, phone, t = board["fac"], board["phone"], board["t"]
    for frm in (0, 1):  # write -> reveal -> group: posting has closed
        assert (await fac.call("step.next", {"from": frm}))["ok"]
    fresh = await phone.call("note.post", {"id": nid(), "text": "typed now"})
    assert fresh["error"]["code"] == "posting_closed"
    ack = await phone.call("note.post", queued("written offline while open"))
    assert ack["ok"] and ack["note"]["stage"] == 0, ack
    await time_passes(server, t["id"], QUEUED_GRACE_MS + 60_000)
    stale = await phone.call("note.post", queued("kept on the phone far too long"))
    assert stale["ok"] is False
    assert stale["error"]["code"] == "queue_expired", stale
    assert "minutes" in stale["error"]["message"]


async def test_a_queued_note_for_an_earlier_stage_expires_too(server, board):
    org, phone, t = board["org"], board["phone"], board["t"]
    assert (await org.call("stage.next", {"from": 0}))["ok"]
    ack = await phone.call("note.post", queued("for stage one", stage=0))
    assert ack["ok"] and ack["note"]["stage"] == 0
    await time_passes(server, t["id"], QUEUED_GRACE_MS + 60_000)
    stale = await phone.call("note.post", queued("for stage one, much later", stage=0))
    assert stale["error"]["code"] == "queue_expired", stale
    # Stage two is open now: a queued note for it is just a note.
    now = await phone.call("note.post", queued("for stage two", stage=1))
    assert now["ok"] and now["note"]["stage"] == 1 and not now["late"]


@pytest.mark.parametrize("stage", [5, 99, 1000])
async def test_a_queued_note_goes_only_into_a_stage_that_exists(board, stage):
    ack = await board["phone"].call("note.post", queued("nowhere", stage=stage))
    assert ack["ok"] is False
    assert ack["error"]["code"] == "bad_stage", ack


async def test_after_the_close_a_queued_note_is_late_for_a_while_then_refused(server, board):
    org, phone, t = board["org"], board["phone"], board["t"]
    assert (await org.call("event.status", {"action": "close"}))["ok"]
    ack = await phone.call("note.post", queued("arrived after the close"))
    assert ack["ok"] and ack["late"] is True
    await time_passes(server, t["id"], QUEUED_GRACE_MS + 60_000)
    stale = await phone.call("note.post", queued("arrived the next day"))
    assert stale["error"]["code"] == "queue_expired", stale
    snap = await phone.call("sync", {})
    assert [n["text"] for n in snap["notes"]] == ["arrived after the close"]


async def test_the_same_id_with_other_text_is_refused_not_swallowed(board):
    phone = board["phone"]
    note_id = nid()
    first = await phone.call("note.post", {"id": note_id, "text": "first words"})
    assert first["ok"]
    again = await phone.call("note.post", {"id": note_id, "text": "  first words \n"})
    assert again["ok"] and again["duplicate"] is True  # the same note, normalised alike
    other = await phone.call("note.post", {"id": note_id, "text": "other words"})
    assert other["ok"] is False
    assert other["error"]["code"] == "id_conflict", other
    snap = await phone.call("sync", {})
    assert [n["text"] for n in snap["notes"] if n["id"] == note_id] == ["first words"]
    # After an edit, a late retry of the original post is still the same note.
    assert (await phone.call("note.edit", {"id": note_id, "text": "edited words"}))["ok"]
    retry = await phone.call("note.post", {"id": note_id, "text": "first words"})
    assert retry["ok"] and retry["duplicate"] is True
