"""The organiser's HTTP API (docs/console-api.md): sessions, event set-up, printing.

Thin: every route checks the session, parses JSON, and calls a set-up action
(``plenary.actions.setup``) or reads (``plenary.setup``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import cards, console_session, setup
from .actions import setup as event_setup
from .actions.transaction import read
from .domain.credentials import is_admin_token, read_token, verify_token
from .domain.errors import DomainError, Forbidden, InvalidPayload, NotFound, Unauthenticated
from .domain.payloads import strip_controls
from .domain.permissions import Role
from .domain.template import TemplateError
from .domain.topics_csv import TopicSpec, parse_topics_csv
from .links import Links
from .store import Database
from .store import queries as q

#: Largest request body the API reads (a CSV of 100 topics with briefs fits easily).
MAX_BODY = 512 * 1024

#: Cuts off every connection that used a credential just replaced (role, scope id).
Revoke = Callable[[Role, str], Awaitable[None]]
Handler = Callable[[Request], Awaitable[Response]]

_STATUS = {"invalid_payload": 400, "bad_csv": 400, "text_too_long": 400, "no_topics": 400,
           "unknown_template": 400, "unauthenticated": 401, "bad_token": 401,
           "forbidden": 403, "csrf": 403, "not_found": 404}


#: Every answer of the API may carry capability links (the set-up view has every
#: table's facilitator link): no browser cache or proxy may keep one.
NO_STORE = {"cache-control": "no-store"}

#: Largest id a database integer holds; a larger one names nothing (SQLite would
#: raise OverflowError on it).
MAX_DB_INT = 2**63 - 1


def _error(exc: DomainError) -> JSONResponse:
    status = _STATUS.get(exc.code, 409)
    return JSONResponse({"error": exc.as_dict()}, status_code=status, headers=NO_STORE)


def _json(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code, headers=NO_STORE)


class ConsoleApi:
    """The routes, over one database, secret and public base URL."""

    def __init__(self, db: Database, secret: bytes, links: Links, templates_dir: Any,
                 revoke: Revoke) -> None:
        self.db = db
        self.secret = secret
        self.links = links
        self.templates_dir = templates_dir
        self.revoke = revoke

    # --- plumbing ------------------------------------------------------------

    def _guard(self, fn: Callable[..., Awaitable[Any]], *, admin: bool = False,
               event: bool = True, body: str | None = None) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                if request.method != "GET":
                    self._check_origin(request, body or "application/json")
                signed = await console_session.current(self.db, request.session)
                if not signed.signed_in:
                    raise Unauthenticated("Open the console from your organiser link first "
                                          "(this sign-in has ended or its link was replaced).")
                if admin and not signed.admin:
                    raise Forbidden("Only the server's admin link can do that.")
                args: dict[str, Any] = {}
                if event:
                    event_id = request.path_params["event_id"]
                    if not signed.admin and event_id not in signed.events:
                        raise Forbidden("This console is not signed in to that event.")
                    args["event_id"] = event_id
                request.state.sign_in = signed
                if request.method in ("POST", "PATCH"):
                    args["data"] = await self._body(request, body)
                result = await fn(request, **args)
            except DomainError as exc:
                return _error(exc)
            if not isinstance(result, Response):
                result = _json(result)
            result.headers.update(NO_STORE)
            return result
        return handle

    def guard(self, fn: Callable[..., Awaitable[Any]], **options: Any) -> Handler:
        """A route handler that checks the console's session (and CSRF) first, as the
        set-up routes do; for routes other modules add (themes)."""
        return self._guard(fn, **options)

    def _check_origin(self, request: Request, content_type: str) -> None:
        # SameSite=Strict already keeps the cookie off cross-site requests; a JSON
        # (or CSV) content type and a same-origin Origin close the rest. Browsers
        # send Origin on every POST, PATCH and DELETE (same-origin too), so a
        # request without one is not from the console page: refused, as documented.
        origin = request.headers.get("origin")
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin is None:
            raise Forbidden("Send the Origin header: state-changing requests come from "
                            "the console page.", code="csrf")
        if origin not in (expected, self.links.base):
            raise Forbidden("Cross-site request refused.", code="csrf")
        if request.method in ("POST", "PATCH") and not request.headers.get(
                "content-type", "").startswith(content_type):
            raise Forbidden(f"Send {content_type}.", code="csrf")

    async def _body(self, request: Request, kind: str | None) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise InvalidPayload("The request is too large.")
        if kind == "text/csv":
            return raw.decode("utf-8", errors="replace")
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise InvalidPayload("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise InvalidPayload("The request body must be a JSON object.")
        return data

    async def _setup(self, event_id: str) -> dict[str, Any]:
        return await setup.setup_view(self.db, self.links, event_id)

    # --- sessions ------------------------------------------------------------

    async def open_session(self, request: Request) -> Response:
        """Exchange a capability token (admin or organiser link) for a session cookie."""
        try:
            self._check_origin(request, "application/json")
            data = await self._body(request, None)
            token = data.get("token")
            if not isinstance(token, str) or len(token) > 200:
                raise InvalidPayload("Send {\"token\": ...} from your link.")
            if is_admin_token(self.secret, token):
                await console_session.sign_in(self.db, request.session, admin=True)
            else:
                claim = read_token(token)
                if claim.role is not Role.ORGANISER:
                    raise Unauthenticated("This is not an organiser link.", code="bad_token")
                event = await read(self.db, q.event_row, claim.scope_id)
                if event is None:
                    raise Unauthenticated("This link's event no longer exists.",
                                          code="bad_token")
                verify_token(self.secret, claim, event["organiser_gen"])
                await console_session.sign_in(self.db, request.session,
                                              event=(event["id"], event["organiser_gen"]))
        except DomainError as exc:
            return _error(exc)
        return _json(_session_body(await console_session.current(self.db, request.session)))

    async def get_session(self, request: Request) -> Response:
        """Who this console is signed in as."""
        signed = await console_session.current(self.db, request.session)
        if not signed.signed_in:
            return _error(Unauthenticated("Not signed in."))
        return _json(_session_body(signed))

    async def close_session(self, request: Request) -> Response:
        """Sign out: forget the session."""
        try:
            self._check_origin(request, "application/json")
        except DomainError as exc:
            return _error(exc)
        await console_session.sign_out(self.db, request.session)
        return Response(status_code=204, headers=NO_STORE)

    # --- events, topics, tables ----------------------------------------------

    async def templates(self, request: Request) -> Any:
        out = []
        for path in setup.template_files(self.templates_dir):
            try:
                t = setup.load_template(self.templates_dir, path.stem)
            except TemplateError:
                continue
            out.append({"name": t.name, "title": t.title, "description": t.description,
                        "stages": [s.title for s in t.stages], "topics": len(t.topics)})
        return out

    async def list_events(self, request: Request) -> Any:
        rows, counts = await read(self.db, _events_and_table_counts)
        signed: console_session.SignIn = request.state.sign_in
        mine = signed.events
        return [{"id": r["id"], "title": r["title"], "date": r["starts_on"],
                 "venue": r["venue"], "status": r["status"], "template": r["template_name"],
                 "tables": counts[r["id"]]}
                for r in rows if signed.admin or r["id"] in mine]

    async def create_event(self, request: Request, data: dict[str, Any]) -> Any:
        template = setup.load_template(self.templates_dir, _str(data, "template", 40))
        topics = data.get("topics")
        if topics is None:
            specs = [TopicSpec(t.title, t.brief) for t in template.topics]
        elif isinstance(topics, list) and all(isinstance(t, dict) for t in topics):
            specs = [TopicSpec(_str(t, "title", 120), _str(t, "brief", 2000, "")) for t in topics]
        else:
            raise InvalidPayload("topics: a list of {title, brief}.")
        tables = _int(data, "tables", 0, event_setup.MAX_TABLES, default=0)
        event_id = await event_setup.create_event(
            self.db, template, title=_str(data, "title", 200), topics=specs, tables=tables,
            venue=_str(data, "venue", 200, ""), date=_date(data.get("date")))
        await console_session.sign_in(self.db, request.session, event=(event_id, 0))
        return _json(await self._setup(event_id), status_code=201)

    async def get_event(self, request: Request, event_id: str) -> Any:
        return await self._setup(event_id)

    async def patch_event(self, request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"title", "date", "venue"})
        await event_setup.update_event(self.db, event_id, title=_opt(data, "title", 200),
                                       date=_date(data["date"]) if "date" in data else None,
                                       venue=_opt(data, "venue", 200))
        return await self._setup(event_id)

    async def add_topic(self, request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"title", "brief"})
        spec = TopicSpec(" ".join(_str(data, "title", 120).split()), _str(data, "brief", 2000, ""))
        await event_setup.add_topics(self.db, event_id, [spec])
        return await self._setup(event_id)

    async def import_topics(self, request: Request, event_id: str, data: str) -> Any:
        await event_setup.add_topics(self.db, event_id, parse_topics_csv(data))
        return await self._setup(event_id)

    async def patch_topic(self, request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"title", "brief"})
        await event_setup.update_topic(self.db, event_id, _topic_id(request),
                                       title=_opt(data, "title", 120),
                                       brief=_opt(data, "brief", 2000))
        return await self._setup(event_id)

    async def delete_topic(self, request: Request, event_id: str) -> Any:
        await event_setup.delete_topic(self.db, event_id, _topic_id(request))
        return await self._setup(event_id)

    async def add_tables(self, request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"count", "number", "topic_id", "facilitator_name"})
        count = _int(data, "count", 1, event_setup.MAX_TABLES, default=1)
        number = _int(data, "number", 1, event_setup.MAX_TABLE_NUMBER)
        await event_setup.add_tables(self.db, event_id, count=count, number=number,
                                     topic_id=_topic_ref(data),
                                     facilitator_name=_opt(data, "facilitator_name", 80))
        return await self._setup(event_id)

    async def patch_table(self, request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"number", "topic_id", "facilitator_name"})
        await event_setup.update_table(
            self.db, event_id, request.path_params["table_id"],
            number=_int(data, "number", 1, event_setup.MAX_TABLE_NUMBER),
            topic_id=_topic_ref(data), facilitator_name=_opt(data, "facilitator_name", 80))
        return await self._setup(event_id)

    async def delete_table(self, request: Request, event_id: str) -> Any:
        await event_setup.delete_table(self.db, event_id, request.path_params["table_id"])
        return await self._setup(event_id)

    async def regenerate(self, request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"what"})
        what = _str(data, "what", 40)
        table_id = request.path_params["table_id"]
        await event_setup.regenerate(self.db, event_id, table_id, what)
        # Whoever joined or opened the table with the old code or link is cut off.
        await self.revoke(Role.FACILITATOR if what == "facilitator_link" else Role.PARTICIPANT,
                          table_id)
        return await self._setup(event_id)

    async def regenerate_link(self, request: Request, event_id: str,
                              data: dict[str, Any]) -> Any:
        """Replace the event's organiser or dashboard link; everyone using the old one is
        cut off (consoles signed in with it too), except this console, which moves on."""
        _only(data, {"what"})
        what = _str(data, "what", 40)
        gen = await event_setup.regenerate_link(self.db, event_id, what)
        if what == "organiser_link":
            await console_session.sign_in(self.db, request.session, event=(event_id, gen))
        await self.revoke(Role.ORGANISER if what == "organiser_link" else Role.DASHBOARD,
                          event_id)
        return await self._setup(event_id)

    async def cards_page(self, request: Request, event_id: str) -> Response:
        layout = request.query_params.get("layout", "a5")
        return HTMLResponse(cards.table_cards(await self._setup(event_id), layout),
                            headers={"cache-control": "no-store"})

    async def facilitators_page(self, request: Request, event_id: str) -> Response:
        return HTMLResponse(cards.facilitators_sheet(await self._setup(event_id)),
                            headers={"cache-control": "no-store"})

    def routes(self) -> list[Route]:
        """Every route of the console's API and printable pages."""
        g = self._guard
        ev = "/api/events/{event_id}"
        return [
            Route("/api/session", self.open_session, methods=["POST"]),
            Route("/api/session", self.get_session, methods=["GET"]),
            Route("/api/session", self.close_session, methods=["DELETE"]),
            Route("/api/templates", g(self.templates, event=False), methods=["GET"]),
            Route("/api/events", g(self.list_events, event=False), methods=["GET"]),
            Route("/api/events", g(self.create_event, admin=True, event=False),
                  methods=["POST"]),
            Route(ev, g(self.get_event), methods=["GET"]),
            Route(ev, g(self.patch_event), methods=["PATCH"]),
            Route(ev + "/topics", g(self.add_topic), methods=["POST"]),
            Route(ev + "/topics/import", g(self.import_topics, body="text/csv"),
                  methods=["POST"]),
            Route(ev + "/topics/{topic_id:int}", g(self.patch_topic), methods=["PATCH"]),
            Route(ev + "/topics/{topic_id:int}", g(self.delete_topic), methods=["DELETE"]),
            Route(ev + "/tables", g(self.add_tables), methods=["POST"]),
            Route(ev + "/tables/{table_id}", g(self.patch_table), methods=["PATCH"]),
            Route(ev + "/tables/{table_id}", g(self.delete_table), methods=["DELETE"]),
            Route(ev + "/tables/{table_id}/regenerate", g(self.regenerate), methods=["POST"]),
            Route(ev + "/regenerate", g(self.regenerate_link), methods=["POST"]),
            Route("/events/{event_id}/cards", g(self.cards_page), methods=["GET"]),
            Route("/events/{event_id}/facilitators", g(self.facilitators_page),
                  methods=["GET"]),
        ]


