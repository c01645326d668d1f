"""Setting an event up before the day: create it, edit its topics and tables, new codes.

Each public function runs one body through the write path, like every other change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..domain import rules
from ..domain.credentials import new_id, new_join_code
from ..domain.errors import Conflict, InvalidPayload, NotFound
from ..domain.model import EventStatus
from ..domain.template import Template
from ..domain.topics_csv import TopicSpec
from ..store import Database
from ..store import queries as q
from .common import Row
from .transaction import write_path

MAX_TABLES = 1000
MAX_TABLE_NUMBER = 10_000


async def create_event(db: Database, template: Template, *, title: str,
                       topics: list[TopicSpec], tables: int, venue: str = "",
                       date: str | None = None) -> str:
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
            return await write_path(db).run(_insert_event, template, title, topics, tables,
                                            venue, date)
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate unique join codes")


def _insert_event(conn: Connection, template: Template, title: str, topics: list[TopicSpec],
                  tables: int, venue: str, date: str | None) -> str:
    event_id = new_id()
    q.insert_event(conn, id=event_id, title=title, venue=venue, starts_on=date,
                   template_name=template.name, template=template.to_data(),
                   status=EventStatus.DRAFT.value, stage_index=0)
    topic_ids = [q.insert_topic(conn, event_id=event_id, position=i, title=t.title,
                                brief=t.brief)
                 for i, t in enumerate(topics)]
    for number in range(1, tables + 1):
        q.insert_table(conn, id=new_id(), event_id=event_id, number=number,
                       topic_id=topic_ids[(number - 1) % len(topic_ids)],
                       join_code=new_join_code())
    return event_id


def _draft(conn: Connection, event_id: str, doing: str) -> Row:
    event = q.event_row(conn, event_id, lock="update")
    if event is None:
        raise NotFound("There is no such event.")
    rules.require_draft(EventStatus(event["status"]), doing)
    return event


def _table_of(conn: Connection, event_id: str, table_id: str) -> Row:
    table = q.table_row(conn, table_id, lock="update")
    if table is None or table["event_id"] != event_id:
        raise NotFound("There is no such table in this event.")
    return table


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

    def body(conn: Connection) -> None:
        _draft(conn, event_id, "change the event's details")
        q.update_event(conn, event_id, **values)
    await write_path(db).run(body)


async def add_topics(db: Database, event_id: str, topics: list[TopicSpec]) -> None:
    """Append topics (from the form or a CSV file)."""
    def body(conn: Connection) -> None:
        _draft(conn, event_id, "add topics")
        existing = q.topics_of_event(conn, event_id)
        taken = {t["title"] for t in existing}
        for spec in topics:
            if spec.title in taken:
                raise Conflict(f"There is already a topic called {spec.title!r}.",
                               code="duplicate_topic")
            taken.add(spec.title)
        for i, spec in enumerate(topics, start=len(existing)):
            q.insert_topic(conn, event_id=event_id, position=i, title=spec.title,
                           brief=spec.brief)
    await write_path(db).run(body)


async def update_topic(db: Database, event_id: str, topic_id: int, *, title: str | None,
                       brief: str | None) -> None:
    """Change a topic's title or brief (before the event goes live)."""
    def body(conn: Connection) -> None:
        _draft(conn, event_id, "change topics")
        topic = q.topic_of(conn, topic_id)
        if topic is None or topic["event_id"] != event_id:
            raise NotFound("There is no such topic in this event.")
        values: dict[str, Any] = {}
        if title is not None:
            clean = " ".join(title.split())
            if not 1 <= len(clean) <= 120:
                raise InvalidPayload("A topic title has 1 to 120 characters.")
            values["title"] = clean
        if brief is not None:
            if len(brief) > 2000:
                raise InvalidPayload("A brief has at most 2,000 characters.")
            values["brief"] = brief.strip()
        q.update_topic(conn, topic_id, **values)
    await write_path(db).run(body)


async def delete_topic(db: Database, event_id: str, topic_id: int) -> None:
    """Remove a topic that no table uses."""
    def body(conn: Connection) -> None:
        _draft(conn, event_id, "remove topics")
        if any(t["topic_id"] == topic_id for t in q.tables_of_event(conn, event_id)):
            raise Conflict("A table still has this topic; give it another topic first.",
                           code="topic_in_use")
        q.delete_topic(conn, event_id, topic_id)
    await write_path(db).run(body)


