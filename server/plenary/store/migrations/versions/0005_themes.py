"""themes: note vectors, cross-table themes, the organiser's exclusions

Revision ID: 0005
Revises: 0006
Create Date: 2026-12-01 09:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
# Chained on the newest migration on this branch; the coordinator re-chains at merge.
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'note_vectors',
        sa.Column('note_id', sa.String(length=64), nullable=False),
        sa.Column('event_id', sa.String(length=16), nullable=False),
        sa.Column('model', sa.String(length=40), nullable=False),
        sa.Column('source_ms', sa.BigInteger(), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_note_vectors_event_id_events')),
        sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_note_vectors_note_id_notes')),
        sa.PrimaryKeyConstraint('note_id', name=op.f('pk_note_vectors')),
    )
    op.create_index(op.f('ix_note_vectors_event_id'), 'note_vectors', ['event_id'], unique=False)
    op.create_table(
        'themes',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('event_id', sa.String(length=16), nullable=False),
        sa.Column('stage_index', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('named_size', sa.Integer(), server_default='0', nullable=False),
        sa.Column('notes', sa.JSON(), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('tables', sa.Integer(), server_default='0', nullable=False),
        sa.Column('topics', sa.Integer(), server_default='0', nullable=False),
        sa.Column('rank', sa.Integer(), server_default='0', nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=True),
        sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('merged_into', sa.String(length=16), nullable=True),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('updated_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_themes_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    )
    op.create_index('ix_themes_event_stage', 'themes', ['event_id', 'stage_index'], unique=False)
    op.create_table(
        'theme_exclusions',
        sa.Column('theme_id', sa.String(length=16), nullable=False),
        sa.Column('note_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_theme_exclusions_note_id_notes')),
        sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_theme_exclusions_theme_id_themes')),
        sa.PrimaryKeyConstraint('theme_id', 'note_id', name=op.f('pk_theme_exclusions')),
    )


def downgrade() -> None:
    op.drop_table('theme_exclusions')
    op.drop_index('ix_themes_event_stage', table_name='themes')
    op.drop_table('themes')
    op.drop_index(op.f('ix_note_vectors_event_id'), table_name='note_vectors')
    op.drop_table('note_vectors')
