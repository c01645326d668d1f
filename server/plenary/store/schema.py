"""The database schema as SQLAlchemy Core tables. Alembic migrations create it.

Times are integer milliseconds since the epoch (UTC): portable across SQLite and
PostgreSQL, and exact when compared or sorted.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("venue", sa.String(200), nullable=False, server_default=""),
    sa.Column("starts_on", sa.String(10)),
    sa.Column("template_name", sa.String(40), nullable=False),
    # The template as it was when the event was created: editing a template file
    # later must not change an event that already has notes against its stages.
    sa.Column("template", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False, server_default="0"),
    sa.Column("organiser_gen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("dashboard_gen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    # The stage timer: the server holds the end time so every screen agrees.
    sa.Column("timer_state", sa.String(10), nullable=False, server_default="stopped"),
    sa.Column("timer_ends_ms", sa.BigInteger),
    sa.Column("timer_remaining_ms", sa.BigInteger),
    sa.Column("message", sa.String(140)),
    sa.Column("spotlight", sa.JSON),
    sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
)

topics = sa.Table(
    "topics",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(16), sa.ForeignKey("events.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("brief", sa.Text, nullable=False, server_default=""),
)

board_tables = sa.Table(
    "board_tables",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("event_id", sa.String(16), sa.ForeignKey("events.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id")),
    sa.Column("join_code", sa.String(16), nullable=False, unique=True),
    sa.Column("facilitator_name", sa.String(80)),
    sa.Column("facilitator_gen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stage_index", sa.Integer, nullable=False, server_default="0"),
    sa.Column("step_index", sa.Integer, nullable=False, server_default="0"),
    # The last sequence number given to a change of this table's board.
    sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
    # The facilitator's "ready for the next stage"; cleared when the stage moves.
    sa.Column("ready", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("event_id", "number", name="uq_board_tables_event_number"),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("table_id", sa.String(16), sa.ForeignKey("board_tables.id"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(80)),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("table_id", "key_hash", name="uq_participants_table_key"),
)

notes = sa.Table(
    "notes",
    metadata,
    # Chosen by the client, so that a retried post is recognised and not duplicated.
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("table_id", sa.String(16), sa.ForeignKey("board_tables.id"), nullable=False),
    sa.Column("participant_id", sa.String(16), sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("step_index", sa.Integer, nullable=False),
    sa.Column("category", sa.String(40)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(80)),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("created_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger),
    sa.Column("deleted_ms", sa.BigInteger),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("starred", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("group_id", sa.String(64)),
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    # Written during a private (silent) writing step and not yet revealed.
    sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
    # Merged by the facilitator into another note (which took its votes).
    sa.Column("merged_into", sa.String(64)),
    sa.Index("ix_notes_table_stage", "table_id", "stage_index"),
    # What a stage move reveals: few rows at any moment, found without a scan.
    sa.Index("ix_notes_private", "table_id", sqlite_where=sa.text("private"),
             postgresql_where=sa.text("private")),
)

# Dot votes: a participant may put several dots on one note, up to the stage's limit.
votes = sa.Table(
    "votes",
    metadata,
    # Chosen by the client, so that a retried vote is not counted twice.
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("table_id", sa.String(16), sa.ForeignKey("board_tables.id"), nullable=False),
    sa.Column("note_id", sa.String(64), sa.ForeignKey("notes.id"), nullable=False, index=True),
    sa.Column("participant_id", sa.String(16), sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Index("ix_votes_participant_stage", "participant_id", "stage_index"),
    # A table's counts per note (snapshots, the reveal of a blind vote).
    sa.Index("ix_votes_table_note", "table_id", "note_id"),
)

# Clusters of notes the facilitator made, with a short label.
note_groups = sa.Table(
    "note_groups",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("table_id", sa.String(16), sa.ForeignKey("board_tables.id"), nullable=False,
              index=True),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("label", sa.String(80), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
)

# The facilitator's summary of each stage at their table.
summaries = sa.Table(
    "summaries",
    metadata,
    sa.Column("table_id", sa.String(16), sa.ForeignKey("board_tables.id"), primary_key=True),
    sa.Column("stage_index", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# Every change to a table's board, in order: what a reconnecting client replays.
changes = sa.Table(
    "changes",
    metadata,
    sa.Column("table_id", sa.String(16), sa.ForeignKey("board_tables.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    # Set when only this participant (and staff) may see the change's content:
    # a note in silent writing, a vote while counts are hidden. Everyone else
    # gets the sequence number with the content left out.
    sa.Column("private_to", sa.String(16)),
)

# One sentence embedding per note (the themes extra), computed off the event loop
# after the note is posted or edited. ``source_ms`` is the note's updated_ms (or
# created_ms) the vector was made from: an edit makes it stale.
note_vectors = sa.Table(
    "note_vectors",
    metadata,
    sa.Column("note_id", sa.String(64), sa.ForeignKey("notes.id"), primary_key=True),
    sa.Column("event_id", sa.String(16), sa.ForeignKey("events.id"), nullable=False, index=True),
    sa.Column("model", sa.String(40), nullable=False),
    sa.Column("source_ms", sa.BigInteger, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)

# Cross-table themes of one stage (and category). The refresher writes the computed
# columns; the organiser writes label, hidden and merged_into, and nothing else
# writes those, so neither overwrites the other.
themes = sa.Table(
    "themes",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("event_id", sa.String(16), sa.ForeignKey("events.id"), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("category", sa.String(40)),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("named_size", sa.Integer, nullable=False, server_default="0"),
    # Note ids, most central first; empty when the theme has no notes now.
    sa.Column("notes", sa.JSON, nullable=False),
    sa.Column("keywords", sa.JSON, nullable=False),
    sa.Column("tables", sa.Integer, nullable=False, server_default="0"),
    sa.Column("topics", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rank", sa.Integer, nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("label", sa.String(80)),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("merged_into", sa.String(16)),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Index("ix_themes_event_stage", "event_id", "stage_index"),
)

# Notes the organiser moved out of a theme: they stay out however it is recomputed.
theme_exclusions = sa.Table(
    "theme_exclusions",
    metadata,
    sa.Column("theme_id", sa.String(16), sa.ForeignKey("themes.id"), primary_key=True),
    sa.Column("note_id", sa.String(64), sa.ForeignKey("notes.id"), primary_key=True),
)

# The organiser consoles signed in now. The signed cookie names one by a random id
# (only its hash is kept here): signing out deletes the row, so a copied cookie
# stops working with the console it was copied from.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False, index=True),
)
