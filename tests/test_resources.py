"""Opening and closing the clients shared by all requests."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from pravis_api import resources as resources_module
from pravis_api.core.config import Settings
from pravis_api.resources import Resources


def recorded(
    calls: list[str], name: str, close: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    async def close_and_record() -> None:
        calls.append(name)
        await close()

    return close_and_record


async def test_resources_close_continues_after_failure(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pravis_api.resources")
    resources = await Resources.open(settings)
    blob_service = resources.blobs.service
    calls: list[str] = []

    async def fail() -> None:
        raise OSError("storage went away")

    monkeypatch.setattr(resources.blobs, "close", fail)
    monkeypatch.setattr(
        resources.redis, "aclose", recorded(calls, "redis", resources.redis.aclose)
    )
    try:
        await resources.close()
    finally:
        await blob_service.close()

    assert calls == ["redis"]
    assert resources.speech_pool.worker_pids() == []
    failures = [r for r in caplog.records if r.getMessage() == "resources.close_failed"]
    assert [getattr(r, "resource", None) for r in failures] == ["blob_storage"]


async def test_resources_close_bounds_a_hanging_client(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pravis_api.resources")
    monkeypatch.setattr(resources_module, "CLIENT_CLOSE_TIMEOUT_SECONDS", 0.2)
    resources = await Resources.open(settings)
    blob_service = resources.blobs.service

    async def hang() -> None:
        await asyncio.sleep(60)

    monkeypatch.setattr(resources.redis, "aclose", hang)
    started = asyncio.get_running_loop().time()
    try:
        await resources.close()
    finally:
        await resources.redis.connection_pool.disconnect()
        await blob_service.close()

    assert asyncio.get_running_loop().time() - started < 5
    timeouts = [
        r for r in caplog.records if r.getMessage() == "resources.close_timed_out"
    ]
    assert [getattr(r, "resource", None) for r in timeouts] == ["redis"]


async def test_resources_redis_waits_for_free_connection(settings: Settings) -> None:
    resources = await Resources.open(
        settings.model_copy(update={"redis_max_connections": 2})
    )
    try:
        # More commands in flight than connections: each waits for a free
        # one, where redis-py's default pool raises "Too many connections".
        results = await asyncio.gather(
            *(
                resources.denylist.is_denied(f"jti-{number}", f"sid-{number}")
                for number in range(30)
            )
        )
        assert results == [False] * 30
        assert resources.redis.connection_pool.max_connections == 2
    finally:
        await resources.close()
