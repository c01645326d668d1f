"""Closing the event: posting refused on phones, an offline phone's note kept (late),
and the console's one-click exports of the complete record."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from .conftest import LAPTOP, PHONE, shot
from .test_table_board import go_offline, go_online

pytestmark = pytest.mark.browser

LOADED = "() => window.plenary?.state?.loaded === true"


def phone_page(contexts: Any, url: str) -> Any:
    page = contexts(PHONE).new_page()
    page.goto(url)
    page.wait_for_function(LOADED)
    return page


def test_close_refuses_posting_keeps_late_notes_and_exports_them(new_event, contexts):
    event = new_event(tables=1, template="world-cafe")
    table = event["tables"][0]
    online = phone_page(contexts, table["participant_url"])
    away = phone_page(contexts, table["participant_url"])

    # One phone loses its connection and writes a note while posting is open.
    go_offline(away.context)
    away.get_by_label("Your note").fill("Written on the train home")
    away.get_by_role("button", name="Post note").click()
    away.locator("#status", has_text="Offline").wait_for()

    console = contexts(LAPTOP).new_page()
    console.on("dialog", lambda d: d.accept())
    console.goto(event["organiser_url"])
    console.get_by_role("button", name="Close the event").click()
    console.locator("#event-status", has_text="Closed").wait_for()

    # Posting is closed, in words; the composer goes away.
    online.get_by_text("The event has closed").first.wait_for()
    online.get_by_label("Your note").wait_for(state="hidden")
    # A page that still tried (a stale tab) is refused by the server with the reason.
    ack = online.evaluate("""() => window.plenary.socket.timeout(5000).emitWithAck(
        'note.post', {id: 'stale-tab-0001', text: 'One more thought'})""")
    assert ack["error"]["code"] == "event_closed" and "closed" in ack["error"]["message"]
    shot(online, "participant-phone-closed")

    # The offline phone comes back: its note is kept, marked late.
    go_online(away.context)
    away.wait_for_function(
        f"() => (localStorage.getItem('plenary:queue:{table['join_code']}') || '[]') === '[]'")

    # The console's export links download the complete record.
    with console.expect_download() as got:
        console.get_by_role("link", name="Notes as CSV (.csv)").click()
    raw = got.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    late = [r for r in rows if r["Note"] == "Written on the train home"]
    assert len(late) == 1, rows
    assert late[0]["Late"].lower() in ("yes", "true", "1")
    assert not [r for r in rows if r["Note"] == "One more thought"]
    with console.expect_download() as got:
        console.get_by_role("link", name="Complete data (.json)").click()
    record = json.loads(got.value.path().read_text(encoding="utf-8"))
    assert record["event"]["status"] == "closed"
    shot(console, "console-closed-exports")
