"""Small builders for domain objects, so tests say only what matters to them."""

from __future__ import annotations

from plenary.domain.model import EventState, EventStatus, TableState
from plenary.domain.template import Template, template_from_data


def template(**overrides: object) -> Template:
    """A two-stage template: private write → reveal → vote, then discuss with categories."""
    data: dict[str, object] = {
        "schema": 1,
        "name": "test",
        "title": "Test",
        "stages": [
            {"id": "one", "title": "One", "prompt": "First?", "steps": [
                {"kind": "write", "private": True}, {"kind": "reveal"}, {"kind": "vote"}]},
            {"id": "two", "title": "Two", "prompt": "Second?",
             "categories": [{"id": "barrier", "label": "Barrier"},
                            {"id": "enabler", "label": "Enabler"}],
             "steps": [{"kind": "discuss"}, {"kind": "summarise"}]},
        ],
    }
    data.update(overrides)
    return template_from_data(data, source="test.toml")


def event(status: EventStatus = EventStatus.LIVE, stage: int = 0) -> EventState:
    return EventState(id="ev", status=status, stage_index=stage, template=template())


def table(stage: int = 0, step: int = 0) -> TableState:
    return TableState(id="t1", event_id="ev", stage_index=stage, step_index=step)