async def add_tables(db: Database, event_id: str, *, count: int = 1, number: int | None = None,
                     topic_id: int | None = None, facilitator_name: str | None = None) -> None:
    """Add tables; without a topic, they share out the topics in turn."""
    if not 1 <= count <= MAX_TABLES:
        raise InvalidPayload(f"Add between 1 and {MAX_TABLES} tables.")

    def body(conn: Connection) -> None:
        _draft(conn, event_id, "add tables")
        topics = q.topics_of_event(conn, event_id)
        if not topics:
            raise InvalidPayload("Add a topic before adding tables.", code="no_topics")
        if topic_id is not None and topic_id not in {t["id"] for t in topics}:
            raise NotFound("There is no such topic in this event.")
        tables = q.tables_of_event(conn, event_id)
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
        for n in range(first, first + count):
            q.insert_table(conn, id=new_id(), event_id=event_id, number=n,
                           topic_id=topic_id or topics[(n - 1) % len(topics)]["id"],
                           join_code=new_join_code(), facilitator_name=_name(facilitator_name))
    await write_path(db).run(body)


async def update_table(db: Database, event_id: str, table_id: str, *,
                       number: int | None = None, topic_id: int | None = None,
                       facilitator_name: str | None = None) -> None:
    """Change a table's number or topic (before the event is live) or its facilitator."""
    def body(conn: Connection) -> None:
        _table_of(conn, event_id, table_id)
        values: dict[str, Any] = {}
        if number is not None or topic_id is not None:
            _draft(conn, event_id, "renumber tables or change their topics")
        if number is not None:
            if not 1 <= number <= MAX_TABLE_NUMBER:
                raise InvalidPayload("Table numbers run from 1 to 10,000.")
            values["number"] = number
        if topic_id is not None:
            topic = q.topic_of(conn, topic_id)
            if topic is None or topic["event_id"] != event_id:
                raise NotFound("There is no such topic in this event.")
            values["topic_id"] = topic_id
        if facilitator_name is not None:
            values["facilitator_name"] = _name(facilitator_name)
        q.set_table(conn, table_id, **values)
    try:
        await write_path(db).run(body)
    except IntegrityError:
        raise Conflict(f"Another table already has the number {number}.",
                       code="duplicate_number") from None


async def delete_table(db: Database, event_id: str, table_id: str) -> None:
    """Remove a table (before the event goes live)."""
    def body(conn: Connection) -> None:
        _draft(conn, event_id, "remove tables")
        _table_of(conn, event_id, table_id)
        q.delete_table(conn, table_id)
    await write_path(db).run(body)


async def regenerate(db: Database, event_id: str, table_id: str, what: str) -> None:
    """Replace a table's join code or facilitator link; the old one stops working."""
    if what not in ("join_code", "facilitator_link"):
        raise InvalidPayload("Regenerate 'join_code' or 'facilitator_link'.")

    def body(conn: Connection) -> None:
        table = _table_of(conn, event_id, table_id)
        if what == "join_code":
            q.set_table(conn, table_id, join_code=new_join_code())
        else:
            q.set_table(conn, table_id, facilitator_gen=table["facilitator_gen"] + 1)
    await write_path(db).run(body)


#: The event-wide links that can be replaced, and the generation column of each.
EVENT_LINKS = {"organiser_link": "organiser_gen", "dashboard_link": "dashboard_gen"}


async def regenerate_link(db: Database, event_id: str, what: str) -> int:
    """Replace the event's organiser or dashboard link; returns its new generation."""
    column = EVENT_LINKS.get(what)
    if column is None:
        raise InvalidPayload("Replace 'organiser_link' or 'dashboard_link'.")

    def body(conn: Connection) -> int:
        event = q.event_row(conn, event_id)
        if event is None:
            raise NotFound("There is no such event.")
        gen = event[column] + 1
        q.update_event(conn, event_id, **{column: gen})
        return gen
    return await write_path(db).run(body)


def _name(name: str | None) -> str | None:
    name = " ".join((name or "").split())[:80]
    return name or None
