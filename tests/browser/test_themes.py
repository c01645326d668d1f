"""'What the room is saying' in the real pages: the console's themes panel puts the
cross-table themes on the projected dashboard (1920x1080 and 1280x720), spotlights one,
and stage 5 rolls barriers and enablers up apart. Notes come from real socket.io clients
at sixteen tables; the themes from the real model. Screenshots in test-artifacts/."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, missing
from tests.integration.server import RunningServer, connect, run_server
from tests.themes_data import load

from .conftest import LAPTOP, PROJECTOR, PROJECTOR_SMALL, shot
from .test_console import axe, console

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    with run_server(tmp_path_factory.mktemp("themes-browser"),
                    PLENARY_THEMES_INTERVAL="0") as running:
        yield running


def run(coro: Any) -> Any:
    # Playwright's sync API owns this thread's event loop: run ours beside it.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def seed(server: RunningServer, *, stage: int) -> dict[str, Any]:
    """The seed event, 16 tables, at ``stage`` with that stage's labelled notes public."""
    ev = await server.create_event(tables=16, template="alchemy")
    org = await connect(server.url, {"token": ev["organiser_token"]})
    phones: dict[int, Any] = {}
    try:
        for s in range(stage):
            assert (await org.call("stage.next", {"from": s}))["ok"]
        for n in (n for n in load() if n.stage == stage):
            if n.table not in phones:
                phones[n.table] = await connect(server.url, {
                    "join_code": ev["tables"][n.table - 1]["join_code"],
                    "participant_key": secrets.token_bytes(16), "name": f"P{n.table}"})
            r = await phones[n.table].call("note.post", {"id": secrets.token_hex(8),
                                                         "text": n.text, "category": n.category})
            assert r["ok"], r
        if stage == 4:  # it starts with silent writing: the organiser reveals every table
            for t in ev["tables"]:
                r = await org.call("step.next", {"table": t["id"], "from": 0})
                assert r["ok"], r
    finally:
        for p in phones.values():
            await p.close()
        await org.close()
    deadline = asyncio.get_running_loop().time() + 60
    await asyncio.sleep(0.2)
    while not server.app.themes.idle:
        assert asyncio.get_running_loop().time() < deadline, "themes never settled"
        await asyncio.sleep(0.05)
    return ev


def on_screen(page: Any, selector: str) -> list[dict[str, float]]:
    """Boxes of the visible elements matching ``selector``."""
    return page.eval_on_selector_all(selector, """els => els.filter(e => !e.hidden &&
        e.offsetParent !== null).map(e => { const r = e.getBoundingClientRect();
        const name = e.querySelector('.theme-name') || e;
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                font: parseFloat(getComputedStyle(name).fontSize)}; })""")


def test_the_room_sees_its_themes_on_the_projector(server, contexts):
    ev = run(seed(server, stage=2))
    org = console(contexts, ev["organiser_url"], {**LAPTOP, "bypass_csp": True})
    panel = org.locator("#themes-panel")
    panel.locator(".theme-item").first.wait_for()
    assert "themes across the tables" in panel.locator("#themes-status").inner_text()
    shot(org, "console-themes-1366")
    assert axe(org) == []

    big = contexts({**PROJECTOR, "bypass_csp": True}).new_page()
    small = contexts(PROJECTOR_SMALL).new_page()
    for dash in (big, small):
        dash.goto(ev["dashboard_url"])
        dash.locator(".tile").first.wait_for()
    panel.get_by_role("button", name="Show on the dashboard").click()
    panel.get_by_role("button", name="Take off the dashboard").wait_for()
    for dash, name, height in ((big, "1920", 1080), (small, "1280", 720)):
        view = dash.locator("#themes-view")
        view.locator(".theme-card").first.wait_for()
        assert "WHAT THE ROOM IS SAYING" in view.locator(".spot-kicker").inner_text().upper()
        cards = on_screen(dash, ".theme-card")
        assert len(cards) >= 3
        # Everything shown fits the screen, and the names read from the back of a hall.
        assert all(c["bottom"] <= height and c["right"] <= int(name) for c in cards)
        assert all(c["font"] >= 0.035 * height for c in cards)
        assert view.locator(".theme-facts").first.inner_text().count("tables") == 1
        shot(dash, f"dashboard-{name}-themes")
    assert axe(big) == []

    # One theme in the spotlight: its notes from every table.
    first = panel.locator(".theme-item").first
    title = first.locator(".theme-head").inner_text()
    first.get_by_role("button", name="Spotlight").click()
    big.locator("#themes-view[data-kind='theme'] .theme-member").first.wait_for()
    assert big.locator("#themes-title").inner_text() == title
    members = on_screen(big, ".theme-member")
    assert len(members) >= 2 and all(m["bottom"] <= 1080 for m in members)
    shot(big, "dashboard-1920-theme-spotlight")

    # The organiser renames it; the room sees the new name at the next read.
    first.get_by_label(f"New name for {title}").fill("Talk to the market early")
    first.get_by_role("button", name="Rename").click()
    big.locator("#themes-title").filter(has_text="Talk to the market early").wait_for()
    panel.get_by_role("button", name="Take off the dashboard").click()
    big.locator("#themes-view").wait_for(state="hidden")
    big.locator(".tile").first.wait_for()


def test_stage_five_rolls_up_barriers_and_enablers_apart(server, contexts):
    ev = run(seed(server, stage=4))
    dash = contexts(PROJECTOR).new_page()
    dash.goto(ev["dashboard_url"])
    dash.locator(".tile").first.wait_for()
    org = console(contexts, ev["organiser_url"])
    org.locator("#themes-panel .theme-item").first.wait_for()
    assert org.locator("#themes-list h3").all_inner_texts() == ["Barriers", "Enablers"]
    org.get_by_role("button", name="Show on the dashboard").click()
    scopes = dash.locator("#themes-view .themes-scope")
    scopes.first.locator(".theme-card").first.wait_for()
    assert [s.upper() for s in dash.locator(".themes-scope-title").all_inner_texts()] == [
        "BARRIERS", "ENABLERS"]
    shot(dash, "dashboard-1920-themes-stage5")
    cards = on_screen(dash, ".theme-card")
    assert len(cards) >= 4 and all(c["bottom"] <= 1080 for c in cards)


def test_the_report_page_across_the_tables(server, contexts):
    """The exported HTML report's "Across the tables", rendered in Chromium."""
    from plenary import export
    from plenary.store import Database

    ev = run(seed(server, stage=2))

    async def report() -> str:
        db = Database(server.config.database_url)
        try:
            out = io.BytesIO()
            await export.export_event(db, ev["id"], "html", out)
            return out.getvalue().decode()
        finally:
            await db.close()

    page_html = run(report())
    path = ARTIFACTS / "themes-report.html"
    ARTIFACTS.mkdir(exist_ok=True)
    path.write_text(page_html, encoding="utf-8")
    page = contexts({"viewport": {"width": 900, "height": 1200}}).new_page()
    page.goto(path.as_uri())
    across = page.locator("section.across")
    across.get_by_role("heading", name="Across the tables").wait_for()
    assert across.locator("ol.themes > li").count() >= 3
    across.scroll_into_view_if_needed()
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    across.screenshot(path=str(ARTIFACTS / "screenshots" / "report-html-across-the-tables.png"))
