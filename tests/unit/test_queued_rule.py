"""When a note kept offline is still taken: the pure rule (issue 8, item 8)."""

from __future__ import annotations

import pytest
from plenary.domain.errors import DomainError
from plenary.domain.model import EventStatus
from plenary.domain.rules import QUEUED_GRACE_MS, Position, check_queued_in_time, queued_stage

from tests.unit.factories import table, template

LIVE, CLOSED, DRAFT = EventStatus.LIVE, EventStatus.CLOSED, EventStatus.DRAFT
T = template()  # stage 1: write (private), reveal, vote; stage 2: discuss, summarise
START = Position(0, DRAFT, 0, 0)


def code(history, stage, now):
    try:
        check_queued_in_time(T, history, stage, now)
    except DomainError as exc:
        return exc.code
    return "ok"


def test_open_now_is_always_fine():
    assert code([START, Position(10, LIVE, 0, 0)], 0, 10**12) == "ok"


def test_the_grace_counts_from_the_move_that_closed_posting():
    # write -> reveal (still open) -> vote (closed at 1,000 ms)
    h = [START, Position(0, LIVE, 0, 0), Position(500, LIVE, 0, 1), Position(1000, LIVE, 0, 2)]
    assert code(h, 0, 1000 + QUEUED_GRACE_MS) == "ok"
    assert code(h, 0, 1001 + QUEUED_GRACE_MS) == "queue_expired"


def test_a_stage_moved_back_counts_from_the_move_back():
    h = [START, Position(0, LIVE, 0, 0), Position(100, LIVE, 1, 0), Position(5000, LIVE, 0, 2)]
    assert code(h, 1, 5000 + QUEUED_GRACE_MS) == "ok"
    assert code(h, 1, 5001 + QUEUED_GRACE_MS) == "queue_expired"


def test_closing_the_event_closes_posting_and_reopening_opens_it():
    h = [START, Position(0, LIVE, 1, 0), Position(700, CLOSED, 1, 0)]
    assert code(h, 1, 700 + QUEUED_GRACE_MS) == "ok"
    assert code(h, 1, 701 + QUEUED_GRACE_MS) == "queue_expired"
    assert code([*h, Position(10**9, LIVE, 1, 0)], 1, 10**12) == "ok"


def test_a_stage_never_open_takes_nothing():
    assert code([START, Position(0, LIVE, 0, 2)], 1, 1) == "posting_closed"
    assert code([START], 0, 1) == "posting_closed"  # never live


@pytest.mark.parametrize(("named", "filed"), [(None, 1), (0, 0), (1, 1)])
def test_the_stage_a_note_names_never_ahead_of_the_table(named, filed):
    assert queued_stage(T, table(stage=1), named) == filed
    assert queued_stage(T, table(stage=0), 1) == 0


def test_a_stage_the_template_lacks_is_refused():
    with pytest.raises(DomainError) as err:
        queued_stage(T, table(stage=1), 2)
    assert err.value.code == "bad_stage"
