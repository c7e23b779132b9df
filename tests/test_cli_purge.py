"""`pravis-api purge`, run as a scheduler would: a separate process with its
settings in the environment."""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.base import utc_now
from tests.conftest import ROOT, create_database, drop_database, migrate
from tests.helpers import add_interaction, blob_names, upload_blob


@pytest.fixture
async def purge_database() -> AsyncIterator[str]:
    name = f"pravis_purge_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    await migrate(url)
    yield url
    await drop_database(name)


async def run_cli(settings: Settings, database: str, *args: str) -> tuple[int, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database,
        "AZURE_STORAGE_CONNECTION_STRING": settings.blob_connection_string,
        "AZURE_STORAGE_CONTAINER_NAME": settings.azure_storage_container_name,
        "VOICE_RETENTION_DAYS": "30",
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
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


# The app creates the test run's blob container.
@pytest.mark.usefixtures("app")
async def test_cli_purge_deletes_old_recordings(
    purge_database: str, settings: Settings
) -> None:
    engine = create_async_engine(purge_database)
    name = f"recordings/test/{uuid.uuid4()}.wav"
    await upload_blob(settings, name, b"RIFF")
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            old = await add_interaction(
                session,
                None,
                created_at=utc_now() - timedelta(days=31),
                recording_blob=name,
            )
            recent = await add_interaction(
                session, None, created_at=utc_now() - timedelta(days=29)
            )

        status, output = await run_cli(settings, purge_database, "purge", "--dry-run")
        assert status == 0, output
        assert "1 recordings and 1 anonymous interactions" in output
        assert name in await blob_names(settings)

        status, output = await run_cli(settings, purge_database, "purge")
        assert status == 0, output
        assert "1 recordings" in output

        async with AsyncSession(engine) as session:
            rows = await session.exec(text("SELECT id FROM voice_interactions"))
            assert [row_id for (row_id,) in rows.all()] == [recent.id]
        assert old.recording_blob not in await blob_names(settings)
    finally:
        await engine.dispose()


async def test_cli_purge_rejects_bad_retention(
    purge_database: str, settings: Settings
) -> None:
    status, output = await run_cli(
        settings, purge_database, "purge", "--retention-days", "0"
    )
    assert status == 2
    assert "is not a whole number of 1 or more" in output
