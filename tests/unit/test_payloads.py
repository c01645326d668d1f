import pytest
from plenary.domain.errors import InvalidPayload
from plenary.domain.payloads import (
    NotePost,
    ParticipantAuth,
    StepMove,
    clean_name,
    clean_text,
    parse,
    typed_array_to_bytes,
)


def test_valid_note():
    p = parse(NotePost, {"id": "abcd1234", "text": "hi", "category": "barrier"}, what="note.post")
    assert (p.id, p.text, p.category) == ("abcd1234", "hi", "barrier")


@pytest.mark.parametrize(("data", "fragment"), [
    ({"id": "abcd1234", "text": "x", "extra": 1}, "“extra” is not something this request"),
    ({"text": "x"}, "“id” is missing"),
    ({"id": "abcd1234", "text": 5}, "“text” should be text"),
    ({"id": "short", "text": "x"}, "“id” is not a valid id"),
    ({"id": "abcd1234<script>", "text": "x"}, "“id” is not a valid id"),
    ({"id": "abcd1234", "text": "x", "category": "Not A Slug"}, "“category” is not a valid"),
])
def test_invalid_note_names_the_field(data, fragment):
    with pytest.raises(InvalidPayload) as info:
        parse(NotePost, data, what="note.post")
    assert info.value.code == "invalid_payload"
    # Written for the person holding the phone, not in pydantic's words.
    assert info.value.message.startswith("Your note could not be sent: ")
    assert "input should" not in info.value.message
    assert fragment in info.value.message


@pytest.mark.parametrize("data", [[1, 2], "text", 7, b"bytes"])
def test_non_object_payload(data):
    with pytest.raises(InvalidPayload, match="where named fields belong"):
        parse(NotePost, data, what="note.post")


def test_missing_payload_is_an_empty_object():
    assert parse(StepMove, None, what="step.next").expected is None


def test_from_is_the_wire_name_of_expected():
    assert parse(StepMove, {"from": 2}, what="step.next").expected == 2
    with pytest.raises(InvalidPayload):
        parse(StepMove, {"from": -1}, what="step.next")
    with pytest.raises(InvalidPayload):
        parse(StepMove, {"from": True}, what="step.next")


def test_participant_key_accepts_bytes_and_browser_typed_arrays():
    key = bytes(range(16))
    as_map = {str(i): b for i, b in enumerate(key)}  # what a Uint8Array becomes
    for form in (key, as_map):
        auth = parse(ParticipantAuth, {"join_code": "X", "participant_key": form}, what="auth")
        assert auth.participant_key == key
    with pytest.raises(InvalidPayload):
        parse(ParticipantAuth, {"join_code": "X", "participant_key": b"short"}, what="auth")


def test_typed_array_conversion_leaves_other_maps_alone():
    assert typed_array_to_bytes({"0": 1, "2": 3}) == {"0": 1, "2": 3}
    assert typed_array_to_bytes({"0": 300}) == {"0": 300}
    assert typed_array_to_bytes({"a": 1}) == {"a": 1}
    assert typed_array_to_bytes({"1": 2, "0": 1}) == b"\x01\x02"


def test_clean_text_keeps_unicode_and_drops_controls():
    family = "👩\u200d👩\u200d👧"
    assert clean_text(f"  שלום {family}\r\nnext\x00\x07  ", limit=100) == f"שלום {family}\nnext"
    assert clean_text("a\n\n\n\n\nb", limit=10) == "a\n\nb"
    assert clean_text("e\u0301", limit=10) == "\u00e9"  # NFC


def test_clean_text_limits():
    with pytest.raises(InvalidPayload) as info:
        clean_text(" \n\t ", limit=10)
    assert info.value.code == "empty_text"
    with pytest.raises(InvalidPayload) as info:
        clean_text("x" * 11, limit=10)
    assert info.value.code == "text_too_long"
    assert "11 characters" in info.value.message and "limit is 10" in info.value.message


def test_clean_name():
    assert clean_name(None) is None
    assert clean_name("   ") is None
    assert clean_name("  Ada \n Lovelace ") == "Ada Lovelace"
    assert len(clean_name("x" * 100)) == 40
