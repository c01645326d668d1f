"""DOCX: the report the organiser sends round, built with python-docx.

Topics are Heading 1, tables Heading 2 and stages Heading 3, so Word's
navigation pane works and a table of contents can be built from them; the
contents page is a real TOC field whose shown entries are already filled in
(links to each topic and table), so it reads well before anyone updates it.
Notes are "List Bullet" paragraphs; nothing else in the document uses that style.

python-docx is CPU-bound: the document is built in a worker thread, one table
at a time as its notes are read, so a large export never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import IO, Any

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.paragraph import CT_P
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.styles.style import BaseStyle, CharacterStyle, ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..store.records import EventReader, NoteRecord
from ._text import YIELD_EVERY, is_rtl, long_date, plural, xml_safe
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

_INK = RGBColor(0x1F, 0x2A, 0x44)
_MUTED = RGBColor(0x59, 0x59, 0x59)
_ACCENT = RGBColor(0xB4, 0x5F, 0x06)


def _t(text: str) -> str:
    return xml_safe(text)


class _Builder:
    """The document, built in order: title page, contents, overview, then each table."""

    def __init__(self, head: Head) -> None:
        self.head = head
        self.doc: DocumentType = Document()
        self._end = self.doc.element.body.sectPr
        self._bookmark = 0
        self._notes = 0
        self._setup()
        self._title_page()
        self._contents()
        self._overview()
        self._across()

    # --- styles and page ----------------------------------------------------------

    def _setup(self) -> None:
        doc = self.doc
        event = self.head.event
        section = doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2.2))
        section.top_margin = section.bottom_margin = Cm(2)

        styles = doc.styles
        normal = styles["Normal"]
        normal.font.name = "Calibri"
        normal.font.size = Pt(10.5)
        normal.paragraph_format.space_after = Pt(4)
        for level, size in ((1, 20), (2, 15), (3, 12.5)):
            h = styles[f"Heading {level}"]
            h.font.size = Pt(size)
            h.font.color.rgb = _INK
            h.paragraph_format.space_before = Pt(14 if level < 3 else 12)
            h.paragraph_format.space_after = Pt(4)
        self.s_h = {level: styles[f"Heading {level}"] for level in (1, 2, 3)}
        self.s_note = styles["List Bullet"]
        self.s_note.paragraph_format.space_after = Pt(2)
        self.s_normal = normal

        def para(name: str, *, size: float | None = None, bold: bool = False,
                 italic: bool = False, color: RGBColor | None = None,
                 keep_next: bool = False, before: float = 0, after: float = 4,
                 indent: float | None = None) -> ParagraphStyle:
            s = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            s.base_style = normal
            s.quick_style = True
            s.font.bold, s.font.italic = bold, italic
            if size:
                s.font.size = Pt(size)
            if color is not None:
                s.font.color.rgb = color
            f = s.paragraph_format
            f.keep_with_next = keep_next
            f.space_before, f.space_after = Pt(before), Pt(after)
            if indent is not None:
                f.left_indent = Cm(indent)
            return s

        def char(name: str, *, size: float | None = None, bold: bool = False,
                 color: RGBColor | None = None) -> CharacterStyle:
            s = styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
            s.font.bold = bold
            if size:
                s.font.size = Pt(size)
            if color is not None:
                s.font.color.rgb = color
            return s

        self.s_label = para("Plenary Label", bold=True, color=_INK, keep_next=True, before=8,
                            after=2, size=11)
        self.s_group = para("Plenary Group", bold=True, italic=True, color=_MUTED,
                            keep_next=True, before=4, after=1, indent=0.3)
        self.s_prompt = para("Plenary Prompt", italic=True, color=_MUTED, indent=0.6,
                             after=6)
        self.s_muted = para("Plenary Muted", size=9.5, color=_MUTED, after=4)
        self.s_cell = para("Plenary Cell", size=10, after=0)
        self.s_number = para("Plenary Number", size=10, after=0)
        self.s_number.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self.s_table = styles["Light List Accent 1"]
        self.s_summary = para("Plenary Summary", after=4, indent=0.3)
        self.s_toc = {1: para("Plenary Contents 1", bold=True, before=6, after=1),
                      2: para("Plenary Contents 2", after=0, indent=0.6)}
        self.c_meta = char("Plenary Meta", size=9, color=_MUTED)
        self.c_star = char("Plenary Star", bold=True, color=_ACCENT)

        props = doc.core_properties
        props.title = _t(event.title)
        props.subject = "Event report"
        props.author = "Plenary"
        props.last_modified_by = "Plenary"
        props.comments = ""
        props.created = props.modified = datetime.fromtimestamp(
            self.head.exported_ms / 1000, tz=UTC).replace(tzinfo=None)
        props.revision = 1

        section.different_first_page_header_footer = True  # no footer on the title page
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.style = self.s_muted
        footer.add_run(_t(event.title) + "  ·  ")
        _field(footer._p, "PAGE", "1")

    # --- building blocks -----------------------------------------------------------
    # Paragraphs are made as XML elements and put before the section properties
    # directly: python-docx's add_paragraph looks its style up by scanning every
    # style and finds the insertion point by scanning the body, which made a
    # 1,500-note report take seconds.

    def _p(self, text: str = "", style: BaseStyle | None = None, *,
           new_page: bool = False, rtl: bool = False) -> CT_P:
        p = _paragraph((style or self.s_normal).style_id, new_page=new_page, rtl=rtl)
        if text:
            _run(p, text, rtl=rtl)
        self._end.addprevious(p)
        return p

    def _heading(self, text: str, level: int, anchor: str | None = None, *,
                 new_page: bool = False) -> None:
        rtl = is_rtl(text)
        p = _paragraph(self.s_h[level].style_id, new_page=new_page, rtl=rtl)
        if anchor is not None:
            self._bookmark += 1
            start = OxmlElement("w:bookmarkStart")
            start.set(qn("w:id"), str(self._bookmark))
            start.set(qn("w:name"), anchor)
            p.append(start)
        _run(p, text, rtl=rtl)
        if anchor is not None:
            end = OxmlElement("w:bookmarkEnd")
            end.set(qn("w:id"), str(self._bookmark))
            p.append(end)
        self._end.addprevious(p)

    def _note(self, note: NoteRecord, *, star: bool = False, context: bool = False) -> None:
        self._notes += 1
        if self._notes % YIELD_EVERY == 0:
            time.sleep(0)  # hand the GIL to the event loop (see _text.YIELD_EVERY)
        text = note.text.strip()
        rtl = is_rtl(text)
        p = _paragraph(self.s_note.style_id, rtl=rtl)
        if star:
            _run(p, "★ ", self.c_star.style_id)
        _run(p, text, rtl=rtl)
        meta = note_meta(note, context=context)
        if meta:
            _run(p, "  —  " + " · ".join(meta), self.c_meta.style_id)
        self._end.addprevious(p)

    def _table(self, rows: list[tuple[str, ...]], widths: list[float],
               header: tuple[str, ...] | None = None,
               numeric: frozenset[int] | set[int] = frozenset()) -> Table:
        table = self.doc.add_table(rows=0, cols=len(widths))
        table.style = self.s_table
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        # Word reads the cells' widths, LibreOffice the grid's: set both.
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Cm(width)
        _table_look(table, header=header is not None)
        for i, values in enumerate(([header] if header else []) + rows):
            row = table.add_row()
            _row_options(row._tr, header=i == 0 and header is not None)
            for col, (cell, value, width) in enumerate(zip(row.cells, values, widths,
                                                           strict=True)):
                cell.width = Cm(width)
                p = cell.paragraphs[0]._p
                if p.pPr is not None:
                    p.remove(p.pPr)
                style = self.s_number if col in numeric else self.s_cell
                p.insert(0, _ppr(style.style_id, rtl=is_rtl(value)))
                _run(p, value)
        return table

    # --- the parts -----------------------------------------------------------------

    def _title_page(self) -> None:
        head, event = self.head, self.head.event
        spacer = Paragraph(self._p(), self.doc._body)
        spacer.paragraph_format.space_before = Cm(4)
        self._p(event.title, self.doc.styles["Title"], rtl=is_rtl(event.title))
        self._p("Event report" + (" — draft" if head.draft else ""),
                self.doc.styles["Subtitle"])
        when_where = " · ".join(x for x in (long_date(event.starts_on), event.venue) if x)
        if when_where:
            self._p(when_where, self.s_label)
        self._p()
        t = head.totals
        self._table([
            ("Topics", f"{t.topics:,}"), ("Tables", f"{t.tables:,}"),
            ("Participants", f"{t.participants:,}"), ("Notes", f"{t.notes:,}"),
            ("Votes", f"{t.votes:,}"), ("Big ideas (starred)", f"{t.starred:,}"),
        ], [4.5, 2.2], numeric={1})
        self._p()
        exported = datetime.fromtimestamp(head.exported_ms / 1000, tz=UTC)
        self._p(f"Exported from Plenary on {exported.day} {exported:%B %Y at %H:%M} UTC.",
                self.s_muted)
        if head.draft:
            self._p("This is a draft: the event had not been closed when it was exported, "
                    "so notes may still have been added afterwards.", self.s_muted)
        if t.hidden:
            self._p(f"{plural(t.hidden, 'note')} hidden by facilitators "
                    f"{'is' if t.hidden == 1 else 'are'} not included.", self.s_muted)

    def _contents(self) -> None:
        self._p("Contents", self.doc.styles["TOC Heading"], new_page=True)
        # A TOC field (Word rebuilds it, with page numbers, on "Update field")
        # whose current result is our own list of links.
        begin = self._p(style=self.s_toc[1])
        _field_char(begin, "begin")
        _instr(begin, ' TOC \\o "1-2" \\h \\z \\u ')
        _field_char(begin, "separate")
        _link(begin, "overview", "Overview")
        if self.head.across:
            _link(self._p(style=self.s_toc[1]), "across", "Across the tables")
        for topic in self.head.contents:
            _link(self._p(style=self.s_toc[1]), topic.anchor, topic.title)
            for anchor, name in topic.tables:
                _link(self._p(style=self.s_toc[2]), anchor, name)
        _field_char(self._p(style=self.s_toc[2]), "end")

    def _overview(self) -> None:
        self._heading("Overview", 1, "overview", new_page=True)
        self._p("The ideas that rose to the top at each stage, across all tables: the most "
                "votes first, then the ideas facilitators starred as big ideas (★).",
                self.s_muted)
        for stage in self.head.overview:
            self._heading(f"Stage {stage.number}. {stage.title}", 2)
            if not stage.ideas:
                self._p("No votes or big ideas at this stage.", self.s_muted)
                continue
            self._table(
                [(("★ " if n.starred else "") + n.text.strip(), str(n.votes) if n.votes else "–",
                  f"Table {n.table_number}" + (f" · {n.topic_title}" if n.topic_title else ""))
                 for n in stage.ideas],
                [9.4, 1.4, 5.8], header=("Idea", "Votes", "Table"), numeric={1})

    def _across(self) -> None:
        if not self.head.across:
            return
        self._heading("Across the tables", 1, "across", new_page=True)
        self._p(ACROSS_INTRO, self.s_muted)
        for stage in self.head.across:
            self._heading(f"Stage {stage.number}. {stage.title}", 2)
            for scope in stage.scopes:
                if scope.label:
                    self._p(scope.label, self.s_label)
                for theme in scope.themes:
                    p = _paragraph(self.s_group.style_id, rtl=is_rtl(theme.title))
                    _run(p, theme.title, rtl=is_rtl(theme.title))
                    _run(p, "  —  " + theme_facts(theme), self.c_meta.style_id)
                    self._end.addprevious(p)
                    for q in theme.quotes:
                        text = q.text.strip()
                        p = _paragraph(self.s_note.style_id, rtl=is_rtl(text))
                        _run(p, f"“{text}”", rtl=is_rtl(text))
                        _run(p, "  —  " + quote_place(q.table_number, q.topic_title),
                             self.c_meta.style_id)
                        self._end.addprevious(p)

    def add(self, section: TableSection) -> None:
        """One table's part of the report."""
        if section.new_topic is not None:
            self._heading(section.new_topic.title, 1, section.topic_anchor, new_page=True)
            if section.new_topic.brief:
                self._p(section.new_topic.brief, self.s_muted,
                        rtl=is_rtl(section.new_topic.brief))
        c, t = section.counts, section.table
        self._heading(f"Table {t.number}", 2, section.anchor,
                      new_page=section.new_topic is None)
        facts = [f"Facilitator: {t.facilitator_name}"] if t.facilitator_name else []
        facts += [plural(c.participants, "participant"), plural(c.notes - c.hidden, "note"),
                  plural(c.votes, "vote")]
        self._p(" · ".join(facts), self.s_muted)
        for stage in section.stages:
            self._stage(stage)

    def _stage(self, stage: StageSection) -> None:
        self._heading(f"{stage.number}. {stage.title}", 3)
        self._p(stage.prompt, self.s_prompt, rtl=is_rtl(stage.prompt))
        self._p("Table summary", self.s_label)
        if stage.summary:
            for line in stage.summary.splitlines():
                if line.strip():
                    self._p(line, self.s_summary, rtl=is_rtl(line))
        else:
            self._p("No summary was written for this stage.", self.s_muted)
        if stage.big_ideas:
            self._p("Big ideas", self.s_label)
            for n in stage.big_ideas:
                self._note(n, star=True, context=True)
        for block in stage.blocks:
            self._p(block.label or ("Other notes" if stage.big_ideas else "Notes"),
                    self.s_label)
            for lst in block.lists:
                if lst.label:
                    self._p(lst.label, self.s_group, rtl=is_rtl(lst.label))
                for n in lst.notes:
                    self._note(n)
        if not stage.shown:
            self._p("No notes at this stage.", self.s_muted)
        if stage.hidden:
            self._p(f"{plural(stage.hidden, 'note')} hidden by the facilitator "
                    f"{'is' if stage.hidden == 1 else 'are'} not shown.", self.s_muted)

    def save(self, out: IO[bytes]) -> None:
        self.doc.save(out)


