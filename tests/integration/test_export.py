"""Exports checked against the store: each format opened with its own reader.

The event is built through the real actions (participants, silent writing,
reveal, groups, votes, stars, hiding, merging, summaries, the close and a late
note), plus a few rows written straight to the store for text the actions would
clean away (a leading tab or carriage return, which a spreadsheet reads as a
formula).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import docx
import httpx
import openpyxl
import pytest
import sqlalchemy as sa
from plenary import export
from plenary.actions import Actions, Session
from plenary.actions.setup import create_event
from plenary.actions.transaction import read, write_path
from plenary.domain.credentials import make_token
from plenary.domain.errors import Conflict, InvalidPayload, NotFound
from plenary.domain.payloads import (
    GroupSave,
    NoteHide,
    NoteMerge,
    NotePost,
    NoteRef,
    NoteStar,
    ParticipantAuth,
    StageMove,
    StatusChange,
    StepMove,
    SummarySet,
    VoteAdd,
)
from plenary.domain.permissions import Actor, Role
from plenary.domain.topics_csv import TopicSpec
from plenary.export import cli as export_cli
from plenary.export import http as export_http
from plenary.export._text import neutralise_formula
from plenary.export.columns import NOTE_COLUMNS
from plenary.setup import load_template
from plenary.store import Database
from plenary.store import queries as q
from plenary.store.records import anonymous_participant_id

from tests.conftest import TEMPLATES

from .server import run_server

pytestmark = pytest.mark.integration

SECRET = b"s" * 32

# Text that must come through every format intact.
EMOJI = "Family time 👨‍👩‍👧‍👦 and 👩🏽‍🚀 astronauts"
HEBREW = "שלום עולם: דיור בר השגה"
ARABIC = "مرحبا بالعالم: سكن ميسور"
MARKUP = "<script>alert(1)</script> **not bold** [link](http://x.test) # no heading & co"
FORMULAS = ['=HYPERLINK("http://evil.test","click")', "+1 more funding", "-2 budget cuts",
            "@SUM(A1:A2)"]
# Only reachable by writing to the store: the actions strip leading white space.
RAW_FORMULAS = ["\tTabbed =1+1", "\rReturned =1+1"]

NAMED = "Sam Named"
SWITCHER = "Priya Switcher"   # posts one named note, then turns anonymous
VOTER_NAME = "Hal NeverShown"  # joins with a name, only votes: the name must never appear
RETRO_NAME = "Quinn Quiet"     # in an event whose template hides every name


def nid() -> str:
    return uuid.uuid4().hex


@dataclass
class Scenario:
    db: Database
    board: Actions
    event_id: str
    tables: list[dict[str, Any]]
    organiser: Session
    hidden: set[str] = field(default_factory=set)
    merged: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    anonymous: set[str] = field(default_factory=set)
    starred: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    private: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)


async def person(board: Actions, code: str, name: str | None,
                 key: bytes | None = None) -> Session:
    return await board.authenticate(ParticipantAuth(
        join_code=code, participant_key=key or secrets.token_bytes(16), name=name))


async def build_event(db: Database) -> Scenario:
    """Two tables of the five-stage seed template, through every kind of action."""
    template = load_template(TEMPLATES, "alchemy")
    event_id = await create_event(
        db, template, title="Spring assembly: =1+1 & <b>co-ops</b>",
        topics=[TopicSpec("Housing & homes", "Background: ⚠ read first"),
                TopicSpec(f"דיור {HEBREW[:4]}")],
        tables=2, venue="Town Hall, Room 2", date="2025-03-14")
    board = Actions(db, SECRET)
    organiser = Session(Actor(Role.ORGANISER, event_id))
    await board.change_status(organiser, StatusChange(action="start"))
    tables = await read(db, q.tables_of_event, event_id)
    s = Scenario(db, board, event_id, tables, organiser)
    t1, t2 = tables
    fac1 = Session(Actor(Role.FACILITATOR, event_id, table_id=t1["id"]))
    fac2 = Session(Actor(Role.FACILITATOR, event_id, table_id=t2["id"]))
    switcher_key = secrets.token_bytes(16)
    sam = await person(board, t1["join_code"], NAMED)
    priya = await person(board, t1["join_code"], SWITCHER, switcher_key)
    hal = await person(board, t1["join_code"], VOTER_NAME)
    bea = await person(board, t2["join_code"], None)

    async def post(who: Session, text: str, category: str | None = None, *,
                   queued: bool = False) -> str:
        note_id = nid()
        out = await board.post_note(who, NotePost(id=note_id, text=text, category=category,
                                                  queued=queued))
        s.texts[note_id] = out.ack["note"]["text"]
        if out.ack["note"]["author"] is None:
            s.anonymous.add(note_id)
        return note_id

    async def steps(fac: Session, n: int) -> None:
        for _ in range(n):
            await board.move_step(fac, StepMove(), +1)

    # Stage 1 (silent writing, reveal, group, summarise).
    n_formula = [await post(sam, text) for text in FORMULAS]
    n_emoji = await post(sam, EMOJI)
    await post(priya, "A named idea from Priya")
    priya = await person(board, t1["join_code"], None, switcher_key)  # now anonymous
    n_anon = await post(priya, "Said anonymously by the same person")
    await post(priya, HEBREW)
    await post(sam, MARKUP)
    n_gone = await post(sam, "Deleted before anyone saw it")
    await board.delete_note(sam, NoteRef(id=n_gone))
    s.deleted.add(n_gone)
    await post(bea, ARABIC)
    b2 = await post(bea, "An inappropriate remark")
    await steps(fac1, 2)  # reveal, group
    await steps(fac2, 2)
    await board.save_group(fac1, GroupSave(id=nid(), label="Money =SUM(1)",
                                           notes=[n_formula[0], n_formula[1]]))
    await board.save_group(fac1, GroupSave(id=nid(), label="People 👩🏽‍🚀",
                                           notes=[n_emoji, n_anon]))
    await board.hide_note(fac2, NoteHide(id=b2, hidden=True))
    s.hidden.add(b2)
    await steps(fac1, 1)
    await board.set_summary(fac1, SummarySet(
        stage=0, text="Line one of the summary.\n\n=2+2 is not a formula\nשורה בעברית"))
    await board.set_summary(fac2, SummarySet(stage=0, text=f"Table two: {ARABIC}"))

    # Stage 2 (big ideas: write, reveal, group, vote, summarise).
    await board.move_stage(organiser, StageMove(), +1)
    i1 = await post(sam, "Set up a community land trust")
    i2 = await post(priya, "Pool budgets across councils")
    i3 = await post(sam, "Pool the budgets across councils (duplicate)")
    i4 = await post(bea, "Peer mentors for care leavers")
    await steps(fac1, 3)  # reveal, group, vote
    await steps(fac2, 3)
    await board.merge_note(fac1, NoteMerge(id=i3, into=i2))
    s.merged[i3] = i2
    for who, note in ((sam, i1), (sam, i2), (priya, i2), (hal, i2), (hal, i1), (priya, i1),
                      (hal, i1)):
        await board.add_vote(who, VoteAdd(id=nid(), note=note))
    await board.add_vote(bea, VoteAdd(id=nid(), note=i4))
    await board.star_note(fac1, NoteStar(id=i1, starred=True))
    await board.star_note(fac2, NoteStar(id=i4, starred=True))
    s.starred |= {i1, i4}
    await steps(fac1, 1)
    await board.set_summary(fac1, SummarySet(stage=1, text="Our big idea: a land trust."))

    # Stages 3 and 4 pass; stage 5 has barriers and enablers.
    await board.move_stage(organiser, StageMove(), +1)
    await post(sam, "Talk to providers early under the new rules")
    await board.move_stage(organiser, StageMove(), +1)
    await board.move_stage(organiser, StageMove(), +1)
    c1 = await post(sam, "Procurement rules are slow", "barrier")
    c2 = await post(sam, "A named lead in each council", "enabler")
    await post(priya, "Trust between partners", "enabler")
    await steps(fac1, 1)  # reveal
    await post(sam, "Short-term funding", "barrier")
    await steps(fac1, 2)  # group, vote
    await board.add_vote(sam, VoteAdd(id=nid(), note=c2))
    await board.add_vote(hal, VoteAdd(id=nid(), note=c2))
    await board.add_vote(hal, VoteAdd(id=nid(), note=c1))
    # Table 2 stays in silent writing: this note is still private at the close.
    secret_note = await post(bea, "Still private when the event closed", "barrier")
    s.private.add(secret_note)

    await board.change_status(organiser, StatusChange(action="close"))
    late = await post(bea, "Written offline, arrived after the close", queued=True)
    s.late.add(late)

    # Text the actions would have cleaned, written as an older version might have.
    def raw_notes(conn: sa.Connection) -> None:
        for text in RAW_FORMULAS:
            note_id = nid()
            q.insert_note(conn, id=note_id, table_id=t1["id"],
                          participant_id=sam.actor.participant_id, stage_index=4,
                          step_index=0, category="barrier", text=text, author=NAMED,
                          created_ms=q.now_ms(), created_seq=q.next_seq(conn, t1["id"]))
            s.texts[note_id] = text
    await write_path(db).run(raw_notes)
    return s


async def retro_event(db: Database) -> tuple[str, str]:
    """An event whose template shows no names: the participant's name must never appear."""
    template = load_template(TEMPLATES, "retrospective")
    event_id = await create_event(db, template, title="Retro", topics=[TopicSpec("Sprint")],
                                  tables=1)
    board = Actions(db, SECRET)
    await board.change_status(Session(Actor(Role.ORGANISER, event_id)),
                              StatusChange(action="start"))
    (table,) = await read(db, q.tables_of_event, event_id)
    quinn = await person(board, table["join_code"], RETRO_NAME)
    note_id = nid()
    await board.post_note(quinn, NotePost(id=note_id, text="Nobody knows I wrote this"))
    return event_id, note_id


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'export.db'}")
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
async def scenario(db) -> Scenario:
    return await build_event(db)


