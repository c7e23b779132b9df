"""Liveness and readiness probes."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from sqlalchemy import text

from pravis_api import __version__
from pravis_api.api.deps import ResourcesDep, SettingsDep
from pravis_api.core.timing import elapsed_ms
from pravis_api.schemas.health import DependencyCheck, Liveness, Readiness

router = APIRouter(prefix="/health", tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0
# Without these the API cannot serve a shopper; the others only degrade it.
ESSENTIAL = ("database", "speech_workers")


class DependencyDownError(Exception):
    """A check that found its dependency down without an exception of its own."""


# Load balancers often probe with HEAD.
@router.head("", include_in_schema=False)
@router.get("", response_model=Liveness)
async def liveness(settings: SettingsDep) -> Liveness:
    """Report that the process is serving, without checking any dependency."""
    return Liveness(version=__version__, environment=settings.environment)


async def _timed(check: Callable[[], Awaitable[object]]) -> DependencyCheck:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except DependencyDownError as exc:
        error = str(exc)
    except Exception as exc:
        # Only the class name: messages can carry host names and addresses.
        error = exc.__class__.__name__
    else:
        return DependencyCheck(status="up", latency_ms=elapsed_ms(started))
    return DependencyCheck(status="down", latency_ms=elapsed_ms(started), error=error)


@router.head("/ready", include_in_schema=False)
@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "PostgreSQL or the speech workers are down",
        }
    },
)
async def readiness(resources: ResourcesDep, response: Response) -> Readiness:
    """Check each dependency. 503 only when the API cannot serve at all."""

    async def database() -> None:
        async with resources.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def redis() -> None:
        await resources.redis.ping()

    async def speech_workers() -> None:
        if resources.speech_pool.state() != "up":
            raise DependencyDownError("no speech worker is running; restarting")

    async def dictation_workers() -> None:
        if resources.dictation_pool.state() != "up":
            raise DependencyDownError("no dictation worker is running; restarting")

    names = ("database", "redis", "blob_storage", "speech_workers", "dictation_workers")
    results = await asyncio.gather(
        _timed(database),
        _timed(redis),
        _timed(resources.blobs.check),
        _timed(speech_workers),
        _timed(dictation_workers),
    )
    checks = dict(zip(names, results, strict=True))

    if any(checks[name].status == "down" for name in ESSENTIAL):
        status = "unavailable"
        response.status_code = 503
    elif any(check.status == "down" for check in checks.values()):
        status = "degraded"
    else:
        status = "ready"
    return Readiness(status=status, checks=checks)
