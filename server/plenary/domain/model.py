"""The event's state as the rules see it: plain frozen dataclasses, no storage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .template import Stage, Step, Template


class EventStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class EventState:
    id: str
    status: EventStatus
    stage_index: int
    template: Template

    @property
    def stage(self) -> Stage:
        return self.template.stages[self.stage_index]


@dataclass(frozen=True, slots=True)
class TableState:
    id: str
    event_id: str
    stage_index: int
    step_index: int

    def stage(self, template: Template) -> Stage:
        return template.stages[self.stage_index]

    def step(self, template: Template) -> Step:
        return self.stage(template).steps[self.step_index]
