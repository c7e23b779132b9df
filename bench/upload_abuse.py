"""Peak memory of a running API under concurrent maximum-size uploads.

Sends `--concurrency` uploads of `--size-mb` MB at once to /voice/query,
`--rounds` times, and reads the peak resident set (VmHWM in /proc) of the
server process and of each of its child processes (the speech workers)
afterwards. The upload is a WAV of low noise whose header declares its
full length, so each one is read whole, handed to a speech worker, and
rejected there as too long (422), the costliest path for the API process.

Run it against a server started on this machine, for example:

    .venv/bin/python bench/upload_abuse.py --url http://127.0.0.1:8300 \\
        --pid $(pgrep -f 'pravis-api serve --port 8300' | head -1)
"""

import argparse
import asyncio
import collections
import io
import random
import time
import wave
from pathlib import Path

import httpx


def noise_wav(size_bytes: int) -> bytes:
    rng = random.Random(7)
    samples = size_bytes // 2
    frames = bytes(rng.getrandbits(8) & 0x0F for _ in range(samples * 2))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes(frames)
    return buffer.getvalue()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise ValueError(f"{field} missing for process {pid}")


def report(pid: int) -> dict[int, tuple[int, int]]:
    """Map the server and its children to (peak, current) RSS in MiB."""
    processes = [pid, *children(pid)]
    return {
        process: (
            memory_kib(process, "VmHWM") // 1024,
            memory_kib(process, "VmRSS") // 1024,
        )
        for process in processes
    }


async def upload(client: httpx.AsyncClient, body: bytes) -> int:
    files = {"audio": ("long.wav", body, "audio/wav")}
    response = await client.post("/api/v1/voice/query", files=files)
    return response.status_code


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the API")
    parser.add_argument("--pid", type=int, required=True, help="server process id")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--size-mb", type=float, default=10.0, help="upload size in MB (10**6)"
    )
    args = parser.parse_args()

    # Leave room for the multipart framing inside VOICE_MAX_UPLOAD_BYTES.
    body = noise_wav(int(args.size_mb * 1_000_000) - 4096)
    print(f"upload: {len(body):,} bytes; before: {report(args.pid)}")
    statuses: collections.Counter[int] = collections.Counter()
    limits = httpx.Limits(max_connections=args.concurrency)
    timeout = httpx.Timeout(120)
    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=args.url, limits=limits, timeout=timeout
    ) as client:
        for _ in range(args.rounds):
            results = await asyncio.gather(
                *(upload(client, body) for _ in range(args.concurrency))
            )
            statuses.update(results)
    elapsed = time.monotonic() - started
    print(f"statuses: {dict(statuses)} in {elapsed:.1f} s")
    for process, (peak, current) in report(args.pid).items():
        role = "server" if process == args.pid else "child"
        print(f"{role} {process}: peak {peak} MiB, now {current} MiB")


if __name__ == "__main__":
    asyncio.run(main())