def _table_look(table: Table, *, header: bool) -> None:
    """Which parts of the table style apply: the header row (if any) and row banding,
    never a bold first column."""
    tbl_pr = table._tbl.tblPr
    look = tbl_pr.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        tbl_pr.append(look)
    look.set(qn("w:val"), "0420" if header else "0400")
    for name, on in (("firstRow", header), ("lastRow", False), ("firstColumn", False),
                     ("lastColumn", False), ("noHBand", False), ("noVBand", True)):
        look.set(qn(f"w:{name}"), "1" if on else "0")


def _row_options(tr: Any, *, header: bool) -> None:
    """Rows never break across pages; a header row repeats on each page the table spans."""
    tr_pr = tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


# --- XML the fast way, fields and links (python-docx has no API for them) -----------------

def _paragraph(style_id: str, *, new_page: bool = False, rtl: bool = False) -> CT_P:
    p = OxmlElement("w:p")
    p.append(_ppr(style_id, new_page=new_page, rtl=rtl))
    return p


def _ppr(style_id: str, *, new_page: bool = False, rtl: bool = False) -> Any:
    ppr = OxmlElement("w:pPr")
    # The children of w:pPr have a fixed order: pStyle, ..., pageBreakBefore, ..., bidi.
    pstyle = OxmlElement("w:pStyle")
    pstyle.set(qn("w:val"), style_id)
    ppr.append(pstyle)
    if new_page:
        ppr.append(OxmlElement("w:pageBreakBefore"))
    if rtl:
        ppr.append(OxmlElement("w:bidi"))
    return ppr


