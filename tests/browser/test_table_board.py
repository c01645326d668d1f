"""The table board (issue 3) in headless Chromium: phones with touch for participants, a
tablet (and a phone) for the facilitator, several people at once as a real table is.

Nothing here sleeps to synchronise: every wait is for an element or a condition."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .conftest import LAPTOP, PHONE, TABLET, axe_findings, shot

pytestmark = pytest.mark.browser

LOADED = "() => window.plenary?.state?.loaded === true"


# --- helpers -----------------------------------------------------------------------------

#: Uncaught script errors, per page: a page that throws is broken even if it looks right.
ERRORS: dict[int, list[str]] = {}


def watch(page: Any) -> Any:
    errors = ERRORS.setdefault(id(page), [])
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def errors_of(*pages: Any) -> list[str]:
    return [e for p in pages for e in ERRORS.get(id(p), [])]


def open_page(ctx: Any, url: str, frames: list[bytes] | None = None) -> Any:
    page = watch(ctx.new_page())
    if frames is not None:
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())))
    page.goto(url)
    page.wait_for_function(LOADED)
    return page


def board(page: Any) -> Any:
    return page.get_by_role("list", name="Notes at this table")


def card(page: Any, text: str) -> Any:
    return board(page).locator("li.note", has_text=text)


def post(page: Any, text: str, category: str | None = None) -> None:
    page.get_by_label("Your note").fill(text)
    if category:
        page.get_by_role("radio", name=category).check()
    page.get_by_role("button", name="Post note").click()
    # Sent and acknowledged: the note is on the board and no longer waiting.
    board(page).locator("li.note:not(.pending)", has_text=text).wait_for()


def current_step(page: Any) -> str:
    return page.locator("[aria-current='step'] .step-name").inner_text()


def next_step(fac: Any, expect: str) -> None:
    fac.get_by_role("button", name=re.compile("^Next step")).click()
    fac.locator("[aria-current='step'] .step-name", has_text=expect).wait_for()


def organiser_socket(ctx: Any, event: dict[str, Any]) -> Any:
    """The organiser's own socket.io connection, in a browser page but without the console
    (another page, tested elsewhere, and heavy beside nine phones on two cores). It records
    each table's ready signal as the organiser receives it."""
    page = watch(ctx.new_page())
    page.goto(event["organiser_url"].split("/organiser")[0] + "/")
    page.add_script_tag(url="/static/vendor/socket.io-4.8.4.msgpack.min.js")
    page.evaluate("""token => new Promise((resolve, reject) => {
        const s = io({auth: {token}, transports: ['websocket']});
        window.plenary = {socket: s}; window.ready = []; let stage = 0;
        s.on('change', c => {
            if (c.type === 'stage.changed') stage = c.data.stage;
            if (c.type === 'table.ready' && c.data.ready) window.ready.push(`${c.table}:${stage}`);
        });
        s.on('connect', resolve); s.on('connect_error', e => reject(new Error(e.message)));
    })""", event["organiser_token"])
    return page


