"""Before the day: templates on disk, topic files, and what the set-up screens read.

The set-up's changes themselves are actions (``plenary.actions.setup``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from .actions.transaction import read
from .domain.errors import NotFound
from .domain.template import Template, TemplateError, parse_template
from .links import Links
from .store import Database
from .store import queries as q


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


async def event_links(db: Database, links: Links, event_id: str) -> dict[str, Any]:
    """Every link of an event, as ``plenary event create --json`` prints them."""
    event, tables, _ = await read(db, _event_and_tables, event_id, False)
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
    event, tables, topics = await read(db, _event_and_tables, event_id, True)
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


def _event_and_tables(conn: Connection, event_id: str,
                      with_topics: bool) -> tuple[dict[str, Any], list[Any], list[Any]]:
    event = q.event_row(conn, event_id)
    if event is None:
        raise NotFound("There is no such event.")
    topics = q.topics_of_event(conn, event_id) if with_topics else []
    return event, q.tables_of_event(conn, event_id), topics
