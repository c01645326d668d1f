"""HTTP downloads: ``GET /api/events/{event_id}/export.{fmt}``, for the organiser only.

Authorised by the organiser's capability token in ``Authorization: Bearer
<token>`` (checked against the event's current organiser generation), or by the
organiser console's signed-in session, so that a plain link in the console
downloads the file. Each export is built from the database in batches into a
spooled temporary file (memory up to 4 MB, then disk), at most two at a time,
and then streamed to the client from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import console_session
from ..domain.credentials import read_token, verify_token
from ..domain.errors import DomainError, Forbidden, NotFound, Unauthenticated
from ..domain.permissions import Role
from ..store import Database
from ..store.records import EventInfo
from . import event_info, filename, get_format, render

_STATUS = {"unauthenticated": 401, "bad_token": 401, "forbidden": 403, "wrong_event": 403,
           "not_found": 404, "bad_format": 404}


def _error(exc: DomainError) -> JSONResponse:
    return JSONResponse({"error": exc.as_dict()}, status_code=_STATUS.get(exc.code, 400),
                        headers={"cache-control": "no-store"})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


#: Exports built at once by one server process; more wait their turn. Each holds a
#: database connection and most of a CPU while it builds, and live boards need both.
BUILDING_AT_ONCE = 2


def routes(db: Database, secret: bytes) -> list[Route]:
    """The export route, over the application's database."""
    building = asyncio.Semaphore(BUILDING_AT_ONCE)

    async def authorise(request: Request, event_id: str) -> EventInfo:
        """The event, if the request may export it; else Unauthenticated or Forbidden."""
        token = _bearer(request)
        if token is None:
            # The console's session (see plenary.api), when the app has sessions.
            session = request.session if "session" in request.scope else {}
            signed = await console_session.current(db, session)
            if signed.admin or event_id in signed.events:
                return await event_info(db, event_id)
            raise Unauthenticated("Send the organiser's token: Authorization: Bearer <token>.")
        claim = read_token(token)
        if claim.role is not Role.ORGANISER:
            raise Forbidden("Only the organiser can export an event.")
        if claim.scope_id != event_id:
            raise Forbidden("That organiser link is for another event.", code="wrong_event")
        try:
            event = await event_info(db, event_id)
        except NotFound:
            raise Unauthenticated("This link's event no longer exists.",
                                  code="bad_token") from None
        verify_token(secret, claim, event.organiser_gen)
        return event

    async def download(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        try:
            spec = get_format(request.path_params["fmt"])
            event = await authorise(request, event_id)
            # Built whole into a spooled file, then sent: the database read is over
            # before the first byte goes, however slowly the client downloads, and
            # a failure while building is still a proper error response.
            async with building:
                body = render(db, event_id, spec.name, spool=True)
                first = await anext(body)
        except DomainError as exc:
            return _error(exc)

        async def stream() -> AsyncIterator[bytes]:
            yield first
            async for piece in body:
                yield piece

        name = filename(event, spec.name)
        return StreamingResponse(stream(), media_type=spec.media_type, headers={
            "content-disposition": f'attachment; filename="{name}"',
            # A draft taken during the event goes stale within minutes.
            "cache-control": "no-store",
        })

    return [Route("/api/events/{event_id}/export.{fmt}", download, methods=["GET"])]
