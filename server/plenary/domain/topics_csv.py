"""Topics imported from a spreadsheet: a CSV with a ``title`` column and maybe ``brief``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .errors import InvalidPayload
from .payloads import strip_controls

MAX_TOPICS = 100
TITLE_MAX = 120
BRIEF_MAX = 2000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic before it is stored: its title and the background brief tables read."""

    title: str
    brief: str = ""


def parse_topics_csv(text: str) -> list[TopicSpec]:
    """Topics from CSV text (a header row naming ``title`` and optionally ``brief``)."""
    text = text.removeprefix("\ufeff")  # Excel's byte-order mark
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    header = [h.strip().lower() for h in next(rows, [])]
    if "title" not in header:
        raise InvalidPayload("The CSV needs a header row with a 'title' column "
                             "(and optionally 'brief').", code="bad_csv")
    t, b = header.index("title"), header.index("brief") if "brief" in header else None
    topics: list[TopicSpec] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        title = strip_controls(row[t]) if t < len(row) else ""
        brief = strip_controls(row[b], multiline=True) if b is not None and b < len(row) else ""
        if not title:
            raise InvalidPayload(f"Row {number} has no title.", code="bad_csv")
        if len(title) > TITLE_MAX or len(brief) > BRIEF_MAX:
            raise InvalidPayload(f"Row {number}: titles are at most {TITLE_MAX} characters and "
                                 f"briefs {BRIEF_MAX}.", code="bad_csv")
        if title in seen:
            raise InvalidPayload(f"Row {number} repeats the topic {title!r}.", code="bad_csv")
        seen.add(title)
        topics.append(TopicSpec(title, brief))
    if not topics:
        raise InvalidPayload("The CSV has no topics in it.", code="bad_csv")
    if len(topics) > MAX_TOPICS:
        raise InvalidPayload(f"At most {MAX_TOPICS} topics.", code="bad_csv")
    return topics
