"""Run Alembic migrations programmatically on a connection we already hold.

Every start of the server migrates; almost always there is nothing to do. The
chain's head is read from the migration files' text and compared with the
database's ``alembic_version`` first, so that a restart at head never imports
Alembic or loads its scripts (a few hundred milliseconds every phone waits for).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

MIGRATIONS = Path(__file__).with_name("migrations")

_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.M)


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """An Alembic config pointing at our migrations (and at ``connection``, if given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revisions() -> set[str]:
    """The heads of the migration chain: revisions no other migration builds on."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if match := _REVISION.search(text):
            revisions.add(match.group(1))
        if match := _DOWN.search(text):
            below.update(re.findall(r"['\"]([^'\"]+)['\"]", match.group(1)))
    return revisions - below


def at_head(connection: sa.Connection) -> bool:
    """Whether the database's schema is already at the chain's head."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return False
    current = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return set(current.scalars()) == head_revisions()


def upgrade_to_head(connection: sa.Connection) -> None:
    """Apply every migration not yet applied, inside the caller's transaction."""
    if at_head(connection):
        return
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
