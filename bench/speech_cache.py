"""Benchmark speech cache hits: POST /api/v1/voice/speech for a text that
is already cached, and GET of the URL it returns.

Start the API first, then run from the repository root:

    .venv/bin/python bench/speech_cache.py --url http://127.0.0.1:8000

The first request synthesises the text (a MISS, not counted); the next N
requests, one at a time, are hits, served from the API process's own copy
of small entries (SPEECH_CACHE_MEMORY_BYTES; 0 makes them Redis hits).
"""

import argparse
import asyncio
import platform
import time
import uuid

import httpx
from voice_query import summary

# A typical spoken reply, about 5 s of speech.
REPLY = (
    "I found 12 red dresses under $100.00. The top 3 are the Ruby Wrap Dress, "
    "the Poppy Midi Dress and the Scarlet Slip Dress. {marker}"
)


async def timed(
    request: httpx.Request, client: httpx.AsyncClient
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.send(request)
    return (time.perf_counter() - started) * 1000, response


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="API base URL")
    parser.add_argument("--requests", type=int, default=200, help="hits to time")
    parser.add_argument(
        "--format", default="ogg", choices=("ogg", "mp3", "wav"), help="audio format"
    )
    args = parser.parse_args()

    body = {
        "text": REPLY.format(marker=f"Reference {uuid.uuid4().hex[:6]}."),
        "format": args.format,
    }
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}")
    async with httpx.AsyncClient(base_url=args.url, timeout=60) as client:
        miss_ms, first = await timed(
            client.build_request("POST", "/api/v1/voice/speech", json=body), client
        )
        first.raise_for_status()
        if first.headers["x-cache"] != "MISS":
            raise SystemExit("the first request was not a MISS; change the text")
        print(
            f"first request: MISS in {miss_ms:.1f} ms, "
            f"{len(first.content):,} bytes of {first.headers['content-type']}"
        )

        posts, gets = [], []
        for _ in range(args.requests):
            elapsed, response = await timed(
                client.build_request("POST", "/api/v1/voice/speech", json=body), client
            )
            if response.headers.get("x-cache") != "HIT":
                raise SystemExit(f"expected a HIT, got {response.headers}")
            posts.append(elapsed)
            elapsed, response = await timed(
                client.build_request("GET", first.headers["x-speech-url"]), client
            )
            response.raise_for_status()
            gets.append(elapsed)
        print(summary("POST /voice/speech, cache hit", posts))
        print(summary("GET speech URL", gets))


if __name__ == "__main__":
    asyncio.run(main())
