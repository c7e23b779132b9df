"""Synthesised speech kept in Redis (small entries, expiring) and in Blob
Storage (every entry, persistent), keyed by text, voice and format.

Either store may be down: a failure is logged and the lookup or write
carries on without it, so speech is synthesised again rather than refused.
"""

import hashlib
import logging
from typing import Literal

from azure.core.exceptions import AzureError, ResourceNotFoundError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pravis_api.core.config import Settings
from pravis_api.services.speech.encoding import SPEECH_FORMATS
from pravis_api.services.storage import BlobStore

logger = logging.getLogger(__name__)

CacheSource = Literal["redis", "blob"]
# Part of every key: bump it when synthesis or encoding changes its output.
SYNTHESIS_VERSION = "espeak-ng-1"


def speech_key(text: str, voice: str, audio_format: str) -> str:
    material = f"{SYNTHESIS_VERSION}\n{voice}\n{audio_format}\n{text}".encode()
    return hashlib.sha256(material).hexdigest()[:40]


class SpeechCache:
    def __init__(self, redis: Redis, blobs: BlobStore, settings: Settings) -> None:
        self.redis = redis
        self.blobs = blobs
        self.ttl_seconds = settings.speech_cache_ttl_seconds
        self.redis_max_bytes = settings.speech_cache_redis_max_bytes

    @staticmethod
    def _redis_key(key: str, audio_format: str) -> str:
        return f"speech:{key}.{audio_format}"

    @staticmethod
    def _blob_name(key: str, audio_format: str) -> str:
        return f"speech/{key}.{audio_format}"

    async def get(
        self, key: str, audio_format: str
    ) -> tuple[bytes, CacheSource] | None:
        """Look in Redis, then in Blob Storage; refill Redis from a Blob hit."""
        try:
            data = await self.redis.get(self._redis_key(key, audio_format))
        except (RedisError, OSError) as exc:
            logger.warning("speech_cache.redis_failed", extra={"error": repr(exc)})
            data = None
        if isinstance(data, bytes):
            return data, "redis"

        try:
            data = await self.blobs.read(self._blob_name(key, audio_format))
        except ResourceNotFoundError:
            return None
        except (AzureError, OSError, TimeoutError) as exc:
            logger.warning("speech_cache.blob_failed", extra={"error": repr(exc)})
            return None
        await self._put_redis(key, audio_format, data)
        return data, "blob"

    async def put(self, key: str, audio_format: str, data: bytes) -> None:
        await self._put_redis(key, audio_format, data)
        try:
            await self.blobs.upload(
                self._blob_name(key, audio_format),
                data,
                SPEECH_FORMATS[audio_format],
                overwrite=True,
            )
        except (AzureError, OSError, TimeoutError) as exc:
            logger.warning("speech_cache.blob_failed", extra={"error": repr(exc)})

    async def _put_redis(self, key: str, audio_format: str, data: bytes) -> None:
        if len(data) > self.redis_max_bytes:
            return
        try:
            await self.redis.set(
                self._redis_key(key, audio_format), data, ex=self.ttl_seconds
            )
        except (RedisError, OSError) as exc:
            logger.warning("speech_cache.redis_failed", extra={"error": repr(exc)})
