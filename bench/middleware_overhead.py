"""Measure what the middleware stack adds to a route that is not cached.

Calls one ASGI app in process, one request at a time, with and without the
API's middleware (CORS, request logging, rate limit, response cache, body
limit), on a small JSON route added for the measurement. The full app runs
its lifespan, so the rate limit check is a real Redis round trip. Settings
come from the environment, as for the API; bench/cache_hit.sh runs this
with its own Redis.

    .venv/bin/python bench/middleware_overhead.py --requests 5000
"""

import argparse
import asyncio
import statistics
import time
from typing import Any

from fastapi import FastAPI

from pravis_api.core.config import Settings
from pravis_api.main import create_app

PATH = "/bench/plain"
BODY = {"status": "ok", "items": list(range(20))}


async def plain() -> dict[str, Any]:
    return BODY


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"origin", b"http://localhost:3000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def timed_calls(app: Any, requests: int) -> list[float]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    durations = []
    for _ in range(requests):
        started = time.perf_counter()
        await app(scope(), receive, send)
        durations.append((time.perf_counter() - started) * 1000)
    assert set(statuses) == {200}, set(statuses)
    return durations


async def main(requests: int, rounds: int) -> None:
    settings = Settings()
    full = create_app(settings)
    full.add_api_route(PATH, plain)
    bare = FastAPI()
    bare.add_api_route(PATH, plain)
    async with full.router.lifespan_context(full):
        for round_number in range(1, rounds + 1):
            await timed_calls(full, 200)  # warm-up
            await timed_calls(bare, 200)
            with_stack = statistics.median(await timed_calls(full, requests))
            without = statistics.median(await timed_calls(bare, requests))
            print(
                f"round {round_number}: median {with_stack:.3f} ms with the "
                f"middleware stack, {without:.3f} ms without, "
                f"{with_stack - without:.3f} ms added"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
