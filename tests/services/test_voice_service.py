"""VoiceService when saving the interaction fails after the recording was stored."""

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.errors import AuthenticationError
from pravis_api.resources import Resources
from pravis_api.services.assistant.responder import Assistant
from pravis_api.services.speech.synthesis import SpeechService
from pravis_api.services.storage import BlobStore
from pravis_api.services.voice import Shopper, VoiceService
from tests.conftest import DATA, create_database, drop_database, migrate
from tests.helpers import blob_names

RECORDING = (DATA / "goforward.wav").read_bytes()


class RecordingBlobStore(BlobStore):
    """The real store, which also remembers the names it uploaded."""

    def __init__(self, store: BlobStore) -> None:
        super().__init__(store.service, store.container_name, store.timeout)
        self.uploaded: list[str] = []

    async def upload(self, name: str, data: bytes, content_type: str) -> None:
        await super().upload(name, data, content_type)
        self.uploaded.append(name)


def voice_service(
    session: AsyncSession, resources: Resources, blobs: BlobStore
) -> VoiceService:
    assistant = Assistant(session, currency="USD", max_products=5)
    speech = SpeechService(resources.providers.text_to_speech, resources.speech_cache)
    return VoiceService(
        session,
        resources.providers.speech_to_text,
        blobs,
        assistant,
        speech=speech,
        max_audio_seconds=30,
        min_word_confidence=0.0,
        max_unknown_word_share=0.25,
    )


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
    blobs = RecordingBlobStore(resources.blobs)
    engine = create_async_engine(database_without_interactions)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            service = voice_service(session, resources, blobs)
            with pytest.raises(ProgrammingError):
                await service.answer_recording(
                    RECORDING,
                    Shopper(
                        user_id=None,
                        session_id="orphan-check-0001",
                        store_recording=True,
                    ),
                )
    finally:
        await engine.dispose()

    assert len(blobs.uploaded) == 1
    assert blobs.uploaded[0] not in await blob_names(settings)


async def test_deleted_account_is_401_without_orphan(
    app: object, settings: Settings, db_session: AsyncSession
) -> None:
    """The account vanished while its recording was transcribed."""
    resources: Resources = app.state.resources  # type: ignore[attr-defined]
    blobs = RecordingBlobStore(resources.blobs)
    service = voice_service(db_session, resources, blobs)

    with pytest.raises(AuthenticationError):
        await service.answer_recording(
            RECORDING,
            Shopper(
                user_id=uuid.uuid4(),
                session_id="deleted-user-0001",
                store_recording=True,
            ),
        )

    assert len(blobs.uploaded) == 1
    assert blobs.uploaded[0] not in await blob_names(settings)
