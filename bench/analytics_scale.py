"""Voice insights and an export over a million interactions.

From the repository root, with PostgreSQL on 127.0.0.1:5432 (the `postgres`
role, as the tests use it) and `npm ci` done for Azurite:

    .venv/bin/python bench/analytics_scale.py [--rows 1000000] [--append-results]

It creates a throwaway database `pravis_bench_<random>`, migrates it, seeds
the interactions with generate_series (spread over 2026, with per-stage
timings), fills the rollups with the same GROUP BY statements as migration
0201, and starts its own Azurite on a spare port with a temporary folder.
Then it measures:

- `GET /api/v1/analytics/voice` for the calendar year and for 2 January
  to 30 December, uncached (the response cache is off), through the app in
  this process: 5 warm-up requests, then 30 timed ones each;
- an export of every interaction as JSON Lines to Blob Storage, in a child
  process that does only that, with its peak resident memory
  (VmHWM) before and after.

The database and Azurite are removed at the end, also on failure.
`--append-results` appends the figures to bench/RESULTS.md.
"""

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

SEED = """
INSERT INTO voice_interactions (id, created_at, user_id, session_id, source,
  transcript, intent, entities, reply, action, product_ids, success,
  audio_format, audio_duration_s, recording_blob, stt_engine, timings_ms)
SELECT gen_random_uuid(),
       timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second' * $2,
       NULL, 'bench-session-' || (i % 50000), 'text',
       (ARRAY['show me red dresses', 'open my cart', 'what is your return policy',
              'sing me a song'])[1 + i % 4] || ' ' || (i % 700),
       (ARRAY['search', 'cart', 'policy', 'fallback'])[1 + i % 4],
       '{"color": "red"}'::jsonb, 'Here you are.', NULL, '{}', i % 4 <> 3,
       NULL, NULL, NULL, 'pocketsphinx',
       jsonb_build_object('decode', (i % 17)::float8 / 3,
                          'transcribe', 200 + (i::bigint * 7919) % 997,
                          'understand', 0.3 + (i % 5)::float8 / 10,
                          'total', 220 + (i::bigint * 104729) % 1500)
FROM generate_series(1, $1) AS i
"""


def database_url(name: str) -> str:
    return (
        ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        + f"/{name}"
    )


