"""A per-process copy of the shared cache entries, kept valid by Redis
pub/sub.

A cache hit read from Redis cost more event loop time than the rest of the
request (bench/RESULTS.md). Entries of shared routes (not per-user ones)
are therefore also kept in this process, with the namespace versions they
were computed under. Every invalidation publishes the namespace's new
version on a Redis channel, and each process applies it to its copy of the
versions. So a local hit needs no Redis call and still never serves an
entry older than the last invalidation this process has received.

The copy is used only while the subscription is confirmed. When the
subscription fails (Redis down or restarted) the copy is dropped, and it is
rebuilt from Redis reads once the subscription is back.

NOTE: another API process can serve the previous entry for as long as the
invalidation message takes to reach it (about a millisecond on one host).
A FLUSHALL on a running Redis sends no message, so the copies keep their
entries until they expire (CACHE_TTL_SECONDS) or the API restarts.
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from pravis_api.services.redis_guard import REDIS_ERRORS

logger = logging.getLogger(__name__)

CHANNEL = "pravis:cache:invalidations"
MAX_ENTRIES = 1000
MAX_BYTES = 16 * 1024 * 1024


class LocalCache:
    def __init__(
        self, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.subscribed = False
        # Raised at every reset, so a Redis read that began before it is not
        # taken as current.
        self.generation = 0
        self._versions: dict[str, int] = {}
        # Entry key to (versions, expiry as Unix time, entry).
        self._entries: OrderedDict[str, tuple[tuple[int, ...], float, Any]] = (
            OrderedDict()
        )
        self._size = 0
        self._task: asyncio.Task[None] | None = None

    def versions_of(self, names: Sequence[str]) -> tuple[int, ...] | None:
        """Return the known versions of these namespaces, or None."""
        if not self.subscribed:
            return None
        try:
            return tuple(self._versions[name] for name in names)
        except KeyError:
            return None

    def current_generation(self) -> int | None:
        """Return the generation to pass to `learn` and `put` after a Redis
        read that starts now; None while not subscribed."""
        return self.generation if self.subscribed else None

    def learn(
        self, names: Sequence[str], versions: Sequence[int], generation: int | None
    ) -> None:
        """Record versions read from Redis. Versions only grow, so a read
        that raced with an invalidation message cannot undo it."""
        if generation is None or generation != self.generation or not self.subscribed:
            return
        for name, version in zip(names, versions, strict=True):
            if version > self._versions.get(name, -1):
                self._versions[name] = version

    def get(self, key: str, versions: tuple[int, ...]) -> Any | None:
        found = self._entries.get(key)
        if found is None:
            return None
        entry_versions, expires_at, entry = found
        if entry_versions != versions or time.time() >= expires_at:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(
        self,
        key: str,
        versions: tuple[int, ...],
        expires_at: float,
        entry: Any,
        generation: int | None,
    ) -> None:
        size = len(entry.body)
        if generation != self.generation or not self.subscribed:
            return
        if size > self.max_bytes:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._size -= len(previous[2].body)
        self._entries[key] = (versions, expires_at, entry)
        self._size += size
        while len(self._entries) > self.max_entries or self._size > self.max_bytes:
            _, (_, _, evicted) = self._entries.popitem(last=False)
            self._size -= len(evicted.body)

    def reset(self) -> None:
        """Forget every version and entry, and ignore the Redis reads in
        flight; later reads rebuild them."""
        self.generation += 1
        self._versions.clear()
        self._entries.clear()
        self._size = 0

    def start(self, redis: Redis, retry_seconds: float) -> None:
        self._task = asyncio.create_task(self._subscribe(redis, retry_seconds))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self.subscribed = False
        self.reset()

    async def _subscribe(self, redis: Redis, retry_seconds: float) -> None:
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        self._handle(message)
            except REDIS_ERRORS as exc:
                if self.subscribed:
                    logger.warning(
                        "cache.subscription_lost", extra={"error": repr(exc)}
                    )
            finally:
                self.subscribed = False
                self.reset()
            await asyncio.sleep(retry_seconds)

    def _handle(self, message: dict[str, Any]) -> None:
        if message["type"] == "subscribe":
            # From here on, no invalidation can be missed.
            self.reset()
            self.subscribed = True
        elif message["type"] == "message":
            name, _, version = message["data"].rpartition(b"=")
            self.learn([name.decode()], [int(version)], self.generation)
