"""Errors a person can act on.

Every refusal carries a stable machine-readable ``code`` (documented in
docs/protocol.md) and a ``message`` written for the person who caused it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused request: ``code`` for programs, ``message`` for people."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, str]:
        """The error as sent on the wire."""
        return {"code": self.code, "message": self.message}


class InvalidPayload(DomainError):
    """The request's data is malformed, too large or has unknown fields."""

    code = "invalid_payload"


class Unauthenticated(DomainError):
    """The connection's credentials are missing or do not match anything."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller's role does not allow this action."""

    code = "forbidden"


class IllegalMove(DomainError):
    """The action is not allowed in the event's or table's current state."""

    code = "illegal_move"


class NotFound(DomainError):
    """The thing referred to does not exist (or is not visible to the caller)."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with existing data (for example a reused note id)."""

    code = "conflict"


class RateLimited(DomainError):
    """Too many requests in too short a time."""

    code = "rate_limited"
