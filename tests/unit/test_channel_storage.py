"""A full disk is logged when it starts and when it ends, not once per refused write."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from plenary.actions import Outcome, Session
from plenary.domain.permissions import Actor, Role
from plenary.live import channel as channel_mod
from plenary.live.channel import Channel, Connection
from sqlalchemy.exc import OperationalError


class Disk:
    """Stands in for the actions: every write fails while ``full``, else succeeds."""

    def __init__(self) -> None:
        self.full = True

    class writes:  # stands in for the write path's on_commit hook
        @staticmethod
        def on_commit(_: Any) -> None:
            return None

    def __getattr__(self, name: str) -> Any:
        async def act(*_: Any) -> Outcome:
            if self.full:
                raise OperationalError("INSERT", {}, sqlite3.OperationalError(
                    "database or disk is full"))
            return Outcome(ack={"seq": 1}, event_id="e")
        return act


async def test_a_full_disk_is_logged_once_not_per_refusal(caplog, monkeypatch):
    monkeypatch.setattr(channel_mod, "STORAGE_QUIET_S", 0.0)
    disk = Disk()
    channel = Channel(disk)  # type: ignore[arg-type]
    channel.connections["s"] = Connection(Session(Actor(Role.PARTICIPANT, "e", table_id="t",
                                                        participant_id="p")))
    post = channel.sio.handlers["/"]["note.post"]
    caplog.set_level(logging.INFO, logger="plenary")
    acks = [await post("s", {"id": f"note-{i:04d}", "text": "hi"}) for i in range(40)]
    assert {a["error"]["code"] for a in acks} == {"storage_full"}
    disk.full = False
    assert (await post("s", {"id": "note-9999", "text": "hi"}))["ok"] is True
    lines = [r for r in caplog.records if r.name.startswith("plenary")]
    assert [r.levelno for r in lines] == [logging.ERROR, logging.WARNING]
    assert "full" in lines[0].getMessage() and not any(r.exc_info for r in lines)


async def test_a_nearly_full_disk_that_lets_some_writes_through_is_logged_once(caplog):
    disk = Disk()
    channel = Channel(disk)  # type: ignore[arg-type]
    channel.connections["s"] = Connection(Session(Actor(Role.PARTICIPANT, "e", table_id="t",
                                                        participant_id="p")))
    post = channel.sio.handlers["/"]["note.post"]
    caplog.set_level(logging.INFO, logger="plenary")
    for i in range(40):  # refused, saved, refused, saved...
        disk.full = i % 2 == 0
        await post("s", {"id": f"note-{i:04d}", "text": "hi"})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("plenary")]
    assert len(lines) == 1 and "full" in lines[0]
