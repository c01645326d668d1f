"""docs/export.md cannot drift from the code: every format, column and field is in it."""

from __future__ import annotations

from plenary.export import FORMATS, record
from plenary.export.columns import NOTE_COLUMNS, SUMMARY_COLUMNS, THEME_COLUMNS

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")


def test_every_format_is_documented():
    for name in FORMATS:
        assert f"`{name}`" in DOC, name


def test_every_spreadsheet_column_is_documented():
    for column in (*NOTE_COLUMNS, *SUMMARY_COLUMNS, *THEME_COLUMNS):
        assert f"`{column}`" in DOC, column


def test_every_field_of_the_record_is_documented():
    assert f"**`schema_version` {record.SCHEMA_VERSION}**" in DOC
    for part, fields in record.FIELDS.items():
        assert f"`{part}" in DOC, part
        for name in fields:
            assert f"`{name}`" in DOC, f"{part}.{name}"
