"""Whole GET responses stored in Redis, and their invalidation.

Entries are written and read through fastapi-cache2's `RedisBackend`, with
`ResponseCoder` as its coder. `CacheMiddleware` serves them before routing.

Invalidation is O(1): every entry belongs to one or more namespaces
(`catalogue`, `user:<id>`, ...), each with a version counter in Redis. An
entry records the versions it was computed under, and a lookup reads the
current versions in the same round trip, so raising a namespace's version
(one INCR) makes all of its entries stale at once. The versions are read
before the route runs, so a response computed while a write commits is
stored under the old version and never served. Entries of shared routes
are also kept in each process (`LocalCache`), which learns of every new
version through Redis pub/sub.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi_cache.backends.redis import RedisBackend
from fastapi_cache.coder import Coder
from redis.asyncio import Redis

from pravis_api.services.local_cache import CHANNEL, LocalCache
from pravis_api.services.redis_batch import RedisBatcher
from pravis_api.services.redis_guard import REDIS_ERRORS, RedisGuard

logger = logging.getLogger(__name__)

KEY_PREFIX = "pravis:cache"
# A namespace every entry belongs to. It is raised after an invalidation
# failed during a Redis outage, because that invalidation cannot be
# repeated precisely once Redis is back.
ALL = "@all"

# Namespaces of the API's cached routes.
CATALOGUE = "catalogue"
POLICIES = "policies"
# Every account, for the admin lists.
USERS = "users"
# Every shopper's history at once, for the retention purge.
HISTORY = "history"
# One account's profile, history and feedback; `{user}` is the user's id.
USER = "user:{user}"

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
POLICY_ATTRIBUTE = "__pravis_cache_policy__"


def user_namespace(user_id: object) -> str:
    return USER.format(user=user_id)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """The caching rules of one GET route."""

    namespaces: tuple[str, ...]
    # None means the CACHE_TTL_SECONDS setting.
    ttl: int | None = None
    # Per-user entries are keyed by the user, served only after the token
    # is verified, and sent with Cache-Control: private.
    per_user: bool = False
    # Served from the cache only to a verified admin.
    admin_only: bool = False

    def namespaces_for(self, user_id: str | None) -> tuple[str, ...]:
        if user_id is None:
            return self.namespaces
        return tuple(name.format(user=user_id) for name in self.namespaces)


def cached(
    ttl: int | None = None,
    *,
    namespaces: Sequence[str] = (),
    per_user: bool = False,
    admin_only: bool = False,
) -> Callable[[EndpointT], EndpointT]:
    """Cache a GET route's 2xx responses for `ttl` seconds.

    The response must depend only on the method, path, query and body, and
    on the user for `per_user` routes. Writes that change what the route
    returns must call `ResponseCache.invalidate` with one of its
    namespaces. Without namespaces, entries change only when they expire.
    """
    if admin_only and not per_user:
        raise ValueError("admin_only routes must be cached per user")
    policy = CachePolicy(
        namespaces=tuple(namespaces), ttl=ttl, per_user=per_user, admin_only=admin_only
    )

    def decorate(endpoint: EndpointT) -> EndpointT:
        setattr(endpoint, POLICY_ATTRIBUTE, policy)
        return endpoint

    return decorate


def policy_of(endpoint: Callable[..., Any]) -> CachePolicy | None:
    policy = getattr(endpoint, POLICY_ATTRIBUTE, None)
    return policy if isinstance(policy, CachePolicy) else None


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    # Header pairs as the route sent them, without Content-Length.
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # The epoch and namespace versions the response was computed under.
    versions: tuple[int, ...]
    # Unix time at which the entry expires.
    expires_at: float


class ResponseCoder(Coder):
    """Encodes a response as one JSON line (status, versions, expiry,
    headers), then the body unchanged, so a hit is served without parsing
    the body."""

    @classmethod
    def encode(cls, value: Any) -> bytes:
        if not isinstance(value, CachedResponse):
            raise TypeError(f"ResponseCoder encodes CachedResponse, not {value!r}")
        head = [
            value.status,
            list(value.versions),
            value.expires_at,
            [
                [name.decode("latin-1"), data.decode("latin-1")]
                for name, data in value.headers
            ],
        ]
        return json.dumps(head, separators=(",", ":")).encode() + b"\n" + value.body

    @classmethod
    def decode(cls, value: bytes) -> CachedResponse:
        head, _, body = value.partition(b"\n")
        status, versions, expires_at, headers = json.loads(head)
        return CachedResponse(
            status=status,
            headers=[
                (name.encode("latin-1"), data.encode("latin-1"))
                for name, data in headers
            ],
            body=body,
            versions=tuple(versions),
            expires_at=expires_at,
        )


@dataclass(frozen=True, slots=True)
class Lookup:
    entry_key: str
    # The versions read with the entry; None when Redis was not reached.
    versions: tuple[int, ...] | None
    hit: CachedResponse | None
    # Whether the entry may be kept in this process too (shared routes).
    shared: bool = False
    # The local copy's generation when the lookup began.
    generation: int | None = None


def entry_digest(parts: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.hexdigest()[:40]


def _version(raw: bytes | str | None) -> int:
    return int(raw) if raw else 0


def _version_key(name: str) -> str:
    return f"{KEY_PREFIX}:version:{name}"


# KEYS: version counters; ARGV: the channel, then each counter's namespace.
# Raises each counter and publishes "<namespace>=<new version>", so every
# API process's local copy learns of it; returns the new versions.
_INVALIDATE_SCRIPT = """
local versions = {}
for i, key in ipairs(KEYS) do
  local version = redis.call('INCR', key)
  redis.call('PUBLISH', ARGV[1], ARGV[i + 1] .. '=' .. version)
  versions[i] = version
