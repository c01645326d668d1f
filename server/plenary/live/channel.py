"""Socket.io handlers: authenticate on connect, check every event, ack after commit.

Each handler parses its payload, calls one action in ``plenary.actions`` (which
commits), broadcasts the committed changes, and returns the acknowledgement.
Errors become ``{"ok": false, "error": {"code", "message"}}``; nothing a client
sends can take the server down for anyone else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import socketio
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from ..actions import Board, Outcome, Session
from ..domain.errors import DomainError, RateLimited, Unauthenticated
from ..domain.payloads import (
    NotePost,
    ParticipantAuth,
    StaffAuth,
    StageMove,
    StatusChange,
    StepMove,
    SyncRequest,
    parse,
)
from .limits import FailureLimiter, TokenBucket
from .packet import Packet

log = logging.getLogger(__name__)

#: Largest packet the server reads. A note is at most 1,000 characters (4 kB of
#: UTF-8); 64 kB leaves room for any legitimate message and refuses the rest
#: before it is decoded. A client that sends more is disconnected by engine.io.
MAX_PACKET_BYTES = 64 * 1024

#: Per connection: bursts of 60 actions (a phone flushing notes it kept while
#: offline), refilled at 5 a second (far faster than anyone types).
BUCKET_CAPACITY = 60
BUCKET_RATE = 5.0

#: A client refused this many times in a row for speed is not a person: it is
#: told why and disconnected, so it stops costing the other tables anything.
ABUSE_STRIKES = 100

#: Wrong join codes from one address: 10 a minute, then wait. Codes have ~39
#: bits, so this makes guessing one hopeless while forgiving fat fingers.
JOIN_FAILURES_ALLOWED = 10
JOIN_FAILURE_WINDOW_S = 60.0

#: Heartbeats: venue wifi drops packets and phones sleep; 25 s + 20 s is
#: socket.io's own default and notices a dead phone within 45 s.
PING_INTERVAL_S = 25
PING_TIMEOUT_S = 20

SERVER_ERROR = {
    "code": "server_error",
    "message": "Something went wrong on the server, and this was not saved. Please try again.",
}
STORAGE_FULL = {
    "code": "storage_full",
    "message": "The server's disk is full, so this was NOT saved. It is kept on your "
               "device; please tell the organiser.",
}

Handler = Callable[[Session, Any], Awaitable[Outcome | dict[str, Any]]]


@dataclass
class Connection:
    """What the server keeps about one live connection (this process only)."""

    session: Session
    bucket: TokenBucket = field(
        default_factory=lambda: TokenBucket(BUCKET_CAPACITY, BUCKET_RATE))
    strikes: int = 0


def table_room(table_id: str) -> str:
    """Everyone at one table: its participants and its facilitator."""
    return f"table:{table_id}"


def watch_room(event_id: str) -> str:
    """Everyone who watches every table of an event: the organiser and dashboards."""
    return f"watch:{event_id}"


def client_address(environ: dict[str, Any]) -> str:
    """The client's address, as the ASGI server reports it."""
    return str(environ.get("REMOTE_ADDR") or "unknown")