#: Fields that keep their line breaks; every other text field is one line.
_MULTILINE = frozenset({"brief"})


def _str(data: dict[str, Any], key: str, limit: int, default: str | None = None) -> str:
    value = data.get(key, default)
    if isinstance(value, str):
        value = strip_controls(value, multiline=key in _MULTILINE)
    if not isinstance(value, str) or len(value) > limit or (default is None and not value):
        raise InvalidPayload(f"{key}: text of at most {limit} characters is required.")
    return value


def _opt(data: dict[str, Any], key: str, limit: int) -> str | None:
    return _str(data, key, limit, "") if key in data and data[key] is not None else None


def _session_body(signed: console_session.SignIn) -> dict[str, Any]:
    return {"admin": signed.admin, "events": sorted(signed.events)}


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise InvalidPayload(f"Unknown field(s): {', '.join(sorted(unknown))}.")


def _date(value: Any) -> str | None:
    if value in (None, ""):
        return None
    import datetime

    if not isinstance(value, str):
        raise InvalidPayload("date: YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidPayload("date: YYYY-MM-DD.") from None


def _int(data: dict[str, Any], key: str, low: int, high: int,
         default: int | None = None) -> int | None:
    """A whole number from ``low`` to ``high`` (or ``default`` when absent)."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidPayload(f"{key}: a whole number from {low:,} to {high:,}.")
    return value


def _topic_ref(data: dict[str, Any]) -> int | None:
    """A topic id from the body: one beyond any stored id names no topic."""
    value = data.get("topic_id")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidPayload("topic_id: a topic's id (a number).")
    if not 0 < value <= MAX_DB_INT:
        raise NotFound("There is no such topic in this event.")
    return value


def _topic_id(request: Request) -> int:
    topic_id = int(request.path_params["topic_id"])
    if topic_id > MAX_DB_INT:
        raise NotFound("There is no such topic in this event.")
    return topic_id


def _events_and_table_counts(conn: Connection) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rows = q.list_events(conn)
    return rows, {r["id"]: len(q.tables_of_event(conn, r["id"])) for r in rows}
