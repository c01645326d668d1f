"""The event's state as the rules see it: plain frozen dataclasses, no storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .template import Stage, Step, Template, template_from_data


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


# An event's template is stored with it and never changes once the event exists,
# so its parse is cached by the event's identity (id and creation time: a cheap
# key, unlike hashing the template's contents on every action).
_TEMPLATE_CACHE_SIZE = 256
_templates: dict[tuple[str, int], Template] = {}


def event_template(row: Mapping[str, Any]) -> Template:
    """The event's template, parsed once per event and process."""
    key = (row["id"], row["created_ms"])
    cached = _templates.get(key)
    if cached is None:
        cached = template_from_data(row["template"], source=f"event {row['id']}")
        if len(_templates) >= _TEMPLATE_CACHE_SIZE:
            _templates.clear()
        _templates[key] = cached
    return cached


def event_state(row: Mapping[str, Any]) -> EventState:
    """The rules' view of an event row."""
    return EventState(id=row["id"], status=EventStatus(row["status"]),
                      stage_index=row["stage_index"], template=event_template(row))


def table_state(row: Mapping[str, Any]) -> TableState:
    """The rules' view of a table row."""
    return TableState(id=row["id"], event_id=row["event_id"], stage_index=row["stage_index"],
                      step_index=row["step_index"])
