"""Presence counted per participant; the fan-out manager's room index."""

from __future__ import annotations

from plenary.live.fanout import FanoutManager
from plenary.live.presence import LocalPresence


async def test_presence_counts_people_not_connections():
    p = LocalPresence()
    await p.arrive("t1", "ana", "Ana")
    await p.arrive("t1", "ana", "Ana")  # her second device
    await p.arrive("t1", "bo", None)
    await p.arrive("t2", "cy", "Cy")
    assert await p.of("t1") == {"table": "t1", "count": 2, "names": ["Ana"], "anonymous": 1}
    await p.leave("t1", "ana")
    assert (await p.of("t1"))["count"] == 2  # one device still there
    await p.leave("t1", "ana")
    await p.leave("t1", "nobody")  # a stray departure changes nothing
    assert await p.of("t1") == {"table": "t1", "count": 1, "names": [], "anonymous": 1}
    assert await p.counts(["t1", "t2", "t3"]) == {"t1": 1, "t2": 1, "t3": 0}


async def test_presence_follows_a_rename_on_rejoin():
    p = LocalPresence()
    await p.arrive("t", "ana", None)
    await p.arrive("t", "ana", "Ana")
    assert await p.of("t") == {"table": "t", "count": 1, "names": ["Ana"], "anonymous": 0}


def test_a_disconnect_leaves_exactly_the_clients_rooms():
    m = FanoutManager()
    for sid, rooms in (("a", ["table:1", "p:a"]), ("b", ["table:1", "p:b"])):
        m.basic_enter_room(sid, "/", None, eio_sid=f"e{sid}")
        m.basic_enter_room(sid, "/", sid, eio_sid=f"e{sid}")
        for room in rooms:
            m.basic_enter_room(sid, "/", room)
    m.basic_disconnect("a", "/")
    assert dict(m.get_participants("/", "table:1")) == {"b": "eb"}
    assert "p:a" not in m.rooms["/"] and "a" not in m.rooms["/"]
    assert dict(m.get_participants("/", None)) == {"b": "eb"}
    assert m.get_rooms("b", "/") and m._rooms_of == {("/", "b"): {None, "b", "table:1", "p:b"}}


def test_a_thaw_comes_once_closed_connections_outweigh_open_ones(monkeypatch):
    from plenary import gcpolicy

    thaws: list[int] = []
    monkeypatch.setattr(gcpolicy, "thaw", lambda: thaws.append(1))
    t = gcpolicy.Thaw()
    for _ in range(2 * 100 + gcpolicy.Thaw.MARGIN - 1):
        t.connection_closed(still_open=100)
    assert thaws == []
    t.connection_closed(still_open=100)
    assert thaws == [1] and t.closed == 0
