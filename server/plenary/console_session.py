"""The organiser console's sign-in: a signed cookie checked against the store each time.

The cookie (starlette's SessionMiddleware, signed with the server's secret) holds
a random sign-in id and, for each event, the generation of the organiser link it
was opened with. A request counts only while the sign-in is in the store (signing
out deletes it, so a copied cookie dies with the console it was copied from) and
only for events whose organiser link has not been replaced since (a rotation
signs every console of that event out).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from .actions.transaction import read, write_path
from .store import Database
from .store import queries as q

#: A day's event, with margin; the console signs in again from its link.
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a request's console may do: everything (admin), or these events."""

    admin: bool = False
    events: frozenset[str] = field(default_factory=frozenset)

    @property
    def signed_in(self) -> bool:
        return self.admin or bool(self.events)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


async def current(db: Database, session: dict[str, Any]) -> SignIn:
    """The sign-in a request's cookie still stands for (nothing once revoked)."""
    sid, gens = session.get("sid"), session.get("events")
    if not isinstance(sid, str) or not isinstance(gens, dict):
        return SignIn()  # no cookie, or one from before sign-ins were kept

    def check(conn: Connection) -> SignIn:
        if not q.console_session_exists(conn, _hash(sid), q.now_ms() - MAX_AGE_S * 1000):
            return SignIn()
        now = q.organiser_gens(conn, list(gens))
        return SignIn(bool(session.get("admin")),
                      frozenset(e for e, gen in gens.items() if now.get(e) == gen))

    return await read(db, check)


async def sign_in(db: Database, session: dict[str, Any], *, admin: bool = False,
                  event: tuple[str, int] | None = None) -> None:
    """Add the admin capability or one event (at its organiser generation) to the cookie."""
    if not await _open(db, session):
        session.clear()
        sid = secrets.token_urlsafe(24)

        def insert(conn: Connection) -> None:
            now = q.now_ms()
            q.delete_console_sessions(conn, before_ms=now - MAX_AGE_S * 1000)
            q.insert_console_session(conn, _hash(sid), now)

        await write_path(db).run(insert)
        session.update(sid=sid, events={})
    if admin:
        session["admin"] = True
    if event is not None:
        session["events"] = {**session["events"], event[0]: event[1]}


async def sign_out(db: Database, session: dict[str, Any]) -> None:
    """End this console's sign-in everywhere its cookie was copied to."""
    sid = session.get("sid")
    if isinstance(sid, str):
        await write_path(db).run(lambda conn: q.delete_console_sessions(conn, id_hash=_hash(sid)))
    session.clear()


async def _open(db: Database, session: dict[str, Any]) -> bool:
    sid = session.get("sid")
    if not isinstance(sid, str) or not isinstance(session.get("events"), dict):
        return False
    return await read(db, lambda conn: q.console_session_exists(
        conn, _hash(sid), q.now_ms() - MAX_AGE_S * 1000))
