"""Refusals a person can read, and lengths counted as a person sees them (issue 8, item 12)."""

from __future__ import annotations

import uuid

import pytest

from .conftest import participant_auth

pytestmark = pytest.mark.integration

THUMB = "\U0001f44d\U0001f3fd"  # 👍🏽: one thing on screen, two code points, eight bytes
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one, 25 bytes


def nid() -> str:
    return uuid.uuid4().hex


async def test_a_20_kb_note_is_too_long_not_invalid(server, event, join):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call("note.post", {"id": nid(), "text": "x" * 20_000})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "text_too_long", ack
    assert "280" in ack["error"]["message"]
    ack = await phone.call("note.edit", {"id": nid(), "text": "y" * 20_000})
    assert ack["error"]["code"] == "text_too_long", ack


async def test_a_note_is_as_long_as_what_a_person_sees(server, event, join):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    # 280 is the template's limit: 280 skin-tone thumbs are 560 code points.
    ack = await phone.call("note.post", {"id": nid(), "text": THUMB * 280})
    assert ack["ok"] is True, ack
    assert ack["note"]["text"] == THUMB * 280
    ack = await phone.call("note.post", {"id": nid(), "text": FAMILY * 280})
    assert ack["ok"] is True, ack
    ack = await phone.call("note.post", {"id": nid(), "text": THUMB * 281})
    assert ack["error"]["code"] == "text_too_long"
    assert "281" in ack["error"]["message"] and "280" in ack["error"]["message"]
    # One character on screen can still carry unbounded bytes: the byte ceiling holds.
    ack = await phone.call("note.post", {"id": nid(), "text": "a" + "\u0301" * 9000})
    assert ack["error"]["code"] == "text_too_long", ack


async def test_staff_texts_get_text_too_long_too(server, event, join):
    t = event["tables"][0]
    org = await join({"token": event["organiser_token"]})
    fac = await join({"token": t["facilitator_token"]})
    ack = await org.call("message.set", {"text": "m" * 2000})
    assert ack["error"]["code"] == "text_too_long", ack
    ack = await org.call("message.set", {"text": THUMB * 140})
    assert ack["ok"] is True, ack
    ack = await fac.call("summary.set", {"stage": 0, "text": "s" * 30_000})
    assert ack["error"]["code"] == "text_too_long", ack
    ack = await fac.call("group.save", {"id": nid(), "label": "g" * 500})
    assert ack["error"]["code"] == "text_too_long", ack


@pytest.mark.parametrize(("payload", "field"), [
    ({"id": 7, "text": "hi"}, "id"),
    ({"id": "short", "text": "hi"}, "id"),
    ({"id": "x" * 12}, "text"),
    ({"id": "x" * 12, "text": "hi", "colour": "red"}, "colour"),
    ({"id": "x" * 12, "text": "hi", "queued": "yes"}, "queued"),
])
async def test_a_malformed_payload_is_explained_in_words(server, event, join, payload, field):
    phone = await join(participant_auth(event["tables"][0]["join_code"]))
    ack = await phone.call("note.post", payload)
    error = ack["error"]
    assert error["code"] == "invalid_payload"
    message = error["message"]
    assert f"“{field}”" in message, message
    # Not pydantic's developer text.
    for jargon in ("input should be", "valid string", "extra_forbidden", "Field required",
                   "note.post:"):
        assert jargon not in message, message
    assert message[0].isupper() and message.endswith("."), message
