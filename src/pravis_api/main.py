"""The application factory and its lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import SQLAlchemyError

from pravis_api import __version__
from pravis_api.api.errors import exception_handlers
from pravis_api.api.openapi import add_middleware_errors_to_openapi
from pravis_api.api.uploads import ASSISTANT_UPLOADS, DICTATION_UPLOADS, UploadGate
from pravis_api.api.v1.endpoints import health
from pravis_api.api.v1.router import RATE_LIMIT_GROUPS, UPLOAD_PATHS, build_api_router
from pravis_api.core.config import Settings, get_settings
from pravis_api.core.logging import configure_logging
from pravis_api.core.memory import (
    GC_YOUNG_THRESHOLD,
    pin_mmap_threshold,
    settled_garbage_collector,
)
from pravis_api.core.telemetry import HEALTH_PATHS, Telemetry
from pravis_api.middleware.body_limit import BodySizeLimitMiddleware
from pravis_api.middleware.cache import CacheMiddleware
from pravis_api.middleware.rate_limit import DEFAULT_GROUP, RateLimitMiddleware
from pravis_api.middleware.request_logging import RequestLoggingMiddleware
from pravis_api.resources import Resources
from pravis_api.services.exports import fail_interrupted_jobs
from pravis_api.services.rate_limiter import LOGIN_ACCOUNT_GROUP, RateLimiter
from pravis_api.services.redis_batch import RedisBatcher
from pravis_api.services.redis_guard import RedisGuard
from pravis_api.services.response_cache import ResponseCache

logger = logging.getLogger("pravis_api")

# Bodies of JSON and form routes; upload routes get the upload limit.
DEFAULT_MAX_BODY_BYTES = 256 * 1024
# Room for the multipart boundary, part headers and form fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    pin_mmap_threshold()
    logger.info(
        "app.starting", extra={"version": __version__, **settings.summary_for_logs()}
    )
    if settings.azure_log_analytics_shared_key is not None:
        logger.warning(
            "config.legacy_setting_ignored",
            extra={
                "setting": "AZURE_LOG_ANALYTICS_SHARED_KEY",
                "reason": "the HTTP Data Collector API was retired on 2026-09-14; "
                "logs reach Log Analytics through Application Insights",
            },
        )
    if settings.secret_key_is_generated:
        logger.warning(
            "config.secret_key_generated",
            extra={
                "hint": "SECRET_KEY is not set, so this process signs tokens with "
                "a random key; they stop working on restart and on other workers"
            },
        )

    telemetry: Telemetry = app.state.telemetry
    with telemetry.lifecycle_span("pravis.startup"):
        resources = await Resources.open(settings)
        telemetry.instrument()
    app.state.resources = resources
    await _fail_interrupted_jobs(resources)
    batcher = RedisBatcher(resources.redis)
    cache: ResponseCache = app.state.response_cache
    if settings.cache_enabled:
        cache.attach(batcher)
        cache.local.start(resources.redis, settings.redis_retry_seconds)
    if app.state.rate_limiter is not None:
        app.state.rate_limiter.attach(batcher)
    resources.denylist.attach(batcher)
    logger.info("app.started")
    try:
        with settled_garbage_collector(GC_YOUNG_THRESHOLD):
            yield
    finally:
        logger.info("app.stopping")
        with telemetry.lifecycle_span("pravis.shutdown"):
            cache.attach(None)
            await cache.local.stop()
            if app.state.rate_limiter is not None:
                app.state.rate_limiter.attach(None)
            resources.denylist.attach(None)
            await batcher.close()
            await resources.close()
            telemetry.uninstrument()
        logger.info("app.stopped")


async def _fail_interrupted_jobs(resources: Resources) -> None:
    """Mark failed the export jobs left running by a process that stopped."""
    try:
        await fail_interrupted_jobs(resources.engine)
    except (SQLAlchemyError, OSError) as exc:
        # The database may be down at start-up; the next start retries.
        logger.error("exports.interrupted_check_failed", extra={"error": repr(exc)})


def create_app(
    settings: Settings | None = None, telemetry: Telemetry | None = None
) -> FastAPI:
    """Build the app. `telemetry` replaces the providers chosen from the
    settings (Azure Monitor, or none), for tests."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=not settings.is_development)
    telemetry = telemetry or Telemetry.from_settings(settings)

    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        summary="Web shop backend and the Ask Pravi voice shopping assistant.",
        lifespan=lifespan,
        exception_handlers=exception_handlers(),
        telemetry=telemetry.fastapi_options(),  # type: ignore[arg-type]
    )
    app.state.settings = settings
    app.state.telemetry = telemetry
    guard = RedisGuard(settings.redis_retry_seconds)
    app.state.response_cache = ResponseCache(
        guard,
        default_ttl=settings.cache_ttl_seconds,
        max_bytes=settings.cache_max_bytes,
    )
    app.state.rate_limiter = None
    if settings.rate_limit_enabled:
        app.state.rate_limiter = RateLimiter(
            {
                DEFAULT_GROUP: settings.rate_limit_default,
                "login": settings.rate_limit_login,
                LOGIN_ACCOUNT_GROUP: settings.rate_limit_login_account,
                "register": settings.rate_limit_register,
                "voice": settings.rate_limit_voice,
            },
            guard,
        )
    app.state.upload_gates = {
        ASSISTANT_UPLOADS: UploadGate(
            settings.speech_workers + settings.speech_queue_limit
        ),
        DICTATION_UPLOADS: UploadGate(
            settings.speech_dictation_workers + settings.speech_queue_limit
        ),
    }
    _add_middleware(app, settings)

    app.include_router(health.router)
    app.include_router(build_api_router())
    add_middleware_errors_to_openapi(app, rate_limit_exempt=frozenset(HEALTH_PATHS))
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Each middleware added wraps the ones before it, so the order of a
    # request is CORS, request logging, rate limit, response cache, body
    # limit, then the routes.
    upload_limit = settings.voice_max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    app.add_middleware(
        BodySizeLimitMiddleware,
        default_limit=DEFAULT_MAX_BODY_BYTES,
        limits_by_path=dict.fromkeys(UPLOAD_PATHS, upload_limit),
    )

    if settings.cache_enabled:
        app.add_middleware(
            CacheMiddleware, cache=app.state.response_cache, settings=settings
        )

    if app.state.rate_limiter is not None:
        # Cache hits count against the limits too.
        app.add_middleware(
            RateLimitMiddleware,
            limiter=app.state.rate_limiter,
            groups_by_path=RATE_LIMIT_GROUPS,
            exempt_paths=HEALTH_PATHS,
            trusted_proxies=settings.trusted_proxy_networks,
            settings=settings,
        )

    # Every response, the rate limiter's 429, the body limit's 413 and the
    # last-resort 500 included, carries the request id.
    app.add_middleware(RequestLoggingMiddleware)
    # Outermost, so the browser can read error responses too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "X-Cache",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
    )
