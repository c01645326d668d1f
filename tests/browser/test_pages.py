"""The real pages in headless Chromium: phones, a tablet, the console, the projector."""

from __future__ import annotations

import re

import pytest

from .conftest import LAPTOP, PHONE, PROJECTOR, PROJECTOR_SMALL, TABLET, shot

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=\"document.title='pwned'\">"


def notes_list(page):
    return page.get_by_role("list", name="Notes at this table")


def test_participant_note_appears_on_the_facilitator_board_live(new_event, contexts):
    event = new_event(tables=2)
    table = event["tables"][0]
    phone = contexts(PHONE).new_page()
    phone.goto(table["participant_url"])
    tablet = contexts(TABLET).new_page()
    tablet.goto(table["facilitator_url"])

    for page in (phone, tablet):
        page.get_by_text(table["topic"]).first.wait_for()
    phone.get_by_label("Your note").fill("Care leavers need a named adult until 25")
    phone.get_by_role("button", name="Post note").click()

    board = notes_list(tablet)
    board.get_by_text("Care leavers need a named adult until 25").wait_for()
    notes_list(phone).get_by_text("Care leavers need a named adult until 25").wait_for()
    shot(phone, "participant-phone")
    shot(tablet, "facilitator-tablet")


def test_user_text_is_shown_as_text_never_run(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    phone = contexts(PHONE).new_page()
    phone.goto(table["participant_url"])
    tablet = contexts(TABLET).new_page()
    tablet.goto(table["facilitator_url"])
    phone.get_by_label("Your note").fill(XSS)
    phone.get_by_role("button", name="Post note").click()
    for page in (phone, tablet):
        notes_list(page).get_by_text(XSS).wait_for()
        assert notes_list(page).locator("img").count() == 0
        assert page.title() != "pwned"


def test_organiser_advance_moves_every_page(new_event, contexts):
    event = new_event(tables=2)
    t1, t2 = event["tables"]
    org = contexts(LAPTOP).new_page()
    org.goto(event["organiser_url"])
    phone = contexts(PHONE).new_page()
    phone.goto(t1["participant_url"])
    tablet = contexts(TABLET).new_page()
    tablet.goto(t2["facilitator_url"])
    dash = contexts(PROJECTOR).new_page()
    dash.goto(event["dashboard_url"])

    first, second = "Understanding of the issues", "Development of big ideas"
    for page in (phone, tablet, dash, org):
        page.get_by_text(first).first.wait_for()
    shot(org, "organiser-laptop-stage1")
    shot(dash, "dashboard-1920-stage1")
    org.get_by_role("button", name="Next stage for every table").click()
    for page in (phone, tablet, dash, org):
        page.get_by_text(re.compile(second)).first.wait_for()
    shot(phone, "participant-phone-stage2")
    shot(dash, "dashboard-1920-stage2")


def test_facilitator_moves_the_table_through_steps(new_event, contexts):
    event = new_event(tables=1)
    table = event["tables"][0]
    tablet = contexts(TABLET).new_page()
    tablet.goto(table["facilitator_url"])
    phone = contexts(PHONE).new_page()
    phone.goto(table["participant_url"])
    steps = tablet.get_by_role("listitem").filter(has=tablet.locator("[aria-current='step']"))
    current = tablet.locator("[aria-current='step']")
    current.wait_for()
    before = current.inner_text()
    tablet.get_by_role("button", name="Next step").click()
    tablet.wait_for_function(
        "before => document.querySelector(\"[aria-current='step']\")?.innerText !== before",
        arg=before)
    after = current.inner_text()
    assert after != before
    del steps
    phone.get_by_text(after.strip().splitlines()[0]).first.wait_for()


def test_dashboard_fits_the_projector(new_event, contexts):
    event = new_event(tables=8)
    for device, name in ((PROJECTOR, "1920"), (PROJECTOR_SMALL, "1280")):
        page = contexts(device).new_page()
        page.goto(event["dashboard_url"])
        page.get_by_text("Understanding of the issues").first.wait_for()
        page.get_by_text(event["tables"][7]["topic"]).first.wait_for()
        shot(page, f"dashboard-{name}-8-tables")


def test_join_page_takes_a_typed_code(new_event, contexts, server):
    event = new_event(tables=1)
    table = event["tables"][0]
    phone = contexts(PHONE).new_page()
    phone.goto(server.url + "/")
    phone.get_by_role("textbox").first.fill(table["join_code"].lower())
    phone.keyboard.press("Enter")
    phone.wait_for_url(re.compile(f"/j/{table['join_code']}", re.I))
    phone.get_by_text(table["topic"]).first.wait_for()
    shot(phone, "join-phone")


def test_wrong_code_shows_a_clear_message(contexts, server):
    phone = contexts(PHONE).new_page()
    phone.goto(server.url + "/j/ZZZZZZZZ")
    phone.get_by_text(re.compile("does not match any table")).first.wait_for()
    shot(phone, "participant-wrong-code")


def test_server_side_disconnect_keeps_the_browser_disconnected(new_event, contexts):
    """Interop (a): the DISCONNECT packet must parse in the JS client, or it reconnects."""
    event = new_event(tables=1)
    phone = contexts(PHONE).new_page()
    phone.goto(event["tables"][0]["participant_url"])
    phone.wait_for_function("() => window.plenary?.socket?.connected === true")
    reason = phone.evaluate("""() => new Promise(resolve => {
        const s = window.plenary.socket;
        // The page disconnects itself when told it is kicked; leave it to the server
        // here, so that it is the server's DISCONNECT packet that the parser reads.
        s.off('kicked');
        s.on('disconnect', r => resolve(r));
        for (let i = 0; i < 400; i++) s.emit('sync', {}, () => {});
    })""")
    assert reason == "io server disconnect"
    assert phone.evaluate("() => window.plenary.socket.active") is False
    assert phone.evaluate("() => window.plenary.socket.connected") is False


def test_browser_encodings_reach_the_server_intact(new_event, contexts):
    """Interop (b) and (c): JS `undefined` arrives as null, a Uint8Array as bytes."""
    event = new_event(tables=1)
    phone = contexts(PHONE).new_page()
    phone.goto(event["tables"][0]["participant_url"])
    phone.wait_for_function("() => window.plenary?.socket?.connected === true")
    ack = phone.evaluate("""() => window.plenary.socket.timeout(5000).emitWithAck(
        'note.post', {id: 'js-undefined-1', text: 'from JS', category: undefined})""")
    assert ack["ok"] is True, ack
    # A second socket whose participant key is a Uint8Array, as the page sends it.
    joined = phone.evaluate("""code => new Promise((resolve, reject) => {
        const key = crypto.getRandomValues(new Uint8Array(16));
        const s = io({auth: {join_code: code, participant_key: key, name: undefined},
                      transports: ['websocket'], reconnection: false});
        s.on('connect', async () => {
            const r = await s.timeout(5000).emitWithAck('sync', {});
            s.disconnect();
            resolve(r.you.role);
        });
        s.on('connect_error', e => reject(new Error(JSON.stringify(e.data))));
    })""", event["tables"][0]["join_code"])
    assert joined == "participant"
