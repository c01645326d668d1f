"""The links each role opens: built on the public base URL from configuration.

Capability tokens go in the URL fragment (after ``#``): browsers never send the
fragment to a server, so tokens stay out of access logs, proxies and Referer.
"""

from __future__ import annotations

from .domain.credentials import admin_token, make_token
from .domain.permissions import Role


class Links:
    """Builds every role's link for one server's base URL and secret key."""

    def __init__(self, base_url: str, secret: bytes) -> None:
        self.base = base_url.rstrip("/")
        self._secret = secret

    def participant(self, join_code: str) -> str:
        """The link on a table's card (and in its QR code): opens the table, joined."""
        return f"{self.base}/j/{join_code}"

    def join_page(self) -> str:
        """Where a participant types a join code."""
        return f"{self.base}/"

    def facilitator(self, table_id: str, generation: int) -> str:
        """The private link of one table's facilitator."""
        return self._link("facilitator", Role.FACILITATOR, table_id, generation)

    def organiser(self, event_id: str, generation: int) -> str:
        """The organiser's console for one event."""
        return self._link("organiser", Role.ORGANISER, event_id, generation)

    def dashboard(self, event_id: str, generation: int) -> str:
        """The plenary dashboard for one event (read-only)."""
        return self._link("dashboard", Role.DASHBOARD, event_id, generation)

    def admin(self) -> str:
        """The server's admin console: every event, and creating new ones."""
        return f"{self.base}/console#{admin_token(self._secret)}"

    def _link(self, page: str, role: Role, scope_id: str, generation: int) -> str:
        return f"{self.base}/{page}#{make_token(self._secret, role, scope_id, generation)}"
