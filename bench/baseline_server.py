"""The baseline for bench/load_bench.py: bare python-socketio, no database, no rules.

It speaks just enough of Plenary's protocol for the load generator: a phone joins a
room by its join code, a post is numbered and broadcast to its table's room and to
the dashboards, and a stage move is one broadcast to everyone. Same uvicorn, same
msgpack packets (``plenary.live.packet``), compression off: what is left of
Plenary's cost above this is ours.

    python bench/baseline_server.py PORT
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import Any

import socketio
import uvicorn
from plenary.live.packet import Packet

sio = socketio.AsyncServer(async_mode="asgi", serializer=Packet, cors_allowed_origins=None)
tables: dict[str, str] = {}  # sid -> join code
seqs: defaultdict[str, int] = defaultdict(int)
stage = 0


@sio.on("connect")
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    auth = auth or {}
    if "join_code" in auth:
        tables[sid] = auth["join_code"]
        await sio.enter_room(sid, f"t:{auth['join_code']}")
    elif auth.get("token") == "dashboard":
        await sio.enter_room(sid, "dash")


@sio.on("disconnect")
async def disconnect(sid: str, reason: Any = None) -> None:
    tables.pop(sid, None)


@sio.on("sync")
async def sync(sid: str, data: Any = None) -> dict[str, Any]:
    return {"ok": True, "mode": "snapshot", "seq": 0, "you": {"table": tables.get(sid)}}


@sio.on("note.post")
async def post(sid: str, data: Any = None) -> dict[str, Any]:
    code = tables.get(sid)
    if code is None:  # a post racing its client's disconnect
        return {"ok": False, "error": {"code": "unauthenticated", "message": "gone"}}
    seqs[code] += 1
    change = {"table": code, "seq": seqs[code], "type": "note.added",
              "data": {"note": {"id": data["id"], "text": data["text"]}},
              "at": time.time_ns() // 1_000_000}
    await sio.emit("change", change, to=f"t:{code}")
    await sio.emit("changes", [change], to="dash")
    return {"ok": True, "seq": seqs[code]}


@sio.on("stage.next")
async def stage_next(sid: str, data: Any = None) -> dict[str, Any]:
    global stage
    stage += 1
    await sio.emit("event.updated", {"event": {"stage": stage}})
    return {"ok": True, "stage": stage}


if __name__ == "__main__":
    uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]),
                log_level="warning", ws_per_message_deflate=False)
