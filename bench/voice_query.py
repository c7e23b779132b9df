"""Benchmark /api/v1/voice/query latency and /health latency under load.

Start the API first (scripts/dev), then run from the repository root:

    .venv/bin/python bench/voice_query.py --url http://127.0.0.1:8000

Phase 1 sends a 3.0-second recording N times, one at a time, and reports
the latency percentiles. Phase 2 keeps every speech worker busy with
concurrent voice queries for a fixed time. Meanwhile a probe sends GET
/health every 20 ms and the script reports the probe's percentiles. If
transcription blocked the event loop, the probe would wait for it.
"""

import argparse
import asyncio
import io
import platform
import random
import statistics
import struct
import time
import wave
from pathlib import Path

import httpx

RECORDING = Path(__file__).resolve().parents[1] / "tests" / "data" / "goforward.wav"


def three_second_clip() -> bytes:
    """goforward.wav (2.79 s of speech) padded with a quiet noise floor to 3.0 s."""
    with wave.open(str(RECORDING)) as reader:
        rate = reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    missing = 3 * rate - len(frames) // 2
    generator = random.Random(1)
    noise = [generator.randint(-100, 100) for _ in range(missing)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames + struct.pack(f"<{missing}h", *noise))
    return buffer.getvalue()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, values_ms: list[float]) -> str:
    points = ", ".join(
        f"p{round(fraction * 100)}={percentile(values_ms, fraction):.1f} ms"
        for fraction in (0.50, 0.90, 0.99)
    )
    return (
        f"{name}: n={len(values_ms)} {points} max={max(values_ms):.1f} ms "
        f"mean={statistics.fmean(values_ms):.1f} ms"
    )


async def post_clip(client: httpx.AsyncClient, clip: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/voice/query", files={"audio": ("clip.wav", clip, "audio/wav")}
    )
    return response.status_code, (time.perf_counter() - started) * 1000


async def sequential(client: httpx.AsyncClient, clip: bytes, count: int) -> list[float]:
    await post_clip(client, clip)  # warm-up, not counted
    latencies = []
    for _ in range(count):
        status, elapsed = await post_clip(client, clip)
        if status != 200:
            raise SystemExit(f"voice query failed with HTTP {status}")
        latencies.append(elapsed)
    return latencies


async def health_under_load(
    client: httpx.AsyncClient, clip: bytes, concurrency: int, seconds: float
) -> tuple[list[float], dict[int, int], list[float]]:
    deadline = time.perf_counter() + seconds
    statuses: dict[int, int] = {}
    voice_ms: list[float] = []
    health_ms: list[float] = []

    async def speaker() -> None:
        while time.perf_counter() < deadline:
            status, elapsed = await post_clip(client, clip)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                voice_ms.append(elapsed)
            elif status == 503:
                await asyncio.sleep(0.1)

    async def probe() -> None:
        await asyncio.sleep(0.5)  # let the workers fill up first
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get("/health")
            response.raise_for_status()
            health_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)

    await asyncio.gather(probe(), *(speaker() for _ in range(concurrency)))
    return health_ms, statuses, voice_ms


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="API base URL")
    parser.add_argument("--requests", type=int, default=30, help="sequential queries")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="concurrent speakers"
    )
    parser.add_argument(
        "--seconds", type=float, default=30, help="length of the load phase"
    )
    parser.add_argument(
        "--clip",
        type=Path,
        help="WAV file to send instead of goforward.wav padded to 3.0 s",
    )
    args = parser.parse_args()

    clip = args.clip.read_bytes() if args.clip else three_second_clip()
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}")
    limits = httpx.Limits(max_connections=args.concurrency + 4)
    async with httpx.AsyncClient(
        base_url=args.url, timeout=60, limits=limits
    ) as client:
        latencies = await sequential(client, clip, args.requests)
        with wave.open(io.BytesIO(clip)) as reader:
            seconds = reader.getnframes() / reader.getframerate()
        print(summary(f"voice query, {seconds:.1f} s clip, sequential", latencies))

        health_ms, statuses, voice_ms = await health_under_load(
            client, clip, args.concurrency, args.seconds
        )
        print(
            f"load phase: {args.concurrency} concurrent speakers for {args.seconds:g} s"
        )
        print(f"voice statuses: {dict(sorted(statuses.items()))}")
        if voice_ms:
            print(summary("voice query under load", voice_ms))
        print(summary("GET /health under load", health_ms))


if __name__ == "__main__":
    asyncio.run(main())
