"""How fast one address may guess join codes and add participants (no I/O but the store).

A venue's phones often share one public address (NAT), so nothing here ever
refuses a correct code for an earlier wrong one, and staff tokens (192-bit
HMACs, nothing to guess) are never counted. What is limited:

- **wrong guesses**: each address may try ``wrong_codes`` *distinct* wrong codes
  a window; the same wrong code again (a phone retrying a stale card) teaches a
  guesser nothing and is not counted twice. Past the limit, a further wrong
  code is answered ``too_many_attempts`` (a right one still gets in). Because a
  right code must still get in, this cannot stop a guesser learning which codes
  are right at the rate it can connect; what keeps guessing hopeless is the
  code's size (31^8, ~2^39.6: about 10^9 tries per hit even with 500 tables);
- **new participants**: each address may add ``joins`` participants a window
  (a fresh participant key each time). Phones that rejoin with their own key
  are not counted, so a wifi drop never locks a table out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..domain.errors import DomainError
from .limits import WindowStore, retry_after

#: Ten distinct wrong codes a minute forgives fat fingers and stale cards.
WRONG_CODES_ALLOWED = 10
#: Participants one address may add a minute (PLENARY_JOINS_PER_MINUTE): a whole
#: conference behind one venue NAT arrives in the same minute, so the default is
#: generous; the per-table cap (100) is what bounds identities made with one code.
JOINS_ALLOWED = 6000
WINDOW_S = 60.0


class TooManyAttempts(DomainError):
    """Refused for the rate of attempts; ``retry_after`` is in whole seconds."""

    def __init__(self, message: str, *, code: str, retry_after: float) -> None:
        super().__init__(message, code=code)
        self.retry_after = int(retry_after) + 1

    def as_dict(self) -> dict[str, Any]:  # type: ignore[override]
        """The refusal, with the seconds to wait."""
        return super().as_dict() | {"retry_after": self.retry_after}


@dataclass
class JoinLimiter:
    """Counts wrong join codes and new participants per client address, in a store."""

    store: WindowStore
    wrong_codes: int = WRONG_CODES_ALLOWED
    joins: int = JOINS_ALLOWED
    window: float = WINDOW_S

    async def wrong_code(self, address: str, code: str) -> None:
        """Record a wrong code from ``address``; raise TooManyAttempts past the limit."""
        key = f"wrong:{address}"
        known = len(await self.store.ages(key, self.window))
        await self.store.add(key, code, self.window)
        ages = await self.store.ages(key, self.window)
        if len(ages) <= self.wrong_codes or len(ages) == known:
            return  # within the allowance, or a code already counted
        wait = retry_after(ages, self.wrong_codes, self.window)
        raise TooManyAttempts(
            f"Too many wrong join codes from this network. Check the code on your table's "
            f"card; you can try another code in {int(wait) + 1} seconds.",
            code="too_many_attempts", retry_after=wait)

    async def admit_participant(self, address: str) -> None:
        """Count one new participant from ``address``; raise TooManyAttempts past the limit."""
        key = f"join:{address}"
        wait = retry_after(await self.store.ages(key, self.window), self.joins, self.window)
        if wait > 0:
            raise TooManyAttempts(
                f"Too many people joined from this network in the last minute. Please "
                f"try again in {int(wait) + 1} seconds.", code="too_many_joins", retry_after=wait)
        await self.store.add(key, secrets.token_hex(8), self.window)
