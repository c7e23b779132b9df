"""Helpers shared by tests: synthetic audio, rows inserted directly, and a
look into Blob Storage."""

import io
import random
import struct
import uuid
import wave
from datetime import datetime

from azure.storage.blob.aio import BlobServiceClient
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction


def noise_wav(seconds: float, rate: int = 16_000) -> bytes:
    """A WAV of low random noise, like a quiet room."""
    generator = random.Random(7)
    samples = [generator.randint(-200, 200) for _ in range(int(seconds * rate))]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


async def blob_names(settings: Settings) -> set[str]:
    async with BlobServiceClient.from_connection_string(
        settings.blob_connection_string
    ) as service:
        container = service.get_container_client(settings.azure_storage_container_name)
        return {blob.name async for blob in container.list_blobs()}


async def download_blob(settings: Settings, name: str) -> bytes:
    async with BlobServiceClient.from_connection_string(
        settings.blob_connection_string
    ) as service:
        blob = service.get_blob_client(settings.azure_storage_container_name, name)
        return await (await blob.download_blob()).readall()


async def add_interaction(
    session: AsyncSession,
    user_id: uuid.UUID | None,
    *,
    created_at: datetime | None = None,
    intent: str = "greeting",
    recording_blob: str | None = None,
) -> VoiceInteraction:
    """Insert an interaction directly, for tests that need a given time."""
    interaction = VoiceInteraction(
        user_id=user_id,
        session_id=f"test-{uuid.uuid4().hex}",
        source="audio" if recording_blob else "text",
        transcript="hello",
        intent=intent,
        reply="Hello!",
        success=True,
        recording_blob=recording_blob,
        audio_format="wav" if recording_blob else None,
    )
    if created_at is not None:
        interaction.created_at = created_at
    session.add(interaction)
    await session.commit()
    return interaction


async def upload_blob(settings: Settings, name: str, data: bytes) -> None:
    async with BlobServiceClient.from_connection_string(
        settings.blob_connection_string
    ) as service:
        blob = service.get_blob_client(settings.azure_storage_container_name, name)
        await blob.upload_blob(data)
