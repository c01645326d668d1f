"""Socket.io handlers: authenticate on connect, check every event, ack after commit.

Each handler parses its payload, calls one action in ``plenary.actions`` (which
commits through the write path), and returns the acknowledgement; the write
path hands every committed outcome to :meth:`Channel.publish`, in commit order.
Errors become ``{"ok": false, "error": {"code", "message"}}``; nothing a client
sends can take the server down for anyone else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import socketio
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from .. import gcpolicy
from ..actions import Actions, Outcome, Session
from ..domain.board import Viewer, view_change
from ..domain.credentials import normalise_join_code
from ..domain.errors import DomainError, RateLimited, Unauthenticated
from ..domain.payloads import (
    BoardLock,
    GroupDelete,
    GroupSave,
    MessageSet,
    NoteEdit,
    NoteGroup,
    NoteHide,
    NoteMerge,
    NotePost,
    NoteRef,
    NoteStar,
    ParticipantAuth,
    SpotlightSet,
    StaffAuth,
    StageMove,
    StatusChange,
    StepMove,
    SummarySet,
    SyncRequest,
    TableReady,
    TimerSet,
    VoteAdd,
    VoteRemove,
    parse,
)
from ..domain.permissions import Role
from ..store.queries import now_ms
from .coalesce import Coalescer
from .guard import GuardedServer, Refusal, hang_up
from .joins import JOINS_ALLOWED, JoinLimiter
from .limits import MemoryWindowStore, TokenBucket, WindowStore
from .packet import Packet
from .presence import LocalPresence, Presence, PresenceBatcher
from .pubsub import LocalManager, skip_room

log = logging.getLogger(__name__)

#: Largest packet the server reads. A note is at most 1,000 characters (4 kB of
#: UTF-8); 64 kB leaves room for any legitimate message and refuses the rest
#: before it is decoded. A client that sends more is disconnected by engine.io.
MAX_PACKET_BYTES = 64 * 1024

#: Per connection: bursts of 60 actions (a phone flushing notes it kept while
#: offline), refilled at 5 a second (far faster than anyone types).
BUCKET_CAPACITY = 60
BUCKET_RATE = 5.0

#: A client refused for speed 100 times (the allowance refills at 2 a second) is
#: not a person: it is told why and disconnected, so it stops costing the other
#: tables anything. A phone flushing its offline queue never gets near this.
ABUSE_REFUSALS = 100
ABUSE_REFILL = 2.0

#: Packets no Plenary client sends (undecodable, reserved event names, extra
#: arguments): each is answered and counted; past this many on one connection
#: the client is not ours, and is disconnected. One log line per connection.
BAD_PACKETS_ALLOWED = 20

#: After a full disk, writes must succeed for this long before it counts as over.
STORAGE_QUIET_S = 10.0

#: Dashboards get changes in batches at most this often: a burst of a hundred
#: notes a second then redraws a projector four times a second, not a hundred.
DASHBOARD_FLUSH_S = 0.25

#: Presence is broadcast at most this often per event: when everyone scans the
#: QR code in the same minute, each table's screens hear twice a second, not per join.
PRESENCE_FLUSH_S = 0.5

#: A screen that gets seq n+2 before n+1 holds it this long before calling
#: ``sync``: with several processes, changes committed on two of them can cross
#: in Redis by a few milliseconds (docs/protocol.md, "Sequence numbers").
REORDER_WAIT_S = 1.0

#: Heartbeats: venue wifi drops packets and phones sleep; 25 s + 20 s is
#: socket.io's own default and notices a dead phone within 45 s.
PING_INTERVAL_S = 25
PING_TIMEOUT_S = 20

SERVER_ERROR = {
    "code": "server_error",
    "message": "Something went wrong on the server, and this was not saved. Please try again.",
}
BAD_PACKET = {
    "code": "bad_packet",
    "message": "The server could not read what this page sent. Reload the page.",
}
BAD_EVENT = {
    "code": "bad_event",
    "message": "The server refused a malformed request. Reload the page.",
}
PAYLOAD_REFUSED = {
    "code": "invalid_payload",
    "message": "The server refused a request with values it cannot take. Reload the page.",
}
_REFUSALS = {"bad_packet": BAD_PACKET, "bad_event": BAD_EVENT,
             "invalid_payload": PAYLOAD_REFUSED}
STORAGE_FULL = {
    "code": "storage_full",
    "message": "The server's disk is full, so this was NOT saved. It is kept on your "
               "device; please tell the organiser.",
}

Handler = Callable[[Session, Any], Awaitable[Outcome | dict[str, Any]]]


@dataclass(slots=True)
class Connection:
    """What the server keeps about one live connection (this process only)."""

    session: Session
    bucket: TokenBucket = field(
        default_factory=lambda: TokenBucket(BUCKET_CAPACITY, BUCKET_RATE))
    refusals: TokenBucket = field(
        default_factory=lambda: TokenBucket(ABUSE_REFUSALS, ABUSE_REFILL))
    bad_packets: int = 0
    kicked: bool = False


def table_room(table_id: str) -> str:
    """The participants at one table."""
    return f"table:{table_id}"


def facilitator_room(table_id: str) -> str:
    """One table's facilitator (on however many devices)."""
    return f"fac:{table_id}"