def migration_backfill() -> list[str]:
    path = next((ROOT / "migrations" / "versions").glob("*_0201_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0201", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.BACKFILL)


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def settings_env(url: str, connection_string: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "AZURE_STORAGE_CONTAINER_NAME": "bench",
        "SECRET_KEY": "bench-secret-key-of-at-least-thirty-two-characters",
        "CACHE_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "false",
        "SPEECH_WORKERS": "1",
        "SPEECH_DICTATION_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }


async def seed(name: str, rows: int) -> dict[str, float]:
    connection = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        started = time.perf_counter()
        # Spread the rows over the year 2026.
        step = (365 * 24 * 3600 - 1) / rows
        await connection.execute(SEED, rows, step)
        seeded = time.perf_counter()
        for statement in migration_backfill():
            await connection.execute(statement)
        rolled = time.perf_counter()
        total = await connection.fetchval(
            "SELECT sum(interactions) FROM analytics_voice_daily"
        )
        assert total == rows, (total, rows)
        await connection.execute("VACUUM ANALYZE")
        sizes = await connection.fetchrow(
            "SELECT pg_total_relation_size('voice_interactions') AS raw,"
            " (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            "  WHERE c.relname LIKE 'analytics_voice_%' AND c.relkind = 'r') AS rollups"
        )
    finally:
        await connection.close()
    return {
        "seed_s": seeded - started,
        "rollup_s": rolled - seeded,
        "raw_mb": sizes["raw"] / 2**20,
        "rollup_mb": sizes["rollups"] / 2**20,
    }


async def time_insights(env: dict[str, str]) -> dict[str, float]:
    os.environ.update(env)
    from pravis_api.core.config import Settings
    from pravis_api.core.security import hash_password
    from pravis_api.main import create_app
    from pravis_api.models.user import User

    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        async with app.state.resources.session_factory() as session:
            session.add(
                User(
                    email="bench-admin@example.com",
                    hashed_password=await hash_password("bench password 42"),
                    is_admin=True,
                )
            )
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://b"
        ) as client:
            token = (
                await client.post(
                    "/api/v1/auth/login",
                    data={
                        "username": "bench-admin@example.com",
                        "password": "bench password 42",
                    },
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            figures: dict[str, float] = {}
            # The calendar year reads the monthly query rollup; the second
            # range starts and ends mid-month, so 60 days come from the
            # daily one, the worst case for a year.
            ranges = {
                "": {"from": "2026-01-01", "to": "2026-12-31"},
                "unaligned_": {"from": "2026-01-02", "to": "2026-12-30"},
            }
            for label, params in ranges.items():
                durations = []
                for n in range(35):
                    started = time.perf_counter()
                    response = await client.get(
                        "/api/v1/analytics/voice", params=params, headers=headers
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text
                    assert "x-cache" not in response.headers
                    if n >= 5:
                        durations.append(elapsed)
                durations.sort()
                figures[f"{label}p50_ms"] = statistics.median(durations)
                figures[f"{label}p90_ms"] = durations[int(0.9 * len(durations)) - 1]
                figures[f"{label}max_ms"] = durations[-1]
                if not label:
                    body = response.json()
    return {
        "interactions": body["interactions"],
        **figures,
        "transcribe_p95_ms": next(
            s["p95"]["ms"] for s in body["latency_ms"] if s["stage"] == "transcribe"
        ),
    }


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux
    carries that over from the parent across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def child_export() -> None:
    """Run one export as the API's job does, then print JSON figures."""
    from sqlalchemy import text

    from pravis_api.core.config import Settings
    from pravis_api.db.engine import create_engine
    from pravis_api.services.block_writer import BlockWriter
    from pravis_api.services.exports import ExportQuery, stream_export
    from pravis_api.services.storage import BlobStore, create_blob_service

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings)
    blobs = BlobStore(
        create_blob_service(settings), settings.azure_storage_container_name, 30
    )
    await blobs.ensure_container()
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await connection.rollback()
        before_kb = peak_rss_kb()
        started = time.perf_counter()
        writer = BlockWriter(
            blobs, "exports/bench/interactions.jsonl", block_bytes=4 * 2**20
        )
        async with connection.begin():
            rows = await stream_export(
                connection,
                ExportQuery("interactions", "jsonl", None, None, None),
                writer,
            )
        await writer.close("application/x-ndjson")
        elapsed = time.perf_counter() - started
    after_kb = peak_rss_kb()
    await blobs.close()
    await engine.dispose()
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": elapsed,
                "bytes": writer.size,
                "blocks": len(writer.block_ids),
                "peak_rss_before_mb": before_kb / 1024,
                "peak_rss_mb": after_kb / 1024,
            }
        )
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} vCPU {cpu}, {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


async def main(rows: int, append: bool) -> None:
    name = f"pravis_bench_{uuid.uuid4().hex[:12]}"
    port = free_port()
    folder = tempfile.mkdtemp(prefix="pravis-bench-azurite-")
    azurite = subprocess.Popen(  # noqa: ASYNC220 (starts it, does not wait)
        [
            str(ROOT / "node_modules" / ".bin" / "azurite-blob"),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            folder,
            "--skipApiVersionCheck",
            "--silent",
            "--disableTelemetry",
        ]
    )
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    try:
        from pravis_api.core.config import AZURITE_CONNECTION_STRING

        connection_string = AZURITE_CONNECTION_STRING.replace(
            "127.0.0.1:10000", f"127.0.0.1:{port}"
        )
        env = settings_env(url, connection_string)
        await asyncio.to_thread(migrate, url)
        seeding = await seed(name, rows)
        print(f"seeded: {seeding}", flush=True)
        insights = await time_insights(env)
        print(f"insights: {insights}", flush=True)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child-export",
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
        )
        output, _ = await child.communicate()
        assert child.returncode == 0, output
        export = json.loads(output.decode().strip().splitlines()[-1])
        print(f"export: {export}", flush=True)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        azurite.terminate()
        azurite.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

    mb = export["bytes"] / 2**20
    table = "\n".join(
        [
            "| `GET /analytics/voice`, a whole year, uncached, p50 of 30 | "
            f"{insights['p50_ms']:.1f} ms |",
            f"| same, p90 / max | {insights['p90_ms']:.1f} ms / "
            f"{insights['max_ms']:.1f} ms |",
            "| the same from 2 January to 30 December (60 days of daily query "
            "rows), p50 / p90 / max | "
            f"{insights['unaligned_p50_ms']:.1f} ms / "
            f"{insights['unaligned_p90_ms']:.1f} ms / "
            f"{insights['unaligned_max_ms']:.1f} ms |",
            f"| export of {export['rows']:,} interactions as JSON Lines | "
            f"{export['seconds']:.1f} s, {mb:.0f} MB in {export['blocks']} blocks |",
            "| exporting process, peak resident memory | "
            f"{export['peak_rss_mb']:.0f} MB (before the export: "
            f"{export['peak_rss_before_mb']:.0f} MB) |",
        ]
    )
    section = f"""
## Analytics insights and exports over {rows:,} interactions

Machine: {machine()}; PostgreSQL 15 and Azurite (on disk) on the same
machine. Run on {date.today()} with:

```sh
.venv/bin/python bench/analytics_scale.py --rows {rows}
```

Seeding took {seeding["seed_s"]:.1f} s with generate_series and the rollups
{seeding["rollup_s"]:.1f} s with migration 0201's statements. The
interactions take {seeding["raw_mb"]:.0f} MB with their indexes, the voice
rollups {seeding["rollup_mb"]:.1f} MB.

| measurement | figure |
| --- | --- |
{table}

The insights read only the rollups ({insights["interactions"]:,}
interactions counted); the export reads with a server-side cursor
2,000 rows at a time and uploads 4 MB blocks, so its memory does not grow
with the row count.
"""
    print(section)
    if append:
        with (ROOT / "bench" / "RESULTS.md").open("a") as results:
            results.write(section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--append-results", action="store_true")
    parser.add_argument("--child-export", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        asyncio.run(child_export())
    else:
        asyncio.run(main(args.rows, args.append_results))
