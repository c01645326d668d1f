"""Headless Chromium (Debian's package) driven by Playwright, against a real server."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, missing
from tests.integration.server import RunningServer, run_server

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}
PROJECTOR_SMALL = {"viewport": {"width": 1280, "height": 720}}

SHOTS = ARTIFACTS / "screenshots"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API holds an event loop on this
    thread while it runs, so it must be gone before any asyncio test starts."""
    path = chromium_path()
    if path is None:
        missing("Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("browser-server")) as running:
        yield running


@pytest.fixture
def new_event(server: RunningServer):
    def make(**kwargs: Any) -> dict[str, Any]:
        # Playwright's sync API owns this thread's event loop: run ours beside it.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, server.create_event(**kwargs)).result()
    return make


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:
    """Open browser contexts (one per person) and close them after the test."""
    opened: list[Any] = []

    def open_context(device: dict[str, Any]) -> Any:
        ctx = browser.new_context(locale="en-GB", **device)
        ctx.set_default_timeout(10_000)
        opened.append(ctx)
        return ctx

    yield open_context
    for ctx in opened:
        ctx.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot where CI can show it (and a person can look)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def axe_findings(page: Any) -> list[dict[str, Any]]:
    """Every axe-core finding on the page as it is now, whatever its impact (each printed).
    The page's context needs bypass_csp: the pages' CSP rightly refuses injected script."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document);
        return {passes: r.passes.length, found: r.violations.map(v => ({id: v.id, impact: v.impact,
            help: v.help, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}))};
    }""")
    where = page.url.split("#")[0]
    print(f"axe {where}: {result['passes']} rules passed, {len(result['found'])} violations")
    assert result["passes"] > 10, "axe did not run its rules"
    for v in result["found"]:
        print(f"axe {where} {v['impact']}: {v['id']} — {v['help']} {v['nodes']}")
    return result["found"]