def participant_room(participant_id: str) -> str:
    """One participant's own devices: for what only they may see."""
    return f"p:{participant_id}"


def organiser_room(event_id: str) -> str:
    """The event's organiser consoles: they see every table as a facilitator would."""
    return f"org:{event_id}"


def dashboard_room(event_id: str) -> str:
    """The event's dashboards: projected to the room, so they see what participants see."""
    return f"dash:{event_id}"


def event_room(event_id: str) -> str:
    """Every screen of the event, whatever its role: for event-wide settings."""
    return f"event:{event_id}"


#: What a participant (or a dashboard) may see of a change private to someone else.
_PUBLIC_VIEWER = Viewer(Role.PARTICIPANT)


def client_address(environ: dict[str, Any]) -> str:
    """The client's address: the ASGI scope's peer (engine.io's REMOTE_ADDR is a constant).

    Behind a reverse proxy uvicorn puts the forwarded address there, but only for
    proxies listed in PLENARY_TRUSTED_PROXIES (see ``app.uvicorn_config``).
    """
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else "unknown"


class Channel:
    """The socket.io server and its handlers, over one :class:`~plenary.actions.Actions`."""

    def __init__(self, actions: Actions, *, client_manager: Any = None,
                 join_store: WindowStore | None = None,
                 presence: Presence | None = None,
                 joins_per_minute: int = JOINS_ALLOWED) -> None:
        self.actions = actions
        self.presence: Presence = presence or LocalPresence()
        self._presence_batch = PresenceBatcher(self._send_presence, PRESENCE_FLUSH_S)
        self._thaw = gcpolicy.Thaw()
        manager = client_manager or LocalManager()
        # A kick is an emit to a room; every process then closes its own
        # sockets in that room (see live/pubsub.py).
        manager.on_kicked = self._disconnect_room
        self.sio = GuardedServer(
            async_mode="asgi",
            serializer=Packet,
            client_manager=manager,
            on_refused=self._refused,
            # Every page opens a websocket; long polling would only add a
            # second way in (and requests a shutdown has to wait for).
            transports=["websocket"],
            max_http_buffer_size=MAX_PACKET_BYTES,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            # Same-origin only: pages are served by this app.
            cors_allowed_origins=None,
        )
        self.connections: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.dashboards = Coalescer(self._flush_dashboards, DASHBOARD_FLUSH_S)
        self.joins = JoinLimiter(join_store or MemoryWindowStore(), joins=joins_per_minute)
        self.storage_full = False
        self._full_at = 0.0
        self._hung_up: dict[str, None] = {}  # transports closed for abuse, oldest first
        # Broadcasts leave in commit order: the write path hands each committed
        # outcome over before answering its caller, and one task sends them.
        self._outbox: deque[tuple[Outcome, tuple[asyncio.Future[None],
                                                 asyncio.Future[None]]]] = deque()
        # Per outcome being sent: set once every screen's copy has left, and once the
        # organisers' has.
        self._sending: dict[int, tuple[asyncio.Future[None], asyncio.Future[None]]] = {}
        self._publisher: asyncio.Task[None] | None = None
        actions.writes.on_commit(self._committed)
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        handlers: dict[str, tuple[type[BaseModel], Handler]] = {
            "sync": (SyncRequest, actions.sync),
            "note.post": (NotePost, actions.post_note),
            "note.edit": (NoteEdit, actions.edit_note),
            "note.delete": (NoteRef, actions.delete_note),
            "vote.add": (VoteAdd, actions.add_vote),
            "vote.remove": (VoteRemove, actions.remove_vote),
            "note.star": (NoteStar, actions.star_note),
            "note.hide": (NoteHide, actions.hide_note),
            "note.merge": (NoteMerge, actions.merge_note),
            "note.group": (NoteGroup, actions.group_note),
            "group.save": (GroupSave, actions.save_group),
            "group.delete": (GroupDelete, actions.delete_group),
            "summary.set": (SummarySet, actions.set_summary),
            "table.ready": (TableReady, actions.set_ready),
            "timer.set": (TimerSet, actions.set_timer),
            "message.set": (MessageSet, actions.set_message),
            "spotlight.set": (SpotlightSet, actions.set_spotlight),
            "board.lock": (BoardLock, actions.lock_board),
            "step.next": (StepMove, partial(_move_step, actions, 1)),
            "step.prev": (StepMove, partial(_move_step, actions, -1)),
            "stage.next": (StageMove, partial(_move_stage, actions, 1)),
            "stage.prev": (StageMove, partial(_move_stage, actions, -1)),
            "event.status": (StatusChange, actions.change_status),
        }
        #: The payload model of every client event (the fuzz test reads it too).
        self.models = {name: model for name, (model, _) in handlers.items()}
        for name, (model, fn) in handlers.items():
            self.sio.on(name, self._handler(name, model, fn))
        self.sio.on("*", self._unknown)

    # --- connecting ----------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = client_address(environ)
        try:
            credentials = _parse_auth(auth)
            try:
                session = await self.actions.authenticate(
                    credentials, admit=partial(self.joins.admit_participant, address))
            except DomainError as exc:
                if exc.code == "bad_join_code" and isinstance(credentials, ParticipantAuth):
                    await self.joins.wrong_code(address,
                                                normalise_join_code(credentials.join_code))
                raise
        except DomainError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.as_dict()) from None
        except Exception:
            log.exception("connect failed")
            raise socketio.exceptions.ConnectionRefusedError(
                SERVER_ERROR["message"], SERVER_ERROR) from None
        self.connections[sid] = Connection(session)
        gcpolicy.connection_arrived()
        for room in _rooms(session):
            await self.sio.enter_room(sid, room)
        actor = session.actor
        if actor.role is Role.PARTICIPANT:
            assert actor.table_id is not None and actor.participant_id is not None
            await self.presence.arrive(actor.table_id, actor.participant_id, session.name)
            self._presence_batch.changed(actor.event_id, actor.table_id)

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self.connections.pop(sid, None)
        self._thaw.connection_closed(len(self.connections))
        actor = conn.session.actor if conn is not None else None
        if actor is not None and actor.role is Role.PARTICIPANT:
            assert actor.table_id is not None and actor.participant_id is not None
            await self.presence.leave(actor.table_id, actor.participant_id)
            self._presence_batch.changed(actor.event_id, actor.table_id)

    # --- presence: who is connected (counted in live.presence, sent in batches) --

    async def _send_presence(self, event_id: str, table_ids: set[str]) -> None:
        # Each facilitator hears their table's names; the console and dashboards one
        # message with every changed table's count.
        for table_id in table_ids:
            await self.sio.emit("presence", await self.presence.of(table_id),
                                to=facilitator_room(table_id))
        await self.sio.emit("presence", {"tables": await self.presence.counts(table_ids)},
                            to=[organiser_room(event_id), dashboard_room(event_id)])

    async def presence_changed_elsewhere(self, table_ids: list[str]) -> None:
        """Presence changed without a connect or disconnect here (another process died,
        Redis came back): send it to these tables' staff screens."""
        for table_id, event_id in (await self.actions.events_of_tables(table_ids)).items():
            self._presence_batch.changed(event_id, table_id)

    # --- events --------------------------------------------------------------

    def _handler(self, name: str, model: type[BaseModel], fn: Handler) -> Callable[..., Any]:
        async def handle(sid: str, data: Any = None) -> dict[str, Any]:
            conn = self.connections.get(sid)
            if conn is None:  # not authenticated (cannot happen once connected)
                return _error({"code": "unauthenticated", "message": "Connect first."})
            if not conn.bucket.take():
                return await self._too_fast(sid, conn)
            try:
                payload = parse(model, data, what=name)
                result = await fn(conn.session, payload)
            except DomainError as exc:
                if exc.code == "credential_replaced":
                    await self._cut_off(sid, exc)
                return _error(exc.as_dict())
            except OperationalError as exc:
                if "full" not in str(exc.orig).lower():
                    log.exception("database error in %s", name)
                    return _error(SERVER_ERROR)
                self._storage_state(full=True)
                return _error(STORAGE_FULL)
            except Exception:
                log.exception("error in %s", name)
                return _error(SERVER_ERROR)
            if isinstance(result, Outcome):
                self._storage_state(full=False)
                # Committed and queued to broadcast: the change goes out before its
                # ack, so a client never holds an ack for a change it has not seen.
                sending = self._sending.get(id(result))
                if sending is not None:
                    # The organiser's copy of a stage move leaves first: their answer
                    # need not wait for every table's screens.
                    everyone, organisers = sending
                    await (organisers if conn.session.actor.role is Role.ORGANISER
                           else everyone)
                return {"ok": True, **result.ack}
            if name == "sync":
                result = await self._with_presence(conn.session, result)
            return {"ok": True, **result}

        return handle

    def _storage_state(self, *, full: bool) -> None:
        # A full disk refuses writes until someone frees space: say so once when
        # it starts and once when it is over, not once per refusal (those lines
        # would need the disk that is full). A nearly full disk lets some writes
        # through between refusals, so it is over only after a quiet spell.
        now = time.monotonic()
        if full:
            if not self.storage_full:
                log.error("the database's disk is full: writes are refused with "
                          "storage_full until space is freed")
            self.storage_full, self._full_at = True, now
        elif self.storage_full and now - self._full_at >= STORAGE_QUIET_S:
            log.warning("the database accepts writes again")
            self.storage_full = False

    async def _too_fast(self, sid: str, conn: Connection) -> dict[str, Any]:
        error = RateLimited("You are sending too fast; wait a moment and try again.")
        if not conn.kicked and not conn.refusals.take():
            log.warning("disconnecting %s: refused for speed %d times", sid, ABUSE_REFUSALS)
            await self._kick(sid, conn, code="abuse", message="Disconnected for sending "
                             "far too fast. Reload the page to continue.")
        return _error(error.as_dict())

    async def _kick(self, sid: str, conn: Connection, *, code: str, message: str) -> None:
        conn.kicked = True
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        await self.sio.emit("kicked", {"code": code, "message": message}, to=sid)
        await self.sio.disconnect(sid)
        if eio_sid is not None:  # what it sends next would reach no one: hang up
            await self._hang_up(eio_sid)

    async def _hang_up(self, eio_sid: str) -> None:
        # Packets already in flight on this transport are dropped silently.
        self._hung_up[eio_sid] = None
        while len(self._hung_up) > 10_000:
            self._hung_up.pop(next(iter(self._hung_up)))
        environ = self.sio.environ.get(eio_sid)
        await self.sio.eio.disconnect(eio_sid)
        if environ is not None:
            hang_up(environ)

    async def _unknown(self, event: str, sid: str, data: Any = None) -> dict[str, Any]:
        conn = self.connections.get(sid)
        if conn is not None and not conn.bucket.take():
            return await self._too_fast(sid, conn)
        return _error({"code": "unknown_event",
                       "message": f"The server has no event called {event[:40]!r}."})

    async def _refused(self, eio_sid: str, refusal: Refusal) -> None:
        """Answer (and count) a packet the guard did not dispatch."""
        if eio_sid in self._hung_up:
            return
        sid = self.sio.manager.sid_from_eio_sid(eio_sid, "/")
        conn = self.connections.get(sid) if sid else None
        if conn is None:
            # Before joining there is no one to answer: not a Plenary client.
            log.warning("closing a connection that sent %s before joining", refusal.reason)
            await self._hang_up(eio_sid)
            return
        conn.bad_packets += 1
        if conn.bad_packets == 1:
            log.warning("%s sent a packet the server refuses (%s); further ones are "
                        "counted, not logged", sid, refusal.reason)
        if conn.kicked:
            return
        if conn.bad_packets > BAD_PACKETS_ALLOWED:
            await self._kick(sid, conn, code="bad_packet", message="Disconnected for "
                             "sending data the server cannot read. Reload the page to continue.")
            return
        answer = _error(_REFUSALS[refusal.code]) if conn.bucket.take() \
            else await self._too_fast(sid, conn)
        if refusal.packet_id is not None:
            await self.sio.answer(eio_sid, refusal.packet_id, answer)
        elif refusal.code == "bad_packet":
            await self.sio.emit("refused", answer["error"], to=sid)

    async def revoke(self, role: Role, scope_id: str) -> None:
        """Cut off every connection that used a credential just replaced.

        Everyone who holds one credential shares one room (a table's phones, its
        facilitator screens, an event's consoles, its dashboards). ``kicked`` goes to
        that room on every process, each process disconnects its own members of it,
        and the room is closed everywhere (so no more broadcasts reach it). Should a
        disconnect be missed (Redis down), the member is refused on its next action,
        which checks the credential against the store (and is then disconnected).
        """
        room = _CREDENTIAL_ROOM[role](scope_id)
        # Every process disconnects its own members of the room after this
        # emit (the manager's kick hook: _disconnect_room).
        await self.sio.emit("kicked", {"code": "credential_replaced",
                                       "message": _REPLACED[role]}, to=room)
        await self.sio.close_room(room)

    async def _disconnect_room(self, room: str) -> None:
        # Called on each process after a "kicked" emit; only named rooms (a
        # kick to one sid is followed by its own disconnect).
        if ":" not in room:
            return
        for sid, _ in list(self.sio.manager.get_participants("/", room)):
            conn = self.connections.get(sid)
            if conn is not None:
                conn.kicked = True
            await self.sio.disconnect(sid, ignore_queue=True)

    async def resync_everyone_here(self, _channel: str = "") -> None:
        """Ask every screen on this process to catch up from the store (broadcasts were lost)."""
        await self.sio.emit("resync", {"server_time": now_ms()}, ignore_queue=True)

    async def _cut_off(self, sid: str, exc: DomainError) -> None:
        # A connection whose credential was replaced while it was on another
        # process: it hears why, then goes (after this refusal's ack is sent).
        await self.sio.emit("kicked", exc.as_dict(), to=sid)
        task = asyncio.create_task(self._disconnect_soon(sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _disconnect_soon(self, sid: str) -> None:
        await asyncio.sleep(0)  # let the refusal's ack go out first
        await self.sio.disconnect(sid)

    async def _flush_dashboards(self, event_id: str, changes: list[dict[str, Any]]) -> None:
        await self.sio.emit("changes", changes, to=dashboard_room(event_id))

    async def _with_presence(self, session: Session, result: dict[str, Any]) -> dict[str, Any]:
        actor = session.actor
        if actor.role is Role.FACILITATOR and actor.table_id is not None:
            return result | {"presence": await self.presence.of(actor.table_id)}
        if actor.table_id is None and "tables" in result:
            ids = [t["id"] for t in result["tables"]]
            return result | {"presence": await self.presence.counts(ids)}
        return result

    def _committed(self, result: Any) -> None:
        if not isinstance(result, Outcome) or not (result.changes or result.event):
            return
        loop = asyncio.get_running_loop()
        sending = self._sending[id(result)] = (loop.create_future(), loop.create_future())
        self._outbox.append((result, sending))
        if self._publisher is None:
            self._publisher = loop.create_task(self._publish_all())

    async def _publish_all(self) -> None:
        try:
            while self._outbox:
                outcome, (everyone, organisers) = self._outbox.popleft()
                try:
                    await self.publish(outcome, organisers)
                except Exception:
                    log.exception("broadcast failed")
                finally:
                    del self._sending[id(outcome)]
                    for sent in (everyone, organisers):
                        if not sent.done():
                            sent.set_result(None)
        finally:
            self._publisher = None

    async def publish(self, outcome: Outcome,
                      organiser_copy: asyncio.Future[None] | None = None) -> None:
        """Send committed changes to everyone who may see them, in their form for each.

        An outcome with many public changes (a stage move: one or two per table)
        goes out as one ``changes`` message per screen: all of them to the organiser
        first (``organiser_copy`` is then set: the mover may have its answer), then
        each table's to its room, carrying the event's new state when it changed too.
        """
        event_id = outcome.event_id
        changes = outcome.broadcasts()
        updated = None
        if outcome.event is not None:
            updated = {"event": outcome.event, "server_time": now_ms()}
        if len(changes) > 1 and all(c["private_to"] is None for c in changes):
            await self._publish_batch(event_id, changes, updated, organiser_copy)
            if updated is not None:  # the batches carried it to every other screen
                await self.sio.emit("event.updated", updated, to=dashboard_room(event_id))
            return
        for change in changes:
            await self._publish_one(event_id, change)
        if updated is not None:
            await self.sio.emit("event.updated", updated, to=event_room(event_id))

    async def _publish_one(self, event_id: str, change: dict[str, Any]) -> None:
        table_id = change["table"]
        private_to = change.pop("private_to")
        if private_to is None:
            await self.sio.emit("change", change, to=[
                table_room(table_id), facilitator_room(table_id), organiser_room(event_id)])
            self.dashboards.add(event_id, change)
            return
        # The full change to its author and the staff; to everyone else the
        # same sequence number with the content left out.
        own = participant_room(private_to)
        await self.sio.emit("change", change, to=[
            own, facilitator_room(table_id), organiser_room(event_id)])
        placeholder = view_change(change | {"private_to": private_to}, _PUBLIC_VIEWER)
        # The author's devices may be on any process: skip their room there.
        await self.sio.emit("change", placeholder, to=table_room(table_id),
                            skip_sid=[skip_room(own)])
        self.dashboards.add(event_id, placeholder)

    async def _publish_batch(self, event_id: str, changes: list[dict[str, Any]],
                             updated: dict[str, Any] | None,
                             organiser_copy: asyncio.Future[None] | None) -> None:
        by_table: dict[str, list[dict[str, Any]]] = {}
        for change in changes:
            del change["private_to"]
            by_table.setdefault(change["table"], []).append(change)
            self.dashboards.add(event_id, change)
        # One message per screen: the event's new state rides along as a second
        # argument (clients that do not know it ignore it) instead of an
        # event.updated of its own to every screen.
        extra = () if updated is None else (updated,)
        await self.sio.emit("changes", (changes, *extra), to=organiser_room(event_id))
        if organiser_copy is not None and not organiser_copy.done():
            organiser_copy.set_result(None)
        for table_id, batch in by_table.items():
            await self.sio.emit("changes", (batch, *extra),
                                to=[table_room(table_id), facilitator_room(table_id)])


#: The room of everyone who holds one credential, by the role it is for.
_CREDENTIAL_ROOM: dict[Role, Callable[[str], str]] = {
    Role.PARTICIPANT: table_room, Role.FACILITATOR: facilitator_room,
    Role.ORGANISER: organiser_room, Role.DASHBOARD: dashboard_room,
}

_REPLACED = {
    Role.PARTICIPANT: "This table's join code was replaced by the organiser. Ask your "
                      "facilitator for the new code.",
    Role.FACILITATOR: "This facilitator link was replaced by the organiser. Ask them for "
                      "the new one.",
    Role.ORGANISER: "This organiser link was replaced. Open the console from the new link.",
    Role.DASHBOARD: "This dashboard link was replaced. Open the new dashboard link.",
}


def _rooms(session: Session) -> list[str]:
    actor = session.actor
    everyone = event_room(actor.event_id)
    if actor.role is Role.PARTICIPANT:
        assert actor.table_id is not None and actor.participant_id is not None
        return [everyone, table_room(actor.table_id), participant_room(actor.participant_id)]
    if actor.role is Role.FACILITATOR:
        assert actor.table_id is not None
        return [everyone, facilitator_room(actor.table_id)]
    if actor.role is Role.ORGANISER:
        return [everyone, organiser_room(actor.event_id)]
    return [everyone, dashboard_room(actor.event_id)]


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


async def _move_step(actions: Actions, delta: int, session: Session, p: StepMove) -> Outcome:
    return await actions.move_step(session, p, delta)


async def _move_stage(actions: Actions, delta: int, session: Session,
                      p: StageMove) -> Outcome:
    return await actions.move_stage(session, p, delta)
