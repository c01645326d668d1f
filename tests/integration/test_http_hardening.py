"""The console API and pages, tried from outside (issue 8, items 6, 9, 10, 11)."""

from __future__ import annotations

import httpx
import pytest
from plenary.actions.transaction import write_path
from plenary.store import Database
from plenary.store import queries as q

from .test_console import console, token_of

pytestmark = pytest.mark.integration

HUGE = 2**64 + 7  # beyond any 64-bit database integer


async def raw_write(server, body) -> None:
    """Write to the store behind the server's back (what no live input could write)."""
    db = Database(server.config.database_url)
    try:
        await write_path(db).run(body)
    finally:
        await db.close()


async def new_event(http: httpx.AsyncClient, **fields) -> dict:
    r = await http.post("/api/events", json={"title": "Hardening", "template": "alchemy",
                                             "tables": 1, **fields})
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_template_name_cannot_reach_outside_the_templates_folder(server):
    http = await console(server, token_of(server.admin_url))
    try:
        for name in ("../pyproject", "../../etc/passwd", "/etc/hostname"):
            r = await http.post("/api/events", json={"title": "x", "template": name})
            assert r.status_code == 400, r.text
            error = r.json()["error"]
            assert error["code"] == "unknown_template"
            assert "/" not in error["message"].replace(name, ""), error["message"]
    finally:
        await http.aclose()


async def test_pages_may_open_sockets_only_to_their_own_origin(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/", "/console", "/dashboard", "/facilitator", "/j/ABCD2345"):
            csp = (await http.get(path)).headers["content-security-policy"]
            connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src"))
            sources = connect.split()[1:]
            assert "ws:" not in sources and "wss:" not in sources, csp
            ws_origin = server.url.replace("http://", "ws://")
            assert set(sources) <= {"'self'", ws_origin}, csp


async def test_every_response_that_carries_tokens_is_not_stored(server):
    http = await console(server, token_of(server.admin_url))
    try:
        created = await http.post("/api/events", json={"title": "T", "template": "alchemy",
                                                       "tables": 1})
        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"
        event_id = created.json()["event"]["id"]
        ev = f"/api/events/{event_id}"
        table_id = created.json()["tables"][0]["id"]
        responses = [
            await http.get(ev),
            await http.patch(ev, json={"venue": "Hall"}),
            await http.post(ev + "/topics", json={"title": "New topic"}),
            await http.post(ev + "/tables/" + table_id + "/regenerate",
                            json={"what": "join_code"}),
            await http.get("/api/session"),
            await http.get("/api/events"),
            await http.get(f"/events/{event_id}/cards"),
            await http.get(f"/events/{event_id}/facilitators"),
        ]
        for r in responses:
            assert r.status_code == 200, (r.request.url, r.text)
            assert r.headers.get("cache-control") == "no-store", r.request.url
        assert "facilitator_url" in responses[0].text  # the setup view carries tokens
    finally:
        await http.aclose()


async def test_a_state_changing_request_without_origin_is_refused(server):
    http = await console(server, token_of(server.admin_url))
    try:
        event_id = (await new_event(http))["event"]["id"]
        del http.headers["origin"]
        ev = f"/api/events/{event_id}"
        for method, path, body in (("POST", "/api/events", {"title": "x",
                                                            "template": "alchemy"}),
                                   ("PATCH", ev, {"venue": "Elsewhere"}),
                                   ("POST", ev + "/topics", {"title": "Sneaky"}),
                                   ("DELETE", "/api/session", None),
                                   ("POST", "/api/session",
                                    {"token": token_of(server.admin_url)})):
            r = await http.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"]["code"] == "csrf"
        http.headers["origin"] = server.url
        r = await http.get(ev)  # nothing changed, and the session still works
        assert r.json()["event"]["venue"] == ""
        assert "Sneaky" not in [t["title"] for t in r.json()["topics"]]
    finally:
        await http.aclose()


async def test_ids_beyond_64_bits_get_a_json_error_not_a_crash(server):
    http = await console(server, token_of(server.admin_url))
    try:
        setup = await new_event(http)
        ev = f"/api/events/{setup['event']['id']}"
        table_id = setup["tables"][0]["id"]
        for method, path, body in (("PATCH", f"{ev}/topics/{HUGE}", {"title": "x"}),
                                   ("DELETE", f"{ev}/topics/{HUGE}", None),
                                   ("PATCH", f"{ev}/tables/{table_id}", {"topic_id": HUGE}),
                                   ("PATCH", f"{ev}/tables/{table_id}", {"number": HUGE}),
                                   ("POST", f"{ev}/tables", {"topic_id": HUGE}),
                                   ("POST", f"{ev}/tables", {"count": HUGE}),
                                   ("POST", "/api/events", {"title": "x", "template": "alchemy",
                                                            "tables": HUGE})):
            r = await http.request(method, path, json=body)
            assert r.status_code in (400, 404), (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"] in ("invalid_payload", "not_found"), r.text
    finally:
        await http.aclose()


async def test_control_characters_in_a_title_do_not_break_the_report(server):
    http = await console(server, token_of(server.admin_url))
    try:
        setup = await new_event(http, title="Spring\x01 assembly\x0b\x1b[31m")
        event_id = setup["event"]["id"]
        assert setup["event"]["title"] == "Spring assembly[31m"  # cleaned on the way in
        # An imported record (or an older database) may still hold one.
        await raw_write(server, lambda conn: q.update_event(
            conn, event_id, title="Bad\x01 title\x0c", venue="Hall\x02"))
        for fmt in ("docx", "xlsx", "html", "md", "csv", "json"):
            r = await http.get(f"/api/events/{event_id}/export.{fmt}")
            assert r.status_code == 200, (fmt, r.text[:200])
    finally:
        await http.aclose()


async def test_cards_page_escapes_the_join_code_and_everything_else(server):
    http = await console(server, token_of(server.admin_url))
    try:
        setup = await new_event(http)
        event_id, table_id = setup["event"]["id"], setup["tables"][0]["id"]
        # As an old, unvalidated import could have left it.
        await raw_write(server, lambda conn: q.set_table(
            conn, table_id, join_code="<img src=x onerror=alert(1)>"))
        for page in ("cards", "cards?layout=a4", "facilitators"):
            r = await http.get(f"/events/{event_id}/{page}")
            assert r.status_code == 200
            assert "<img" not in r.text and "onerror=alert(1)>" not in r.text, page
        r = await http.get(f"/events/{event_id}/cards")
        assert "&lt;img" in r.text
    finally:
        await http.aclose()
