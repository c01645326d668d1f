"""The organiser's console and the plenary dashboard in headless Chromium, against a
real server: set an event up from nothing (topics from a CSV file), print its cards and
read their QR codes back, run it live from one screen, and fit the projector."""

from __future__ import annotations

import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing

from .conftest import LAPTOP, PHONE, PROJECTOR, PROJECTOR_SMALL, TABLET, axe_findings, shot

pytestmark = pytest.mark.browser

STAGES = [
    "Understanding of the issues",
    "Development of big ideas",
    "Models for partnership and collaboration",
    "How social investment can make a difference",
    "How to move things forward",
]

SEED_TOPICS = [
    ("Children's services: transitioning from care in England", "Care leavers, 18 to 25."),
    ("Children's services: addressing placement sufficiency for looked-after children", ""),
    ("Domestic violence: perpetrators leaving the shared home with the victim",
     "Who leaves, and how?"),
    ("Elderly care: co-operative models and technology", "Owned by workers, users, or both."),
    ("Homelessness: reduction and prevention", "Prevention, 56 days, duty to refer."),
    ("Mental health: strengthening communities through social investment in services", ""),
    ("Primary care: community models for health and wellbeing", "Hubs, mutuals, CICs."),
    ("Supported housing market: creating sustainable solutions together",
     "Quality, value, licensing."),
]


# --- reading a QR code back from the printed page -------------------------------------------