async def exported(db: Database, event_id: str, fmt: str, exported_ms: int | None = None
                   ) -> bytes:
    out = io.BytesIO()
    await export.export_event(db, event_id, fmt, out, exported_ms=exported_ms)
    return out.getvalue()


async def store_notes(db: Database, event_id: str) -> dict[str, dict[str, Any]]:
    """Every note of the event in the store, with its vote count, by id."""
    async with db.read() as conn:
        rows = (await conn.execute(
            sa.text("SELECT n.*, (SELECT count(*) FROM votes v WHERE v.note_id = n.id) AS votes,"
                    " g.label AS group_label, t.number AS table_number FROM notes n"
                    " JOIN board_tables t ON t.id = n.table_id"
                    " LEFT JOIN note_groups g ON g.id = n.group_id"
                    " WHERE t.event_id = :e"), {"e": event_id})).mappings().all()
    return {r["id"]: dict(r) for r in rows}


CATEGORY_LABELS = {"barrier": "Barriers", "enabler": "Enablers", None: None}


def all_text_of(fmt: str, data: bytes) -> str:
    """Everything a reader of the file could see, as text (zips: every XML part)."""
    if fmt in ("docx", "xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return data.decode("utf-8")


# --- CSV ---------------------------------------------------------------------------

async def test_csv_has_every_note_once_with_its_votes_group_category_and_flags(scenario):
    data = await exported(scenario.db, scenario.event_id, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(NOTE_COLUMNS)
    stored = await store_notes(scenario.db, scenario.event_id)
    live = {k: v for k, v in stored.items() if v["deleted_ms"] is None}
    ids = [r["Note id"].lstrip("'") for r in rows]
    assert sorted(ids) == sorted(live)  # every note exactly once, deleted ones never
    assert scenario.deleted and not scenario.deleted & set(ids)
    for r in rows:
        note = live[r["Note id"].lstrip("'")]
        assert int(r["Votes"]) == note["votes"]
        assert r["Group"] == neutralise_formula(note["group_label"] or "")
        assert r["Category"] == (CATEGORY_LABELS[note["category"]] or "")
        assert r["Table"] == str(note["table_number"])
        assert r["Stage no."] == str(note["stage_index"] + 1)
        for col, key in (("Starred", "starred"), ("Hidden", "hidden"), ("Late", "late"),
                         ("Private", "private")):
            assert r[col] == ("yes" if note[key] else "no"), (col, note)
        assert r["Merged into"] == (note["merged_into"] or "")
        author = note["author"] if note["author"] is not None else "anonymous"
        assert r["Author"] == author
    by_id = {r["Note id"].lstrip("'"): r for r in rows}
    assert {i for i, r in by_id.items() if r["Hidden"] == "yes"} == scenario.hidden
    assert {i for i, r in by_id.items() if r["Late"] == "yes"} == scenario.late
    assert {i for i, r in by_id.items() if r["Merged into"]} == set(scenario.merged)
    assert {i for i, r in by_id.items() if r["Author"] == "anonymous"} == scenario.anonymous


async def test_csv_neutralises_formulas_and_keeps_unicode(scenario):
    data = await exported(scenario.db, scenario.event_id, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    texts = {r["Note"] for r in rows}
    for text in FORMULAS + RAW_FORMULAS:
        assert "'" + text in texts, text
        assert text not in texts
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert rows[0]["Event"] == "Spring assembly: =1+1 & <b>co-ops</b>"
    assert {EMOJI, HEBREW, ARABIC, MARKUP} <= texts


# --- XLSX --------------------------------------------------------------------------

async def test_xlsx_notes_sheet_matches_the_store(scenario):
    data = await exported(scenario.db, scenario.event_id, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Notes", "Summaries", "Tables", "Event", "Themes"]
    ws = wb["Notes"]
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    assert header == list(NOTE_COLUMNS)
    assert ws.auto_filter.ref == f"A1:S{len(body) + 1}"
    assert ws.column_dimensions["I"].width == 60  # the note's text
    col = {name: i for i, name in enumerate(header)}
    stored = await store_notes(scenario.db, scenario.event_id)
    live = {k: v for k, v in stored.items() if v["deleted_ms"] is None}
    assert sorted(r[col["Note id"]] for r in body) == sorted(live)
    for r in body:
        note = live[r[col["Note id"]]]
        assert r[col["Note"]] == note["text"]  # exactly as written, formulas included
        assert r[col["Votes"]] == note["votes"]
        assert r[col["Group"]] == note["group_label"]
        assert r[col["Category"]] == CATEGORY_LABELS[note["category"]]
        assert r[col["Starred"]] is bool(note["starred"])
        assert r[col["Hidden"]] is bool(note["hidden"])
        assert r[col["Late"]] is bool(note["late"])
        assert r[col["Private"]] is bool(note["private"])
        assert r[col["Author"]] == (note["author"] or "anonymous")
    # Text that looks like a formula is stored as text, never as a formula.
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, str):
                assert c.data_type == "s", (c.coordinate, c.value)
    texts = {r[col["Note"]] for r in body}
    assert set(FORMULAS) | set(RAW_FORMULAS) | {EMOJI, HEBREW, ARABIC, MARKUP} <= texts
    assert "<f>" not in all_text_of("xlsx", data)


async def test_xlsx_summaries_and_counts(scenario):
    data = await exported(scenario.db, scenario.event_id, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    summaries = list(wb["Summaries"].iter_rows(values_only=True))
    assert summaries[0][:5] == ("Topic", "Table", "Stage no.", "Stage", "Summary")
    texts = {r[4] for r in summaries[1:]}
    assert "Line one of the summary.\n\n=2+2 is not a formula\nשורה בעברית" in texts
    assert f"Table two: {ARABIC}" in texts
    counts = list(wb["Tables"].iter_rows(values_only=True))
    head = counts[0]
    stored = await store_notes(scenario.db, scenario.event_id)
    for row in counts[1:]:
        r = dict(zip(head, row, strict=True))
        mine = [n for n in stored.values() if n["table_number"] == r["Table"]
                and n["deleted_ms"] is None]
        assert r["Notes"] == sum(1 for n in mine if n["merged_into"] is None)
        assert r["Hidden"] == sum(1 for n in mine if n["hidden"])
        assert r["Merged"] == sum(1 for n in mine if n["merged_into"])
        assert r["Votes"] == sum(n["votes"] for n in mine)
        assert sum(r[f"Stage {i} notes"] for i in range(1, 6)) == r["Notes"]
    assert wb["Tables"].freeze_panes == "A2" and wb["Tables"].auto_filter.ref


# --- JSON and the round trip ----------------------------------------------------------

async def test_json_is_the_complete_record(scenario):
    record = json.loads(await exported(scenario.db, scenario.event_id, "json"))
    assert record["format"] == "plenary-event" and record["schema_version"] == 2
    assert record["exported_at"].endswith("Z")
    stored = await store_notes(scenario.db, scenario.event_id)
    live = {k: v for k, v in stored.items() if v["deleted_ms"] is None}
    notes = {n["id"]: n for n in record["notes"]}
    assert len(notes) == len(record["notes"]) == len(live)
    assert set(notes) == set(live)
    for note_id, n in notes.items():
        s = live[note_id]
        for key in ("text", "author", "category", "group_id", "merged_into", "stage_index",
                    "step_index", "created_ms", "created_seq", "updated_ms", "votes"):
            assert n[key] == s[key], key
        for key in ("hidden", "starred", "late", "private"):
            assert n[key] is bool(s[key])
    assert {i for i, n in notes.items() if n["merged_into"]} == set(scenario.merged)
    # Every vote on a live note, none on a deleted one.
    assert sum(n["votes"] for n in notes.values()) == len(record["votes"])


async def test_anonymous_notes_cannot_be_linked_to_their_author(scenario):
    record = json.loads(await exported(scenario.db, scenario.event_id, "json"))
    notes = {n["id"]: n for n in record["notes"]}
    named_people = {n["participant_id"] for n in notes.values() if n["author"] is not None}
    for note_id in scenario.anonymous:
        n = notes[note_id]
        assert n["author"] is None
        assert n["participant_id"] == anonymous_participant_id(n["table_id"])
        assert n["participant_id"] not in named_people
    assert not any("display_name" in p for p in record["participants"])


async def test_json_round_trip_through_import_is_identical(scenario, tmp_path):
    first = await exported(scenario.db, scenario.event_id, "json", exported_ms=1)
    path = tmp_path / "event.json"
    path.write_bytes(first)
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        await fresh.migrate()
        await export_cli.import_file(fresh, path)
        again = await exported(fresh, scenario.event_id, "json", exported_ms=2)
        a, b = json.loads(first), json.loads(again)
        assert a.pop("exported_at") != b.pop("exported_at")
        assert a == b
        assert first.replace(b"1970-01-01T00:00:00.001Z", b"1970-01-01T00:00:00.002Z") == again
        # Importing the same event twice is refused, and changes nothing.
        with pytest.raises(Conflict, match="already in this database"):
            await export_cli.import_file(fresh, path)
        # The restored event reports the same as the original.
        for fmt in ("csv", "md", "html"):
            assert (await exported(fresh, scenario.event_id, fmt, exported_ms=5)
                    == await exported(scenario.db, scenario.event_id, fmt, exported_ms=5))
    finally:
        await fresh.close()


# --- the report: DOCX, HTML, Markdown -----------------------------------------------------

def report_notes(stored: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in stored.items()
            if v["deleted_ms"] is None and not v["hidden"] and v["merged_into"] is None}


async def test_docx_report_has_headings_and_every_shown_note_once(scenario):
    data = await exported(scenario.db, scenario.event_id, "docx")
    document = docx.Document(io.BytesIO(data))
    paragraphs = document.paragraphs
    headings = [(p.style.name, p.text) for p in paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Overview") in headings
    assert ("Heading 1", "Housing & homes") in headings
    assert ("Heading 2", "Table 1") in headings and ("Heading 2", "Table 2") in headings
    assert ("Heading 3", "5. How to move things forward — overcoming barriers and putting "
            "enablers in place") in headings
    stored = await store_notes(scenario.db, scenario.event_id)
    shown = report_notes(stored)
    bullets = [p.text for p in paragraphs if p.style.name == "List Bullet"]
    assert len(bullets) == len(shown)
    for note in shown.values():
        text = note["text"].strip()
        matches = [b for b in bullets if b.removeprefix("★ ").startswith(text + "  —")
                   or b.removeprefix("★ ") == text]
        assert len(matches) == 1, note["text"]
        if note["votes"]:
            assert f"{note['votes']} vote" in matches[0]
        assert matches[0].startswith("★ ") == bool(note["starred"])
    for note_id in scenario.hidden | set(scenario.merged) | scenario.deleted:
        assert not any(stored[note_id]["text"] in b for b in bullets)
    body = "\n".join(p.text for p in paragraphs)
    assert "Line one of the summary." in body and "=2+2 is not a formula" in body
    assert "Barriers" in body and "Enablers" in body
    assert "Money =SUM(1)" in body and "People 👩🏽‍🚀" in body
    title = [p.text for p in paragraphs if p.style.name == "Title"]
    assert title == ["Spring assembly: =1+1 & <b>co-ops</b>"]
    assert "14 March 2025 · Town Hall, Room 2" in body
    assert EMOJI in body and HEBREW in body and ARABIC in body and MARKUP in body
    # A Word table of contents over the headings, its entries linked to bookmarks.
    xml = all_text_of("docx", data)
    assert 'TOC \\o "1-2"' in xml
    for anchor in ("overview", "topic_", "table_1", "table_2"):
        assert f'w:name="{anchor}' in xml and f'w:anchor="{anchor}' in xml
    # The title page's figures.
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts["Tables"] == "2" and facts["Notes"] == str(len(
        [n for n in stored.values() if n["deleted_ms"] is None and not n["hidden"]
         and n["merged_into"] is None]))


async def test_html_report_escapes_everything_and_shows_every_note_once(scenario):
    data = (await exported(scenario.db, scenario.event_id, "html")).decode()
    assert data.startswith("<!doctype html>") and "@media print" in data
    assert "<script>alert" not in data and "&lt;script&gt;alert(1)&lt;/script&gt;" in data
    assert "<b>co-ops</b>" not in data
    stored = await store_notes(scenario.db, scenario.event_id)
    for note in report_notes(stored).values():
        from html import escape
        assert data.count(">" + escape(note["text"])) + data.count("</span> " + escape(
            note["text"])) >= 1, note["text"]
    for note_id in scenario.hidden | set(scenario.merged) | scenario.deleted:
        from html import escape
        assert escape(stored[note_id]["text"]) not in data
    assert EMOJI in data and HEBREW in data and ARABIC in data


async def test_markdown_report_escapes_user_text(scenario):
    data = (await exported(scenario.db, scenario.event_id, "md")).decode()
    assert "\\<script\\>alert(1)\\</script\\> \\*\\*not bold\\*\\* \\[link\\](http://x.test)" \
        " \\# no heading \\& co" in data
    assert "# Spring assembly: =1+1 \\& \\<b\\>co\\-ops\\</b\\>" not in data
    assert data.startswith("# Spring assembly: =1+1 \\& \\<b\\>co-ops\\</b\\>\n")
    assert EMOJI in data and HEBREW in data and ARABIC in data
    assert "- \\-2 budget cuts" in data and "- \\+1 more funding" in data


# --- anonymity and hidden notes across every format -----------------------------------------

async def test_names_of_anonymous_writers_appear_in_no_format(db):
    retro, _ = await retro_event(db)
    for fmt in export.FORMATS:
        text = all_text_of(fmt, await exported(db, retro, fmt))
        assert RETRO_NAME not in text, fmt
        assert "Nobody knows I wrote this" in text, fmt


async def test_only_named_notes_carry_names(scenario):
    for fmt in export.FORMATS:
        text = all_text_of(fmt, await exported(scenario.db, scenario.event_id, fmt))
        assert VOTER_NAME not in text, fmt  # joined with a name, never posted under it
        assert text.count(SWITCHER) == 1, fmt  # on the one note posted with the name
        assert "anonymously by the same person" in text, fmt


async def test_hidden_notes_are_marked_in_data_and_left_out_of_the_report(scenario):
    hidden_text = "An inappropriate remark"
    for fmt in ("docx", "html", "md"):
        assert hidden_text not in all_text_of(
            fmt, await exported(scenario.db, scenario.event_id, fmt)), fmt
    for fmt in ("csv", "json", "xlsx"):
        assert hidden_text in all_text_of(
            fmt, await exported(scenario.db, scenario.event_id, fmt)), fmt


async def test_an_unknown_event_or_format_is_refused(db):
    with pytest.raises(NotFound):
        await exported(db, "nope", "csv")
    with pytest.raises(Exception, match="no export format"):
        await exported(db, "nope", "pdf")


# --- the command line ------------------------------------------------------------------------

def run_cli(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="plenary")
    export_cli.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


async def test_cli_exports_and_imports(scenario, tmp_path):
    url = scenario.db.url
    out = tmp_path / "report.docx"
    code = await asyncio.to_thread(run_cli, ["export", scenario.event_id, "--format", "docx",
                                             "-o", str(out), "--database", url])
    assert code == 0 and out.read_bytes().startswith(b"PK")
    record = tmp_path / "event.json"
    assert await asyncio.to_thread(run_cli, ["export", scenario.event_id, "--format", "json",
                                             "-o", str(record), "--database", url]) == 0
    fresh = f"sqlite:///{tmp_path / 'other.db'}"
    assert await asyncio.to_thread(run_cli, ["import", str(record), "--database", fresh]) == 0
    with pytest.raises(Conflict):
        await asyncio.to_thread(run_cli, ["import", str(record), "--database", fresh])


async def test_cli_writes_a_named_file_and_refuses_plainly(scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = scenario.db.url
    assert await asyncio.to_thread(run_cli, ["export", scenario.event_id, "-f", "csv",
                                             "--database", url]) == 0
    written = tmp_path / "plenary-spring-assembly-1-1-b-co-ops-b-2025-03-14.csv"
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    with pytest.raises(NotFound):
        await asyncio.to_thread(run_cli, ["export", "nope", "-f", "csv", "-o", "x.csv",
                                          "--database", url])
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(SystemExit):  # argparse names the formats there are
        await asyncio.to_thread(run_cli, ["export", scenario.event_id, "-f", "pdf"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "plenary-event", "schema_version": 9}', encoding="utf-8")
    with pytest.raises(InvalidPayload, match="schema version 9"):
        await asyncio.to_thread(run_cli, ["import", str(bad), "--database", url])
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(InvalidPayload, match="is not a JSON file"):
        await asyncio.to_thread(run_cli, ["import", str(bad), "--database", url])


# --- HTTP ---------------------------------------------------------------------------------

def mount_export_routes(server) -> None:
    """Put the export route into the running server's app, unless web.py already has it."""
    app = server.app.asgi.app.other_asgi_app.app  # FrameGuard -> ASGIApp -> headers -> Starlette
    paths = {getattr(r, "path", None) for r in app.router.routes}
    routes = export_http.routes(server.app.db, server.config.secret())
    if routes[0].path not in paths:
        app.router.routes[0:0] = routes


async def test_http_export_needs_the_organisers_token_or_console_session(tmp_path):
    with run_server(tmp_path) as server:
        mount_export_routes(server)
        info = await server.create_event(tables=2)
        other = await server.create_event(tables=1)
        event_id = info["id"]
        url = f"{server.url}/api/events/{event_id}/export.csv"
        secret = server.config.secret()
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.get(url)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
            for bad in ("nonsense", make_token(secret, Role.ORGANISER, event_id, 7)):
                r = await client.get(url, headers={"Authorization": f"Bearer {bad}"})
                assert r.status_code == 401 and r.json()["error"]["code"] == "bad_token"
            forbidden = (info["tables"][0]["facilitator_token"], info["dashboard_token"],
                         other["organiser_token"])
            for token in forbidden:
                r = await client.get(url, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 403, token
            good = {"Authorization": f"Bearer {info['organiser_token']}"}
            r = await client.get(url, headers=good)
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/csv")
            assert r.headers["content-disposition"] == \
                'attachment; filename="plenary-test-event.csv"'
            assert r.headers["cache-control"] == "no-store"
            assert r.content.startswith(b"\xef\xbb\xbf") and b"Note id" in r.content
            for fmt, magic in (("docx", b"PK"), ("xlsx", b"PK"), ("json", b"{"),
                               ("html", b"<!doctype"), ("md", b"# Test event")):
                r = await client.get(url.replace(".csv", f".{fmt}"), headers=good)
                assert r.status_code == 200 and r.content.startswith(magic), fmt
            r = await client.get(url.replace(".csv", ".pdf"), headers=good)
            assert r.status_code == 404 and r.json()["error"]["code"] == "bad_format"
            r = await client.get(f"{server.url}/api/events/nope/export.csv", headers=good)
            assert r.status_code == 403
            # The console's session (from its organiser link) downloads with a plain link.
            r = await client.post(f"{server.url}/api/session",
                                  json={"token": info["organiser_token"]},
                                  headers={"origin": server.url})
            assert r.status_code == 200
            r = await client.get(url.replace(".csv", ".json"))
            assert r.status_code == 200 and json.loads(r.content)["event"]["id"] == event_id
            r = await client.get(f"{server.url}/api/events/{other['id']}/export.json")
            assert r.status_code == 401


async def test_http_export_streams_while_the_server_serves_others(tmp_path):
    """A large CSV arrives in pieces, and a health check during it answers at once."""
    with run_server(tmp_path) as server:
        mount_export_routes(server)
        info = await server.create_event(tables=20)
        db = Database(server.config.database_url)
        try:
            await bulk_notes(db, info, per_table=500)
        finally:
            await db.close()
        url = f"{server.url}/api/events/{info['id']}/export.csv"
        good = {"Authorization": f"Bearer {info['organiser_token']}"}
        pieces, health = 0, []
        async with httpx.AsyncClient(timeout=60) as client, \
                client.stream("GET", url, headers=good) as r:
            assert r.status_code == 200
            async with httpx.AsyncClient(timeout=10) as other:
                async for _ in r.aiter_raw():
                    pieces += 1
                    if pieces % 5 == 1:
                        t0 = asyncio.get_running_loop().time()
                        assert (await other.get(f"{server.url}/healthz")).status_code == 200
                        health.append(asyncio.get_running_loop().time() - t0)
        assert pieces > 5
        assert max(health) < 2


async def bulk_notes(db: Database, info: dict[str, Any], *, per_table: int) -> None:
    def insert(conn: sa.Connection) -> None:
        for t in info["tables"]:
            pid = nid()[:16]
            q.insert_participant(conn, id=pid, table_id=t["id"], key_hash=nid() * 2)
            for i in range(per_table):
                q.insert_note(conn, id=nid(), table_id=t["id"], participant_id=pid,
                              stage_index=0, step_index=0, text=f"Note {i} " + "x" * 100,
                              author=None, created_ms=q.now_ms(), created_seq=i + 1)
    await write_path(db).run(insert)
