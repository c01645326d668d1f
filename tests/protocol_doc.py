"""Reading docs/protocol.md and the server's source: what is documented, what is produced.

Shared by the docs test (tests/unit/test_protocol_docs.py) and the fuzz test,
which checks that every code a fuzzed server sends is one the page lists.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from plenary.domain import errors
from plenary.live.channel import Channel

from tests.conftest import ROOT

SERVER = ROOT / "server" / "plenary"
DOC = (ROOT / "docs" / "protocol.md").read_text()

#: Code that never answers a socket: the set-up API, import, template loading, and the
#: themes' rules (their routes are HTTP: docs/console-api.md, "Themes").
HTTP_ONLY_FILES = {"setup.py", "restore.py", "topics_csv.py", "template.py", "themes.py"}
#: Codes in shared domain rules that no socket event can reach, and why.
UNREACHABLE = {
    "event_not_draft": "rules.require_draft is called by the set-up API only",
    "bad_move": "the channel moves steps and stages by exactly one",
    "unknown_action": "event.status payloads allow only start, close and reopen",
}


def section(title: str) -> str:
    """The text of one ``## title`` section of the page."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOC, re.S | re.M)
    assert match, f"docs/protocol.md has no section {title!r}"
    return match.group(1)


def headed_names(text: str) -> set[str]:
    """Backticked names in the ``###`` headings of ``text``."""
    return {name for line in text.splitlines() if line.startswith("### ")
            for name in re.findall(r"`([^`]+)`", line)}


def first_column(text: str) -> set[str]:
    """Backticked names in the first column of the table rows (not headers) of ``text``."""
    lines = text.splitlines()
    return {name for line, after in zip(lines, [*lines[1:], ""], strict=True)
            if line.startswith("| `") and not after.startswith("| ---")
            for name in re.findall(r"`([^`]+)`", line.split("|")[1])}


class _Anything:
    class writes:  # stands in for the write path's on_commit hook
        @staticmethod
        def on_commit(_: Any) -> None:
            return None

    def __getattr__(self, name: str) -> Any:
        async def act(*_: Any) -> None:
            return None
        return act


def handled_events() -> set[str]:
    channel = Channel(_Anything())  # type: ignore[arg-type]
    return set(channel.sio.handlers["/"]) - {"connect", "disconnect", "*"}


def emitted_events() -> set[str]:
    names = set()
    for node in ast.walk(ast.parse((SERVER / "live" / "channel.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "emit" \
                and node.args and isinstance(node.args[0], ast.Constant):
            names.add(node.args[0].value)
    return names


def _domain_error_defaults() -> dict[str, str]:
    return {name: cls.code for name, cls in vars(errors).items()
            if isinstance(cls, type) and issubclass(cls, errors.DomainError)}


def error_codes() -> set[str]:
    """Every error code the live channel's code can produce, read from its source."""
    defaults = _domain_error_defaults()
    files = [p for folder in ("live", "actions", "domain") for p in (SERVER / folder).glob("*.py")
             if p.name not in HTTP_ONLY_FILES]
    codes: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                explicit = [k.value for k in node.keywords if k.arg == "code"]
                for value in explicit:
                    if isinstance(value, ast.Constant):
                        codes.add(value.value)
                name = getattr(node.func, "id", None)
                if not explicit and name in defaults and name != "DomainError":
                    codes.add(defaults[name])
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code" \
                            and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        codes.add(value.value)
    return codes - set(UNREACHABLE)


def documented_codes() -> set[str]:
    """The error codes the page's Errors table lists."""
    return first_column(section("Errors"))
