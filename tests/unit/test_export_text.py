"""The text rules every export format relies on: formulas, escaping, direction, names."""

from __future__ import annotations

import pytest
from plenary.export._text import (
    is_rtl,
    iso_utc,
    long_date,
    neutralise_formula,
    plural,
    slug,
    utc_text,
    xml_safe,
)
from plenary.export.csvfmt import cell
from plenary.export.html import e
from plenary.export.markdown import md, md_block


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx",
                                  '=HYPERLINK("http://evil","x")'])
def test_formula_triggers_get_an_apostrophe(text):
    assert neutralise_formula(text) == "'" + text
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Plain", "1 + 1 = 2", "", "'already", "email a@b.c",
                                  " =leading space"])
def test_other_text_is_left_alone(text):
    assert neutralise_formula(text) == text


def test_csv_cells():
    assert cell(None) == "" and cell(True) == "yes" and cell(False) == "no" and cell(3) == "3"


def test_xml_safe_replaces_only_what_xml_cannot_hold():
    assert xml_safe("a\x00b\x0bc\td\ne") == "a\ufffdb\ufffdc\td\ne"
    assert xml_safe("👨‍👩‍👧 שלום") == "👨‍👩‍👧 שלום"


@pytest.mark.parametrize(("text", "rtl"), [
    ("שלום עולם", True), ("مرحبا بالعالم", True), ("Hello שלום", False),
    ("123 שלום", True), ("👩🏽‍🚀 مرحبا", True), ("👩🏽‍🚀", False), ("", False)])
def test_direction_follows_the_first_strong_character(text, rtl):
    assert is_rtl(text) is rtl


def test_times_and_names():
    assert utc_text(0) == "1970-01-01 00:00:00" and utc_text(None) == ""
    assert iso_utc(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"
    assert long_date("2025-03-14") == "14 March 2025"
    assert long_date("next spring") == "next spring" and long_date(None) == ""
    assert plural(1, "vote") == "1 vote" and plural(1512, "note") == "1,512 notes"
    assert slug("Spring assembly: Café & co-ops!") == "spring-assembly-cafe-co-ops"
    assert slug("שלום") == ""


def test_html_escapes_markup_and_quotes():
    assert e('<script>"x"</script>&\'') == "&lt;script&gt;&quot;x&quot;&lt;/script&gt;&amp;&#x27;"


@pytest.mark.parametrize(("text", "escaped"), [
    ("# not a heading", "\\# not a heading"),
    ("- not a list", "\\- not a list"),
    ("+ not a list", "\\+ not a list"),
    ("1. not a list", "1\\. not a list"),
    ("12) not a list", "12\\) not a list"),
    ("=== not a heading", "\\=== not a heading"),
    ("**not bold** _nor this_", "\\*\\*not bold\\*\\* \\_nor this\\_"),
    ("[a link](http://x)", "\\[a link\\](http://x)"),
    ("<b>raw html</b> &amp;", "\\<b\\>raw html\\</b\\> \\&amp;"),
    ("`code` | cell ~strike~", "\\`code\\` \\| cell \\~strike\\~"),
    ("back\\slash", "back\\\\slash"),
    ("mid-word hyphen and 3.5 numbers", "mid-word hyphen and 3.5 numbers"),
    ("👨‍👩‍👧‍👦 שלום", "👨‍👩‍👧‍👦 שלום"),
])
def test_markdown_escapes_what_would_become_markup(text, escaped):
    assert md(text) == escaped


def test_markdown_keeps_the_lines_of_a_note_in_one_item():
    assert md_block("first\n\n- second\n# third", "  ") == "first\\\n  \\- second\\\n  \\# third"