def _run(p: CT_P, text: str, style_id: str | None = None, *, rtl: bool = False) -> None:
    """A run of text; line breaks and tabs become Word's own."""
    r = OxmlElement("w:r")
    if style_id or rtl:
        rpr = OxmlElement("w:rPr")
        if style_id:
            rstyle = OxmlElement("w:rStyle")
            rstyle.set(qn("w:val"), style_id)
            rpr.append(rstyle)
        if rtl:
            rpr.append(OxmlElement("w:rtl"))
        r.append(rpr)
    lines = xml_safe(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if i:
            r.append(OxmlElement("w:br"))
        for j, piece in enumerate(line.split("\t")):
            if j:
                r.append(OxmlElement("w:tab"))
            if piece:
                t = OxmlElement("w:t")
                t.set(qn("xml:space"), "preserve")
                t.text = piece
                r.append(t)
    p.append(r)


def _field_char(p: CT_P, kind: str) -> None:
    r = OxmlElement("w:r")
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), kind)
    r.append(el)
    p.append(r)


def _instr(p: CT_P, code: str) -> None:
    r = OxmlElement("w:r")
    el = OxmlElement("w:instrText")
    el.set(qn("xml:space"), "preserve")
    el.text = code
    r.append(el)
    p.append(r)


def _field(p: CT_P, code: str, shown: str) -> None:
    _field_char(p, "begin")
    _instr(p, f" {code} ")
    _field_char(p, "separate")
    _run(p, shown)
    _field_char(p, "end")


def _link(p: CT_P, anchor: str, text: str) -> None:
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = _t(text)
    run.append(t)
    link.append(run)
    p.append(link)


async def write(reader: EventReader, exported_ms: int, out: IO[bytes]) -> None:
    """Write the report to ``out``."""
    head, sections = await read_report(reader, exported_ms)
    builder = await asyncio.to_thread(_Builder, head)
    async for section in sections:
        await asyncio.to_thread(builder.add, section)
    await asyncio.to_thread(builder.save, out)