def org_call(org: Any, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return org.evaluate("([n, p]) => window.plenary.socket.timeout(5000).emitWithAck(n, p)",
                        [name, payload])


def _no_network(route: Any) -> None:
    route.abort("internetdisconnected")


#: Contexts that are offline now; their websockets are refused while they are.
_offline: set[int] = set()
_gated: set[int] = set()


def _gate_websockets(ctx: Any) -> None:
    # Chromium's offline switch does not stop new websockets, and page routes do not see
    # them: a gate decides for each new one, refusing it while the context is offline.
    if id(ctx) in _gated:
        return
    _gated.add(id(ctx))

    def gate(ws: Any) -> None:
        if id(ctx) in _offline:
            ws.close()
        else:
            ws.connect_to_server()

    ctx.route_web_socket(re.compile(".*"), gate)


def go_offline(ctx: Any) -> None:
    """The phone loses the network: HTTP refused, new websockets refused, and the open one
    dropped (the context's offline switch alone let requests and sockets through on a
    loaded machine)."""
    _gate_websockets(ctx)
    _offline.add(id(ctx))
    ctx.route("**/*", _no_network)
    ctx.set_offline(True)
    for page in ctx.pages:
        page.evaluate("() => window.plenary?.socket?.io?.engine?.close()")


def go_online(ctx: Any) -> None:
    _offline.discard(id(ctx))
    ctx.unroute("**/*", _no_network)
    ctx.set_offline(False)


def queue_of(page: Any, code: str) -> list[dict[str, Any]]:
    """What the phone keeps waiting to be sent (its outbox in localStorage)."""
    key = f"plenary:queue:{code}"
    return json.loads(page.evaluate("k => localStorage.getItem(k) || '[]'", key))


def outbox_empty(page: Any, code: str) -> None:
    """Wait until every item the phone kept has been acknowledged by the server."""
    page.wait_for_function("k => (localStorage.getItem(k) || '[]') === '[]'",
                           arg=f"plenary:queue:{code}")


def vote_for(page: Any, text: str) -> Any:
    return card(page, text).get_by_role("button", name=re.compile("^Vote for"))


def summary_of(page: Any, table: dict[str, Any], stage: int) -> Any:
    """A facilitator's unsent summary kept on the device (None once saved)."""
    kept = page.evaluate("k => localStorage.getItem(k)", f"plenary:summary:{table['id']}:{stage}")
    return json.loads(kept) if kept else None


def axe(page: Any) -> list[dict[str, Any]]:
    """Every axe-core finding on the page as it is now, whatever its impact (printed)."""
    return axe_findings(page)


def count_in(page: Any, text: str) -> int:
    return board(page).locator("li.note", has_text=text).count()


# --- joining, posting, editing, deleting ---------------------------------------------------

def test_join_by_code_and_qr_then_post_edit_delete(new_event, contexts, server):
    event = new_event(tables=2)
    table = event["tables"][0]
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    # Everyone sees everyone's notes from the second step on (the first is silent writing).
    next_step(fac, "Share and discuss")
    moving_on = fac.get_by_role("button", name=re.compile("^Next step")).inner_text()
    assert "Find the themes" in moving_on

    typed = watch(contexts(PHONE).new_page())  # joins with the code typed at /
    typed.goto(server.url + "/")
    typed.get_by_label("Enter your table's code").fill(table["join_code"].lower())
    typed.get_by_role("button", name="Join").click()
    typed.wait_for_url(re.compile(f"/j/{table['join_code']}$"))
    typed.wait_for_function(LOADED)
    scanned = open_page(contexts(PHONE), server.url + f"/j/{table['join_code']}")  # the QR URL

    # Enter is a new line on a phone keyboard, never a post; the button posts.
    box = typed.get_by_label("Your note")
    box.fill("Care leavers need")
    box.press("End")
    box.press("Enter")
    box.press_sequentially("a named adult")
    assert box.input_value() == "Care leavers need\na named adult"
    assert count_in(typed, "Care leavers") == 0
    typed.get_by_role("button", name="Post note").click()
    for page in (typed, scanned, fac):
        card(page, "a named adult").wait_for()
    shown = card(fac, "a named adult").locator(".note-text").inner_text()
    assert shown == "Care leavers need\na named adult"
    assert typed.get_by_label("Your note").input_value() == ""

    # Edit: only the author has the buttons.
    assert card(scanned, "a named adult").get_by_role("button").count() == 0
    card(typed, "a named adult").get_by_role("button", name=re.compile("^Edit")).click()
    typed.get_by_label("Note text").fill("Care leavers need a named adult until 25")
    typed.get_by_role("button", name="Save changes").click()
    for page in (scanned, fac):
        card(page, "until 25").wait_for()
        assert "edited" in card(page, "until 25").inner_text()

    # Delete, after saying yes.
    card(typed, "until 25").get_by_role("button", name=re.compile("^Delete")).click()
    typed.get_by_role("dialog").get_by_text("until 25").wait_for()
    typed.get_by_role("dialog").get_by_role("button", name="Delete note").click()
    for page in (typed, scanned, fac):
        card(page, "until 25").wait_for(state="detached")
    assert errors_of(typed, scanned, fac) == []


# --- private writing: check the traffic, not just the page ------------------------------------

def test_private_writing_never_reaches_another_phone_before_the_reveal(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    writer = open_page(contexts(PHONE), table["participant_url"])
    frames: list[bytes] = []
    other = open_page(contexts(PHONE), table["participant_url"], frames)
    assert other.evaluate("window.plenary.socket.io.engine.transport.name") == "websocket"
    assert current_step(fac) == "Silent writing"  # a private step: notes stay with their writer

    secret = "Quietly-7Q2 the council sells the children's home"
    post(writer, secret)
    post(writer, "Second private thought ZX9")
    card(fac, secret).get_by_text("Private until revealed").wait_for()
    other.get_by_text("2 notes by others are hidden until the facilitator reveals them.").wait_for()
    # A fresh page load (a snapshot, then a replay to count) still carries no text.
    other.reload()
    other.wait_for_function(LOADED)
    other.get_by_text("2 notes by others are hidden").wait_for()
    assert count_in(other, "Quietly-7Q2") == 0
    assert not any(secret.encode() in f for f in frames), "the private text reached another phone"
    assert not any(b"ZX9" in f for f in frames)
    shot(other, "board-participant-private-others")

    # An edit is not a new note: the count is of notes, whatever happens to them. The third
    # post is the sync point: its placeholder arrives after the edit's.
    assert writer.evaluate("""async () => {
        const n = Object.values(window.plenary.state.notes).find((x) => x.text.includes("ZX9"));
        const ack = await window.plenary.socket.timeout(5000).emitWithAck(
            "note.edit", {id: n.id, text: "Second private thought ZX9, reworded"});
        return ack.ok; }""")
    post(writer, "Third private thought")
    other.get_by_text("3 notes by others are hidden").wait_for()

    button = fac.get_by_role("button", name=re.compile("^Next step"))
    assert "(reveals the notes)" in button.inner_text()
    button.click()
    card(other, secret).wait_for()
    card(other, "ZX9").wait_for()
    assert other.locator("#notes-private").is_hidden()
    # The recording works: after the reveal the very same bytes do arrive.
    assert any(secret.encode() in f for f in frames)


# --- voting -------------------------------------------------------------------------------

def test_vote_up_to_the_limit_then_refused_and_counts_blind_until_the_end(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    code = table["join_code"]
    org = organiser_socket(contexts(LAPTOP), event)
    assert org_call(org, "stage.next", {"from": 0})["ok"]  # stage 2 has a dot vote
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    voter = open_page(contexts(PHONE), table["participant_url"])
    watcher = open_page(contexts(PHONE), table["participant_url"])
    next_step(fac, "Share and build")
    post(voter, "Community land trust for care leavers")
    post(watcher, "One front door for support")
    next_step(fac, "Cluster the ideas")
    button = fac.get_by_role("button", name=re.compile("^Next step"))
    assert "(opens voting)" in button.inner_text()
    next_step(fac, "Dot vote")

    left = voter.locator("#votes-left")
    left.get_by_text("3 of 3 votes left").wait_for()
    trust = card(voter, "Community land trust")
    for n in (2, 1):
        vote_for(voter, "Community land trust").click()
        left.get_by_text(f"{n} of 3 votes left").wait_for()
    vote_for(voter, "One front door").click()
    left.get_by_text("You have used all 3 of your votes.").wait_for()
    trust.get_by_text("You: 2").wait_for()
    # No dots left: every "+ Vote" is off (issue 9, fault 10), and the server would refuse one.
    for name in ("One front door", "Community land trust"):
        assert vote_for(voter, name).is_disabled()
    assert voter.evaluate("""async () => (await window.plenary.socket.timeout(5000).emitWithAck(
        "vote.add", {id: "fourth-vote-1",
                     note: Object.values(window.plenary.state.notes)[0].id})).error.code
        """) == "vote_limit"
    assert queue_of(voter, code) == []
    # Take one back, then the vote is free again.
    trust.get_by_role("button", name=re.compile("^Take back")).click()
    left.get_by_text("1 of 3 votes left").wait_for()
    trust.get_by_text("You: 1").wait_for()

    # Counts stay blind for everyone until voting closes (the tablet may face the table).
    fac.get_by_text("Vote counts are hidden from everyone").wait_for()
    for page in (watcher, voter, fac):
        assert board(page).locator(".votes").count() == 0
    shot(voter, "board-participant-vote")
    shot(fac, "board-facilitator-tablet-vote")

    # A vote made offline waits on the phone and counts once back online.
    go_offline(voter.context)
    voter.locator("#status", has_text="Offline").wait_for()
    vote_for(voter, "Community land trust").click()
    voter.locator("#status", has_text="1 change will be sent when you reconnect").wait_for()
    voter.get_by_role("region", name="Waiting to send").get_by_text("Vote for").wait_for()
    left.get_by_text("You have used all 3").wait_for()
    go_online(voter.context)
    outbox_empty(voter, code)
    trust.get_by_text("You: 2").wait_for()

    assert "(closes voting)" in button.inner_text()
    next_step(fac, "Our big idea")
    for page in (watcher, voter, fac):
        card(page, "One front door").locator(".votes", has_text=re.compile("^1 vote$")).wait_for()
        card(page, "Community land trust").locator(
            ".votes", has_text=re.compile("^2 votes$")).wait_for()


# --- the facilitator's tools ------------------------------------------------------------------

def test_group_merge_star_hide_on_a_phone_and_drag_on_a_tablet(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    fac_phone = open_page(contexts(PHONE), table["facilitator_url"])
    tablet = open_page(contexts(TABLET), table["facilitator_url"])
    phone = open_page(contexts(PHONE), table["participant_url"])
    next_step(fac_phone, "Share and discuss")
    texts = ["Rent guarantees for care leavers", "Guarantor scheme run by the council",
             "Mentors from local employers", "Mentors from local firms", "Rude words here"]
    for t in texts:
        post(phone, t)
    for t in texts:
        card(fac_phone, t).wait_for()

    # Select and group, on a phone.
    for t in texts[:2]:
        fac_phone.get_by_role("checkbox", name=f"Select: {t}").check()
    fac_phone.get_by_text("2 notes selected").wait_for()
    fac_phone.get_by_label("Theme name").fill("Housing money")
    fac_phone.get_by_role("button", name="Group selected").click()
    theme = phone.get_by_role("list", name="Theme: Housing money")
    for t in texts[:2]:
        theme.get_by_text(t).wait_for()
        fac_phone.get_by_role("list", name="Theme: Housing money").get_by_text(t).wait_for()
    shot(fac_phone, "board-facilitator-phone-grouped")

    # Drag a note by its handle onto the theme, on the tablet.
    region = tablet.get_by_role("region", name="Theme: Housing money")
    region.get_by_text(texts[0]).wait_for()
    # Both in sight, clear of the sticky top bar.
    region.evaluate("el => { el.scrollIntoView({block: 'start'}); scrollBy(0, -80); }")
    grip = card(tablet, texts[2]).locator("[data-grip]").bounding_box()
    target = region.bounding_box()
    assert grip["y"] + grip["height"] < 1180, "the handle must be on screen to drag it"
    tablet.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    tablet.mouse.down()
    tablet.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2,
                      steps=8)
    tablet.mouse.up()
    theme.get_by_text(texts[2]).wait_for()

    # Rename the theme; take a note out again.
    fac_phone.get_by_role("button", name="Rename theme: Housing money").click()
    fac_phone.get_by_label("New name for the theme").fill("Money and mentors")
    fac_phone.get_by_role("button", name="Save name").click()
    phone.get_by_role("list", name="Theme: Money and mentors").wait_for()
    card(fac_phone, texts[2]).get_by_role("button", name=re.compile("^Take out of theme")).click()
    phone.get_by_role("list", name="Not in a theme").get_by_text(texts[2]).wait_for()

    # Merge a duplicate into another note.
    for t in texts[2:4]:
        fac_phone.get_by_role("checkbox", name=f"Select: {t}").check()
    fac_phone.get_by_role("button", name="Merge into…").click()
    fac_phone.get_by_role("radio", name=re.compile(f"Keep: {texts[2]}")).check()
    fac_phone.get_by_role("button", name="Merge", exact=True).click()
    for page in (phone, tablet, fac_phone):
        card(page, texts[3]).wait_for(state="detached")
        card(page, texts[2]).wait_for()

    # Star a big idea.
    star = card(tablet, texts[1]).get_by_role("button", name=re.compile("^Big idea"))
    star.click()
    card(phone, texts[1]).get_by_text("★ Big idea").wait_for()
    card(tablet, texts[1]).locator("button[aria-pressed='true']", has_text="Big idea").wait_for()

    # Hide: gone for participants, kept and marked for the facilitator; then put back.
    card(fac_phone, texts[4]).get_by_role("button", name=re.compile("^Hide")).click()
    card(phone, texts[4]).wait_for(state="detached")
    card(tablet, texts[4]).get_by_text("Hidden from participants").wait_for()
    phone.reload()
    phone.wait_for_function(LOADED)
    card(phone, texts[0]).wait_for()
    assert count_in(phone, texts[4]) == 0
    shot(tablet, "board-facilitator-tablet-tools")
    shot(phone, "board-participant-grouped")
    card(tablet, texts[4]).get_by_role("button", name=re.compile("^Show to participants")).click()
    card(phone, texts[4]).wait_for()

    # Deleting the theme keeps its notes.
    fac_phone.get_by_role("button", name=re.compile("^Delete theme: Money and mentors")).click()
    phone.get_by_role("list", name="Theme: Money and mentors").wait_for(state="detached")
    for t in (texts[0], texts[1]):
        card(phone, t).wait_for()


# --- summaries -------------------------------------------------------------------------------

def test_summary_typed_on_one_page_appears_on_the_others(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    tablet = open_page(contexts(TABLET), table["facilitator_url"])
    spare = open_page(contexts(PHONE), table["facilitator_url"])  # a second facilitator screen
    phone = open_page(contexts(PHONE), table["participant_url"])

    field = tablet.get_by_label("Summary of Stage 1")
    field.click()
    field.press_sequentially("Care leavers fall off a cliff at 18.", delay=15)
    tablet.locator("#summary-current .save-state", has_text="Saved at").wait_for()
    field.blur()  # a field being typed in is never overwritten from elsewhere
    spare.wait_for_function("t => document.querySelector('#summary-0').value === t",
                            arg="Care leavers fall off a cliff at 18.")
    phone.locator("#summary-text", has_text="fall off a cliff").wait_for()
    assert summary_of(tablet, table, 0) is None  # saved: nothing left waiting on the tablet

    # Typed while offline: kept on the device, saved when the connection is back.
    go_offline(spare.context)
    spare.locator("#status", has_text="Offline").wait_for()
    other = spare.get_by_label("Summary of Stage 1")
    other.fill("Offline words: housing first.")
    other.blur()
    spare.locator("#summary-current .save-state", has_text="Not saved yet").wait_for()
    assert summary_of(spare, table, 0)["text"] == "Offline words: housing first."
    go_online(spare.context)
    spare.locator("#summary-current .save-state", has_text="Saved at").wait_for()
    tablet.wait_for_function("t => document.querySelector('#summary-0').value === t",
                             arg="Offline words: housing first.")
    assert summary_of(spare, table, 0) is None
    phone.locator("#summary-text", has_text="housing first").wait_for()


# --- offline: nothing lost, nothing doubled ------------------------------------------------------

def test_offline_notes_survive_a_reload_and_arrive_once(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    code = table["join_code"]
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    ctx = contexts(PHONE)
    phone = open_page(ctx, table["participant_url"])
    notes = ["Offline one: youth hubs", "Offline two: peer mentors",
             "Offline three: ring-fenced funds"]
    # The page's service worker has installed (and keeps a copy of the page).
    phone.wait_for_function("() => navigator.serviceWorker?.controller != null")

    go_offline(ctx)
    phone.locator("#status", has_text="Offline").wait_for()
    for t in notes:
        phone.get_by_label("Your note").fill(t)
        phone.get_by_role("button", name="Post note").click()
        card(phone, t).get_by_text("Not sent yet").wait_for()
    phone.locator("#status", has_text="Offline — 3 notes will be sent when you reconnect")\
        .wait_for()
    outbox = phone.get_by_role("region", name="Waiting to send")
    for t in notes:
        outbox.get_by_text(t).wait_for()
    shot(phone, "board-participant-offline")
    waiting = queue_of(phone, code)
    assert [q["text"] for q in waiting] == notes

    # Reload while still offline: the service worker (/sw.js; 127.0.0.1 is a secure context)
    # gives the page back, and the page draws the last board it kept, the composer and the
    # waiting notes at once (issue 9, fault 1).
    phone.reload()
    phone.get_by_role("heading", name=re.compile("^Table 1")).wait_for()
    phone.get_by_label("Your note").wait_for()
    for t in notes:
        outbox.get_by_text(t).wait_for()
    phone.locator("#status", has_text="3 notes will be sent when you reconnect").wait_for()
    assert count_in(fac, "Offline") == 0

    go_online(ctx)
    phone.goto(table["participant_url"])  # the person reloads once the network is back
    phone.wait_for_function(LOADED)
    for t in notes:
        card(fac, t).wait_for()
    outbox_empty(phone, code)
    phone.locator("#status", has_text=re.compile("^Connected$")).wait_for()
    for t in notes:
        assert count_in(fac, t) == 1
        assert count_in(phone, t) == 1

    # An answer lost on the way back: the same three are sent again with the same ids, and the
    # server's dedupe keeps one of each.
    phone.evaluate("([k, v]) => localStorage.setItem(k, v)",
                   [f"plenary:queue:{code}", json.dumps(waiting)])
    phone.reload()
    phone.wait_for_function(LOADED)
    outbox_empty(phone, code)
    fac.reload()
    fac.wait_for_function(LOADED)
    card(fac, notes[0]).wait_for()
    for t in notes:
        assert count_in(fac, t) == 1
    assert fac.evaluate("() => Object.keys(window.plenary.state.notes).length") == 3
    assert errors_of(phone, fac) == []


# --- the organiser's live controls, as a phone sees them --------------------------------------

def test_timer_message_and_lock_reach_the_phone_and_nothing_is_lost(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    org = organiser_socket(contexts(LAPTOP), event)
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    phone = open_page(contexts(PHONE), table["participant_url"])
    assert phone.locator("#timer").is_hidden()  # no timer runs: none is shown

    assert org_call(org, "timer.set", {"action": "start", "seconds": 600})["ok"]
    for page in (phone, fac):
        page.get_by_role("timer").filter(has_text=re.compile(r"^(10:00|9:5\d) left$")).wait_for()
    assert org_call(org, "message.set", {"text": "Five minutes to the vignette"})["ok"]
    phone.get_by_text("Message from the organiser: Five minutes to the vignette").wait_for()

    # Locked mid-sentence: the phone says so, and the words stay in the box until it opens.
    post_box = phone.get_by_label("Your note")
    post_box.fill("Written while the board was locked")
    assert org_call(org, "board.lock", {"locked": True, "table": table["id"]})["ok"]
    phone.get_by_text("The organiser has locked the board for now").first.wait_for()
    fac.get_by_text("The organiser has locked the board").first.wait_for()
    phone.get_by_role("button", name="Post note").click()
    phone.get_by_role("alert").filter(has_text="locked the board").wait_for()
    assert post_box.input_value() == "Written while the board was locked"  # kept in the box
    assert org_call(org, "board.lock", {"locked": False, "table": table["id"]})["ok"]
    phone.locator("#posting", has_text="Posting is open").wait_for()
    phone.get_by_role("button", name="Post note").click()
    card(fac, "Written while the board was locked").wait_for()
    assert org_call(org, "timer.set", {"action": "stop"})["ok"]
    phone.locator("#timer").wait_for(state="hidden")


# --- accessibility -------------------------------------------------------------------------------

def test_axe_finds_nothing_serious_on_either_page(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    # The pages' CSP (rightly) refuses injected script: let the test's axe in.
    fac = open_page(contexts({**TABLET, "bypass_csp": True}), table["facilitator_url"])
    phone = open_page(contexts({**PHONE, "bypass_csp": True}), table["participant_url"])
    next_step(fac, "Share and discuss")
    post(phone, "Joined-up budgets across health and housing")
    post(phone, "A named worker who stays")
    card(fac, "A named worker").wait_for()
    fac.get_by_role("checkbox", name=re.compile("^Select: A named worker")).check()
    fac.get_by_label("Theme name").fill("People")
    fac.get_by_role("button", name="Group selected").click()
    phone.get_by_role("list", name="Theme: People").wait_for()
    fac.get_by_role("checkbox", name=re.compile("^Select: Joined-up")).check()
    card(fac, "Joined-up").get_by_role("button", name=re.compile("^Hide")).click()
    card(fac, "Joined-up").get_by_text("Hidden from participants").wait_for()
    fac.get_by_label("Summary of Stage 1").fill("Budgets and people.")

    assert axe(phone) == []
    card(phone, "A named worker").get_by_role("button", name=re.compile("^Edit")).click()
    phone.get_by_role("dialog").wait_for()
    assert axe(phone) == []
    assert axe(fac) == []
    fac.evaluate("() => document.documentElement.style.fontSize = '200%'")  # 200 % text size
    assert fac.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


# --- a whole table, a whole day -------------------------------------------------------------

def test_nine_phones_and_a_tablet_run_all_five_stages(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    org = organiser_socket(contexts(LAPTOP), event)
    fac = open_page(contexts(TABLET), table["facilitator_url"])
    names = ["Ana", "Ben", "Chi", "Dev", "", "Eli", "Fay", "", "Gus"]
    phones = []
    for i, name in enumerate(names):
        # A phone's viewport and touch; the eight not photographed draw at 1x, to spare the CPU.
        ctx = contexts(PHONE if i == 0 else {**PHONE, "device_scale_factor": 1})
        if name and i:  # a name saved on an earlier visit (Ana types hers below)
            ctx.add_init_script(
                f"localStorage.setItem('plenary:name', {json.dumps(json.dumps(name))})")
        page = watch(ctx.new_page())
        page.goto(table["participant_url"], wait_until="commit")  # nine phones load at once
        phones.append(page)
    for page in phones:
        page.wait_for_function(LOADED)
    phones[0].get_by_label("Your name (optional)").fill("Ana")
    phones[0].get_by_role("button", name="Save name").click()
    phones[0].get_by_text("Saved. Notes you post from now on show “Ana”").wait_for()
    fac.get_by_text(
        "9 participants connected: Ana, Ben, Chi, Dev, Eli, Fay, Gus and 2 anonymous.").wait_for()
    first = phones[0]
    first.evaluate("""() => { window.heard = []; const el = document.getElementById('announcer');
        new MutationObserver(() => window.heard.push(el.textContent))
            .observe(el, {childList: true, subtree: true}); }""")

    stages = fac.evaluate("() => window.plenary.state.event.template.stages")
    assert len(stages) == 5
    total = 0
    for s, stage in enumerate(stages):
        if s:
            assert org_call(org, "stage.next", {"from": s - 1})["ok"]
        for page in (fac, first):
            page.get_by_text(f"Stage {s + 1} of 5").wait_for()
        posted = False
        for i, step in enumerate(stage["steps"]):
            if i:
                next_step(fac, step["title"])
            first.locator("#step-title", has_text=step["title"]).wait_for()
            kind = step["kind"]
            if kind in ("write", "reveal", "discuss") and not posted:
                posted = True
                cats = [c["label"] for c in stage["categories"]]
                for p, page in enumerate(phones):  # nine people typing at once
                    page.get_by_label("Your note").fill(f"S{s + 1} idea from phone {p + 1}")
                    if cats:
                        page.get_by_role("radio", name=cats[p % len(cats)]).check()
                    page.get_by_role("button", name="Post note").click()
                for p, page in enumerate(phones):
                    sent = f"S{s + 1} idea from phone {p + 1}"
                    board(page).locator("li.note:not(.pending)", has_text=sent).wait_for()
                total += 9
                for p in range(9):
                    card(fac, f"S{s + 1} idea from phone {p + 1}").wait_for()
                if step.get("private"):
                    first.get_by_text("8 notes by others are hidden").wait_for()
                    assert count_in(first, f"S{s + 1} idea") == 1
            if kind == "group":
                for p in (2, 3):
                    fac.get_by_role("checkbox", name=f"Select: S{s + 1} idea from phone {p}")\
                        .check()
                fac.get_by_label("Theme name").fill(f"Theme of stage {s + 1}")
                fac.get_by_role("button", name="Group selected").click()
                first.get_by_role("list", name=f"Theme of stage {s + 1}").wait_for()
            if kind == "vote":
                for page in phones:
                    vote_for(page, f"S{s + 1} idea from phone 1").click()
                for page in phones:
                    page.locator("#votes-left", has_text="2 of 3").wait_for()
                    outbox_empty(page, table["join_code"])  # acknowledged
                fac.get_by_text("Vote counts are hidden from everyone").wait_for()
            if kind == "summarise":
                field = fac.get_by_label(f"Summary of Stage {s + 1}")
                field.fill(f"Summary of stage {s + 1}: agreed.")
                field.press("Tab")  # leaving the field saves at once
                fac.locator("#summary-current .save-state", has_text="Saved at").wait_for()
                first.locator("#summary-text", has_text=f"Summary of stage {s + 1}").wait_for()
            if s == 1:  # stage 2 has every kind of step
                shot(first, f"board-participant-stage{s + 1}-step{i + 1}-{kind}")
                shot(fac, f"board-facilitator-tablet-stage{s + 1}-step{i + 1}-{kind}")
            if s == 0 and i == 1:
                # After the reveal every phone has all nine, and a screen reader heard one
                # announcement for the burst of eight, not eight.
                for page in phones:
                    board(page).locator("li.note", has_text="S1 idea").nth(8).wait_for()
                first.wait_for_function("() => window.heard.includes('8 new notes')")
                assert "1 new note" not in first.evaluate("window.heard")
        if s == 1:
            for page in (fac, *phones):
                card(page, "S2 idea from phone 1").get_by_text("9 votes").wait_for()
        fac.get_by_label("Mark table ready for the next stage").check()
        org.wait_for_function("([id, s]) => window.ready.includes(`${id}:${s}`)",
                              arg=[table["id"], s])

    assert fac.evaluate("() => Object.keys(window.plenary.state.notes).length") == total == 45
    for page in phones:
        assert page.locator("#status").inner_text() == "Connected"
    assert errors_of(org, fac, *phones) == []
