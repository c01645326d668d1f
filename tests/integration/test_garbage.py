"""The per-note paths (post, sync, replay, embedding) leave no reference cycles behind.

The server freezes what survives ten times a second (plenary.gcpolicy), so a cycle that
dies after a freeze is never collected while the room is full: whatever runs for
every note or vote must free itself by reference counting alone.
"""

from __future__ import annotations

import gc
import secrets
import uuid

import pytest
from plenary.actions.transaction import write_path
from plenary.domain.payloads import NotePost, ParticipantAuth, SyncRequest
from plenary.store import themes as st

from tests.integration.test_write_path import one_table

pytestmark = pytest.mark.integration


async def test_posting_voting_syncing_and_embedding_leave_no_cycles(store):
    actions, table_id, code = await one_table(store)
    person = await actions.authenticate(ParticipantAuth(join_code=code,
                                                        participant_key=secrets.token_bytes(16)))

    async def rounds(n: int) -> None:
        for _ in range(n):
            posted = await actions.post_note(person, NotePost(id=uuid.uuid4().hex, text="an idea"))
            note = posted.ack["note"]
            await actions.sync(person, SyncRequest())
            await actions.sync(person, SyncRequest(since=posted.ack["seq"] - 1))
            rows = await actions.writes.run(st.these_to_embed, [note["id"]], "m", table=table_id)
            await write_path(store).run(st.save_vectors, person.actor.event_id, "m",
                                        [(r["id"], r["source_ms"], b"\0" * 768) for r in rows],
                                        table=table_id)

    await rounds(20)  # caches warm: compiled statements, templates
    gc.collect()
    gc.disable()
    try:
        await rounds(50)
        found = gc.collect()
    finally:
        gc.enable()
    # A refusal's exception and traceback do make a cycle; it is garbage at once and
    # the next young collection takes it, long before a freeze.
    assert found < 50, f"{found} objects in reference cycles after 50 notes"
