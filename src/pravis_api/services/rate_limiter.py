"""Fixed-window rate limits counted in Redis, shared by all API processes.

Limits are written in the notation of the `limits` library ("10/minute",
several joined by ";"), which slowapi uses too. A window starts at a
bucket's first request and lasts the limit's period. Each check is one
asynchronous Redis call (a Lua script that increments every window of the
group and returns the counts with their remaining lifetimes), sent in the
pipeline of a `RedisBatcher`, so it never blocks the event loop.

While Redis is unavailable, requests are counted in this process's memory
with the same limits (the `limits` library's in-memory storage), so a limit
still holds per process. Counting in Redis resumes when Redis answers again.
"""

import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter

from pravis_api.core.errors import RateLimitedError
from pravis_api.core.text import normalise_email
from pravis_api.services.redis_batch import RedisBatcher
from pravis_api.services.redis_guard import REDIS_ERRORS, RedisGuard

KEY_PREFIX = "pravis:ratelimit"
# Sign-in attempts counted per account rather than per client.
LOGIN_ACCOUNT_GROUP = "login_account"

# KEYS: one counter per limit of the group; ARGV: each window's length in
# milliseconds, in the same order. Returns count and remaining milliseconds
# for each window.
_HIT_SCRIPT = """
local result = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if count == 1 or ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  result[#result + 1] = count
  result[#result + 1] = ttl
end
return result
"""


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """The outcome of one request against its group's limits.

    With several limits in a group, the figures are those of the limit
    that was exceeded, or else of the one with the fewest requests left.
    """

    allowed: bool
    limit: int
    # The limit in words, such as "10 per 1 minute".
    description: str
    remaining: int
    # Seconds until the window of that limit ends.
    reset_after: float

    @property
    def reset_at(self) -> int:
        """The end of the window as Unix time, as slowapi's header sends it."""
        return int(time.time() + self.reset_after)

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_at).encode()),
        ]


def _pick(checks: list[LimitCheck]) -> LimitCheck:
    exceeded = [check for check in checks if not check.allowed]
    if exceeded:
        return max(exceeded, key=lambda check: check.reset_after)
    return min(checks, key=lambda check: check.remaining)


class RateLimiter:
    def __init__(self, limits_by_group: Mapping[str, str], guard: RedisGuard) -> None:
        self.limits: dict[str, list[RateLimitItem]] = {
            group: parse_many(value) for group, value in limits_by_group.items()
        }
        self.guard = guard
        self._batcher: RedisBatcher | None = None
        self._fallback = FixedWindowRateLimiter(MemoryStorage())

    def attach(self, batcher: RedisBatcher | None) -> None:
        """Count in this Redis from now on; None counts in memory only."""
        self._batcher = batcher

    async def hit(self, group: str, identity: str) -> LimitCheck:
        """Count one request of `identity` against the limits of `group`."""
        items = self.limits[group]
        if self._batcher is not None and self.guard.available():
            keys = [f"{KEY_PREFIX}:{item.key_for(group, identity)}" for item in items]
            windows = [item.get_expiry() * 1000 for item in items]
            try:
                # EVAL, not EVALSHA: Redis caches the compiled script by its
                # digest, and EVAL needs no retry after a Redis restart.
                counts = await self._batcher.execute(
                    "EVAL", _HIT_SCRIPT, len(keys), *keys, *windows
                )
            except REDIS_ERRORS as exc:
                self.guard.failed("rate_limit", exc)
            else:
                self.guard.succeeded()
                return _pick(
                    [
                        LimitCheck(
                            allowed=count <= item.amount,
                            limit=item.amount,
                            description=str(item),
                            remaining=max(item.amount - count, 0),
                            reset_after=ttl / 1000,
                        )
                        for item, count, ttl in zip(
                            items, counts[::2], counts[1::2], strict=True
                        )
                    ]
                )
        return await self._hit_in_memory(items, group, identity)

    async def limit_login_attempts(self, email: str) -> None:
        """Count a sign-in attempt for the account; raise RateLimitedError
        when the account's limit is reached, whoever sends the attempts.

        The identity is a digest of the normalised e-mail, so Redis keys
        do not contain addresses, and unknown e-mails are counted alike.
        """
        identity = hashlib.sha256(normalise_email(email).encode()).hexdigest()
        check = await self.hit(LOGIN_ACCOUNT_GROUP, identity)
        if check.allowed:
            return
        retry_after = max(math.ceil(check.reset_after), 1)
        raise RateLimitedError(
            f"Too many sign-in attempts for this account: the limit is "
            f"{check.description}. Retry in {retry_after} s.",
            retry_after_seconds=retry_after,
        )

    async def _hit_in_memory(
        self, items: list[RateLimitItem], group: str, identity: str
    ) -> LimitCheck:
        checks = []
        now = time.time()
        for item in items:
            allowed = await self._fallback.hit(item, group, identity)
            reset_time, remaining = await self._fallback.get_window_stats(
                item, group, identity
            )
            checks.append(
                LimitCheck(
                    allowed=allowed,
                    limit=item.amount,
                    description=str(item),
                    remaining=remaining,
                    reset_after=max(reset_time - now, 0.0),
                )
            )
        return _pick(checks)
