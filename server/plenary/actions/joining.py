"""Who is connecting: staff links checked, participants joined (and rejoined) by code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..domain.credentials import hash_key, new_id, normalise_join_code, read_token, verify_token
from ..domain.errors import Conflict, Unauthenticated
from ..domain.payloads import ParticipantAuth, StaffAuth, clean_name
from ..domain.permissions import Actor, Role
from ..store import Database
from ..store import queries as q
from .common import Row, Session, credential_of
from .transaction import read, write_path

#: Awaited before a new participant is created; raises to refuse (the join rate).
Admit = Callable[[], Awaitable[None]]

#: A table seats about ten; a hundred leaves room for everyone's second and
#: third device and stops a script from filling the database with identities.
MAX_PARTICIPANTS_PER_TABLE = 100


async def authenticate(db: Database, secret: bytes, auth: ParticipantAuth | StaffAuth,
                       admit: Admit | None = None) -> Session:
    """Check a connection's credentials and return its session (or Unauthenticated).

    ``admit`` is awaited before a new participant is created (it may refuse).
    """
    if isinstance(auth, StaffAuth):
        return await read(db, _staff, secret, auth)
    code = normalise_join_code(auth.join_code)
    key_hash = hash_key(auth.participant_key)
    name = clean_name(auth.name)
    table, known = await read(db, _find, code, key_hash)
    if known is None and admit is not None:
        await admit()
    if known is None or known["display_name"] != name:
        known = await _save_participant(db, table["id"], key_hash, name)
    return Session(Actor(Role.PARTICIPANT, table["event_id"], table_id=table["id"],
                         participant_id=known["id"]), name=name,
                   credential=credential_of(Role.PARTICIPANT, None, table))


def _staff(conn: Connection, secret: bytes, auth: StaffAuth) -> Session:
    claim = read_token(auth.token)
    if claim.role is Role.FACILITATOR:
        table = q.table_row(conn, claim.scope_id)
        if table is None:
            raise _stale_link()
        verify_token(secret, claim, table["facilitator_gen"])
        return Session(Actor(Role.FACILITATOR, table["event_id"], table_id=table["id"]),
                       credential=credential_of(Role.FACILITATOR, None, table))
    event = q.event_row(conn, claim.scope_id)
    if event is None:
        raise _stale_link()
    gen = event["organiser_gen"] if claim.role is Role.ORGANISER else event["dashboard_gen"]
    verify_token(secret, claim, gen)
    return Session(Actor(claim.role, event["id"]),
                   credential=credential_of(claim.role, event, None))


def _find(conn: Connection, code: str, key_hash: str) -> tuple[Row, Row | None]:
    table = q.table_by_join_code(conn, code)
    if table is None:
        raise Unauthenticated(
            "That join code does not match any table. Check the code on your "
            "table's card and try again.",
            code="bad_join_code",
        )
    return table, q.participant_by_key(conn, table["id"], key_hash)


async def _save_participant(db: Database, table_id: str, key_hash: str, name: str | None) -> Row:
    # The phone keeps its key across reloads and lost connections, so the same
    # key is the same participant: rejoining never creates a second one.
    for _ in range(2):
        try:
            return await write_path(db).run(_upsert_participant, table_id, key_hash, name,
                                            table=table_id)
        except IntegrityError:  # a simultaneous first join with the same key won
            continue
    raise Conflict("Could not join the table; please try again.")


def _upsert_participant(conn: Connection, table_id: str, key_hash: str, name: str | None) -> Row:
    known = q.participant_by_key(conn, table_id, key_hash)
    if known is None:
        if q.count_participants_locked(conn, table_id) >= MAX_PARTICIPANTS_PER_TABLE:
            raise Conflict("This table is full. Please join another table, or ask a "
                           "facilitator.", code="table_full")
        known = {"id": new_id(), "table_id": table_id, "key_hash": key_hash,
                 "display_name": name}
        q.insert_participant(conn, **known)
    elif known["display_name"] != name:
        q.rename_participant(conn, known["id"], name)
    return known


def _stale_link() -> Unauthenticated:
    return Unauthenticated(
        "This link is for an event or table that no longer exists. Ask the organiser "
        "for the current link.",
        code="bad_token",
    )
