"""python-socketio's client managers, taught two things Plenary needs across processes.

- **Skip a room, not only sids.** A private note's placeholder goes to the table's
  room minus its author's devices. The author's sids are known only to the
  process their sockets are on, so the placeholder names the author's *room*
  in ``skip_sid`` (``skip_room(...)``) and every process expands it to its own
  members of that room before delivering.
- **Say when a lost Redis subscription is back** (:class:`RedisManager`): while
  Redis is down, emits from other processes are lost, so on resubscribing the
  channel asks this process's screens to catch up from the store. Retries are
  capped at a few seconds, not python-socketio's minute: a venue cannot wait.

Messages on the Redis channel are JSON (python-socketio >= 5.14 encodes pub/sub
messages with ``json``, never pickle); our change dicts are plain JSON values.
The msgpack :class:`~plenary.live.packet.Packet` is only what goes to browsers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from .fanout import FanoutManager

log = logging.getLogger(__name__)

_SKIP_ROOM = "room:"

#: Resubscribe after 0.5 s, doubling up to this: Redis back, screens current
#: within a couple of seconds.
RETRY_MAX_S = 2.0
#: Neither a publish nor a connect may hold up an acknowledgement for longer.
REDIS_TIMEOUT_S = 2.0

Hook = Callable[[str], Awaitable[None]]


def redis_options() -> dict[str, Any]:
    """How every Redis client of Plenary's connects: fail fast, never hold up an ack.

    redis-py retries a failed command ten times with backoff (seconds in all); while
    Redis is down that would delay every acknowledgement, which waits for its
    broadcast to be published. One immediate retry (a pooled connection that went
    stale when Redis restarted) and a short timeout instead; what is not published
    is repaired from the store (``resync``).
    """
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return {"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S,
            "retry": Retry(NoBackoff(), 1)}


def skip_room(room: str) -> str:
    """A ``skip_sid`` entry meaning "every member of ``room``", on whichever process."""
    return _SKIP_ROOM + room


def _expand(manager: FanoutManager, namespace: str | None,
            skip: Any) -> Any:
    if not isinstance(skip, list) or not any(
            isinstance(s, str) and s.startswith(_SKIP_ROOM) for s in skip):
        return skip
    sids: list[str] = []
    for entry in skip:
        if isinstance(entry, str) and entry.startswith(_SKIP_ROOM):
            room = entry[len(_SKIP_ROOM):]
            sids.extend(sid for sid, _ in manager.get_participants(namespace or "/", room))
        else:
            sids.append(entry)
    return sids


class _KickHook:
    """Calls ``on_kicked(room)`` on every process after a ``kicked`` emit to a room."""

    on_kicked: Hook | None = None

    async def _after_emit(self, event: str, room: Any) -> None:
        if event == "kicked" and isinstance(room, str) and self.on_kicked is not None:
            await self.on_kicked(room)


class LocalManager(_KickHook, FanoutManager):
    """One process: the fan-out manager, with room skipping and the kick hook."""

    async def emit(self, event: str, data: Any, namespace: str | None, room: Any = None,
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        """Emit as :class:`FanoutManager` does, expanding :func:`skip_room` entries first."""
        room = to or room
        await super().emit(event, data, namespace, room=room,
                           skip_sid=_expand(self, namespace, skip_sid), callback=callback,
                           **kwargs)
        await self._after_emit(event, room)


class RedisManager(_KickHook, socketio.AsyncRedisManager, FanoutManager):
    """Several processes: emits travel through one Redis channel (JSON messages); each
    process delivers to its own sockets with :class:`FanoutManager`."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel, redis_options=redis_options())
        #: Called (with the channel name) when the subscription is back after a loss.
        self.on_resubscribed: Hook | None = None
        self._publish_failed = False

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        message = message | {"skip_sid": _expand(self, message.get("namespace"),
                                                 message.get("skip_sid"))}
        await super()._handle_emit(message)
        await self._after_emit(message.get("event", ""), message.get("room"))

    async def _publish(self, data: Any) -> Any:
        # One attempt, one log line per outage (python-socketio logs two per
        # emit, thousands a minute at an event). What does not get through is
        # repaired from the store when the subscription comes back.
        try:
            if not self.connected:
                self._redis_connect()
            result = await self.redis.publish(self.channel, self.json.dumps(data))
        except Exception as exc:  # redis raises several unrelated kinds
            self.connected = False
            if not self._publish_failed:
                log.error("cannot publish to Redis (%s); other processes' screens will "
                          "catch up when it is back", exc)
            self._publish_failed = True
            return None
        if self._publish_failed:
            log.warning("publishing to Redis again")
            self._publish_failed = False
        return result

    async def _redis_listen_with_retries(self) -> Any:
        # Our own subscriber connection (python-socketio's shares one with
        # publishing and replaces it on a failed publish), a short capped
        # backoff, and a hook once a lost subscription is back.
        module = self._get_redis_module()
        delay, lost = 0.5, False
        while True:
            # No read timeout: a quiet channel is not a broken one.
            client = module.Redis.from_url(self.redis_url,
                                           **(self.redis_options | {"socket_timeout": None}))
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                delay = 0.5
                if lost:
                    log.warning("subscribed to Redis again")
                    lost = False
                    if self.on_resubscribed is not None:
                        self.server.start_background_task(self.on_resubscribed, self.channel)
                async for message in pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not lost:
                    log.error("lost the Redis subscription (%s); retrying", exc)
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
            finally:
                await _quietly(pubsub.aclose(), client.aclose())


async def _quietly(*closing: Awaitable[Any]) -> None:
    for c in closing:
        try:
            await c
        except Exception:  # closing a broken connection may fail; nothing to do
            log.debug("closing a Redis connection failed", exc_info=True)

