import pytest
from plenary.domain import rules
from plenary.domain.errors import IllegalMove
from plenary.domain.model import EventStatus

from .factories import event, table, template

S = EventStatus


@pytest.mark.parametrize(("status", "verb", "after"), [
    (S.DRAFT, "start", S.LIVE), (S.LIVE, "close", S.CLOSED), (S.CLOSED, "reopen", S.LIVE),
])
def test_legal_status_changes(status, verb, after):
    assert rules.change_status(status, verb) is after


@pytest.mark.parametrize(("status", "verb"), [
    (S.DRAFT, "close"), (S.DRAFT, "reopen"), (S.LIVE, "start"), (S.LIVE, "reopen"),
    (S.CLOSED, "start"), (S.CLOSED, "close"),
])
def test_illegal_status_changes_say_what_is_needed(status, verb):
    with pytest.raises(IllegalMove) as info:
        rules.change_status(status, verb)
    assert info.value.code == "event_status"
    assert f"it is {status.value}" in info.value.message


def test_unknown_status_verb():
    with pytest.raises(IllegalMove) as info:
        rules.change_status(S.LIVE, "explode")
    assert info.value.code == "unknown_action"


def test_stage_moves_forward_and_back_within_bounds():
    assert rules.move_stage(event(stage=0), +1) == 1
    assert rules.move_stage(event(stage=1), -1) == 0


@pytest.mark.parametrize(("stage", "delta", "code"), [
    (1, +1, "no_next_stage"), (0, -1, "no_previous_stage"),
])
def test_stage_refused_past_either_end(stage, delta, code):
    with pytest.raises(IllegalMove) as info:
        rules.move_stage(event(stage=stage), delta)
    assert info.value.code == code


@pytest.mark.parametrize(("status", "code"), [(S.DRAFT, "event_not_live"),
                                              (S.CLOSED, "event_closed")])
def test_nothing_moves_unless_live(status, code):
    for attempt in (lambda: rules.move_stage(event(status), +1),
                    lambda: rules.move_step(event(status), table(), +1),
                    lambda: rules.check_can_post(event(status), table())):
        with pytest.raises(IllegalMove) as info:
            attempt()
        assert info.value.code == code


def test_stale_view_is_refused_so_double_clicks_do_not_skip():
    assert rules.move_stage(event(stage=0), +1, expected=0) == 1
    with pytest.raises(IllegalMove) as info:
        rules.move_stage(event(stage=1), -1, expected=0)
    assert info.value.code == "stale"
    with pytest.raises(IllegalMove) as info:
        rules.move_step(event(), table(step=1), +1, expected=0)
    assert info.value.code == "stale"


def test_only_single_moves():
    with pytest.raises(IllegalMove):
        rules.move_stage(event(), +2)
    with pytest.raises(IllegalMove):
        rules.move_step(event(), table(), +2)


def test_steps_move_within_the_stage():
    assert rules.move_step(event(), table(step=0), +1) == 1
    assert rules.move_step(event(), table(step=2), -1) == 1
    with pytest.raises(IllegalMove) as info:
        rules.move_step(event(), table(step=2), +1)
    assert info.value.code == "no_next_step"
    with pytest.raises(IllegalMove) as info:
        rules.move_step(event(), table(step=0), -1)
    assert info.value.code == "no_previous_step"


def test_posting_follows_the_step_kind():
    rules.check_can_post(event(), table(step=0))  # write
    rules.check_can_post(event(), table(step=1))  # reveal
    with pytest.raises(IllegalMove) as info:
        rules.check_can_post(event(), table(step=2))  # vote
    assert info.value.code == "posting_closed"
    assert "Vote" in info.value.message


def test_categories_required_only_where_the_stage_has_them():
    t = template()
    rules.check_category(t, table(stage=0), None)
    rules.check_category(t, table(stage=1), "barrier")
    for stage, category in ((0, "barrier"), (1, None), (1, "nonsense")):
        with pytest.raises(IllegalMove) as info:
            rules.check_category(t, table(stage=stage), category)
        assert info.value.code == "bad_category"
    with pytest.raises(IllegalMove) as info:
        rules.check_category(t, table(stage=1), None)
    assert "Barrier or Enabler" in info.value.message


def test_notes_kept_offline_are_taken_whatever_the_step_and_late_after_the_close():
    vote_step = table(step=2)
    assert rules.check_can_post(event(), vote_step, queued=True) is False
    assert rules.check_can_post(event(S.CLOSED), vote_step, queued=True) is True
    with pytest.raises(IllegalMove) as info:
        rules.check_can_post(event(S.DRAFT), vote_step, queued=True)
    assert info.value.code == "event_not_live"
    with pytest.raises(IllegalMove):
        rules.check_can_post(event(S.CLOSED), vote_step)


def test_queued_notes_keep_a_category_only_if_it_still_fits():
    t = template()
    assert rules.fit_category(t, table(stage=1), "barrier") == "barrier"
    assert rules.fit_category(t, table(stage=0), "barrier") is None
