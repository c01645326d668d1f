"""Rules for what happens on one table's board: notes, privacy, votes, tidying.

Who sees what is decided here too (``view_change``, ``note_visible``), so the
same rule serves a live broadcast, a replay and a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import Forbidden, IllegalMove, NotFound
from .model import EventState, TableState
from .permissions import Role
from .rules import require_live
from .template import StepKind

#: The content-free stand-in for a change the viewer may not see: it keeps the
#: viewer's sequence numbers gap-free without telling them what changed.
PRIVATE = "private"

#: Every kind of change a table's log holds. docs/protocol.md lists each (a test
#: checks both ways) and the store refuses to log any other.
CHANGE_TYPES = frozenset({
    "note.added", "note.edited", "note.deleted", "notes.revealed", "note.starred",
    "note.hidden", "note.shown", "note.merged", "note.grouped", "group.saved",
    "group.deleted", "vote.added", "vote.removed", "votes.revealed", "summary.changed",
    "table.ready", "table.locked", "step.changed", "stage.changed", "event.status",
})


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: staff (facilitator, organiser) see everything at their tables."""

    role: Role
    participant_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.FACILITATOR, Role.ORGANISER)


def view_change(change: dict[str, Any], viewer: Viewer,
                hidden_notes: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The change as ``viewer`` may see it (wire form in, wire form out)."""
    private_to = change.get("private_to")
    if viewer.is_staff:
        return _strip(change)
    if private_to is not None and private_to != viewer.participant_id:
        return _placeholder(change)
    data = change["data"]
    if not hidden_notes:
        return _strip(change)
    if change["type"] in ("note.added", "note.edited", "note.shown") \
            and data["note"]["id"] in hidden_notes:
        # Hidden since: a replay must not show what the facilitator took down.
        return _placeholder(change)
    if change["type"] == "notes.revealed":
        # The reveal stays (its seq, the rest of its notes); the hidden ones leave it.
        notes = [n for n in data["notes"] if n["id"] not in hidden_notes]
        return _strip(change) | {"data": data | {"notes": notes}}
    return _strip(change)


def _placeholder(change: dict[str, Any]) -> dict[str, Any]:
    # What kind of change it stood for, never its content: a phone can count
    # "3 notes by others, hidden until the reveal" without reading one.
    return {"table": change["table"], "seq": change["seq"], "type": PRIVATE,
            "data": {"of": change["type"]}, "at": change["at"]}


def _strip(change: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in change.items() if k != "private_to"}


def note_visible(note: dict[str, Any], viewer: Viewer) -> bool:
    """Whether a note (a store row) belongs on this viewer's board."""
    if note["deleted_ms"] is not None or note["merged_into"] is not None:
        return False
    if viewer.is_staff:
        return True
    if note["hidden"]:
        return False
    return not note["private"] or note["participant_id"] == viewer.participant_id


def current_step_kind(event: EventState, table: TableState) -> StepKind:
    """The kind of step the table is on."""
    return table.step(event.template).kind


def posting_is_private(event: EventState, table: TableState) -> bool:
    """Whether a note posted now is seen only by its author (and staff) until revealed."""
    return table.step(event.template).private


def vote_counts_hidden(event: EventState, table: TableState) -> bool:
    """Whether participants see only their own votes right now (during a blind vote)."""
    return (event.template.vote_counts == "after_vote"
            and current_step_kind(event, table) is StepKind.VOTE)


def shown_on_reveal(revealed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of the notes a reveal made public, those every screen gets: the live, unhidden ones."""
    return [n for n in revealed
            if n["deleted_ms"] is None and n["merged_into"] is None and not n["hidden"]]


def reveals_on_move(event: EventState, table: TableState, target_step: int) -> bool:
    """Leaving a private writing step (to any other step) reveals its notes."""
    steps = table.stage(event.template).steps
    return steps[table.step_index].private and not steps[target_step].private


def vote_step_ends(event: EventState, table: TableState, target_step: int) -> bool:
    """Leaving a blind vote step publishes the counts."""
    steps = table.stage(event.template).steps
    return (event.template.vote_counts == "after_vote"
            and steps[table.step_index].kind is StepKind.VOTE
            and steps[target_step].kind is not StepKind.VOTE)


def check_own_note(note: dict[str, Any] | None, participant_id: str, table_id: str) -> None:
    """A participant may change only their own, live note."""
    if note is None or note["table_id"] != table_id or note["deleted_ms"] is not None:
        raise NotFound("That note is not on this board any more.")
    if note["participant_id"] != participant_id:
        raise Forbidden("You can only change your own notes.", code="not_your_note")


def check_stage_open(event: EventState, table: TableState, note: dict[str, Any]) -> None:
    """Notes can be edited or deleted only while their stage is the table's current one."""
    require_live(event, "change a note")
    if note["stage_index"] != table.stage_index:
        raise IllegalMove("That stage has closed, so its notes can no longer be changed.",
                          code="stage_closed")


def check_table_note(note: dict[str, Any] | None, table_id: str) -> dict[str, Any]:
    """A note of this table that still exists (for the facilitator's tidying)."""
    if (note is None or note["table_id"] != table_id or note["deleted_ms"] is not None
            or note["merged_into"] is not None):
        raise NotFound("That note is not on this board any more.")
    return note


def check_vote(event: EventState, table: TableState, note: dict[str, Any],
               used: int) -> None:
    """A dot vote needs the vote step, a visible note of this stage, and a vote left."""
    require_live(event, "vote")
    if current_step_kind(event, table) is not StepKind.VOTE:
        raise IllegalMove("Voting is not open right now. Your facilitator opens it.",
                          code="voting_closed")
    if note["stage_index"] != table.stage_index or note["hidden"] or note["private"]:
        raise IllegalMove("You can only vote for this stage's notes.", code="bad_vote")
    limit = event.template.votes_for(table.stage_index)
    if used >= limit:
        raise IllegalMove(
            f"You have used all {limit} of your votes for this stage. "
            "Take one back to vote for something else.",
            code="vote_limit",
        )


def check_unvote(event: EventState, table: TableState, vote: dict[str, Any]) -> None:
    """A vote can be taken back while its own stage's voting is open."""
    require_live(event, "change a vote")
    if current_step_kind(event, table) is not StepKind.VOTE \
            or vote["stage_index"] != table.stage_index:
        raise IllegalMove("Voting has closed, so votes can no longer be changed.",
                          code="voting_closed")


def check_not_hidden(note: dict[str, Any]) -> None:
    """A note the facilitator took down stays down: its author cannot change it."""
    if note["hidden"]:
        raise IllegalMove("The facilitator has hidden that note, so it cannot be changed.",
                          code="note_hidden")


def check_merge(source: dict[str, Any], target: dict[str, Any]) -> None:
    """A note merges into another note of the same stage, never into itself."""
    if source["id"] == target["id"]:
        raise IllegalMove("A note cannot be merged into itself.", code="bad_merge")
    if source["stage_index"] != target["stage_index"]:
        raise IllegalMove("Only notes of the same stage can be merged.", code="bad_merge")
