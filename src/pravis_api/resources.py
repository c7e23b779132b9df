"""Clients shared by all requests, created once at start-up and closed at shutdown."""

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.db.engine import create_engine, create_session_factory
from pravis_api.services.background import BackgroundTasks
from pravis_api.services.denylist import TokenDenylist
from pravis_api.services.interaction_writer import InteractionWriter
from pravis_api.services.providers.registry import Providers, open_providers
from pravis_api.services.speech.cache import SpeechCache
from pravis_api.services.speech.models import SpeechModels
from pravis_api.services.speech_pool import SpeechWorkerPool
from pravis_api.services.storage import BlobStore, create_blob_service

logger = logging.getLogger(__name__)

# Shutdown bounds. The app shuts down after uvicorn has waited for the
# requests in flight, so a speech job still running then belongs to a
# request that was cancelled or timed out, and no caller awaits its result.
SPEECH_DRAIN_TIMEOUT_SECONDS = 5.0
# Cancelled export jobs mark themselves failed within this bound.
JOBS_STOP_TIMEOUT_SECONDS = 5.0
CLIENT_CLOSE_TIMEOUT_SECONDS = 5.0


@dataclass(slots=True)
class Resources:
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    read_session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    blobs: BlobStore
    # Assistant workers: the boutique model and speech synthesis.
    speech_pool: SpeechWorkerPool
    # Dictation workers: the general model, for /voice/transcribe.
    dictation_pool: SpeechWorkerPool
    speech_models: SpeechModels
    speech_cache: SpeechCache
    denylist: TokenDenylist
    # Speech-to-text, reply and text-to-speech, as the settings choose.
    providers: Providers
    # The assistant's turns, inserted in batches.
    interactions: InteractionWriter
    # Export and backup jobs running in this process.
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)

    @classmethod
    async def open(cls, settings: Settings) -> "Resources":
        """Create every client. Only the speech workers must start: the
        database, Redis and Blob Storage may be down and come back later."""
        engine = create_engine(settings)
        read_sessions = create_session_factory(engine, autocommit=True)
        redis = Redis.from_pool(
            BlockingConnectionPool.from_url(
                settings.redis_url.get_secret_value(),
                max_connections=settings.redis_max_connections,
                timeout=settings.redis_timeout_seconds,
                socket_timeout=settings.redis_timeout_seconds,
                socket_connect_timeout=settings.redis_timeout_seconds,
                health_check_interval=30,
            )
        )
        blobs = BlobStore(
            create_blob_service(settings),
            settings.azure_storage_container_name,
            timeout=settings.blob_timeout_seconds,
        )
        speech_pool = SpeechWorkerPool(
            workers=settings.speech_workers,
            queue_limit=settings.speech_queue_limit,
            timeout_seconds=settings.speech_timeout_seconds,
            role="assistant",
        )
        dictation_pool = SpeechWorkerPool(
            workers=settings.speech_dictation_workers,
            queue_limit=settings.speech_queue_limit,
            timeout_seconds=settings.speech_timeout_seconds,
            role="dictation",
        )
        speech_models = SpeechModels(
            read_sessions,
            speech_pool,
            settings.speech_model_dir,
            refresh_seconds=settings.speech_model_refresh_seconds,
        )
        providers = open_providers(
            settings,
            speech_pool=speech_pool,
            dictation_pool=dictation_pool,
            speech_models=speech_models,
        )
        sessions = create_session_factory(engine)
        resources = cls(
            engine,
            sessions,
            read_sessions,
            redis,
            blobs,
            speech_pool,
            dictation_pool,
            speech_models,
            SpeechCache(redis, blobs, settings),
            TokenDenylist(redis),
            providers,
            InteractionWriter(sessions, query_cap=settings.analytics_query_cap_per_day),
        )
        try:
            await blobs.ensure_container()
            await speech_pool.start()
            await dictation_pool.start()
            await speech_models.start()
        except BaseException:
            await resources.close()
            raise
        return resources

    async def close(self) -> None:
        """Stop the speech workers, then close the clients, each within a bound.

        A client that fails or times out is logged and does not keep the
        others open.
        """
        await self.tasks.close(JOBS_STOP_TIMEOUT_SECONDS)
        await _close_within(
            "interactions", self.interactions.close(), CLIENT_CLOSE_TIMEOUT_SECONDS
        )
        await _close_within(
            "speech_models", self.speech_models.close(), CLIENT_CLOSE_TIMEOUT_SECONDS
        )
        # close() kills the workers at its own timeout; the outer bound only
        # catches a hang after that.
        pool_bound = SPEECH_DRAIN_TIMEOUT_SECONDS + CLIENT_CLOSE_TIMEOUT_SECONDS
        await asyncio.gather(
            _close_within(
                "speech_pool",
                self.speech_pool.close(
                    drain_timeout_seconds=SPEECH_DRAIN_TIMEOUT_SECONDS
                ),
                pool_bound,
            ),
            _close_within(
                "dictation_pool",
                self.dictation_pool.close(
                    drain_timeout_seconds=SPEECH_DRAIN_TIMEOUT_SECONDS
                ),
                pool_bound,
            ),
        )
        await asyncio.gather(
            _close_within(
                "blob_storage", self.blobs.close(), CLIENT_CLOSE_TIMEOUT_SECONDS
            ),
            _close_within("redis", self.redis.aclose(), CLIENT_CLOSE_TIMEOUT_SECONDS),
            _close_within(
                "database", self.engine.dispose(), CLIENT_CLOSE_TIMEOUT_SECONDS
            ),
            _close_within(
                "providers", self.providers.aclose(), CLIENT_CLOSE_TIMEOUT_SECONDS
            ),
        )


async def _close_within(
    name: str, closing: Awaitable[None], timeout_seconds: float
) -> None:
    try:
        await asyncio.wait_for(closing, timeout_seconds)
    except TimeoutError:
        logger.error(
            "resources.close_timed_out",
            extra={"resource": name, "timeout_seconds": timeout_seconds},
        )
    except Exception as exc:
        logger.error(
            "resources.close_failed", extra={"resource": name, "error": repr(exc)}
        )
