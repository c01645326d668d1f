"""Join codes, ids and capability tokens: how every role proves who it is.

Staff links carry a capability token derived with HMAC from the server's secret
key, the role, the scope (event or table) and a generation number. Nothing
secret is stored in the database, links can be printed again at any time, and
bumping the generation revokes a leaked link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .errors import Unauthenticated
from .permissions import Role

#: No 0/O, 1/I/L: codes are read off printed cards and typed on phones.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8

_ROLE_PREFIX = {Role.ORGANISER: "o", Role.DASHBOARD: "d", Role.FACILITATOR: "f"}
_PREFIX_ROLE = {v: k for k, v in _ROLE_PREFIX.items()}


def new_id() -> str:
    """A random, URL-safe id (72 bits) for events, tables and participants.

    Never starting with '-', which a command line would take for an option.
    """
    while True:
        candidate = secrets.token_urlsafe(9)
        if candidate[0] != "-":
            return candidate


def new_join_code() -> str:
    """A random 8-character join code from an alphabet without look-alikes."""
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    """Uppercase, drop spaces and dashes; the form codes are stored in."""
    return "".join(raw.split()).replace("-", "").upper()


def hash_key(key: bytes) -> str:
    """The stored form of a participant's rejoin key (the key itself never is)."""
    return hashlib.sha256(key).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenClaim:
    """What a token says about itself; valid only once its MAC is checked."""

    role: Role
    scope_id: str
    mac: str


def _mac(secret: bytes, role: Role, scope_id: str, generation: int) -> str:
    msg = f"{_ROLE_PREFIX[role]}:{scope_id}:{generation}".encode()
    digest = hmac.new(secret, msg, hashlib.sha256).digest()[:24]  # 192 bits
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(secret: bytes, role: Role, scope_id: str, generation: int) -> str:
    """A capability token for ``role`` over ``scope_id`` (an event, or a table)."""
    return f"{_ROLE_PREFIX[role]}.{scope_id}.{_mac(secret, role, scope_id, generation)}"


def read_token(token: str) -> TokenClaim:
    """Split a token into its claim; raises Unauthenticated if it is not one of ours."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] not in _PREFIX_ROLE or not parts[1] or not parts[2]:
        raise Unauthenticated(
            "This link is not a valid Plenary link. Ask the organiser for a new one.",
            code="bad_token",
        )
    return TokenClaim(_PREFIX_ROLE[parts[0]], parts[1], parts[2])


def verify_token(secret: bytes, claim: TokenClaim, generation: int) -> None:
    """Raise Unauthenticated unless the claim's MAC matches the current generation."""
    expected = _mac(secret, claim.role, claim.scope_id, generation)
    if not hmac.compare_digest(expected, claim.mac):
        raise Unauthenticated(
            "This link has expired or was replaced. Ask the organiser for the current one.",
            code="bad_token",
        )


def admin_token(secret: bytes) -> str:
    """The server's admin capability: lists every event and creates new ones.

    It has no generation: a new secret key (PLENARY_SECRET_KEY) replaces it.
    """
    msg = b"a:server:0"
    return "a.server." + base64.urlsafe_b64encode(
        hmac.new(secret, msg, hashlib.sha256).digest()[:24]).decode().rstrip("=")


def is_admin_token(secret: bytes, token: str) -> bool:
    """Whether ``token`` is this server's admin capability."""
    return hmac.compare_digest(token.encode(), admin_token(secret).encode())
