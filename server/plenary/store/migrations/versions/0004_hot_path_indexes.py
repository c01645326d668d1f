"""hot path indexes

Indexes on the foreign keys the hot paths filter on: a table's votes (counts
per note), a table's groups (snapshots), and a partial index on the notes still
private (what a stage move reveals).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_votes_table_note', 'votes', ['table_id', 'note_id'])
    op.create_index('ix_note_groups_table_id', 'note_groups', ['table_id'])
    op.create_index('ix_notes_private', 'notes', ['table_id'],
                    sqlite_where=sa.text('private'), postgresql_where=sa.text('private'))


def downgrade() -> None:
    op.drop_index('ix_notes_private', table_name='notes')
    op.drop_index('ix_note_groups_table_id', table_name='note_groups')
    op.drop_index('ix_votes_table_note', table_name='votes')
