"""Replacing links from the console, in Chromium (issue 8, item 5): the projector
opened with the old dashboard link is told and cut off; the console that replaced
its own organiser link carries on with the new one, the old link opens nothing."""

from __future__ import annotations

import pytest

from .conftest import LAPTOP, PROJECTOR
from .test_console import console, setup_of

pytestmark = pytest.mark.browser


def test_replacing_links_from_the_console(new_event, contexts):
    ev = new_event(tables=1, start=False)
    projector = contexts(PROJECTOR).new_page()
    projector.goto(ev["dashboard_url"])
    projector.wait_for_function("() => document.querySelector('#status')?.textContent"
                                " && !document.querySelector('#status').textContent"
                                ".includes('onnecting')")
    page = console(contexts, ev["organiser_url"])
    page.get_by_role("button", name="Replace dashboard link").click()
    page.wait_for_function("() => document.querySelector('#links-status')"
                           ".textContent.includes('dashboard link was replaced')")
    projector.wait_for_function("() => !document.querySelector('#fatal').hidden")
    assert "replaced" in projector.locator("#fatal-message").inner_text()
    new_dashboard = setup_of(page, ev["id"])["links"]["dashboard_url"]
    assert new_dashboard != ev["dashboard_url"]

    old_organiser = ev["organiser_url"]
    with page.expect_navigation():  # the console reopens itself with the new link
        page.get_by_role("button", name="Replace organiser link").click()
    page.wait_for_function("old => document.querySelector('#l-organiser')?.value"
                           " && document.querySelector('#l-organiser').value !== old",
                           arg=old_organiser)
    setup = setup_of(page, ev["id"])
    assert setup["links"]["organiser_url"] != old_organiser  # still signed in, new link
    assert page.locator("#fatal").is_hidden()

    stranger = console(contexts, old_organiser, LAPTOP)
    stranger.wait_for_function("() => !document.querySelector('#fatal').hidden")
    assert "error" not in setup_of(page, ev["id"])
