"""Creating events before the day: from a template, topics and a number of tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from .domain import rules
from .domain.credentials import new_id, new_join_code
from .domain.errors import Conflict, InvalidPayload, NotFound
from .domain.model import EventStatus
from .domain.template import Template, TemplateError, parse_template
from .domain.topics_csv import TopicSpec
from .links import Links
from .store import Database
from .store import queries as q

MAX_TABLES = 1000
MAX_TABLE_NUMBER = 10_000


def template_files(directory: Path) -> list[Path]:
    """The template files in ``directory``, by name."""
    return sorted(directory.glob("*.toml"))


#: What a template may be called: its file name without ``.toml`` (and its ``name``
#: key). Checked before any path is built, so a name can never reach outside the
#: templates folder ("../pyproject", "/etc/passwd").
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def load_template(directory: Path, name: str) -> Template:
    """Load and validate the template ``name`` from ``directory``.

    Errors name the file (``alchemy.toml``), never where the server keeps it.
    """
    path = directory / f"{name}.toml"
    if not TEMPLATE_NAME.fullmatch(name) or not path.is_file():
        known = ", ".join(p.stem for p in template_files(directory)) or "none"
        raise TemplateError(f"There is no template called {name[:40]!r} (known: {known}).",
                            code="unknown_template")
    return parse_template(path.read_text(encoding="utf-8"), source=path.name,
                          expected_name=name)


def read_topics_file(path: Path) -> list[str]:
    """Topic titles from a file, one per line; blank lines and ``#`` comments are skipped."""
    titles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            titles.append(line[:120])
    return titles


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
    if not 0 <= tables <= MAX_TABLES:
        raise InvalidPayload(f"An event has at most {MAX_TABLES} tables.")
    if not topics and tables:
        raise InvalidPayload("The event needs at least one topic for its tables.")
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


# --- editing the set-up (the organiser console) -------------------------------

async def setup_view(db: Database, links: Links, event_id: str) -> dict[str, Any]:
    """Everything the console's set-up screen shows for one event."""
    async with db.read() as conn:
        event = await q.event_row(conn, event_id)
        if event is None:
            raise NotFound("There is no such event.")
        topics = await q.topics_of_event(conn, event_id)
        tables = await q.tables_of_event(conn, event_id)
    base = links.base
    return {
        "event": {"id": event["id"], "title": event["title"], "date": event["starts_on"],
                  "venue": event["venue"], "status": event["status"],
                  "template": event["template_name"], "stage": event["stage_index"]},
        "links": {
            "organiser_url": links.organiser(event_id, event["organiser_gen"]),
            "dashboard_url": links.dashboard(event_id, event["dashboard_gen"]),
            "join_url": links.join_page(),
            "cards_url": f"{base}/events/{event_id}/cards",
            "facilitators_url": f"{base}/events/{event_id}/facilitators",
        },
        "topics": [{"id": t["id"], "position": t["position"], "title": t["title"],
                    "brief": t["brief"]} for t in topics],
        "tables": [{"id": t["id"], "number": t["number"], "topic_id": t["topic_id"],
                    "topic": t["topic_title"], "facilitator_name": t["facilitator_name"],
                    "join_code": t["join_code"],
                    "participant_url": links.participant(t["join_code"]),
                    "facilitator_url": links.facilitator(t["id"], t["facilitator_gen"])}
                   for t in tables],
    }


async def _draft(conn: Any, event_id: str, doing: str) -> dict[str, Any]:
    event = await q.event_row(conn, event_id)
    if event is None:
        raise NotFound("There is no such event.")
    rules.require_draft(EventStatus(event["status"]), doing)
    return event


async def update_event(db: Database, event_id: str, *, title: str | None = None,
                       date: str | None = None, venue: str | None = None) -> None:
    """Change the event's title, date or venue (before it goes live)."""
    values: dict[str, Any] = {}
    if title is not None:
        title = " ".join(title.split())
        if not title or len(title) > 200:
            raise InvalidPayload("The event needs a title of 1 to 200 characters.")
        values["title"] = title
    if date is not None:
        values["starts_on"] = date or None
    if venue is not None:
        values["venue"] = " ".join(venue.split())[:200]
    async with db.write() as conn:
        await _draft(conn, event_id, "change the event's details")
        await q.update_event(conn, event_id, **values)


async def add_topics(db: Database, event_id: str, topics: list[TopicSpec]) -> None:
    """Append topics (from the form or a CSV file)."""
    async with db.write() as conn:
        await _draft(conn, event_id, "add topics")
        existing = await q.topics_of_event(conn, event_id)
        taken = {t["title"] for t in existing}
        for spec in topics:
            if spec.title in taken:
                raise Conflict(f"There is already a topic called {spec.title!r}.",
                               code="duplicate_topic")
            taken.add(spec.title)
        for i, spec in enumerate(topics, start=len(existing)):
            await q.insert_topic(conn, event_id=event_id, position=i, title=spec.title,
                                 brief=spec.brief)


