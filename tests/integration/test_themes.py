"""Cross-table themes on the real server: notes posted over socket.io at several tables,
embedded and clustered by the real model, read back as the dashboard and the console do,
and the organiser's choices kept across refreshes."""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import docx
import httpx
import openpyxl
import pytest
from plenary import export
from plenary.export import cli as export_cli
from plenary.store import Database

from tests.conftest import ARTIFACTS, missing
from tests.themes_data import load

from .conftest import participant_auth
from .server import WAIT_S, RunningServer, connect, run_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    # Refresh as soon as notes change: the tests wait on the themes, not on a clock.
    with run_server(tmp_path_factory.mktemp("themes"), PLENARY_THEMES_INTERVAL="0") as running:
        yield running


async def console(server: RunningServer, token: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=30)
    r = await http.post("/api/session", json={"token": token})
    assert r.status_code == 200, r.text
    return http


async def themes_of(server: RunningServer, ev: dict[str, Any], *, stage: int | None = None,
                    token: str | None = None) -> dict[str, Any]:
    params = {} if stage is None else {"stage": str(stage)}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.get(f"/api/events/{ev['id']}/themes", params=params,
                           headers={"authorization": f"Bearer {token or ev['dashboard_token']}"})
    assert r.status_code == 200, r.text
    return r.json()


async def settled(server: RunningServer) -> None:
    """Wait until every posted note is embedded and the themes are refreshed."""
    deadline = time.monotonic() + 60
    await asyncio.sleep(0)
    while not server.app.themes.idle:
        assert time.monotonic() < deadline, "the themes never settled"
        await asyncio.sleep(0.05)


async def until(server: RunningServer, ev: dict[str, Any], ok: Callable[[dict], bool], *,
                stage: int | None = None, token: str | None = None) -> dict[str, Any]:
    """Poll the themes until ``ok`` holds (the refresh runs in the background)."""
    deadline = time.monotonic() + 60
    while True:
        body = await themes_of(server, ev, stage=stage, token=token)
        if ok(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"themes never became as expected: {body}")
        await asyncio.sleep(0.1)


def all_themes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for s in body["scopes"] for t in s["themes"]]


async def post_all(join, ev: dict[str, Any], notes: list[tuple[int, str]]) -> list[str]:
    """Post each (table 1-16, text) from a participant at that table."""
    ids = []
    phones: dict[int, Any] = {}
    for table, text in notes:
        t = table - 1
        if t not in phones:
            phones[t] = await join(participant_auth(ev["tables"][t]["join_code"], f"P{t}"))
        note_id = secrets.token_hex(8)
        r = await phones[t].call("note.post", {"id": note_id, "text": text})
        assert r["ok"], r
        ids.append(note_id)
    return ids


async def members(server: RunningServer, ev: dict[str, Any], theme_id: str) -> set[str]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.get(f"/api/events/{ev['id']}/themes/{theme_id}",
                           headers={"authorization": f"Bearer {ev['organiser_token']}"})
    assert r.status_code == 200, r.text
    [theme] = all_themes(r.json())
    return {m["id"] for m in theme["members"]}


@pytest.fixture
async def event(server: RunningServer) -> dict[str, Any]:
    """The seed event with 16 tables, moved to stage 3 (open discussion: notes public)."""
    ev = await server.create_event(tables=16, template="alchemy")
    org = await connect(server.url, {"token": ev["organiser_token"]})
    try:
        for stage in (0, 1):
            assert (await org.call("stage.next", {"from": stage}))["ok"]
    finally:
        await org.close()
    return ev


STAGE2 = [n for n in load() if n.stage == 2]


async def test_the_room_sees_themes_that_span_tables(server, event, join):
    ids = await post_all(join, event, [(n.table, n.text) for n in STAGE2])
    by_text = dict(zip((n.text for n in STAGE2), ids, strict=True))
    body = await until(server, event, lambda b: sum(t["notes"] for t in all_themes(b)) >= 30)
    assert body["available"] and body["stage"] == 2
    themes = all_themes(body)
    assert 3 <= len(themes) <= 8  # the dashboard's top themes
    assert themes[0]["tables"] >= 2 and themes[0]["topics"] >= 2
    assert all(t["quote"]["text"] and t["title"] for t in themes)
    assert [t["tables"] for t in themes] == sorted((t["tables"] for t in themes), reverse=True)
    # Near-duplicates posted at different tables are one theme.
    near = [(STAGE2[i], n) for i, n in enumerate(STAGE2) if n.near is not None]
    staff = await themes_of(server, event, token=event["organiser_token"])
    theme_of = {note: t["id"] for t in all_themes(staff)
                for note in await members(server, event, t["id"])}
    labelled = load()
    assert near
    for _, n in near:
        first, second = by_text[labelled[n.near].text], by_text[n.text]
        assert theme_of.get(second) is not None and theme_of.get(first) == theme_of[second], \
            n.text


