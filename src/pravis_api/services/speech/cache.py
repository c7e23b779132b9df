"""Synthesised speech kept in each process's memory (the most recent
entries), in Redis (small entries, expiring) and in Blob Storage (every
entry, persistent), keyed by text, voice, pace and format.

Either store may be down: a failure is logged and the lookup or write
carries on without it, so speech is synthesised again rather than refused.
"""

import hashlib
import logging
from collections import OrderedDict
from typing import Literal

from azure.core.exceptions import AzureError, ResourceNotFoundError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pravis_api.core.config import Settings
from pravis_api.services.speech.encoding import SPEECH_FORMATS
from pravis_api.services.storage import BlobStore

logger = logging.getLogger(__name__)

CacheSource = Literal["memory", "redis", "blob"]
# Part of every key: bump it when synthesis or encoding changes its output.
SYNTHESIS_VERSION = "espeak-ng-1"


def speech_key(
    text: str, voice: str, audio_format: str, *, words_per_minute: int | None = None
) -> str:
    """Hash what the audio depends on into a key of 40 hex digits.

    `voice` names the provider as well as the voice. `words_per_minute` is
    the pace of a provider that has one (eSpeak NG). Without it the key is
    the one earlier versions made, so the cloud providers' cached speech,
    which has no pace, stays valid.
    """
    lines = [SYNTHESIS_VERSION, voice]
    if words_per_minute is not None:
        lines.append(f"{words_per_minute} wpm")
    lines += [audio_format, text]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:40]


class MemoryTier:
    """The most recently used entries, up to a total size in bytes.

    A key names one text, voice, pace, format and synthesis version, so
    the audio stored under it stays right: entries need no expiry and no
    invalidation.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, name: str) -> bytes | None:
        data = self._entries.get(name)
        if data is not None:
            self._entries.move_to_end(name)
        return data

    def put(self, name: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        old = self._entries.pop(name, None)
        if old is not None:
            self.size -= len(old)
        self._entries[name] = data
        self.size += len(data)
        while self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted)

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0


class SpeechCache:
    def __init__(self, redis: Redis, blobs: BlobStore, settings: Settings) -> None:
        self.redis = redis
        self.blobs = blobs
        self.ttl_seconds = settings.speech_cache_ttl_seconds
        self.redis_max_bytes = settings.speech_cache_redis_max_bytes
        self.memory = MemoryTier(settings.speech_cache_memory_bytes)

    @staticmethod
    def _entry_name(key: str, audio_format: str) -> str:
        return f"speech:{key}.{audio_format}"

    @staticmethod
    def _blob_name(key: str, audio_format: str) -> str:
        return f"speech/{key}.{audio_format}"

    async def get(
        self, key: str, audio_format: str
    ) -> tuple[bytes, CacheSource] | None:
        """Look in memory, in Redis, then in Blob Storage; refill the tiers
        above from a hit."""
        name = self._entry_name(key, audio_format)
        remembered = self.memory.get(name)
        if remembered is not None:
            return remembered, "memory"

        try:
            data = await self.redis.get(name)
        except (RedisError, OSError) as exc:
            logger.warning("speech_cache.redis_failed", extra={"error": repr(exc)})
            data = None
        if isinstance(data, bytes):
            self.memory.put(name, data)
            return data, "redis"

        try:
            data = await self.blobs.read(self._blob_name(key, audio_format))
        except ResourceNotFoundError:
            return None
        except (AzureError, OSError, TimeoutError) as exc:
            logger.warning("speech_cache.blob_failed", extra={"error": repr(exc)})
            return None
        await self._keep_near(key, audio_format, data)
        return data, "blob"

    async def put(self, key: str, audio_format: str, data: bytes) -> None:
        await self._keep_near(key, audio_format, data)
        try:
            await self.blobs.upload(
                self._blob_name(key, audio_format),
                data,
                SPEECH_FORMATS[audio_format],
                overwrite=True,
            )
        except (AzureError, OSError, TimeoutError) as exc:
            logger.warning("speech_cache.blob_failed", extra={"error": repr(exc)})

    async def _keep_near(self, key: str, audio_format: str, data: bytes) -> None:
        """Put an entry into the process's memory and, when small enough,
        into Redis."""
        name = self._entry_name(key, audio_format)
        self.memory.put(name, data)
        if len(data) > self.redis_max_bytes:
            return
        try:
            await self.redis.set(name, data, ex=self.ttl_seconds)
        except (RedisError, OSError) as exc:
            logger.warning("speech_cache.redis_failed", extra={"error": repr(exc)})
