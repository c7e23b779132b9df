"""Compare slowapi's way of checking a rate limit with the API's.

slowapi checks with the `limits` library's synchronous Redis storage: a
fixed-window hit, then the window's statistics for the headers, each a
blocking Redis call made on the event loop. The API's RateLimiter makes one
asynchronous call. This measures, per check, how long the event loop is
blocked (synchronous) or busy (asynchronous, CPU time), one check at a time
and with 64 checks in flight.

    .venv/bin/python bench/limiter_cost.py --redis redis://127.0.0.1:6379/0
"""

import argparse
import asyncio
import statistics
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.asyncio import Redis

from pravis_api.services.rate_limiter import RateLimiter
from pravis_api.services.redis_batch import RedisBatcher
from pravis_api.services.redis_guard import RedisGuard

LIMIT = "100000000/minute"


def blocking_checks(url: str, checks: int) -> list[float]:
    limiter = FixedWindowRateLimiter(storage_from_string(url))
    item = parse(LIMIT)
    durations = []
    for number in range(checks):
        started = time.perf_counter()
        limiter.hit(item, "bench", f"client-{number % 50}")
        limiter.get_window_stats(item, "bench", f"client-{number % 50}")
        durations.append((time.perf_counter() - started) * 1000)
    return durations


async def async_checks(url: str, checks: int, concurrency: int) -> tuple[float, float]:
    """Return median latency (ms) and CPU time per check (ms)."""
    redis = Redis.from_url(url)
    limiter = RateLimiter({"bench": LIMIT}, RedisGuard(2.0))
    limiter.attach(RedisBatcher(redis))
    latencies: list[float] = []

    async def worker(offset: int) -> None:
        for number in range(checks // concurrency):
            started = time.perf_counter()
            await limiter.hit("bench", f"client-{(offset + number) % 50}")
            latencies.append((time.perf_counter() - started) * 1000)

    await worker(0)  # warm-up: connection and script loading
    latencies.clear()
    cpu = time.process_time()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    cpu_per_check = (time.process_time() - cpu) * 1000 / len(latencies)
    await redis.aclose()
    return statistics.median(latencies), cpu_per_check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--checks", type=int, default=5000)
    args = parser.parse_args()

    blocked = blocking_checks(args.redis, args.checks)
    print(
        f"slowapi-style synchronous check: event loop blocked "
        f"{statistics.median(blocked):.3f} ms at the median, "
        f"{sorted(blocked)[int(len(blocked) * 0.99)]:.3f} ms at p99"
    )
    for concurrency in (1, 64):
        latency, cpu = asyncio.run(async_checks(args.redis, args.checks, concurrency))
        print(
            f"API asynchronous check, {concurrency} in flight: {latency:.3f} ms "
            f"latency at the median, {cpu:.3f} ms of event loop CPU per check"
        )


if __name__ == "__main__":
    main()