async def test_private_and_hidden_notes_never_enter(server, join):
    ev = await server.create_event(tables=3, template="alchemy")  # stage 1: silent writing
    a = await join(participant_auth(ev["tables"][0]["join_code"], "A"))
    b = await join(participant_auth(ev["tables"][1]["join_code"], "B"))
    for phone, text in ((a, "Funding is year to year so nobody can plan"),
                        (a, "One year grants mean we cannot plan ahead"),
                        (b, "Funding only comes a year at a time, no planning possible")):
        assert (await phone.call("note.post", {"id": secrets.token_hex(8), "text": text}))["ok"]
    http = await console(server, ev["organiser_token"])
    try:
        r = await http.post(f"/api/events/{ev['id']}/themes/refresh", json={"stage": 0})
        assert r.status_code == 200, r.text
        body = await themes_of(server, ev, stage=0, token=ev["organiser_token"])
        assert all_themes(body) == []  # still private: nobody's writing is clustered
        org = await connect(server.url, {"token": ev["organiser_token"]})
        try:
            assert (await org.call("stage.next", {"from": 0}))["ok"]  # reveals them
        finally:
            await org.close()
        body = await until(server, ev, lambda b: len(all_themes(b)) == 1, stage=0)
        [theme] = all_themes(body)
        assert theme["notes"] == 3 and theme["tables"] == 2
        # A facilitator hides the quote: it leaves the room's view at once.
        quote = theme["quote"]["id"]
        table = next(t for t in ev["tables"] if t["id"] == theme["quote"]["table"])
        fac = await join({"token": table["facilitator_token"]})
        r = await fac.call("note.hide", {"id": quote, "hidden": True})
        assert r["ok"], r
        body = await themes_of(server, ev, stage=0)
        assert quote not in {t["quote"]["id"] for t in all_themes(body)}
        assert all(t["notes"] <= 2 for t in all_themes(body))
    finally:
        await http.aclose()


async def test_the_organisers_choices_survive_refreshes(server, event, join, tmp_path):
    await post_all(join, event, [(n.table, n.text) for n in STAGE2])
    await settled(server)
    body = await themes_of(server, event, token=event["organiser_token"])
    first, second, third = all_themes(body)[:3]
    http = await console(server, event["organiser_token"])
    base = f"/api/events/{event['id']}/themes"
    try:
        r = await http.patch(f"{base}/{first['id']}", json={"label": "Talk to the market early"})
        assert r.status_code == 200, r.text
        r = await http.patch(f"{base}/{third['id']}", json={"hidden": True})
        assert r.status_code == 200, r.text
        r = await http.post(f"{base}/{second['id']}/merge", json={"into": first["id"]})
        assert r.status_code == 200, r.text
        into = await members(server, event, first["id"])
        moved = next(iter(into - {first["quote"]["id"]}))
        r = await http.post(f"{base}/{first['id']}/move-out", json={"note": moved})
        assert r.status_code == 200, r.text
        # Refused: bad input gets a clear message.
        r = await http.post(f"{base}/{first['id']}/merge", json={"into": first["id"]})
        assert r.status_code == 409 and r.json()["error"]["code"] == "same_theme"
        r = await http.patch(f"{base}/{first['id']}", json={"label": "x" * 200})
        assert r.status_code == 400
        # More notes arrive and the themes are recomputed: the choices hold.
        await post_all(join, event, [(3, "Talk to providers before we write the tender"),
                                     (6, "Market engagement before procurement starts")])
        await settled(server)
        staff = await themes_of(server, event, token=event["organiser_token"])
        ids = {t["id"]: t for t in all_themes(staff)}
        assert ids[first["id"]]["title"] == "Talk to the market early"
        assert second["id"] not in ids
        assert ids[third["id"]]["hidden"] is True
        assert moved not in await members(server, event, first["id"])
        room = await themes_of(server, event)
        assert third["id"] not in {t["id"] for t in all_themes(room)}
        # Someone else's link cannot change anything; a participant cannot read.
        async with httpx.AsyncClient(base_url=server.url) as anon:
            r = await anon.patch(f"{base}/{first['id']}", json={"label": "no"},
                                 headers={"origin": server.url})
            assert r.status_code == 401
            r = await anon.get(base, headers={"authorization": "Bearer nonsense"})
            assert r.status_code in (401, 403)
            facilitator = event["tables"][0]["facilitator_token"]
            r = await anon.get(base, headers={"authorization": f"Bearer {facilitator}"})
            assert r.status_code == 403
    finally:
        await http.aclose()
    await check_the_report(server, event, renamed="Talk to the market early",
                           hidden=ids[third["id"]]["title"], tmp=tmp_path)


