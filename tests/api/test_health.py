"""Health probes, including with Redis, Blob Storage, PostgreSQL and the
speech workers down. Each outage uses its own server on a spare port."""

import asyncio
import os
import signal
import time
from typing import Any

import httpx

from pravis_api import __version__
from pravis_api.models.voice_interaction import VoiceInteraction
from tests.conftest import DATA, running_app
from tests.servers import (
    LocalServer,
    azurite_connection_string,
    azurite_server,
    free_port,
    redis_server,
)


async def ready(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health/ready")
    return response.status_code, response.json()


async def test_health_reports_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "environment": "development",
    }


async def test_ready_with_everything_up(client: httpx.AsyncClient) -> None:
    status, body = await ready(client)
    assert status == 200
    assert body["status"] == "ready"
    assert set(body["checks"]) == {
        "database",
        "redis",
        "blob_storage",
        "speech_workers",
        "dictation_workers",
    }
    for name, check in body["checks"].items():
        assert check["status"] == "up", name
        assert check["error"] is None, name


async def test_ready_degraded_when_redis_stops(
    database: str, azurite: LocalServer
) -> None:
    redis = redis_server().start()
    try:
        async with running_app(
            database_url=database,
            redis_url=f"redis://127.0.0.1:{redis.port}/0",
            azure_storage_connection_string=azurite_connection_string(azurite.port),
        ) as (_, client):
            assert (await ready(client))[1]["status"] == "ready"

            redis.stop()
            status, body = await ready(client)
            assert status == 200
            assert body["status"] == "degraded"
            assert body["checks"]["redis"]["status"] == "down"
            assert body["checks"]["database"]["status"] == "up"
            assert (await client.get("/health")).status_code == 200

            redis.start()
            status, body = await ready(client)
            assert status == 200
            assert body["status"] == "ready"
    finally:
        redis.stop()


async def test_ready_degraded_when_blob_storage_stops(database: str) -> None:
    blob_server = azurite_server().start()
    try:
        async with running_app(
            database_url=database,
            azure_storage_connection_string=azurite_connection_string(blob_server.port),
        ) as (app, client):
            assert (await ready(client))[1]["status"] == "ready"

            blob_server.stop()
            status, body = await ready(client)
            assert status == 200
            assert body["status"] == "degraded"
            assert body["checks"]["blob_storage"]["status"] == "down"
            assert body["checks"]["speech_workers"]["status"] == "up"

            # The voice pipeline still replies; only the recording is lost.
            response = await client.post(
                "/api/v1/voice/query",
                files={
                    "audio": ("goforward.wav", (DATA / "goforward.wav").read_bytes())
                },
                data={"store_recording": "true"},
            )
            assert response.status_code == 200, response.text
            reply = response.json()
            assert "forward" in reply["transcript"]
            async with app.state.resources.session_factory() as session:
                row = await session.get(VoiceInteraction, reply["interaction_id"])
            assert row is not None
            assert row.recording_blob is None
    finally:
        blob_server.stop()


async def test_ready_unavailable_without_database(azurite: LocalServer) -> None:
    async with running_app(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/pravis",
        azure_storage_connection_string=azurite_connection_string(azurite.port),
    ) as (_, client):
        status, body = await ready(client)
        assert status == 503
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["status"] == "down"
        assert body["checks"]["redis"]["status"] == "up"
        assert (await client.get("/health")).status_code == 200

        # Routes that need the database fail fast with 503, not 500.
        response = await client.post(
            "/api/v1/auth/login",
            data={"username": "a@example.com", "password": "whatever1"},
        )
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "retry-after" in response.headers


async def test_missing_database_answers_503(
    database: str, azurite: LocalServer
) -> None:
    missing = database.rsplit("/", 1)[0] + "/pravis_no_such_database"
    async with running_app(
        database_url=missing,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
    ) as (_, client):
        status, body = await ready(client)
        assert status == 503
        assert body["checks"]["database"]["status"] == "down"

        response = await client.post(
            "/api/v1/auth/login",
            data={"username": "a@example.com", "password": "whatever1"},
        )
        assert response.status_code == 503
        assert response.json()["type"].endswith("database-unavailable")
        assert "retry-after" in response.headers


async def test_ready_recovers_after_speech_worker_dies(
    database: str, azurite: LocalServer
) -> None:
    async with running_app(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
    ) as (app, client):
        pool = app.state.resources.speech_pool
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)

        deadline = time.monotonic() + 10
        status, body = await ready(client)
        while status != 503 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            status, body = await ready(client)
        assert status == 503
        assert body["checks"]["speech_workers"]["status"] == "down"

        deadline = time.monotonic() + 30
        while status != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status, body = await ready(client)
        assert status == 200
        assert body["status"] == "ready"
