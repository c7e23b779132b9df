"""Helpers shared by tests: synthetic audio and a look into Blob Storage."""

import io
import random
import struct
import wave

from azure.storage.blob.aio import BlobServiceClient

from pravis_api.core.config import Settings


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
