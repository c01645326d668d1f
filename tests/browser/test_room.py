"""The pages as a room uses them (issue 9): phones, a facilitator's laptop, the organiser's
console on a tablet and a phone, and projectors, with busy boards, long notes, emoji,
Arabic and Hebrew. Each test is one fault a person saw, found by role and name; each failed
on the pages before the one-connection, one-state rebuild.

Notes and moves that only set the scene are made through real socket.io clients (the
Python ones the integration tests use): nine phones typing would only slow two cores."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.conftest import participant_auth
from tests.integration.server import connect

from .conftest import LAPTOP, PHONE, PROJECTOR, PROJECTOR_SMALL, SHOTS, TABLET, axe_findings, shot
from .test_table_board import LOADED, board, card, errors_of, open_page, post, watch

pytestmark = pytest.mark.browser

ARABIC = "نحتاج إلى سكن آمن للشباب بعد الرعاية"
HEBREW = "צריך מרכז קהילתי פתוח בערב 🏠"
LONG = ("A single front door for every young person leaving care, open evenings and weekends, "
        "with a named worker who stays with them until they are twenty-five 🌱")


# --- helpers -------------------------------------------------------------------------------

def run(coro: Any) -> Any:
    # Playwright's sync API owns this thread's event loop: run the clients beside it.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _calls(url: str, auth: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]) -> list:
    client = await connect(url, auth)
    try:
        acks = [await client.call(name, payload) for name, payload in calls]
    finally:
        await client.close()
    for (name, _), ack in zip(calls, acks, strict=True):
        assert ack["ok"], (name, ack)
    return acks


def calls(server: Any, auth: dict[str, Any], *actions: tuple[str, dict[str, Any]]) -> list:
    """Send these events as one client (a phone, a facilitator, the organiser); all must pass."""
    return run(_calls(server.url, auth, list(actions)))


def phone_auth(table: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    return participant_auth(table["join_code"], name=name)


def note(text: str) -> tuple[str, dict[str, Any]]:
    return ("note.post", {"id": uuid.uuid4().hex, "text": text})


def fac_auth(table: dict[str, Any]) -> dict[str, Any]:
    return {"token": table["facilitator_token"]}


def org_auth(event: dict[str, Any]) -> dict[str, Any]:
    return {"token": event["organiser_token"]}


def screens(page: Any, name: str) -> None:
    """The whole page, and the first screen as the person sees it (where the fold is)."""
    shot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}-first-screen.png"))


def axe_all(page: Any) -> list[dict[str, Any]]:
    """Every axe-core finding, whatever its impact: the bar here is none at all."""
    return axe_findings(page)


def open_dashboard(contexts: Any, event: dict[str, Any], device: dict[str, Any] = PROJECTOR,
                   **extra: Any) -> Any:
    page = watch(contexts({**device, **extra}).new_page())
    page.goto(event["dashboard_url"])
    page.wait_for_function(LOADED)
    page.locator(".tile").first.wait_for()
    return page


def tile(page: Any, number: int) -> Any:
    heading = page.get_by_role("heading", name=f"Table {number}", exact=True)
    return page.get_by_role("listitem").filter(has=heading)


def in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]


def open_console(contexts: Any, event: dict[str, Any], device: dict[str, Any] = LAPTOP,
                 **extra: Any) -> Any:
    page = watch(contexts({**device, **extra}).new_page())
    page.on("dialog", lambda d: d.accept())
    page.goto(event["organiser_url"])
    page.get_by_role("table", name=re.compile(r"^Every table")).wait_for()
    page.wait_for_function(LOADED)
    return page


# --- fault 1: a reload without a connection ----------------------------------------------------

def test_a_reload_without_a_connection_shows_the_last_board(server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    ctx = contexts({**PHONE, "bypass_csp": True})  # the test's axe is let in
    phone = open_page(ctx, table["participant_url"])
    post(phone, "Kept on the phone: youth hubs")

    # The venue's network now lets pages through but not the live connection (every new
    # websocket refused): the phone reloads.
    blocked = {"on": True}

    def gate(ws: Any) -> None:
        if blocked["on"]:
            ws.close()
        else:
            ws.connect_to_server()

    ctx.route_web_socket(re.compile(".*"), gate)
    phone.evaluate("() => window.plenary.socket.io.engine?.close()")
    phone.reload()
    # At once: the last known board, the composer, and an outbox for what is written now.
    phone.get_by_role("heading", name="Table 1").wait_for()
    card(phone, "Kept on the phone").wait_for()
    phone.get_by_label("Your note").fill("Written with no connection")
    phone.get_by_role("button", name="Post note", exact=True).click()
    phone.get_by_role("region", name="Waiting to send").get_by_text("Written with no connection") \
        .wait_for()
    phone.locator("#status", has_text="1 note will be sent when you reconnect").wait_for()
    screens(phone, "phone-390-reload-without-connection")
    assert axe_all(phone) == []

    blocked["on"] = False  # the connection comes back: the note is sent, once
    sent = board(phone).locator("li.note:not(.pending)", has_text="Written with no connection")
    sent.wait_for(timeout=30_000)
    phone.get_by_role("region", name="Waiting to send").wait_for(state="hidden")

    # The service worker that makes a fully offline reload possible: served from the root
    # (its scope must cover /j/<code>), and registered here because 127.0.0.1 is a secure
    # context (the README says what that means on a plain-http venue network).
    sw = phone.request.get(server.url + "/sw.js")
    assert sw.status == 200 and "javascript" in sw.headers["content-type"]
    assert "caches" in sw.text()
    assert phone.evaluate("() => window.isSecureContext") is True
    scope = phone.evaluate("""async () => (await navigator.serviceWorker.ready).scope""")
    assert scope == server.url + "/"
    assert errors_of(phone) == []


# --- faults 2, 3, 4: the projector ---------------------------------------------------------------

def test_the_dashboard_counts_silent_writing_the_same_live_and_fresh(server, new_event, contexts):
    event = new_event(tables=2)
    t1 = event["tables"][0]
    live = open_dashboard(contexts, event)
    tile(live, 1).get_by_text("0 notes").wait_for()
    # Silent writing (a private step): three notes from two phones, one hidden later.
    calls(server, phone_auth(t1, "Ana"), note("Private one"), note("Private two"))
    hide_id = calls(server, phone_auth(t1), note("Private three"))[0]["note"]["id"]
    tile(live, 1).get_by_text("3 notes").wait_for()
    fresh = open_dashboard(contexts, event)
    tile(fresh, 1).get_by_text("3 notes").wait_for()
    for page in (live, fresh):  # counted, never shown
        assert page.get_by_text("Private one").count() == 0

    # Reveal, hide one: two on the tiles; the closing screen counts all three of the record.
    ack = calls(server, fac_auth(t1), ("step.next", {"from": 0}))[0]
    assert ack["ok"]
    calls(server, fac_auth(t1), ("note.hide", {"id": hide_id, "hidden": True}))
    for page in (live, fresh):
        tile(page, 1).get_by_text("2 notes").wait_for()
    calls(server, org_auth(event), ("event.status", {"action": "close"}))
    late = open_dashboard(contexts, event)
    for page in (live, fresh, late):
        page.get_by_text(re.compile(r"2 tables · 3 notes\.")).wait_for()
    shot(late, "dashboard-1920-closed-total")


def test_the_first_note_after_a_reveal_shows_on_the_projector(server, new_event, contexts):
    event = new_event(tables=2)
    t1 = event["tables"][0]
    dash = open_dashboard(contexts, event)
    calls(server, phone_auth(t1), note("Written in silence"))
    tile(dash, 1).get_by_text("1 note").wait_for()
    calls(server, fac_auth(t1), ("step.next", {"from": 0}))
    tile(dash, 1).get_by_text("Written in silence").wait_for()
    calls(server, phone_auth(t1), note("First after the reveal QX7"))
    tile(dash, 1).get_by_text("First after the reveal QX7").wait_for()
    dash.get_by_role("list", name="New notes").get_by_text("First after the reveal QX7").wait_for()
    tile(dash, 1).get_by_text("2 notes").wait_for()


def test_event_wide_settings_render_from_the_snapshot(server, new_event, contexts):
    event = new_event(tables=2)
    t1 = event["tables"][0]
    calls(server, org_auth(event),
          ("message.set", {"text": "Coffee at eleven ☕"}),
          ("timer.set", {"action": "start", "seconds": 300}),
          ("board.lock", {"locked": True, "table": t1["id"]}))
    # Opened after all of it: the message, the timer and the lock are there at once.
    dash = open_dashboard(contexts, event)
    dash.locator("#message", has_text="Coffee at eleven ☕").wait_for()
    timer = dash.get_by_role("timer")
    timer.wait_for()
    assert re.fullmatch(r"[45]:\d\d", timer.inner_text().strip()), timer.inner_text()
    tile(dash, 1).get_by_text("Locked").wait_for()
    assert not tile(dash, 2).get_by_text("Locked").is_visible()
    phone = open_page(contexts(PHONE), t1["participant_url"])
    phone.get_by_text("Coffee at eleven ☕").wait_for()
    phone.get_by_text("The organiser has locked the board").first.wait_for()
    # A spotlight set before a screen opens is on it too.
    calls(server, org_auth(event), ("spotlight.set", {"kind": "table", "id": t1["id"]}))
    late = open_dashboard(contexts, event)
    late.get_by_role("heading", name="Children's services: transitioning from care in England",
                     exact=True).wait_for()
    shot(late, "dashboard-1920-spotlight-late")
    assert errors_of(dash, late, phone) == []


# --- the lock: "Unlock all" leaves a table's own lock ---------------------------------------------

def test_unlock_all_leaves_a_table_locked_on_its_own(server, new_event, contexts):
    event = new_event(tables=3)
    org = open_console(contexts, event)
    dash = open_dashboard(contexts, event)
    org.get_by_role("button", name="Lock table 2", exact=True).click()
    org.get_by_role("button", name="Unlock table 2", exact=True).wait_for()
    org.get_by_role("button", name="Lock all", exact=True).click()
    for n in (1, 3):
        tile(dash, n).get_by_text("Locked").wait_for()
    org.get_by_role("button", name="Unlock all", exact=True).click()
    org.get_by_text("1 table locked on its own").wait_for()
    # The server keeps table 2's own lock; so do the console and the projector.
    org.get_by_role("button", name="Unlock table 2", exact=True).wait_for()
    tile(dash, 2).get_by_text("Locked").wait_for()
    for n in (1, 3):
        tile(dash, n).get_by_text("Locked").wait_for(state="hidden")
    fresh = open_dashboard(contexts, event)
    tile(fresh, 2).get_by_text("Locked").wait_for()
    assert not tile(fresh, 1).get_by_text("Locked").is_visible()


# --- fault 5: the facilitator's vote step ---------------------------------------------------------

def test_the_vote_steps_buttons_say_where_they_go(server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    calls(server, org_auth(event), ("stage.next", {"from": 0}))
    calls(server, fac_auth(table), *[("step.next", {"from": i}) for i in range(3)])
    fac = open_page(contexts(LAPTOP), table["facilitator_url"])
    fac.locator("[aria-current='step']", has_text="Dot vote").wait_for()
    back = fac.get_by_role("button", name=re.compile("^Previous step"))
    on = fac.get_by_role("button", name=re.compile("^Next step"))
    names = [b.evaluate("b => b.textContent.replace(/\\s+/g, ' ').trim()") for b in (back, on)]
    assert names[0] != names[1], names
    assert "Cluster the ideas" in names[0] and "Our big idea" in names[1], names
    assert "closes voting" in names[1], names


# --- fault 6: after the close ---------------------------------------------------------------------

def test_a_closed_event_looks_closed_on_the_phone(server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    calls(server, org_auth(event), ("message.set", {"text": "Coffee in the foyer"}),
          ("timer.set", {"action": "start", "seconds": 600}))
    phone = open_page(contexts({**PHONE, "bypass_csp": True}), table["participant_url"])
    phone.get_by_role("timer").wait_for()
    phone.get_by_label("Your note").fill("Typed just before the close")
    calls(server, org_auth(event), ("event.status", {"action": "close"}))
    phone.get_by_role("heading", name="The event has closed").wait_for()
    assert not phone.get_by_role("timer").is_visible()
    assert not phone.get_by_text("Now:").is_visible()
    assert not phone.get_by_text("Coffee in the foyer").is_visible()
    phone.get_by_role("button", name="Post note", exact=True).click()
    alert = phone.get_by_role("alert").filter(has_text="The event has closed")
    alert.wait_for()
    assert "Posting is closed during this step" not in alert.inner_text()
    assert phone.get_by_label("Your note").input_value() == "Typed just before the close"
    screens(phone, "phone-390-closed")
    assert axe_all(phone) == []


# --- fault 7: the console at every size -----------------------------------------------------------

# Against the device's width: a phone's browser widens its layout to fit what overflows.
NO_SIDEWAYS = """(width) => {
  const wrap = document.querySelector('.table-wrap');
  return {page: document.documentElement.scrollWidth - width, zoomed: innerWidth - width,
          table: wrap.scrollWidth - wrap.clientWidth};
}"""

# Words broken across lines inside the console's controls ("Minute s", "Restar t").
BROKEN_WORDS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.querySelector('#main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el.closest('button, label, .control-title, th') || !el.offsetParent) continue;
    for (const m of node.textContent.matchAll(/\\S+/g)) {
      const r = document.createRange();
      r.setStart(node, m.index);
      r.setEnd(node, m.index + m[0].length);
      const lines = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
      if (lines.size > 1) out.push(m[0]);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("device,name", [(TABLET, "tablet-820"), (PHONE, "phone-390")])
def test_the_console_fits_a_tablet_and_a_phone(server, new_event, contexts, device, name):
    event = new_event(tables=8)
    org = open_console(contexts, event, device, bypass_csp=True)
    over = org.evaluate(NO_SIDEWAYS, device["viewport"]["width"])
    assert over["page"] <= 0 and over["zoomed"] <= 0 and over["table"] <= 0, over
    for n in (1, 8):
        for label in (f"Lock table {n}", f"Spotlight table {n} on the dashboard"):
            button = org.get_by_role("button", name=label, exact=True)
            button.scroll_into_view_if_needed()
            assert in_view(org, button), (name, label)
    screens(org, f"console-{name}")
    assert axe_all(org) == []


def test_the_console_at_1280_breaks_no_word_and_says_behind_only_when_it_matters(
        server, new_event, contexts):
    event = new_event(tables=8)
    tables = event["tables"]
    calls(server, org_auth(event), ("timer.set", {"action": "start", "seconds": 300}))
    calls(server, fac_auth(tables[0]), ("step.next", {"from": 0}))  # table 1 one step ahead
    org = open_console(contexts, event, PROJECTOR_SMALL, bypass_csp=True)
    assert org.evaluate(BROKEN_WORDS) == []
    # A fresh console shows the running timer's minutes, not the stage's 40.
    assert org.get_by_role("spinbutton", name="Minutes").input_value() == "5"
    # Seven tables one step behind table 1, empty ones too: nobody is "Behind" for that.
    grid = org.get_by_role("table", name=re.compile("^Every table"))
    org.get_by_role("row", name=re.compile("^1 ")).wait_for()
    assert grid.locator(".flag-behind").count() == 0
    # Seven tables ready: the eighth, the last one not ready, is behind.
    for t in tables[:7]:
        calls(server, fac_auth(t), ("table.ready", {"ready": True}))
    org.get_by_role("row", name=re.compile("^8 ")).get_by_text("Behind").wait_for()
    assert grid.locator(".flag-behind").count() == 1
    screens(org, "console-1280x720")
    assert axe_all(org) == []


# --- fault 8: names of per-note buttons -----------------------------------------------------------

def test_each_notes_spotlight_and_hide_say_which_note(server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    calls(server, fac_auth(table), ("step.next", {"from": 0}))
    texts = ["Rent guarantees", "Mentors from local firms", "A named worker", "Evening opening"]
    calls(server, phone_auth(table), *[note(t) for t in texts])
    org = open_console(contexts, event)
    ideas = org.get_by_role("list", name=re.compile("ideas", re.I))
    ideas.get_by_text(texts[-1]).wait_for()
    for word in ("Spotlight", "Hide"):
        buttons = ideas.get_by_role("button", name=re.compile(f"^{word}"))
        labels = [b.get_attribute("aria-label") for b in buttons.all()]
        assert len(labels) == 4 and len(set(labels)) == 4, labels
        for t in texts:
            org.get_by_role("button", name=f"{word} “{t}” (Table 1)", exact=True).wait_for()


# --- fault 9: readable from the back of the hall --------------------------------------------------

# Per tile: how many notes show, their type size, and whether any note left out would
# have fitted (shown for a moment where it stands, then put back).
TILE_READING = """() => [...document.querySelectorAll('.tile')].map((t) => {
  const items = [...t.querySelectorAll('.tile-ideas > li')];
  const shown = items.filter((li) => !li.hidden);
  const bottom = t.querySelector('.tile-more').getBoundingClientRect().bottom + 0.5;
  const wouldFit = items.filter((li) => li.hidden).filter((li) => {
    li.hidden = false;
    const fits = li.getBoundingClientRect().bottom <= bottom;
    li.hidden = true;
    return fits;
  }).length;
  const text = shown[0]?.querySelector('.idea-text');
  const px = text ? parseFloat(getComputedStyle(text).fontSize) : 0;
  return {n: t.querySelector('.tile-number').textContent, shown: shown.length, px, wouldFit};
})"""

HEADINGS = """() => [...document.querySelectorAll('.group-title, .tile-topic')].map((h) => {
  const lh = parseFloat(getComputedStyle(h).lineHeight);
  return {text: h.textContent, lines: Math.round(h.clientHeight / lh),
          cut: h.scrollHeight > h.clientHeight + 1};
})"""


def fill_board(server: Any, event: dict[str, Any], per_table: int) -> None:
    """Every table past its silent writing, with notes: long, emoji, Arabic, Hebrew."""
    samples = [LONG, ARABIC, HEBREW, "Free bus passes for carers 🚌", "Peer mentors",
               "Housing first", "Ring-fenced funds for youth hubs", "One app for every service 📱"]
    for i, t in enumerate(event["tables"]):
        calls(server, fac_auth(t), ("step.next", {"from": 0}))
        calls(server, phone_auth(t), *[note(samples[(i + k) % len(samples)])
                                       for k in range(per_table)])


@pytest.mark.parametrize("tables", [8, 40])
def test_the_dashboard_fills_its_tiles_legibly(server, new_event, contexts, tables):
    event = new_event(tables=tables)
    fill_board(server, event, 6)
    for device, size in ((PROJECTOR, "1920x1080"), (PROJECTOR_SMALL, "1280x720")):
        dash = open_dashboard(contexts, event, device, bypass_csp=True)
        dash.get_by_role("list", name="New notes").wait_for()
        dash.wait_for_function("() => document.querySelectorAll('.tile-ideas > li').length > 0")
        reading = dash.evaluate(TILE_READING)
        shot(dash, f"dashboard-{size}-{tables}-tables-busy")
        for r in reading:
            # Filled: a note is left out only when there is no room for it, and every
            # tile has room for some.
            assert r["wouldFit"] == 0 and r["shown"] >= 1, r
            if device is PROJECTOR:
                assert r["px"] >= 24, r
        if tables == 8:
            assert all(r["shown"] >= 2 for r in reading), reading
        for h in dash.evaluate(HEADINGS):
            # Wrapped to two lines before being cut.
            assert not h["cut"] or h["lines"] >= 2, h
        # The ticker shows whole short notes, not their first 20 characters.
        ticks = dash.get_by_role("list", name="New notes").get_by_role("listitem")
        whole = dash.evaluate("""() => [...document.querySelectorAll(
            '.tick:not([hidden]) .tick-text')].map((e) => [e.textContent,
                                                           e.scrollWidth <= e.clientWidth + 1])""")
        assert ticks.count() >= 1 and whole, whole
        short = [w for w in whole if len(w[0]) <= 40]
        assert short and all(ok for _, ok in short), whole
        assert axe_all(dash) == []
        assert errors_of(dash) == []


# --- fault 10: the phone's first screen -----------------------------------------------------------

def test_the_phones_first_screen_is_the_composer_then_the_votes(server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    ctx = contexts({**PHONE, "bypass_csp": True})
    phone = open_page(ctx, table["participant_url"])
    # First visit: the question and what to do are open to read.
    phone.get_by_text("The question and what to do").wait_for()
    assert phone.locator("#guide").evaluate("d => d.open") is True
    phone.reload()
    phone.wait_for_function(LOADED)
    # Read already: folded away, and the composer is on the first screen.
    assert phone.locator("#guide").evaluate("d => d.open") is False
    assert in_view(phone, phone.get_by_label("Your note"))
    assert in_view(phone, phone.get_by_role("button", name="Post note", exact=True))
    # A touch screen has no Ctrl key: no "Ctrl+Enter posts" hint.
    assert not phone.get_by_text("Ctrl+Enter posts").is_visible()
    screens(phone, "phone-390-first-screen")

    # Right-to-left notes keep the page's order of buttons.
    calls(server, fac_auth(table), ("step.next", {"from": 0}))
    phone.get_by_text("Posting is open.").wait_for()
    post(phone, ARABIC)
    post(phone, HEBREW)
    post(phone, LONG)
    for text in (ARABIC, HEBREW):
        note_card = card(phone, text)
        note_card.get_by_role("button", name=re.compile("^Edit note")).wait_for()
        note_card.get_by_role("button", name=re.compile("^Delete note")).wait_for()
        # Measured in one go: the list may be redrawn between two separate reads.
        assert note_card.evaluate("""li => {
            const x = (act) => li.querySelector(`[data-act=${act}]`).getBoundingClientRect().x;
            return x("edit") < x("delete"); }"""), text
    screens(phone, "phone-390-rtl-emoji-long")

    # The vote: the list is on the first screen; "+ Vote" goes off with the last dot.
    calls(server, phone_auth(table), note("Someone else's idea"))
    calls(server, fac_auth(table), ("step.next", {"from": 1}), ("step.next", {"from": 2}))
    calls(server, org_auth(event), ("stage.next", {"from": 0}))
    calls(server, phone_auth(table), note("Stage two idea"), note("Another stage two idea"))
    calls(server, fac_auth(table), *[("step.next", {"from": i}) for i in range(3)])
    phone.get_by_text("Voting is open.").wait_for()
    phone.reload()
    phone.wait_for_function(LOADED)
    votes = board(phone).get_by_role("button", name=re.compile("^Vote for"))
    votes.first.wait_for()
    assert in_view(phone, votes.first)
    for _ in range(3):
        votes.first.click()
    phone.get_by_text("You have used all 3 of your votes").wait_for()
    phone.wait_for_function("""() => [...document.querySelectorAll('button[data-act=vote]')]
        .every((b) => b.disabled)""")
    screens(phone, "phone-390-votes-used")
    assert axe_all(phone) == []
    assert errors_of(phone) == []


def test_the_join_pages_placeholder_is_not_a_code(server, contexts):
    page = contexts({**PHONE, "bypass_csp": True}).new_page()
    page.goto(server.url + "/")
    field = page.get_by_role("textbox", name="Enter your table's code")
    placeholder = field.get_attribute("placeholder") or ""
    assert not re.fullmatch(r"[A-Z0-9]{8}", placeholder.replace(" ", "")), placeholder
    shot(page, "join-phone-390")
    assert axe_all(page) == []


# --- fault 11: the facilitator on a laptop --------------------------------------------------------

def test_the_facilitator_on_a_laptop_sees_the_step_buttons_and_this_stages_count(
        server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    calls(server, phone_auth(table), note("Stage one, first"), note("Stage one, second"))
    calls(server, org_auth(event), ("stage.next", {"from": 0}))
    calls(server, phone_auth(table), note("Stage two, only"))
    calls(server, org_auth(event), ("message.set", {"text": "Ten minutes to lunch"}))
    fac = open_page(contexts({**LAPTOP, "bypass_csp": True}), table["facilitator_url"])
    fac.get_by_text("Ten minutes to lunch").wait_for()
    assert in_view(fac, fac.get_by_role("button", name=re.compile("^Next step")))
    assert in_view(fac, fac.get_by_role("button", name=re.compile("^Previous step")))
    heading = fac.get_by_role("heading", name=re.compile("^Notes"))
    assert "1 note this stage" in heading.inner_text(), heading.inner_text()
    screens(fac, "facilitator-1366x768")
    assert axe_all(fac) == []


# --- the token never stays in the address bar -----------------------------------------------------

def test_staff_pages_drop_the_token_from_the_address_bar(server, new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    dash = open_dashboard(contexts, event)
    org = open_console(contexts, event)
    for page in (fac, dash, org):
        assert "#" not in page.url, page.url
        token_part = page.evaluate("() => location.hash")
        assert token_part == ""
    # A reload in the same tab still works (the token is kept for this tab only).
    for page in (fac, dash, org):
        page.reload()
        page.wait_for_function(LOADED)
        assert "#" not in page.url
    assert errors_of(fac, dash, org) == []


# --- the participant page's first load ----------------------------------------------------------

def test_the_participant_pages_first_load_stays_under_50_kb(new_event, contexts):
    event = new_event(tables=1)
    page = contexts(PHONE).new_page()
    sizes: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: sizes.append((r.url, r.sizes()["responseBodySize"])))
    page.goto(event["tables"][0]["participant_url"])
    page.wait_for_function(LOADED)
    page.wait_for_function("() => navigator.serviceWorker?.controller != null")
    pages = [(u, n) for u, n in sizes if "/socket.io/" not in u]
    total = sum(n for _, n in pages)
    print(f"participant first load: {total} bytes over the wire in {len(pages)} files: "
          + ", ".join(f"{u.rsplit('/', 1)[-1]} {n}" for u, n in pages))
    assert any(u.endswith("participant.js") for u, _ in pages)
    assert total <= 50_000, pages