async def check_the_report(server: RunningServer, event: dict[str, Any], *, renamed: str,
                           hidden: str, tmp: Any) -> None:
    """Every report format has "Across the tables" with the organiser's choices, and the
    JSON record keeps the themes through an import."""
    db = Database(server.config.database_url)
    fresh = Database(f"sqlite:///{tmp / 'fresh.db'}")
    try:
        async def exported(database: Database, fmt: str, ms: int) -> bytes:
            out = io.BytesIO()
            await export.export_event(database, event["id"], fmt, out, exported_ms=ms)
            return out.getvalue()

        page = (await exported(db, "html", 1)).decode()
        across = page.split('<section class="across">', 1)[1].split("</section>", 1)[0]
        assert "Across the tables" in across and "Stage 3." in across
        assert html.escape(renamed) in across and html.escape(hidden) not in across
        assert re.search(r"\d+ tables · \d+ topics? · \d+ notes", across)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "themes-report.html").write_text(page, encoding="utf-8")
        markdown = (await exported(db, "md", 1)).decode()
        assert "## Across the tables" in markdown and renamed in markdown
        document = docx.Document(io.BytesIO(await exported(db, "docx", 1)))
        texts = [p.text for p in document.paragraphs]
        assert "Across the tables" in texts and any(t.startswith(renamed) for t in texts)
        wb = openpyxl.load_workbook(io.BytesIO(await exported(db, "xlsx", 1)))
        rows = list(wb["Themes"].iter_rows(values_only=True))
        assert rows[0][:4] == ("Stage no.", "Stage", "Category", "Theme")
        assert renamed in {r[3] for r in rows[1:]} and hidden not in {r[3] for r in rows[1:]}
        first = await exported(db, "json", 1)
        record = json.loads(first)
        assert record["schema_version"] == 2
        assert renamed in {t["label"] for t in record["themes"]}
        assert record["theme_exclusions"]
        path = tmp / "event.json"
        path.write_bytes(first)
        await fresh.migrate()
        await export_cli.import_file(fresh, path)
        again = await exported(fresh, "json", 1)
        assert again == first
        assert await exported(fresh, "md", 1) == markdown.encode()
    finally:
        await db.close()
        await fresh.close()


async def test_the_organiser_puts_the_themes_on_the_dashboard(server, event, join):
    dash = await join({"token": event["dashboard_token"]})
    got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    dash.sio.on("event.updated", got.put_nowait)
    await post_all(join, event, [(n.table, n.text) for n in STAGE2[:12]])
    body = await until(server, event, lambda b: len(all_themes(b)) >= 1)
    theme = all_themes(body)[0]
    http = await console(server, event["organiser_token"])
    try:
        base = f"/api/events/{event['id']}/themes"
        r = await http.post(f"{base}/show", json={"on": True})
        assert r.status_code == 200, r.text
        update = await asyncio.wait_for(got.get(), WAIT_S)
        assert update["event"]["spotlight"] == {"kind": "themes", "id": None}
        r = await http.post(f"{base}/show", json={"on": True, "theme": theme["id"]})
        assert r.status_code == 200, r.text
        update = await asyncio.wait_for(got.get(), WAIT_S)
        assert update["event"]["spotlight"] == {"kind": "theme", "id": theme["id"]}
        r = await http.post(f"{base}/show", json={"on": True, "theme": "nope"})
        assert r.status_code == 404
    finally:
        await http.aclose()


async def test_without_the_extra_the_room_is_told_how_to_turn_themes_on(server, monkeypatch):
    ev = await server.create_event(tables=2, template="alchemy")
    monkeypatch.setattr(server.app.themes, "unavailable", "Themes need the optional model")
    body = await themes_of(server, ev)
    assert body == {"available": False, "stage": 0, "stage_title": body["stage_title"],
                    "scopes": [], "message": "Themes need the optional model"}
    http = await console(server, ev["organiser_token"])
    try:
        r = await http.post(f"/api/events/{ev['id']}/themes/refresh", json={})
        assert r.status_code == 409 and r.json()["error"]["code"] == "themes_off"
    finally:
        await http.aclose()
