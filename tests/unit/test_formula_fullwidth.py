"""Full-width formula signs are formulas too, to a spreadsheet with an East Asian locale
(issue 8, item 11): Excel turns a leading ＝ ＋ － ＠ into = + - @ when a cell is entered."""

from __future__ import annotations

import io

import openpyxl
import pytest
from openpyxl import Workbook
from plenary.export._text import neutralise_formula
from plenary.export.csvfmt import cell
from plenary.export.xlsx import _Sheet

FULL_WIDTH = ["＝1+1", "＋1", "－1", "＠SUM(A1)", '＝HYPERLINK("http://evil","x")']


@pytest.mark.parametrize("text", FULL_WIDTH)
def test_csv_neutralises_full_width_formula_signs(text):
    assert neutralise_formula(text) == "'" + text
    assert cell(text) == "'" + text


def test_xlsx_stores_every_formula_like_text_as_quoted_text():
    wb = Workbook(write_only=True)
    sheet = _Sheet(wb, "Notes", ("Note", "Author"), wrap=frozenset({"Note"}))
    texts = [*FULL_WIDTH, "=1+1", "+1", "@x"]
    sheet.append([(t, t) for t in texts] + [("plain", "plain")])
    sheet.finish()
    out = io.BytesIO()
    wb.save(out)
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Notes"]
    rows = list(ws.iter_rows(min_row=2))
    for (note, author), text in zip(rows, texts, strict=False):
        for c in (note, author):
            assert c.value == text and c.data_type == "s", text  # kept exactly, as text
            # Quote-prefixed: Excel keeps it text even when someone edits the cell.
            assert c.quotePrefix, text
    assert not rows[-1][1].quotePrefix