def png_to_gray(data: bytes) -> tuple[int, int, bytes]:
    """Decode an 8-bit, non-interlaced PNG (what Chromium writes) to grey levels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = depth = ctype = interlace = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert depth == 8 and interlace == 0 and ctype in (0, 2, 4, 6), (depth, ctype, interlace)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    gray = bytearray(width * height)
    i = 0
    for y in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(width):
            px = line[x * bpp:x * bpp + bpp]
            level = px[0] if bpp < 3 else (px[0] * 299 + px[1] * 587 + px[2] * 114) // 1000
            gray[y * width + x] = level
        prev = line
    return width, height, bytes(gray)


def read_qr(png: bytes) -> list[str]:
    """The text of every QR code in a screenshot (zxing-cpp)."""
    try:
        import zxingcpp
    except ImportError:
        missing("the zxing-cpp Python package (pip install zxing-cpp)")
    width, height, gray = png_to_gray(png)
    image = memoryview(gray).cast("B", (height, width))
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


# --- helpers ------------------------------------------------------------------------------------

def console(contexts: Any, url: str, device: dict[str, Any] = LAPTOP) -> Any:
    page = contexts(device).new_page()
    page.on("dialog", lambda d: d.accept())  # "are you sure?" answered yes
    page.goto(url)
    return page


def setup_of(page: Any, event_id: str) -> dict[str, Any]:
    """The event's set-up, read with the console's own session cookie."""
    return page.evaluate(
        "id => fetch('/api/events/' + id, {credentials: 'same-origin'}).then(r => r.json())",
        event_id)


def event_id_of(page: Any) -> str:
    match = re.search(r"[?&]event=([^&#]+)", page.url)
    assert match, page.url
    return match.group(1)


# A page "shows" a stage when an element on the screen has its title as text.
SHOWS = """title => [...document.querySelectorAll('h1, h2, h3, p, strong, span, li, div')]
  .some(e => e.offsetParent !== null && e.textContent.trim().startsWith(title)
             && [...e.children].every(k => !k.textContent.includes(title)))"""

WATCH = """title => {
  const shows = SHOWS;
  window.__seenAt = 0;
  clearInterval(window.__watch);
  window.__watch = setInterval(() => {
    if (shows(title)) { window.__seenAt = Date.now(); clearInterval(window.__watch); }
  }, 5);
}""".replace("SHOWS", SHOWS)


def boxes(page: Any, selector: str) -> list[tuple[float, float, float, float]]:
    return [tuple(b) for b in page.eval_on_selector_all(selector, """els => els
        .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
        .map(e => { const r = e.getBoundingClientRect();
                    return [r.left, r.top, r.right, r.bottom]; })""")]


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def assert_tiles_fit(page: Any, width: int, height: int, what: str) -> int:
    tiles = boxes(page, ".tile")
    assert tiles, f"{what}: no tiles"
    for t in tiles:
        inside = t[0] >= 0 and t[1] >= 0 and t[2] <= width and t[3] <= height
        assert inside, f"{what}: {t} off screen"
    for i, a in enumerate(tiles):
        for b in tiles[i + 1:]:
            assert not overlaps(a, b), f"{what}: tiles {a} and {b} overlap"
    # Nor under the head (stage, timer) or the foot (ticker, page number).
    chrome = boxes(page, ".head, .foot, .message:not([hidden]), .banner:not([hidden])")
    for t in tiles:
        for c in chrome:
            assert not overlaps(t, c), f"{what}: tile {t} under {c}"
    # Headings of topics: inside the screen, clear of every tile.
    for head in boxes(page, ".group-head"):
        assert head[2] <= width and head[3] <= height
        for t in tiles:
            assert not overlaps(head, t), f"{what}: heading {head} over tile {t}"
    return len(tiles)


def seconds(text: str) -> int:
    m, s = text.strip().split(":")
    return int(m) * 60 + int(s)


# --- set-up from nothing, and printing ---------------------------------------------------------

def test_console_sets_up_an_event_from_a_csv_file_and_prints_its_cards(server, contexts,
                                                                      tmp_path: Path):
    org = console(contexts, server.admin_url)
    org.get_by_role("heading", name="Create an event").wait_for()
    assert "#" not in org.url, "the admin token must leave the address bar"
    shot(org, "console-events-1366")

    csv_file = tmp_path / "topics.csv"
    rows = ["title,brief"] + [f'"{t}","{b}"' for t, b in SEED_TOPICS]
    # As Excel saves it: a byte-order mark and CRLF line ends.
    csv_file.write_text("\ufeff" + "\r\n".join(rows) + "\r\n", encoding="utf-8")

    form = org.get_by_role("region", name="Create an event")
    form.get_by_label("Title", exact=True).fill("Growing social enterprise: the day")
    form.get_by_label("Venue").fill("Friends Meeting House")
    form.get_by_label("Date").fill("2026-03-12")
    form.get_by_label("Number of tables").fill("8")
    form.get_by_label("From a CSV file").check()
    form.get_by_label("Topics CSV file").set_input_files(str(csv_file))
    form.get_by_role("button", name="Create the event").click()

    org.get_by_role("heading", name="Growing social enterprise: the day").wait_for()
    org.get_by_role("table", name="Topics (8)").wait_for()
    org.get_by_role("table", name="Tables (8)").wait_for()
    titles = org.locator("#topic-rows .t-title").evaluate_all("els => els.map(e => e.value)")
    assert titles == [t for t, _ in SEED_TOPICS]
    assert org.get_by_role("alert").filter(has_text=re.compile(".")).count() == 0

    # A facilitator's name, then a leaked join code replaced.
    org.get_by_label("Facilitator of table 1").fill("Amara Okafor")
    org.get_by_label("Facilitator of table 1").press("Enter")
    org.get_by_text("Table 1: facilitator Amara Okafor.").wait_for()
    event_id = event_id_of(org)
    before = setup_of(org, event_id)["tables"][1]["join_code"]
    org.get_by_role("button", name="Regenerate join code for table 2").click()
    org.get_by_text("Table 2 has a new join code.").wait_for()
    setup = setup_of(org, event_id)
    assert setup["tables"][1]["join_code"] != before
    assert setup["tables"][0]["facilitator_name"] == "Amara Okafor"
    assert [t["topic"] for t in setup["tables"]] == [t for t, _ in SEED_TOPICS]
    shot(org, "console-setup-1366")

    # Cards, A4 two a sheet: every card, and its QR code reads back as the table's link.
    with org.expect_popup() as popup:
        org.get_by_role("link", name="Table cards, A4 (two a sheet)").click()
    cards = popup.value
    cards.wait_for_load_state()
    assert cards.locator(".card").count() == 8
    shot(cards, "cards-a4")
    for i in (0, 1, 7):
        table = setup["tables"][i]
        card = cards.locator(".card").nth(i)
        assert card.locator(".card-number").inner_text() == f"Table {table['number']}"
        assert card.locator(".card-code").inner_text().replace(" ", "") == table["join_code"]
        card.scroll_into_view_if_needed()
        assert read_qr(card.locator(".card-qr").screenshot()) == [table["participant_url"]]
    # Two cards a sheet when printed: the print layout puts 8 cards on 4 A4 pages.
    cards.emulate_media(media="print")
    heights = cards.locator(".card").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")
    assert all(abs(h - heights[0]) < 1 for h in heights) and heights[0] * 2 <= 297 / 25.4 * 96 + 1

    a5 = org.context.new_page()
    a5.goto(setup["links"]["cards_url"] + "?layout=a5")
    assert a5.locator(".card").count() == 8
    shot(a5, "cards-a5")

    sheet = org.context.new_page()
    sheet.goto(setup["links"]["facilitators_url"])
    assert sheet.locator(".sheet-row").count() == 8
    sheet.get_by_text("Amara Okafor").wait_for()
    sheet.locator(".sheet-row").first.scroll_into_view_if_needed()
    assert read_qr(sheet.locator(".sheet-row .card-qr").first.screenshot()) == [
        setup["tables"][0]["facilitator_url"]]
    shot(sheet, "facilitators-sheet")

    # Start: the console turns into the live view of every table.
    org.get_by_role("button", name="Start the event").click()
    org.get_by_role("button", name="Next stage for every table").wait_for()
    org.get_by_role("table", name="Every table (8)").wait_for()
    org.locator("#stage-title").filter(has_text=STAGES[0]).wait_for()
    assert org.locator("#event-status").inner_text() == "Live"
    # Reloading keeps the session (cookie) and the socket's token (sessionStorage).
    org.reload()
    org.get_by_role("button", name="Next stage for every table").wait_for()
    org.locator("#status[data-state='connected']").wait_for()


# --- running it live ------------------------------------------------------------------------------

def test_every_page_shows_the_next_stage_within_a_second(new_event, contexts):
    event = new_event(tables=8)
    t1, t2 = event["tables"][0], event["tables"][1]
    org = console(contexts, event["organiser_url"])
    dash = contexts(PROJECTOR).new_page()
    dash.goto(event["dashboard_url"])
    phone1 = contexts(PHONE).new_page()
    phone1.goto(t1["participant_url"])
    phone2 = contexts(PHONE).new_page()
    phone2.goto(t2["participant_url"])
    tablet = contexts(TABLET).new_page()
    tablet.goto(t1["facilitator_url"])
    pages = {"console": org, "dashboard": dash, "phone 1": phone1, "phone 2": phone2,
             "tablet": tablet}
    for page in pages.values():
        page.get_by_text(STAGES[0]).first.wait_for()
    assert "#" not in org.url
    # Two phones joined: the console counts them at their tables.
    for row in (0, 1):
        people = org.locator("#rows tr").nth(row).locator("td").nth(3)
        people.filter(has_text=re.compile(r"^1$")).wait_for()

    timings = []
    for stage in range(1, len(STAGES)):
        title = STAGES[stage]
        for name, page in pages.items():
            page.evaluate(WATCH, title)
            assert page.evaluate("() => window.__seenAt") == 0, f"{name} shows {title!r} early"
        t0 = org.evaluate("() => Date.now()")
        org.get_by_role("button", name="Next stage for every table").click()
        seen = {}
        for name, page in pages.items():
            page.wait_for_function("() => window.__seenAt > 0")
            seen[name] = page.evaluate("() => window.__seenAt") - t0
        last = max(seen, key=seen.get)
        timings.append(seen[last])
        print(f"stage {stage + 1}: click to last page ({last}) {seen[last]} ms; " +
              ", ".join(f"{k} {v} ms" for k, v in seen.items()))
        if stage == 1:
            shot(dash, "dashboard-1920-stage2")
    mean = sum(timings) / len(timings)
    print(f"advance to last page: worst {max(timings)} ms, mean {mean:.0f} ms")
    # Within a second is the promise; a loaded CI machine gets some slack on the worst one.
    assert mean < 1000 and max(timings) < 2000, timings
    shot(org, "console-live-1366-stage5")
    assert org.get_by_role("button", name="Next stage for every table").is_disabled()
    for device, name in ((PROJECTOR["viewport"], "1920"), (PROJECTOR_SMALL["viewport"], "1280")):
        org.set_viewport_size(device)
        shot(org, f"console-live-{name}")


def test_timer_shows_the_same_remaining_time_on_every_screen(new_event, contexts):
    event = new_event(tables=8)
    org = console(contexts, event["organiser_url"])
    # A projector laptop whose clock is seven minutes slow: the server's clock wins.
    slow = contexts(PROJECTOR_SMALL)
    slow.clock.set_system_time(time.time() - 7 * 60)
    dash = slow.new_page()
    dash.goto(event["dashboard_url"])
    for page in (org, dash):
        page.get_by_text(STAGES[0]).first.wait_for()
    assert dash.evaluate("() => Date.now()") < time.time() * 1000 - 6 * 60 * 1000

    # The stage's duration_minutes by default.
    assert org.get_by_label("Minutes", exact=True).input_value() == "40"
    org.get_by_label("Minutes", exact=True).fill("12")
    org.get_by_role("button", name="Start", exact=True).click()
    dash.locator("#timer:not([hidden])").wait_for()

    def both() -> tuple[int, int]:
        a = org.locator("#timer-value").inner_text()
        b = dash.locator("#timer-value").inner_text()
        return seconds(a), seconds(b)

    a, b = both()
    assert abs(a - b) <= 1, (a, b)
    assert 11 * 60 + 55 <= b <= 12 * 60, b
    shot(dash, "dashboard-1280-timer")

    org.get_by_role("button", name="Pause").click()
    dash.locator("#timer[data-state='paused']").wait_for()
    org.get_by_text("Paused").wait_for()
    a, b = both()
    assert a == b, (a, b)
    org.get_by_role("button", name="+5 min").click()
    dash.wait_for_function("s => document.getElementById('timer-value').textContent === s",
                           arg=f"{(a + 300) // 60}:{(a + 300) % 60:02d}")
    org.get_by_role("button", name="Resume").click()
    dash.locator("#timer[data-state='running']").wait_for()
    a, b = both()
    assert abs(a - b) <= 1 and b > 16 * 60, (a, b)
    org.get_by_role("button", name="+1 min").click()
    dash.wait_for_function("() => { const [m, s] = document.getElementById('timer-value')"
                           ".textContent.split(':'); return m * 60 + +s > 17 * 60; }")
    org.get_by_role("button", name="Stop").click()
    dash.locator("#timer").wait_for(state="hidden")
    assert org.locator("#timer-value").inner_text() == "--:--"


def test_spotlight_and_broadcast_reach_the_projector(new_event, contexts):
    event = new_event(tables=8)
    table = event["tables"][0]
    org = console(contexts, event["organiser_url"])
    dash = contexts(PROJECTOR).new_page()
    dash.goto(event["dashboard_url"])
    phone = contexts(PHONE).new_page()
    phone.goto(table["participant_url"])
    for page in (org, dash, phone):
        page.get_by_text(STAGES[0]).first.wait_for()

    # Stage 3 starts with open discussion: notes are public as soon as they are posted.
    for stage in (1, 2):
        org.get_by_role("button", name="Next stage for every table").click()
        org.locator("#stage-title").filter(has_text=STAGES[stage]).wait_for()
    idea = "A shared procurement pilot with two councils and a co-op"
    phone.get_by_text(STAGES[2]).first.wait_for()
    phone.get_by_label("Your note").fill(idea)
    phone.get_by_role("button", name="Post note").click()

    # The note reaches the console's list, the dashboard's tile and its ticker.
    item = org.locator("#ideas li").filter(has_text=idea)
    item.wait_for()
    dash.locator(f".tile[data-table='{table['id']}']").get_by_text(idea).wait_for()
    dash.locator("#ticker").get_by_text(idea).wait_for()
    notes = org.locator("#rows tr").first.locator("td").nth(4)
    notes.filter(has_text=re.compile(r"^1$")).wait_for()
    shot(dash, "dashboard-1920-notes")

    item.get_by_role("button", name=re.compile("Spotlight")).click()
    spot = dash.locator("#spotlight")
    spot.wait_for()
    spot.get_by_text(idea).wait_for()
    assert spot.locator(".spot-kicker").inner_text().upper().startswith("TABLE 1")
    org.get_by_text(re.compile("On the dashboard: Note")).wait_for()
    shot(dash, "dashboard-1920-spotlight-note")

    org.get_by_role("button", name="Spotlight table 2 on the dashboard").click()
    dash.locator("#spot-kicker").filter(has_text="Table 2").wait_for()
    shot(dash, "dashboard-1920-spotlight-table")
    topic = org.get_by_label("Topic to spotlight").evaluate("s => s.selectedOptions[0].textContent")
    org.get_by_role("button", name="Spotlight topic").click()
    org.get_by_text(re.compile("On the dashboard: Topic")).wait_for()
    dash.locator("#spotlight[data-kind='topic'] #spot-title").filter(has_text=topic).wait_for()
    shot(dash, "dashboard-1920-spotlight-topic")
    org.get_by_role("button", name="Clear spotlight").click()
    spot.wait_for(state="hidden")
    assert len(boxes(dash, ".tile")) == 8

    # Hiding a note from the console takes it off the projector; showing it puts it back.
    tile = dash.locator(f".tile[data-table='{table['id']}']")
    item.get_by_role("button", name=re.compile("^Hide")).click()
    hidden = org.get_by_role("region", name="Hidden notes").locator("li").filter(has_text=idea)
    hidden.wait_for()
    tile.get_by_text(idea).wait_for(state="detached")
    tile.locator(".big").filter(has_text=re.compile("^0$")).wait_for()
    hidden.get_by_role("button", name="Show again").click()
    hidden.wait_for(state="detached")
    tile.get_by_text(idea).wait_for()
    tile.locator(".big").filter(has_text=re.compile("^1$")).wait_for()

    # A message to every screen: the projector's banner and the console say it.
    message = "Five minutes left: please agree your table's summary"
    org.get_by_label("Message (up to 140 characters)").fill(message)
    org.get_by_role("button", name="Send").click()
    dash.locator("#message").filter(has_text=message).wait_for()
    org.locator("#message-now").filter(has_text=message).wait_for()
    assert_tiles_fit(dash, 1920, 1080, "with a message")
    shot(dash, "dashboard-1920-message")
    shot(org, "console-live-1366-message")
    org.get_by_role("button", name="Clear", exact=True).click()
    dash.locator("#message").wait_for(state="hidden")

    # Locking one board: the console says so, the phone can no longer post.
    org.get_by_role("button", name="Lock table 1").click()
    org.get_by_role("button", name="Unlock table 1").wait_for()
    dash.locator(f".tile[data-table='{table['id']}'] .tile-lock").wait_for()

    # Closing (after "are you sure?") shows the closing view on the projector.
    org.get_by_role("button", name="Close the event").click()
    dash.locator("#closing").wait_for()
    shot(dash, "dashboard-1920-closed")
    org.get_by_role("button", name="Reopen the event").wait_for()


# --- the projector's layout ------------------------------------------------------------------

_EVENTS: dict[int, dict[str, Any]] = {}


@pytest.mark.parametrize("tables", [8, 40, 500])
@pytest.mark.parametrize("device", [PROJECTOR, PROJECTOR_SMALL], ids=["1920", "1280"])
def test_dashboard_tiles_fit_the_screen(new_event, contexts, tables, device):
    if tables not in _EVENTS:
        _EVENTS[tables] = new_event(tables=tables)
    event = _EVENTS[tables]
    width, height = device["viewport"]["width"], device["viewport"]["height"]
    page = contexts(device).new_page()
    page.goto(event["dashboard_url"])
    page.locator(".tile").first.wait_for()
    page.wait_for_function("() => window.plenaryDashboard?.pages().length > 0")
    pages = page.evaluate("() => window.plenaryDashboard.pages()")
    shown = [t for p in pages for t in p]
    everyone = sorted(t["id"] for t in event["tables"])
    assert sorted(shown) == everyone, "every table on exactly one page"
    name = f"dashboard-{width}-{tables}-tables"
    for i in range(len(pages)):
        if i:
            page.evaluate("i => window.plenaryDashboard.show(i)", i)
        assert assert_tiles_fit(page, width, height, f"{name} page {i + 1}") == len(pages[i])
        size = page.evaluate("() => parseFloat(document.getElementById('groups').style.fontSize)")
        assert size >= 0.0155 * height, f"type shrank below the readable minimum: {size}px"
        if len(pages) > 1:
            assert page.locator("#page-info").inner_text() == f"Page {i + 1} of {len(pages)}"
        if i == 0:
            shot(page, name)
    assert page.evaluate("() => document.scrollingElement.scrollHeight") <= height
    if tables == 8:
        assert len(pages) == 1


# --- accessibility ---------------------------------------------------------------------------

def axe(page: Any) -> list[dict[str, Any]]:
    """Every axe-core finding on the page as it is now, whatever its impact (printed)."""
    return axe_findings(page)


def test_axe_finds_nothing_serious_in_the_console_or_on_the_projector(server, new_event, contexts):
    event = new_event(tables=8, start=False)
    # The pages' CSP (rightly) refuses injected script: let the test's axe in.
    org = console(contexts, event["organiser_url"], {**LAPTOP, "bypass_csp": True})
    org.get_by_role("table", name="Tables (8)").wait_for()
    assert axe(org) == []  # set-up
    org.get_by_role("button", name="Start the event").click()
    org.get_by_role("table", name="Every table (8)").wait_for()
    assert axe(org) == []  # live
    admin = console(contexts, server.admin_url, {**LAPTOP, "bypass_csp": True})
    admin.get_by_role("heading", name="Create an event").wait_for()
    assert axe(admin) == []  # every event, and a new one
    dash = contexts({**PROJECTOR, "bypass_csp": True}).new_page()
    dash.goto(event["dashboard_url"])
    dash.locator(".tile").first.wait_for()
    assert axe(dash) == []
