"""The quick "already at head?" check agrees with Alembic, so skipping is safe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from plenary.store.migrate import alembic_config, at_head, head_revisions, upgrade_to_head


def test_the_head_read_from_the_files_is_alembics_head():
    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_at_head_only_after_every_migration(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        assert not at_head(conn)  # an empty database
        upgrade_to_head(conn)
        assert at_head(conn)
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
        assert not at_head(conn)  # behind: Alembic runs
    engine.dispose()
