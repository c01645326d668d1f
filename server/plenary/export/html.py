"""Printable HTML: the report's content in one self-contained page.

A print stylesheet starts each topic and table on a new page and keeps notes
whole, so a browser's "Save as PDF" gives a clean document. Every piece of text
from the event goes through ``html.escape``; nothing typed at the event can
become markup. ``dir="auto"`` lets right-to-left notes run right to left.
"""

from __future__ import annotations

import html
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

CSS = """
:root { --ink: #1f2a44; --muted: #595959; --accent: #b45f06; --rule: #d0d7e5; }
* { box-sizing: border-box; }
body { font: 16px/1.5 Calibri, Carlito, "Segoe UI", system-ui, sans-serif; color: #111;
       margin: 0 auto; max-width: 52rem; padding: 2rem 1.5rem 4rem; }
h1, h2, h3, h4 { color: var(--ink); line-height: 1.25; margin: 1.6em 0 .4em; }
h1 { font-size: 2.2rem; margin-top: 0; }
h2 { font-size: 1.6rem; border-bottom: 2px solid var(--rule); padding-bottom: .2em; }
h3 { font-size: 1.3rem; }
h4 { font-size: 1.1rem; }
.subtitle { font-size: 1.3rem; color: var(--muted); margin: 0 0 .5em; }
.muted, .meta { color: var(--muted); }
.meta { font-size: .85em; }
.prompt { font-style: italic; color: var(--muted); margin-left: 1.2rem; }
.label { font-weight: bold; color: var(--ink); margin: 1em 0 .2em; }
.group { font-weight: bold; font-style: italic; color: var(--muted); margin: .6em 0 .1em .6rem; }
.summary p { margin: .2em 0 .2em .6rem; white-space: pre-line; }
.star { color: var(--accent); font-weight: bold; }
ul.notes { margin: .2em 0 .6em; padding-left: 1.8rem; }
ul.notes li { margin: .15em 0; white-space: pre-line; }
table { border-collapse: collapse; margin: .6em 0 1em; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3em .6em;
         border-bottom: 1px solid var(--rule); }
th { color: var(--ink); border-bottom: 2px solid var(--ink); }
td.n, th.n { text-align: right; white-space: nowrap; }
table.facts { width: auto; }
table.facts th { border-bottom: 1px solid var(--rule); font-weight: normal; padding-right: 2em; }
col.idea { width: 56%; } col.votes { width: 8%; } col.place { width: 36%; }
.title-page { margin-bottom: 3rem; }
nav.toc ol { list-style: none; padding-left: 0; }
nav.toc ol ol { padding-left: 1.5rem; }
nav.toc a { color: var(--ink); }
@page { size: A4; margin: 18mm 16mm; }
@media print {
  body { font-size: 11pt; max-width: none; padding: 0; }
  .title-page { min-height: 240mm; padding-top: 60mm; }
  nav.toc, section.overview, section.across, section.topic { break-before: page; }
  section.table + section.table { break-before: page; }
  h1, h2, h3, h4, .label, .group { break-after: avoid; }
  li, tr, .prompt, .summary p { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def e(text: str) -> str:
    """Escaped text (``&``, ``<``, ``>`` and both quotes)."""
    return html.escape(text, quote=True)


def _note(n: NoteRecord, *, star: bool = False, context: bool = False) -> str:
    meta = note_meta(n, context=context)
    return ("<li dir=\"auto\">" + ('<span class="star">★</span> ' if star else "")
            + e(n.text)
            + (f' <span class="meta">— {e(" · ".join(meta))}</span>' if meta else "")
            + "</li>\n")


def _notes(items: Iterable[NoteRecord], **kw: bool) -> str:
    return '<ul class="notes">\n' + "".join(_note(n, **kw) for n in items) + "</ul>\n"


def _head(head: Head) -> str:
    event, t = head.event, head.totals
    exported = datetime.fromtimestamp(head.exported_ms / 1000, tz=UTC)
    when_where = " · ".join(x for x in (long_date(event.starts_on), event.venue) if x)
    out = [
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{e(event.title)} — event report</title>\n<style>{CSS}</style>\n</head>\n",
        "<body>\n<header class=\"title-page\">\n",
        f"<h1 dir=\"auto\">{e(event.title)}</h1>\n",
        f"<p class=\"subtitle\">Event report{' — draft' if head.draft else ''}</p>\n",
        f"<p class=\"label\" dir=\"auto\">{e(when_where)}</p>\n" if when_where else "",
        "<table class=\"facts\">\n",
    ]
    for label, n in (("Topics", t.topics), ("Tables", t.tables),
                     ("Participants", t.participants), ("Notes", t.notes), ("Votes", t.votes),
                     ("Big ideas (starred)", t.starred)):
        out.append(f"<tr><th scope=\"row\">{label}</th><td class=\"n\">{n:,}</td></tr>\n")
    out.append("</table>\n")
    out.append(f"<p class=\"muted\">Exported from Plenary on {exported.day} "
               f"{exported:%B %Y at %H:%M} UTC.</p>\n")
    if head.draft:
        out.append("<p class=\"muted\">This is a draft: the event had not been closed when it "
                   "was exported, so notes may still have been added afterwards.</p>\n")
    if t.hidden:
        out.append(f"<p class=\"muted\">{plural(t.hidden, 'note')} hidden by facilitators "
                   f"{'is' if t.hidden == 1 else 'are'} not included.</p>\n")
    out.append("</header>\n<nav class=\"toc\" aria-labelledby=\"contents\">\n"
               "<h2 id=\"contents\">Contents</h2>\n<ol>\n"
               "<li><a href=\"#overview\">Overview</a></li>\n"
               + ("<li><a href=\"#across\">Across the tables</a></li>\n" if head.across
                  else ""))
    for topic in head.contents:
        out.append(f"<li><a href=\"#{topic.anchor}\" dir=\"auto\">{e(topic.title)}</a>\n<ol>\n")
        out += [f"<li><a href=\"#{a}\">{e(name)}</a></li>\n" for a, name in topic.tables]
        out.append("</ol></li>\n")
    out.append("</ol>\n</nav>\n<main>\n<section class=\"overview\">\n"
               "<h2 id=\"overview\">Overview</h2>\n<p class=\"muted\">The ideas that rose to "
               "the top at each stage, across all tables: the most votes first, then the ideas "
               "facilitators starred as big ideas (★).</p>\n")
    for stage in head.overview:
        out.append(f"<h3>Stage {stage.number}. {e(stage.title)}</h3>\n")
        if not stage.ideas:
            out.append("<p class=\"muted\">No votes or big ideas at this stage.</p>\n")
            continue
        out.append("<table>\n<colgroup><col class=\"idea\"><col class=\"votes\">"
                   "<col class=\"place\"></colgroup>\n<thead><tr><th>Idea</th>"
                   "<th class=\"n\">Votes</th><th>Table</th></tr></thead>\n<tbody>\n")
        for n in stage.ideas:
            star = '<span class="star">★</span> ' if n.starred else ""
            place = f"Table {n.table_number}" + (f" · {n.topic_title}" if n.topic_title else "")
            out.append(f"<tr><td dir=\"auto\">{star}{e(n.text)}</td>"
                       f"<td class=\"n\">{n.votes or '–'}</td>"
                       f"<td dir=\"auto\">{e(place)}</td></tr>\n")
        out.append("</tbody>\n</table>\n")
    out.append("</section>\n")
    out.append(_across(head))
    return "".join(out)


def _across(head: Head) -> str:
    if not head.across:
        return ""
    out = ["<section class=\"across\">\n<h2 id=\"across\">Across the tables</h2>\n",
           f"<p class=\"muted\">{e(ACROSS_INTRO)}</p>\n"]
    for stage in head.across:
        out.append(f"<h3>Stage {stage.number}. {e(stage.title)}</h3>\n")
        for scope in stage.scopes:
            if scope.label:
                out.append(f"<h4 dir=\"auto\">{e(scope.label)}</h4>\n")
            out.append("<ol class=\"themes\">\n")
            for theme in scope.themes:
                out.append(f"<li><p class=\"theme\" dir=\"auto\"><strong>{e(theme.title)}"
                           f"</strong> <span class=\"meta\">— {e(theme_facts(theme))}</span>"
                           "</p>\n<ul class=\"notes\">\n")
                for q in theme.quotes:
                    place = quote_place(q.table_number, q.topic_title)
                    out.append(f"<li dir=\"auto\">“{e(q.text)}” <span class=\"meta\">— "
                               f"{e(place)}</span></li>\n")
                out.append("</ul></li>\n")
            out.append("</ol>\n")
    out.append("</section>\n")
    return "".join(out)


def _stage(stage: StageSection) -> str:
    out = [f"<h4>{stage.number}. {e(stage.title)}</h4>\n",
           f"<p class=\"prompt\" dir=\"auto\">{e(stage.prompt)}</p>\n",
           "<p class=\"label\">Table summary</p>\n"]
    if stage.summary:
        out.append("<div class=\"summary\">"
                   + "".join(f"<p dir=\"auto\">{e(line)}</p>"
                             for line in stage.summary.splitlines() if line.strip())
                   + "</div>\n")
    else:
        out.append("<p class=\"muted\">No summary was written for this stage.</p>\n")
    if stage.big_ideas:
        out.append("<p class=\"label\">Big ideas</p>\n")
        out.append(_notes(stage.big_ideas, star=True, context=True))
    for block in stage.blocks:
        label = block.label or ("Other notes" if stage.big_ideas else "Notes")
        out.append(f"<p class=\"label\">{e(label)}</p>\n")
        for lst in block.lists:
            if lst.label:
                out.append(f"<p class=\"group\" dir=\"auto\">{e(lst.label)}</p>\n")
            out.append(_notes(lst.notes))
    if not stage.shown:
        out.append("<p class=\"muted\">No notes at this stage.</p>\n")
    if stage.hidden:
        out.append(f"<p class=\"muted\">{plural(stage.hidden, 'note')} hidden by the "
                   f"facilitator {'is' if stage.hidden == 1 else 'are'} not shown.</p>\n")
    return "".join(out)


def _section(s: TableSection) -> str:
    out = []
    if s.new_topic is not None:
        out.append(f"<section class=\"topic\">\n<h2 id=\"{s.topic_anchor}\" dir=\"auto\">"
                   f"{e(s.new_topic.title)}</h2>\n")
        if s.new_topic.brief:
            out.append(f"<p class=\"muted\" dir=\"auto\">{e(s.new_topic.brief)}</p>\n")
    c, t = s.counts, s.table
    facts = [f"Facilitator: {t.facilitator_name}"] if t.facilitator_name else []
    facts += [plural(c.participants, "participant"), plural(c.notes - c.hidden, "note"),
              plural(c.votes, "vote")]
    out.append(f"<section class=\"table\">\n<h3 id=\"{s.anchor}\">Table {t.number}</h3>\n"
               f"<p class=\"muted\">{e(' · '.join(facts))}</p>\n")
    out += [_stage(stage) for stage in s.stages]
    out.append("</section>\n")
    return "".join(out)


async def render(reader: EventReader, exported_ms: int) -> AsyncIterator[str]:
    """The report as HTML text, one table at a time."""
    head, sections = await read_report(reader, exported_ms)
    yield _head(head)
    open_topic = False
    async for section in sections:
        if section.new_topic is not None and open_topic:
            yield "</section>\n"
        open_topic = open_topic or section.new_topic is not None
        yield _section(section)
    yield ("</section>\n" if open_topic else "") + "</main>\n</body>\n</html>\n"
