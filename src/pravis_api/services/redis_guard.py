"""A circuit breaker for the optional uses of Redis: the response cache and
the rate limiter.

After a failed call the guard reports Redis as unavailable for
`retry_seconds`, so an outage costs one failed call per interval instead of
one (possibly a timeout) per request. Failures are logged at most once per
interval, with the number of failures since the last line.
"""

import logging
import math
import time

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Errors of a Redis call that mean "Redis is unavailable": redis-py raises
# RedisError subclasses, and a closed or refused socket can surface as OSError.
REDIS_ERRORS = (RedisError, OSError)
_LOG_INTERVAL_SECONDS = 60.0


class RedisGuard:
    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self._retry_at = -math.inf
        self._failures = 0
        self._last_log = -math.inf
        self._down = False

    def available(self) -> bool:
        """Tell whether callers should try Redis now."""
        return time.monotonic() >= self._retry_at

    def failed(self, operation: str, exc: BaseException) -> None:
        """Record a failed call and skip Redis until the retry interval ends."""
        now = time.monotonic()
        self._retry_at = now + self.retry_seconds
        self._failures += 1
        self._down = True
        if now - self._last_log < _LOG_INTERVAL_SECONDS:
            return
        logger.warning(
            "redis.unavailable",
            extra={
                "operation": operation,
                "error": repr(exc),
                "failures": self._failures,
                "retry_seconds": self.retry_seconds,
            },
        )
        self._last_log = now
        self._failures = 0

    def succeeded(self) -> None:
        """Record a successful call; the first one after an outage is logged."""
        if self._down:
            self._down = False
            self._last_log = -math.inf
            logger.info("redis.recovered", extra={"failures": self._failures})
            self._failures = 0
