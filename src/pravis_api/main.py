"""The application factory and its lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from pravis_api import __version__
from pravis_api.api.errors import exception_handlers
from pravis_api.api.v1.endpoints import health
from pravis_api.api.v1.router import UPLOAD_PATHS, build_api_router
from pravis_api.core.config import Settings, get_settings
from pravis_api.core.logging import configure_logging
from pravis_api.middleware.body_limit import BodySizeLimitMiddleware
from pravis_api.middleware.request_context import RequestContextMiddleware
from pravis_api.resources import Resources

logger = logging.getLogger("pravis_api")

# Bodies of JSON and form routes; upload routes get the upload limit.
DEFAULT_MAX_BODY_BYTES = 256 * 1024
# Room for the multipart boundary, part headers and form fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
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

    app.state.resources = await Resources.open(settings)
    logger.info("app.started")
    try:
        yield
    finally:
        logger.info("app.stopping")
        await app.state.resources.close()
        logger.info("app.stopped")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=not settings.is_development)

    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        summary="Web shop backend and the Ask Pravi voice shopping assistant.",
        lifespan=lifespan,
        exception_handlers=exception_handlers(),
    )
    app.state.settings = settings

    # Each middleware added wraps the ones before it, so the order of a
    # request is CORS, request context, body limit, then the routes.
    upload_limit = settings.voice_max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    app.add_middleware(
        BodySizeLimitMiddleware,
        default_limit=DEFAULT_MAX_BODY_BYTES,
        limits_by_path=dict.fromkeys(UPLOAD_PATHS, upload_limit),
    )
    # Every response, the body limit's 413 and the last-resort 500
    # included, carries the request id.
    app.add_middleware(RequestContextMiddleware)
    # Outermost, so the browser can read error responses too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )

    app.include_router(health.router)
    app.include_router(build_api_router())
    return app
