"""The access token deny-list in Redis.

Access tokens are JWTs with no database row of their own, so a token
revoked before it expires is listed here until it expires. A refresh lists
the replaced token by its `jti`. Logout and refresh token reuse list the
whole login session by its `sid`. Keys expire with the tokens they list.
"""

import logging
import math
import time
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pravis_api.services.redis_batch import RedisBatcher

logger = logging.getLogger(__name__)

_KEY_PREFIX = "pravis:denylist"
# Tokens are accepted up to this many seconds past `exp` (the clock skew
# tolerated by `decode_access_token`), so entries are kept that much longer.
_EXPIRY_MARGIN_SECONDS = 10
# During a Redis outage every request fails the check; log it once a minute.
_OUTAGE_LOG_INTERVAL_SECONDS = 60.0


class DenylistUnavailableError(Exception):
    """Redis could not be reached, or failed, within its timeout."""


def _seconds_until(expires_at: datetime) -> int:
    remaining = (expires_at - datetime.now(UTC)).total_seconds()
    return math.ceil(remaining) + _EXPIRY_MARGIN_SECONDS


class TokenDenylist:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # Checks go through the batcher while one is attached, so the checks
        # of concurrent requests share a pipeline with the rate limit checks
        # and cache reads instead of taking a round trip each.
        self._batcher: RedisBatcher | None = None
        self._last_outage_log = -math.inf
        self._outage_failures = 0

    @staticmethod
    def _token_key(jti: str) -> str:
        return f"{_KEY_PREFIX}:jti:{jti}"

    @staticmethod
    def _session_key(session_id: str) -> str:
        return f"{_KEY_PREFIX}:sid:{session_id}"

    async def _set(self, key: str, expires_at: datetime) -> None:
        ttl = _seconds_until(expires_at)
        if ttl <= 0:
            return  # the token has expired; nothing to deny
        try:
            await self.redis.set(key, b"1", ex=ttl)
        except (RedisError, OSError) as exc:
            raise DenylistUnavailableError(repr(exc)) from exc

    async def deny_token(self, jti: str, expires_at: datetime) -> None:
        """List one access token until it expires; raise DenylistUnavailableError."""
        await self._set(self._token_key(jti), expires_at)

    async def deny_session(self, session_id: str, expires_at: datetime) -> None:
        """List every access token of a login session, until the last one
        (expiring at `expires_at`) expires; raise DenylistUnavailableError."""
        await self._set(self._session_key(session_id), expires_at)

    def attach(self, batcher: RedisBatcher | None) -> None:
        """Send checks through `batcher` from now on; None sends them directly."""
        self._batcher = batcher

    async def is_denied(self, jti: str, session_id: str) -> bool:
        """Tell whether the token or its session is listed.

        Raises DenylistUnavailableError when Redis fails; the failure is
        logged at most once a minute, with the number of failures since.
        """
        try:
            keys = (self._token_key(jti), self._session_key(session_id))
            if self._batcher is not None:
                listed = await self._batcher.execute("EXISTS", *keys)
            else:
                listed = await self.redis.exists(*keys)
        except (RedisError, OSError) as exc:
            self._log_outage(exc)
            raise DenylistUnavailableError(repr(exc)) from exc
        return bool(listed)

    def _log_outage(self, exc: BaseException) -> None:
        self._outage_failures += 1
        now = time.monotonic()
        if now - self._last_outage_log < _OUTAGE_LOG_INTERVAL_SECONDS:
            return
        logger.warning(
            "auth.denylist_unavailable",
            extra={"error": repr(exc), "failures": self._outage_failures},
        )
        self._last_outage_log = now
        self._outage_failures = 0