class Channel:
    """The socket.io server and its handlers, over one :class:`Board`."""

    def __init__(self, board: Board, *, client_manager: Any = None) -> None:
        self.board = board
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            serializer=Packet,
            client_manager=client_manager,
            max_http_buffer_size=MAX_PACKET_BYTES,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            # Same-origin only: pages are served by this app.
            cors_allowed_origins=None,
        )
        self.connections: dict[str, Connection] = {}
        self.join_failures = FailureLimiter(JOIN_FAILURES_ALLOWED, JOIN_FAILURE_WINDOW_S)
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        handlers: dict[str, tuple[type[BaseModel], Handler]] = {
            "sync": (SyncRequest, board.sync),
            "note.post": (NotePost, board.post_note),
            "step.next": (StepMove, partial(_move_step, board, 1)),
            "step.prev": (StepMove, partial(_move_step, board, -1)),
            "stage.next": (StageMove, partial(_move_stage, board, 1)),
            "stage.prev": (StageMove, partial(_move_stage, board, -1)),
            "event.status": (StatusChange, board.change_status),
        }
        for name, (model, fn) in handlers.items():
            self.sio.on(name, self._handler(name, model, fn))
        self.sio.on("*", self._unknown)

    # --- connecting ----------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = client_address(environ)
        wait = self.join_failures.retry_after(address)
        if wait > 0:
            raise socketio.exceptions.ConnectionRefusedError(
                f"Too many wrong join codes. Wait {int(wait) + 1} seconds and try again.",
                {"code": "too_many_attempts", "retry_after": int(wait) + 1},
            )
        try:
            session = await self.board.authenticate(_parse_auth(auth))
        except DomainError as exc:
            if exc.code == "bad_join_code":
                self.join_failures.fail(address)
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.as_dict()) from None
        except Exception:
            log.exception("connect failed")
            raise socketio.exceptions.ConnectionRefusedError(
                SERVER_ERROR["message"], SERVER_ERROR) from None
        self.connections[sid] = Connection(session)
        actor = session.actor
        if actor.table_id is not None:
            await self.sio.enter_room(sid, table_room(actor.table_id))
        else:
            await self.sio.enter_room(sid, watch_room(actor.event_id))

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        self.connections.pop(sid, None)

    # --- events --------------------------------------------------------------

    def _handler(self, name: str, model: type[BaseModel], fn: Handler) -> Callable[..., Any]:
        async def handle(sid: str, data: Any = None) -> dict[str, Any]:
            conn = self.connections.get(sid)
            if conn is None:  # not authenticated (cannot happen once connected)
                return _error({"code": "unauthenticated", "message": "Connect first."})
            if not conn.bucket.take():
                return await self._too_fast(sid, conn)
            conn.strikes = 0
            try:
                payload = parse(model, data, what=name)
                result = await fn(conn.session, payload)
            except DomainError as exc:
                return _error(exc.as_dict())
            except OperationalError as exc:
                log.exception("database error in %s", name)
                return _error(STORAGE_FULL if "full" in str(exc.orig).lower() else SERVER_ERROR)
            except Exception:
                log.exception("error in %s", name)
                return _error(SERVER_ERROR)
            if isinstance(result, Outcome):
                await self.publish(result)
                return {"ok": True, **result.ack}
            return {"ok": True, **result}

        return handle

    async def _too_fast(self, sid: str, conn: Connection) -> dict[str, Any]:
        conn.strikes += 1
        error = RateLimited("You are sending too fast; wait a moment and try again.")
        if conn.strikes >= ABUSE_STRIKES:
            log.warning("disconnecting %s: %d refusals in a row for speed", sid, conn.strikes)
            await self.sio.emit("kicked", {"code": "abuse", "message":
                                "Disconnected for sending far too fast. Reload the page to "
                                "continue."}, to=sid)
            await self.sio.disconnect(sid)
        return _error(error.as_dict())

    async def _unknown(self, event: str, sid: str, data: Any = None) -> dict[str, Any]:
        return _error({"code": "unknown_event",
                       "message": f"The server has no event called {event[:40]!r}."})

    async def publish(self, outcome: Outcome) -> None:
        """Send committed changes to the table's room and to the event's watchers."""
        for change in outcome.broadcasts():
            await self.sio.emit(
                "change", change, to=[table_room(change["table"]), watch_room(outcome.event_id)]
            )


def _error(error: dict[str, Any]) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _parse_auth(auth: Any) -> ParticipantAuth | StaffAuth:
    if isinstance(auth, dict) and "token" in auth:
        return parse(StaffAuth, auth, what="auth")
    if isinstance(auth, dict) and "join_code" in auth:
        return parse(ParticipantAuth, auth, what="auth")
    raise Unauthenticated(
        "Open this page from a table's join link or QR code, or from your organiser's link.",
    )


async def _move_step(board: Board, delta: int, session: Session, p: StepMove) -> Outcome:
    return await board.move_step(session, p, delta)


async def _move_stage(board: Board, delta: int, session: Session, p: StageMove) -> Outcome:
    return await board.move_stage(session, p, delta)
