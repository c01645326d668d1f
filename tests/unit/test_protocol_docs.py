"""docs/protocol.md against the code, both ways (in the style of datasette's test_docs.py).

Every client event the channel handles, every event it emits, every change type
and every error code the live channel can send is listed in the protocol page,
and everything the page lists exists in the code.
"""

from __future__ import annotations

from plenary.domain.board import CHANGE_TYPES, PRIVATE

from tests.protocol_doc import (
    documented_codes,
    emitted_events,
    error_codes,
    first_column,
    handled_events,
    headed_names,
    section,
)


def test_every_client_event_is_documented_and_exists():
    assert headed_names(section("Client → server events")) == handled_events()


def test_every_server_event_is_documented_and_exists():
    assert headed_names(section("Server → client events")) == emitted_events()


def test_every_change_type_is_documented_and_exists():
    change_section = section("Server → client events").split("### `changes`")[0]
    assert first_column(change_section) == CHANGE_TYPES | {PRIVATE}


def test_every_error_code_is_documented_and_exists():
    documented = documented_codes()
    produced = error_codes()
    assert sorted(produced - documented) == [], "produced but not in docs/protocol.md"
    assert sorted(documented - produced) == [], "in docs/protocol.md but never produced"
