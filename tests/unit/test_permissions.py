import pytest
from plenary.domain.errors import Forbidden
from plenary.domain.permissions import ALLOWED, Action, Actor, Role, authorize

PART = Actor(Role.PARTICIPANT, "ev", table_id="t1", participant_id="p1")
FAC = Actor(Role.FACILITATOR, "ev", table_id="t1")
ORG = Actor(Role.ORGANISER, "ev")
DASH = Actor(Role.DASHBOARD, "ev")
ACTORS = {Role.PARTICIPANT: PART, Role.FACILITATOR: FAC, Role.ORGANISER: ORG, Role.DASHBOARD: DASH}

EXPECTED = {
    Action.VIEW_TABLE: {Role.PARTICIPANT, Role.FACILITATOR, Role.ORGANISER, Role.DASHBOARD},
    Action.VIEW_EVENT: {Role.ORGANISER, Role.DASHBOARD},
    Action.POST_NOTE: {Role.PARTICIPANT},
    Action.EDIT_OWN_NOTE: {Role.PARTICIPANT},
    Action.VOTE: {Role.PARTICIPANT},
    Action.RUN_TABLE: {Role.FACILITATOR, Role.ORGANISER},
    Action.MOVE_STAGE: {Role.ORGANISER},
    Action.CHANGE_EVENT_STATUS: {Role.ORGANISER},
}


def test_every_action_has_an_expectation():
    assert set(EXPECTED) == set(Action) == set(ALLOWED)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(action, role):
    actor = ACTORS[role]
    if role in EXPECTED[action]:
        authorize(actor, action, event_id="ev", table_id="t1")
    else:
        with pytest.raises(Forbidden) as info:
            authorize(actor, action, event_id="ev", table_id="t1")
        assert info.value.code == "forbidden"


@pytest.mark.parametrize("actor", [PART, FAC])
def test_table_roles_are_held_to_their_table(actor):
    action = Action.POST_NOTE if actor is PART else Action.RUN_TABLE
    with pytest.raises(Forbidden) as info:
        authorize(actor, action, event_id="ev", table_id="t2")
    assert info.value.code == "wrong_table"


def test_organiser_may_act_on_any_table_of_their_event_only():
    authorize(ORG, Action.RUN_TABLE, event_id="ev", table_id="t2")
    with pytest.raises(Forbidden) as info:
        authorize(ORG, Action.MOVE_STAGE, event_id="other")
    assert info.value.code == "wrong_event"


def test_actor_shape_is_checked():
    with pytest.raises(ValueError, match="table id"):
        Actor(Role.PARTICIPANT, "ev", participant_id="p")
    with pytest.raises(ValueError, match="participant id"):
        Actor(Role.FACILITATOR, "ev", table_id="t", participant_id="p")
    with pytest.raises(ValueError, match="table id"):
        Actor(Role.ORGANISER, "ev", table_id="t")
