"""Small text helpers every format shares: times, safety, direction, names."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

#: Rows (XLSX) or notes (DOCX) a worker thread builds between two hand-overs of
#: the GIL. The building is pure Python and holds the GIL; CPython hands it to
#: another thread only every 5 ms, and the event loop needs it several times to
#: serve a single database read. Letting go every 10 rows (``time.sleep(0)``)
#: took the 99th percentile of a concurrent read during the conference's XLSX
#: export from ~130-210 ms to ~40-50 ms (bench/export_bench.py), at no cost in
#: total time.
YIELD_EVERY = 10

#: A cell starting with one of these is read as a formula by Excel, LibreOffice and
#: Google Sheets (tab and carriage return hide a formula behind white space). The
#: full-width forms count too: Excel with an East Asian input method turns a leading
#: ＝ ＋ － ＠ into its ASCII sign when the cell is entered.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# Characters XML 1.0 cannot hold at all: python-docx and openpyxl refuse them.
# The store's own input cleaning already drops them from new notes; an imported
# record might still carry one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralise_formula(text: str) -> str:
    """A leading apostrophe on text a spreadsheet would run as a formula (OWASP's advice)."""
    return "'" + text if looks_like_formula(text) else text


def xml_safe(text: str) -> str:
    """Text with characters XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def utc(ms: int) -> datetime:
    """Epoch milliseconds as a naive UTC datetime (spreadsheets have no time zones)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def utc_text(ms: int | None) -> str:
    """``2025-03-14 09:30:05``: epoch milliseconds as UTC text a spreadsheet reads as a time."""
    return "" if ms is None else utc(ms).strftime("%Y-%m-%d %H:%M:%S")


def iso_utc(ms: int) -> str:
    """``2025-03-14T09:30:05.123Z``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")\
        .replace("+00:00", "Z")


def long_date(value: str | None) -> str:
    """``2025-03-14`` as ``14 March 2025``; anything else as it is."""
    if not value:
        return ""
    try:
        d = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return value
    return f"{d.day} {d:%B %Y}"


def is_rtl(text: str) -> bool:
    """Whether the first strongly directional character is right-to-left (Hebrew, Arabic)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 vote``, ``3 votes``, ``1,512 notes``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def slug(text: str, limit: int = 50) -> str:
    """Lowercase ASCII letters, digits and dashes, for file names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:limit].rstrip("-")
