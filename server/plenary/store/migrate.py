"""Run Alembic migrations programmatically on a connection we already hold."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations (and at ``connection``, if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_to_head(connection: sa.Connection) -> None:
    """Apply every migration not yet applied, inside the caller's transaction."""
    command.upgrade(alembic_config(connection), "head")