async def update_topic(db: Database, event_id: str, topic_id: int, *, title: str | None,
                       brief: str | None) -> None:
    """Change a topic's title or brief (before the event goes live)."""
    async with db.write() as conn:
        await _draft(conn, event_id, "change topics")
        topic = await q.topic_of(conn, topic_id)
        if topic is None or topic["event_id"] != event_id:
            raise NotFound("There is no such topic in this event.")
        values: dict[str, Any] = {}
        if title is not None:
            title = " ".join(title.split())
            if not 1 <= len(title) <= 120:
                raise InvalidPayload("A topic title has 1 to 120 characters.")
            values["title"] = title
        if brief is not None:
            if len(brief) > 2000:
                raise InvalidPayload("A brief has at most 2,000 characters.")
            values["brief"] = brief.strip()
        await q.update_topic(conn, topic_id, **values)


async def delete_topic(db: Database, event_id: str, topic_id: int) -> None:
    """Remove a topic that no table uses."""
    async with db.write() as conn:
        await _draft(conn, event_id, "remove topics")
        tables = await q.tables_of_event(conn, event_id)
        if any(t["topic_id"] == topic_id for t in tables):
            raise Conflict("A table still has this topic; give it another topic first.",
                           code="topic_in_use")
        await q.delete_topic(conn, event_id, topic_id)


async def add_tables(db: Database, event_id: str, *, count: int = 1, number: int | None = None,
                     topic_id: int | None = None, facilitator_name: str | None = None) -> None:
    """Add tables; without a topic, they share out the topics in turn."""
    if not 1 <= count <= MAX_TABLES:
        raise InvalidPayload(f"Add between 1 and {MAX_TABLES} tables.")
    async with db.write() as conn:
        await _draft(conn, event_id, "add tables")
        topics = await q.topics_of_event(conn, event_id)
        if not topics:
            raise InvalidPayload("Add a topic before adding tables.", code="no_topics")
        if topic_id is not None and topic_id not in {t["id"] for t in topics}:
            raise NotFound("There is no such topic in this event.")
        tables = await q.tables_of_event(conn, event_id)
        if len(tables) + count > MAX_TABLES:
            raise InvalidPayload(f"An event has at most {MAX_TABLES} tables.")
        first = max((t["number"] for t in tables), default=0) + 1
        if number is not None:
            if count != 1 or not 1 <= number <= MAX_TABLE_NUMBER:
                raise InvalidPayload("Give one table a number from 1 to 10,000.")
            if number in {t["number"] for t in tables}:
                raise Conflict(f"Another table already has the number {number}.",
                               code="duplicate_number")
            first = number
        for number in range(first, first + count):
            await q.insert_table(
                conn, id=new_id(), event_id=event_id, number=number,
                topic_id=topic_id or topics[(number - 1) % len(topics)]["id"],
                join_code=new_join_code(), facilitator_name=_name(facilitator_name))


async def update_table(db: Database, event_id: str, table_id: str, *,
                       number: int | None = None, topic_id: int | None = None,
                       facilitator_name: str | None = None) -> None:
    """Change a table's number or topic (before the event is live) or its facilitator."""
    async with db.write() as conn:
        table = await q.table_row(conn, table_id)
        if table is None or table["event_id"] != event_id:
            raise NotFound("There is no such table in this event.")
        values: dict[str, Any] = {}
        if number is not None or topic_id is not None:
            await _draft(conn, event_id, "renumber tables or change their topics")
        if number is not None:
            if not 1 <= number <= MAX_TABLE_NUMBER:
                raise InvalidPayload("Table numbers run from 1 to 10,000.")
            values["number"] = number
        if topic_id is not None:
            topic = await q.topic_of(conn, topic_id)
            if topic is None or topic["event_id"] != event_id:
                raise NotFound("There is no such topic in this event.")
            values["topic_id"] = topic_id
        if facilitator_name is not None:
            values["facilitator_name"] = _name(facilitator_name)
        try:
            await q.set_table(conn, table_id, **values)
        except IntegrityError:
            raise Conflict(f"Another table already has the number {number}.",
                           code="duplicate_number") from None


async def delete_table(db: Database, event_id: str, table_id: str) -> None:
    """Remove a table (before the event goes live)."""
    async with db.write() as conn:
        await _draft(conn, event_id, "remove tables")
        table = await q.table_row(conn, table_id)
        if table is None or table["event_id"] != event_id:
            raise NotFound("There is no such table in this event.")
        await q.delete_table(conn, table_id)


async def regenerate(db: Database, event_id: str, table_id: str, what: str) -> None:
    """Replace a table's join code or facilitator link; the old one stops working."""
    async with db.write() as conn:
        table = await q.table_row(conn, table_id)
        if table is None or table["event_id"] != event_id:
            raise NotFound("There is no such table in this event.")
        if what == "join_code":
            await q.set_table(conn, table_id, join_code=new_join_code())
        elif what == "facilitator_link":
            await q.set_table(conn, table_id, facilitator_gen=table["facilitator_gen"] + 1)
        else:
            raise InvalidPayload("Regenerate 'join_code' or 'facilitator_link'.")


def _name(name: str | None) -> str | None:
    name = " ".join((name or "").split())[:80]
    return name or None
