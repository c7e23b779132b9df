"""Backups and restores: `pravis-api backup` and `restore` as an operator
runs them, and the admin endpoint."""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.feedback import InteractionFeedback
from pravis_api.models.user import User
from pravis_api.repositories.interactions import NewInteraction, add_interaction
from pravis_api.services.backup import backup_tables, read_manifest
from pravis_api.services.catalogue import seed_demo_catalogue
from pravis_api.services.storage import BlobStore, create_blob_service
from tests.conftest import (
    ROOT,
    bearer,
    create_database,
    drop_database,
    login,
    migrate,
    promote_to_admin,
    register,
    running_app,
)
from tests.helpers import download_blob, upload_blob
from tests.servers import LocalServer, azurite_connection_string


@pytest.fixture
async def databases() -> AsyncIterator[list[str]]:
    """Three newly migrated databases: a source and two restore targets."""
    names = [f"pravis_backup_{uuid.uuid4().hex[:12]}" for _ in range(3)]
    urls = []
    for name in names:
        url = await create_database(name)
        await migrate(url)
        urls.append(url)
    yield urls
    for name in names:
        await drop_database(name)


async def run_cli(settings: Settings, database: str, *args: str) -> tuple[int, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database,
        "AZURE_STORAGE_CONNECTION_STRING": settings.blob_connection_string,
        "AZURE_STORAGE_CONTAINER_NAME": settings.azure_storage_container_name,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # no cache to clear here
        "REDIS_TIMEOUT_SECONDS": "0.5",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pravis_api.cli",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def fill(engine: AsyncEngine) -> None:
    """Rows in every backed-up table."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await seed_demo_catalogue(session, currency="USD")
        user = User(email=f"b-{uuid.uuid4().hex[:6]}@example.com", hashed_password="x")
        session.add(user)
        await session.commit()
        start = datetime(2030, 1, 1, tzinfo=UTC)
        for n in range(30):
            interaction = NewInteraction(
                id=uuid.uuid4(),
                created_at=start + timedelta(hours=n * 7),
                user_id=user.id if n % 2 else None,
                session_id=f"backup-session-{n % 4:04d}-xxxxxxxx",
                source="audio" if n % 3 == 0 else "text",
                transcript=f"show me 'red' dresses \\ \"{n}\" ☃",
                intent="search",
                entities={"color": "red", "nested": {"n": n}},
                reply="ok",
                action=None,
                product_ids=[uuid.uuid4(), uuid.uuid4()],
                success=n % 5 != 0,
                audio_format="wav" if n % 3 == 0 else None,
                audio_duration_s=1.25 + n if n % 3 == 0 else None,
                recording_blob=f"recordings/x/{n}.wav" if n % 3 == 0 else None,
                timings_ms={"transcribe": 100.123456789 + n, "total": 0.1 * n},
            )
            await add_interaction(session, interaction)
            if n % 2:
                session.add(
                    InteractionFeedback(
                        interaction_id=interaction.id,
                        user_id=user.id,
                        rating=4,
                        comment="ok",
                    )
                )
                await session.commit()
        connection = await session.connection()
        await connection.execute(
            text(
                "INSERT INTO consent_decisions (id, subject, user_id, version,"
                " analytics,"
                " policy_version, address_hash) VALUES (gen_random_uuid(), :s, :u, 1,"
                " true, 'v1', repeat('a', 64))"
            ),
            {"s": f"user:{user.id}", "u": user.id},
        )
        await connection.execute(
            text(
                "INSERT INTO analytics_events"
                " (id, type, session_id, user_id, path, properties)"
                " VALUES (gen_random_uuid(), 'page_view',"
                " 'backup-session-0000-xxxxxxxx',"
                " :u, '/', '{\"a\": [1, 2]}')"
            ),
            {"u": user.id},
        )
        await connection.execute(
            text("INSERT INTO blob_deletions (name) VALUES ('x/y.wav')")
        )
        await session.commit()


async def table_rows(engine: AsyncEngine) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {}
    async with engine.connect() as connection:
        for table in backup_tables():
            order = ", ".join(column.name for column in table.primary_key.columns)
            result = await connection.execute(
                text(f'SELECT * FROM "{table.name}" ORDER BY {order}')
            )
            rows[table.name] = [tuple(row) for row in result.all()]
    return rows


@pytest.mark.usefixtures("app")  # creates the run's container
async def test_backup_then_restore_gives_equal_tables(
    databases: list[str], settings: Settings
) -> None:
    source, target, spare = databases
    engines = [create_async_engine(url) for url in databases]
    try:
        await fill(engines[0])
        status, output = await run_cli(settings, source, "backup")
        assert status == 0, output
        backup_id = output.strip().splitlines()[-1].split()[1]

        blobs = BlobStore(
            create_blob_service(settings),
            settings.azure_storage_container_name,
            timeout=5,
        )
        try:
            manifest = await read_manifest(blobs, settings, backup_id)
        finally:
            await blobs.close()
        counts = {entry["table"]: entry["rows"] for entry in manifest["tables"]}
        assert counts["voice_interactions"] == 30
        assert counts["products"] > 300
        assert counts["analytics_voice_daily"] > 0
        assert "refresh_tokens" not in counts
        assert manifest["recordings"]["count"] == 10
        assert all(len(entry["sha256"]) == 64 for entry in manifest["tables"])

        status, output = await run_cli(settings, target, "restore", backup_id)
        assert status == 0, output
        before = await table_rows(engines[0])
        after = await table_rows(engines[1])
        assert {name: len(rows) for name, rows in after.items()} == counts
        for name in before:
            assert after[name] == before[name], name

        # Not into a database that has rows.
        status, output = await run_cli(settings, target, "restore", backup_id)
        assert status == 1
        assert "not empty" in output

        # A changed file is refused, and nothing is restored.
        prefix = f"{settings.backup_prefix}/{backup_id}"
        name = f"{prefix}/voice_interactions.jsonl.gz"
        original = await download_blob(settings, name)
        corrupted = bytearray(original)
        corrupted[len(corrupted) // 2] ^= 0xFF
        await upload_blob_overwrite(settings, name, bytes(corrupted))
        status, output = await run_cli(settings, spare, "restore", backup_id)
        assert status == 1
        assert "corrupt" in output
        assert "voice_interactions.jsonl.gz" in output
        assert all(not rows for rows in (await table_rows(engines[2])).values())

        status, output = await run_cli(settings, spare, "restore", "no-such-backup")
        assert status == 1
        assert "No backup" in output
    finally:
        for engine in engines:
            await engine.dispose()


async def upload_blob_overwrite(settings: Settings, name: str, data: bytes) -> None:
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(
        settings.blob_connection_string
    ) as service:
        blob = service.get_blob_client(settings.azure_storage_container_name, name)
        await blob.upload_blob(data, overwrite=True)


async def test_admin_backup_endpoint(database: str, azurite: LocalServer) -> None:
    async with running_app(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        azure_storage_container_name=f"test-{uuid.uuid4().hex[:12]}",
    ) as (app, client):
        email = await register(client)
        await promote_to_admin(app, email)
        admin = bearer(await login(client, email))
        response = await client.post("/api/v1/backups", headers=admin)
        assert response.status_code == 202, response.text
        await app.state.resources.tasks.wait()
        job = (await client.get(response.headers["location"], headers=admin)).json()
        assert job["status"] == "succeeded", job
        assert job["backup_id"]
        assert job["download_url"] is None
        assert job["row_count"] > 0
        manifest = await read_manifest(
            app.state.resources.blobs, app.state.settings, job["backup_id"]
        )
        assert sum(entry["rows"] for entry in manifest["tables"]) == job["row_count"]
        listed = (await client.get("/api/v1/backups", headers=admin)).json()
        assert job["id"] in [item["id"] for item in listed["items"]]
        assert isinstance(httpx, object)


_ = upload_blob
