"""Creating events before the day: from a template, topics and a number of tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from .domain.credentials import new_id, new_join_code
from .domain.errors import InvalidPayload, NotFound
from .domain.model import EventStatus
from .domain.template import Template, TemplateError, parse_template
from .links import Links
from .store import Database
from .store import queries as q

MAX_TABLES = 1000


def template_files(directory: Path) -> list[Path]:
    """The template files in ``directory``, by name."""
    return sorted(directory.glob("*.toml"))


def load_template(directory: Path, name: str) -> Template:
    """Load and validate the template ``name`` from ``directory``."""
    path = directory / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(p.stem for p in template_files(directory)) or "none"
        raise TemplateError(f"There is no template called {name!r} (known: {known}).",
                            code="unknown_template")
    return parse_template(path.read_text(encoding="utf-8"), source=str(path), expected_name=name)


def read_topics_file(path: Path) -> list[str]:
    """Topic titles from a file, one per line; blank lines and ``#`` comments are skipped."""
    titles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            titles.append(line[:120])
    return titles


@dataclass(frozen=True, slots=True)
class TopicSpec:
    title: str
    brief: str = ""


async def create_event(
    db: Database,
    template: Template,
    *,
    title: str,
    topics: list[TopicSpec],
    tables: int,
    venue: str = "",
    date: str | None = None,
) -> str:
    """Create a draft event with its topics and tables (shared out across the topics)."""
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidPayload("The event needs a title of 1 to 200 characters.")
    if not 1 <= tables <= MAX_TABLES:
        raise InvalidPayload(f"An event has between 1 and {MAX_TABLES} tables.")
    if not topics:
        raise InvalidPayload("The event needs at least one topic.")
    # Join codes are random; a clash with another event's code is vanishingly
    # rare but possible, and the unique index turns it into a retry.
    for _ in range(5):
        try:
            return await _insert_event(db, template, title, topics, tables, venue, date)
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate unique join codes")


async def _insert_event(db: Database, template: Template, title: str, topics: list[TopicSpec],
                        tables: int, venue: str, date: str | None) -> str:
    event_id = new_id()
    async with db.write() as conn:
        await q.insert_event(conn, id=event_id, title=title, venue=venue, starts_on=date,
                             template_name=template.name, template=template.to_data(),
                             status=EventStatus.DRAFT.value, stage_index=0)
        topic_ids = [
            await q.insert_topic(conn, event_id=event_id, position=i, title=t.title,
                                 brief=t.brief)
            for i, t in enumerate(topics)
        ]
        for number in range(1, tables + 1):
            await q.insert_table(conn, id=new_id(), event_id=event_id, number=number,
                                 topic_id=topic_ids[(number - 1) % len(topic_ids)],
                                 join_code=new_join_code())
    return event_id


async def event_links(db: Database, links: Links, event_id: str) -> dict[str, Any]:
    """Every link of an event, as ``plenary event create --json`` prints them."""
    async with db.read() as conn:
        event = await q.event_row(conn, event_id)
        if event is None:
            raise NotFound(f"There is no event {event_id!r}.")
        tables = await q.tables_of_event(conn, event_id)
    return {
        "id": event["id"],
        "title": event["title"],
        "status": event["status"],
        "template": event["template_name"],
        "organiser_url": links.organiser(event["id"], event["organiser_gen"]),
        "dashboard_url": links.dashboard(event["id"], event["dashboard_gen"]),
        "join_url": links.join_page(),
        "tables": [
            {
                "number": t["number"],
                "topic": t["topic_title"],
                "join_code": t["join_code"],
                "participant_url": links.participant(t["join_code"]),
                "facilitator_url": links.facilitator(t["id"], t["facilitator_gen"]),
            }
            for t in tables
        ],
    }