end
return versions
"""


async def _raise_versions(redis: Redis, namespaces: Sequence[str]) -> list[int]:
    keys = [_version_key(name) for name in namespaces]
    result = await redis.eval(
        _INVALIDATE_SCRIPT, len(keys), *keys, CHANNEL, *namespaces
    )
    return [int(version) for version in result]


class ResponseCache:
    def __init__(
        self,
        guard: RedisGuard,
        *,
        default_ttl: int,
        max_bytes: int,
        local: LocalCache | None = None,
    ) -> None:
        self.guard = guard
        self.default_ttl = default_ttl
        self.max_bytes = max_bytes
        self.coder = ResponseCoder
        self.local = local or LocalCache()
        self.backend: RedisBackend | None = None
        self._batcher: RedisBatcher | None = None
        self._flush_pending = False

    def attach(self, batcher: RedisBatcher | None) -> None:
        """Use the Redis client of this batcher from now on; None turns
        caching off. Lookups go through the batcher's pipelines."""
        self._batcher = batcher
        self.backend = RedisBackend(batcher.redis) if batcher is not None else None

    def _usable(self) -> RedisBackend | None:
        if self.backend is None or not self.guard.available():
            return None
        return self.backend

    async def lookup(
        self, namespaces: Sequence[str], digest: str, *, shared: bool = False
    ) -> Lookup:
        """Read an entry and the current versions of its namespaces.

        Entries of shared routes are read from this process's copy when
        it is current, and from Redis otherwise.
        """
        entry_key = (
            f"{KEY_PREFIX}:entry:{namespaces[0] if namespaces else ALL}:{digest}"
        )
        backend = self._usable()
        if backend is None or self._batcher is None:
            self.local.reset()
            return Lookup(entry_key, None, None)
        names = [ALL, *namespaces]
        if shared:
            versions = self.local.versions_of(names)
            if versions is not None:
                entry = self.local.get(entry_key, versions)
                if entry is not None:
                    return Lookup(entry_key, versions, entry, shared=True)

        generation = self.local.current_generation()
        try:
            await self._flush_if_pending(self._batcher.redis)
            *raw_versions, raw_entry = await self._batcher.execute(
                "MGET", *[_version_key(name) for name in names], entry_key
            )
        except REDIS_ERRORS as exc:
            self.guard.failed("cache_lookup", exc)
            self.local.reset()
            return Lookup(entry_key, None, None)
        self.guard.succeeded()

        versions = tuple(_version(raw) for raw in raw_versions)
        self.local.learn(names, versions, generation)
        hit = None
        if isinstance(raw_entry, bytes):
            try:
                entry = self.coder.decode(raw_entry)
            except (ValueError, TypeError) as exc:
                logger.warning(
                    "cache.entry_invalid", extra={"key": entry_key, "error": repr(exc)}
                )
            else:
                if entry.versions == versions:
                    hit = entry
                    if shared:
                        self.local.put(
                            entry_key, versions, entry.expires_at, entry, generation
                        )
        return Lookup(entry_key, versions, hit, shared, generation)

    async def store(
        self, lookup: Lookup, response: CachedResponse, ttl: int | None
    ) -> bool:
        """Store a response found missing by `lookup`; False if not stored."""
        backend = self._usable()
        if backend is None or lookup.versions is None:
            return False
        if len(response.body) > self.max_bytes:
            return False
        value = self.coder.encode(response)
        try:
            await backend.set(lookup.entry_key, value, ttl or self.default_ttl)
        except REDIS_ERRORS as exc:
            self.guard.failed("cache_store", exc)
            return False
        if lookup.shared:
            self.local.put(
                lookup.entry_key,
                lookup.versions,
                response.expires_at,
                response,
                lookup.generation,
            )
        return True

    def expiry(self, ttl: int | None) -> float:
        """Return the Unix time at which an entry stored now expires."""
        return time.time() + (ttl or self.default_ttl)

    async def invalidate(self, *namespaces: str) -> None:
        """Make every entry of these namespaces stale.

        Redis errors are not raised. When Redis cannot be reached, every
        entry of every namespace is made stale once it can.
        """
        if self._batcher is None or not namespaces:
            return
        if not self.guard.available():
            self._flush_pending = True
            self.local.reset()
            return
        generation = self.local.current_generation()
        try:
            versions = await _raise_versions(self._batcher.redis, namespaces)
        except REDIS_ERRORS as exc:
            self.guard.failed("cache_invalidate", exc)
            self._flush_pending = True
            self.local.reset()
            logger.warning(
                "cache.invalidation_failed",
                extra={"namespaces": list(namespaces), "error": repr(exc)},
            )
            return
        self.guard.succeeded()
        # The published message arrives later; this process knows now.
        self.local.learn(namespaces, versions, generation)

    async def _flush_if_pending(self, redis: Redis) -> None:
        if self._flush_pending:
            await _raise_versions(redis, [ALL])
            self._flush_pending = False
            logger.info("cache.flushed_after_outage")


async def invalidate_namespaces(redis: Redis, *namespaces: str) -> None:
    """Invalidate namespaces from outside the API process, such as a CLI
    command; raises RedisError when Redis cannot be reached."""
    await _raise_versions(redis, namespaces)
