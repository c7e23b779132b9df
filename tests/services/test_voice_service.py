"""VoiceService against a database where saving the interaction fails."""

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.resources import Resources
from pravis_api.services.voice import Shopper, VoiceService
from tests.conftest import DATA, create_database, drop_database, migrate
from tests.helpers import blob_names


@pytest.fixture
async def database_without_interactions() -> AsyncIterator[str]:
    """A database migrated only up to `users`: inserting an interaction fails."""
    name = f"pravis_partial_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    await migrate(url, "0001")
    yield url
    await drop_database(name)


async def test_failed_save_deletes_recording(
    app: object, settings: Settings, database_without_interactions: str
) -> None:
    resources: Resources = app.state.resources  # type: ignore[attr-defined]
    engine = create_async_engine(database_without_interactions)
    blobs_before = await blob_names(settings)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            service = VoiceService(
                session, resources.speech_pool, resources.blobs, max_audio_seconds=30
            )
            with pytest.raises(ProgrammingError):
                await service.answer_recording(
                    (DATA / "goforward.wav").read_bytes(),
                    Shopper(user_id=None, session_id="orphan-check"),
                )
    finally:
        await engine.dispose()
    assert await blob_names(settings) == blobs_before
