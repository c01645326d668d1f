"""Markdown: the report's content as plain text that renders anywhere (CommonMark).

Every piece of text from the event is escaped, so a note can never become a
heading, a link, a list, emphasis, or raw HTML: backslashes before the
characters that mean something anywhere in a line, and before the markers that
mean something at the start of one. Lines of a note stay in its list item.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

from ..store.records import EventReader, NoteRecord
from ._text import long_date, plural
from .report import (
    ACROSS_INTRO,
    Head,
    StageSection,
    TableSection,
    note_meta,
    quote_place,
    read_report,
    theme_facts,
)

# Significant anywhere in a line: emphasis, code, links and images, raw HTML
# and entities, table cells, strikethrough, and the escape itself.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&#])")
# Significant at the start of a line: list items, setext underlines, thematic
# breaks, and ordered-list numbers ("1." or "1)").
_LINE_START = re.compile(r"^(\s*)([-+=]|\d{1,9}(?=[.)]))")


def md(text: str) -> str:
    """One line of user text, escaped."""
    text = _INLINE.sub(r"\\\1", text.strip())

    def start(m: re.Match[str]) -> str:
        lead, marker = m.group(1), m.group(2)
        if marker[0].isdigit():  # escape the "." or ")" after the number
            return lead + marker + "\\"
        return lead + "\\" + marker

    return _LINE_START.sub(start, text)


def md_block(text: str, indent: str = "") -> str:
    """Multi-line user text as one paragraph: lines joined by hard breaks."""
    lines = [md(line) for line in text.splitlines() if line.strip()]
    return ("\\\n" + indent).join(lines)


def _note(n: NoteRecord, *, star: bool = False, context: bool = False) -> str:
    meta = note_meta(n, context=context)
    text = md_block(n.text, indent="  ")
    return ("- " + ("★ " if star else "") + text
            + (f" — *{md(' · '.join(meta))}*" if meta else "") + "\n")


def _notes(items: Iterable[NoteRecord], **kw: bool) -> str:
    return "".join(_note(n, **kw) for n in items) + "\n"


def _head(head: Head) -> str:
    event, t = head.event, head.totals
    exported = datetime.fromtimestamp(head.exported_ms / 1000, tz=UTC)
    when_where = " · ".join(x for x in (long_date(event.starts_on), event.venue) if x)
    out = [f"# {md(event.title)}\n\n",
           f"**Event report{' — draft' if head.draft else ''}**\n\n"]
    if when_where:
        out.append(f"{md(when_where)}\n\n")
    out.append("| | |\n|---|--:|\n")
    for label, n in (("Topics", t.topics), ("Tables", t.tables),
                     ("Participants", t.participants), ("Notes", t.notes), ("Votes", t.votes),
                     ("Big ideas (starred)", t.starred)):
        out.append(f"| {label} | {n:,} |\n")
    out.append(f"\nExported from Plenary on {exported.day} {exported:%B %Y at %H:%M} UTC.\n")
    if head.draft:
        out.append("\nThis is a draft: the event had not been closed when it was exported, so "
                   "notes may still have been added afterwards.\n")
    if t.hidden:
        out.append(f"\n{plural(t.hidden, 'note')} hidden by facilitators "
                   f"{'is' if t.hidden == 1 else 'are'} not included.\n")
    out.append("\n## Contents\n\n- [Overview](#overview)\n")
    if head.across:
        out.append("- [Across the tables](#across)\n")
    for topic in head.contents:
        out.append(f"- [{md(topic.title)}](#{topic.anchor})\n")
        out += [f"  - [{name}](#{anchor})\n" for anchor, name in topic.tables]
    out.append("\n<a id=\"overview\"></a>\n\n## Overview\n\nThe ideas that rose to the top at "
               "each stage, across all tables: the most votes first, then the ideas "
               "facilitators starred as big ideas (★).\n\n")
    for stage in head.overview:
        out.append(f"### Stage {stage.number}. {md(stage.title)}\n\n")
        if not stage.ideas:
            out.append("No votes or big ideas at this stage.\n\n")
            continue
        for i, n in enumerate(stage.ideas, 1):
            place = f"Table {n.table_number}" + (f", {n.topic_title}" if n.topic_title else "")
            facts = ([plural(n.votes, "vote")] if n.votes else []) + [place]
            out.append(f"{i}. {'★ ' if n.starred else ''}{md_block(n.text, '   ')} — "
                       f"*{md(' · '.join(facts))}*\n")
        out.append("\n")
    out.append(_across(head))
    return "".join(out)


def _across(head: Head) -> str:
    if not head.across:
        return ""
    out = [f"<a id=\"across\"></a>\n\n## Across the tables\n\n{md(ACROSS_INTRO)}\n\n"]
    for stage in head.across:
        out.append(f"### Stage {stage.number}. {md(stage.title)}\n\n")
        for scope in stage.scopes:
            if scope.label:
                out.append(f"#### {md(scope.label)}\n\n")
            for i, theme in enumerate(scope.themes, 1):
                out.append(f"{i}. **{md(theme.title)}** — *{md(theme_facts(theme))}*\n")
                for q in theme.quotes:
                    place = quote_place(q.table_number, q.topic_title)
                    out.append(f"   - “{md_block(q.text, '     ')}” — *{md(place)}*\n")
            out.append("\n")
    return "".join(out)


def _stage(stage: StageSection) -> str:
    out = [f"#### {stage.number}. {md(stage.title)}\n\n",
           f"> *{md_block(stage.prompt, '> ')}*\n\n",
           "**Table summary**\n\n"]
    if stage.summary:
        out += [f"{md(line)}\n\n" for line in stage.summary.splitlines() if line.strip()]
    else:
        out.append("*No summary was written for this stage.*\n\n")
    if stage.big_ideas:
        out.append("**Big ideas**\n\n")
        out.append(_notes(stage.big_ideas, star=True, context=True))
    for block in stage.blocks:
        label = block.label or ("Other notes" if stage.big_ideas else "Notes")
        out.append(f"**{md(label)}**\n\n")
        for lst in block.lists:
            if lst.label:
                out.append(f"*{md(lst.label)}*\n\n")
            out.append(_notes(lst.notes))
    if not stage.shown:
        out.append("*No notes at this stage.*\n\n")
    if stage.hidden:
        out.append(f"*{plural(stage.hidden, 'note')} hidden by the facilitator "
                   f"{'is' if stage.hidden == 1 else 'are'} not shown.*\n\n")
    return "".join(out)


def _section(s: TableSection) -> str:
    out = []
    if s.new_topic is not None:
        out.append(f"<a id=\"{s.topic_anchor}\"></a>\n\n## {md(s.new_topic.title)}\n\n")
        if s.new_topic.brief:
            out.append(f"*{md_block(s.new_topic.brief)}*\n\n")
    c, t = s.counts, s.table
    facts = [f"Facilitator: {t.facilitator_name}"] if t.facilitator_name else []
    facts += [plural(c.participants, "participant"), plural(c.notes - c.hidden, "note"),
              plural(c.votes, "vote")]
    out.append(f"<a id=\"{s.anchor}\"></a>\n\n### Table {t.number}\n\n"
               f"*{md(' · '.join(facts))}*\n\n")
    out += [_stage(stage) for stage in s.stages]
    return "".join(out)


async def render(reader: EventReader, exported_ms: int) -> AsyncIterator[str]:
    """The report as Markdown text, one table at a time."""
    head, sections = await read_report(reader, exported_ms)
    yield _head(head)
    async for section in sections:
        yield _section(section)
