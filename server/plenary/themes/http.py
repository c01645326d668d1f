"""HTTP routes for the cross-table themes (docs/console-api.md, "Themes").

Reading is for the organiser and the dashboard (the dashboard's token as a bearer,
or the console's session); the organiser's choices go through the console's
session like every set-up route. Thin: parse, check, call :class:`Themes`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..actions import Actions, Session
from ..actions.transaction import read
from ..api import ConsoleApi
from ..domain.credentials import read_token, verify_token
from ..domain.errors import DomainError, Forbidden, InvalidPayload, NotFound, Unauthenticated
from ..domain.payloads import SpotlightSet
from ..domain.permissions import Actor, Role
from ..store import queries as q
from .service import Themes

_STATUS = {"unauthenticated": 401, "bad_token": 401, "forbidden": 403, "wrong_event": 403,
           "not_found": 404, "invalid_payload": 400, "text_too_long": 400}


def _error(exc: DomainError) -> JSONResponse:
    return JSONResponse({"error": exc.as_dict()}, status_code=_STATUS.get(exc.code, 409),
                        headers={"cache-control": "no-store"})


def routes(themes: Themes, actions: Actions, api: ConsoleApi, secret: bytes) -> list[Route]:
    """The themes routes of one app."""
    db = actions.db

    async def reader(request: Request, event_id: str) -> bool:
        """Whether the caller may read this event's themes; True for the organiser."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            session = request.session if "session" in request.scope else {}
            if session.get("admin") or event_id in session.get("events", []):
                return True
            raise Unauthenticated("Send the dashboard's or organiser's token: "
                                  "Authorization: Bearer <token>.")
        claim = read_token(token.strip())
        if claim.role not in (Role.ORGANISER, Role.DASHBOARD):
            raise Forbidden("Only the organiser and the dashboard see the themes.")
        if claim.scope_id != event_id:
            raise Forbidden("That link is for another event.", code="wrong_event")
        event = await read(db, q.event_row, event_id)
        if event is None:
            raise Unauthenticated("This link's event no longer exists.", code="bad_token")
        gen = event["organiser_gen"] if claim.role is Role.ORGANISER else event["dashboard_gen"]
        verify_token(secret, claim, gen)
        return claim.role is Role.ORGANISER

    async def get_themes(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        try:
            staff = await reader(request, event_id)
            stage = _stage(request.query_params.get("stage"))
            theme_id = request.path_params.get("theme_id")
            body = await themes.view(event_id, stage, staff=staff, theme_id=theme_id)
        except DomainError as exc:
            return _error(exc)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    async def patch_theme(request: Request, event_id: str, data: dict[str, Any]) -> Any:
        theme_id = request.path_params["theme_id"]
        _only(data, {"label", "hidden"})
        out: dict[str, Any] = {"id": theme_id}
        if "label" in data:
            out |= await themes.rename(event_id, theme_id, data["label"])
        if "hidden" in data:
            if not isinstance(data["hidden"], bool):
                raise InvalidPayload("'hidden' is true or false.")
            out |= await themes.hide(event_id, theme_id, data["hidden"])
        return out

    async def merge(request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"into"})
        return await themes.merge(event_id, request.path_params["theme_id"],
                                  _text(data, "into"))

    async def move_out(request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"note"})
        return await themes.move_out(event_id, request.path_params["theme_id"],
                                     _text(data, "note"))

    async def refresh(request: Request, event_id: str, data: dict[str, Any]) -> Any:
        _only(data, {"stage"})
        if themes.unavailable:
            raise NotFound(themes.unavailable, code="themes_off")
        stage = data.get("stage")
        if stage is not None and not isinstance(stage, int):
            raise InvalidPayload("'stage' is a number.")
        return {"refreshed": await themes.refresh(event_id, stage=stage, force=True)}

    async def show(request: Request, event_id: str, data: dict[str, Any]) -> Any:
        """Put the room's themes (or one theme) on the dashboard, or take them off."""
        _only(data, {"theme", "on"})
        on = data.get("on", True)
        theme = data.get("theme")
        if not isinstance(on, bool) or (theme is not None and not isinstance(theme, str)):
            raise InvalidPayload("Send {\"on\": true|false, \"theme\": id or null}.")
        spotlight = SpotlightSet(kind=("theme" if theme else "themes") if on else None,
                                 id=theme if on else None)
        # Committed through the write path, which hands it to the live channel to
        # broadcast (event.updated) like the socket's own spotlight.set.
        outcome = await actions.set_spotlight(Session(Actor(Role.ORGANISER, event_id)),
                                              spotlight)
        return outcome.ack

    g = api.guard
    base = "/api/events/{event_id}/themes"
    return [
        Route(base, get_themes, methods=["GET"]),
        Route(base + "/refresh", g(refresh), methods=["POST"]),
        Route(base + "/show", g(show), methods=["POST"]),
        Route(base + "/{theme_id}", get_themes, methods=["GET"]),
        Route(base + "/{theme_id}", g(patch_theme), methods=["PATCH"]),
        Route(base + "/{theme_id}/merge", g(merge), methods=["POST"]),
        Route(base + "/{theme_id}/move-out", g(move_out), methods=["POST"]),
    ]


def _stage(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 4:
        raise InvalidPayload("'stage' is a stage number, from 0.")
    return int(value)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidPayload(f"Send {key!r}: an id.")
    return value


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise InvalidPayload(f"Unknown field(s): {', '.join(sorted(unknown))}.")
