"""The organiser's live controls: the stage timer, a message, the spotlight, locks.

The timer is a small state machine over an end time held by the server, so
every screen can show the same remaining time whatever its own clock says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .errors import IllegalMove, InvalidPayload
from .payloads import check_length

MAX_TIMER_S = 8 * 3600
MESSAGE_MAX = 140


class TimerState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Timer:
    state: TimerState = TimerState.STOPPED
    ends_ms: int | None = None
    remaining_ms: int | None = None

    def remaining(self, now_ms: int) -> int | None:
        """Milliseconds left (never below zero), or None when stopped."""
        if self.state is TimerState.RUNNING and self.ends_ms is not None:
            return max(0, self.ends_ms - now_ms)
        if self.state is TimerState.PAUSED:
            return self.remaining_ms
        return None

    def to_wire(self, now_ms: int) -> dict[str, Any]:
        """The timer as screens see it."""
        return {"state": self.state.value, "ends_at": self.ends_ms,
                "remaining_ms": self.remaining(now_ms)}


def _seconds(seconds: int | None, action: str) -> int:
    if seconds is None or not 1 <= seconds <= MAX_TIMER_S:
        raise InvalidPayload(f"timer.set: '{action}' needs seconds between 1 and {MAX_TIMER_S}.")
    return seconds * 1000


def change_timer(timer: Timer, action: str, seconds: int | None, now_ms: int) -> Timer:
    """The timer after ``action`` (start, pause, resume, extend, stop) at ``now_ms``."""
    if action == "start":
        return Timer(TimerState.RUNNING, now_ms + _seconds(seconds, action), None)
    if action == "stop":
        return Timer()
    if action == "pause":
        if timer.state is not TimerState.RUNNING:
            raise IllegalMove("The timer is not running, so it cannot be paused.",
                              code="timer_state")
        return Timer(TimerState.PAUSED, None, timer.remaining(now_ms))
    if action == "resume":
        if timer.state is not TimerState.PAUSED:
            raise IllegalMove("The timer is not paused, so it cannot be resumed.",
                              code="timer_state")
        return Timer(TimerState.RUNNING, now_ms + (timer.remaining_ms or 0), None)
    if action == "extend":
        extra = _seconds(seconds, action)
        if timer.state is TimerState.RUNNING and timer.ends_ms is not None:
            # An expired timer extends from now, not from when it ran out.
            return replace(timer, ends_ms=max(timer.ends_ms, now_ms) + extra)
        if timer.state is TimerState.PAUSED:
            return replace(timer, remaining_ms=(timer.remaining_ms or 0) + extra)
        raise IllegalMove("Start the timer before extending it.", code="timer_state")
    raise InvalidPayload(f"timer.set: unknown action {action!r}.")


SPOTLIGHT_KINDS = ("table", "topic", "note")


def check_message(text: str | None) -> str | None:
    """A broadcast message: trimmed, one line, at most 140 characters; None clears it."""
    if text is None:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    check_length(text, limit=MESSAGE_MAX, what="message")
    return text


def check_not_locked(event_locked: bool, table_locked: bool, doing: str) -> None:
    """Participants read a locked board but do not change it."""
    if event_locked or table_locked:
        raise IllegalMove(f"Cannot {doing}: the organiser has locked the board for now.",
                          code="board_locked")
