"""Drills: Blob Storage and Redis stopped and started under a real server.

Each test starts its own Azurite or Redis on a spare loopback port and a
`pravis-api serve` process that uses it, stops the dependency, and checks
what clients see while it is down and after it is back.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from azure.storage.blob import ContainerClient

from tests.conftest import DATA, StartApi
from tests.servers import (
    AZURITE_BIN,
    LocalServer,
    azurite_connection_string,
    free_port,
    redis_server,
)

RECORDING = (DATA / "goforward.wav").read_bytes()
QUERY = "/api/v1/voice/query"
PRODUCTS = "/api/v1/products"
COMMAND = "/api/v1/voice/command"


def persistent_azurite(location: Path) -> LocalServer:
    """Azurite keeping blobs on disk, so a restart keeps the container, as
    Blob Storage does through an outage."""
    port = free_port()
    command = [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--location", str(location), "--skipApiVersionCheck", "--silent"]
    command += ["--disableTelemetry"]
    return LocalServer(command, port)


@pytest.fixture
def own_azurite(tmp_path: Path) -> Iterator[LocalServer]:
    server = persistent_azurite(tmp_path / "azurite").start()
    yield server
    server.stop()


def post_recording(base_url: str, session_id: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}{QUERY}",
        files={"audio": ("clip.wav", RECORDING, "audio/wav")},
        data={"session_id": session_id, "store_recording": "true"},
        timeout=60,
    )


async def test_drill_blob_storage_stopped(
    own_azurite: LocalServer, start_api: StartApi, database: str
) -> None:
    container = f"drill-{uuid.uuid4().hex[:12]}"
    connection_string = azurite_connection_string(own_azurite.port)
    server = start_api(
        AZURE_STORAGE_CONNECTION_STRING=connection_string,
        AZURE_STORAGE_CONTAINER_NAME=container,
        RATE_LIMIT_ENABLED="false",
        BLOB_TIMEOUT_SECONDS="2",
    )
    server.wait_for_log("app.started")
    base_url = f"http://127.0.0.1:{server.port}"
    session_id = f"drill-{uuid.uuid4().hex}"

    before = await asyncio.to_thread(post_recording, base_url, session_id)
    own_azurite.stop()
    during = await asyncio.to_thread(post_recording, base_url, session_id)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        ready = await client.get("/health/ready")
    own_azurite.start()
    after = await asyncio.to_thread(post_recording, base_url, session_id)

    assert before.status_code == 200, before.text
    assert before.json()["recording_stored"] is True
    assert during.status_code == 200, during.text
    assert during.json()["recording_stored"] is False
    assert during.json()["transcript"]
    assert ready.status_code == 200
    assert ready.json()["checks"]["blob_storage"]["status"] == "down"
    assert after.status_code == 200, after.text
    assert after.json()["recording_stored"] is True

    # No orphans: every row that names a recording has its blob, and
    # every blob has its row.
    connection = await asyncpg.connect(database.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch(
            "SELECT id, recording_blob FROM voice_interactions WHERE session_id = $1",
            session_id,
        )
    finally:
        await connection.close()
    named = {row["recording_blob"] for row in rows if row["recording_blob"]}
    blobs = ContainerClient.from_connection_string(connection_string, container)
    stored = {blob.name for blob in blobs.list_blobs()}
    assert len(rows) == 3
    assert len(named) == 2
    assert stored == named
    without = [row for row in rows if row["recording_blob"] is None]
    assert [str(row["id"]) for row in without] == [during.json()["interaction_id"]]


def browse(base_url: str, stop: threading.Event, results: list[tuple[int, float]]):
    session_id = f"drill-{uuid.uuid4().hex}"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while not stop.is_set():
            for send in (
                lambda: client.get(PRODUCTS, params={"category": "dresses"}),
                lambda: client.post(
                    COMMAND, json={"text": "open my cart", "session_id": session_id}
                ),
            ):
                started = time.monotonic()
                try:
                    status = send().status_code
                except httpx.HTTPError:
                    status = 0
                results.append((status, time.monotonic() - started))
            time.sleep(0.02)


async def test_drill_redis_stopped_under_load(start_api: StartApi) -> None:
    redis = redis_server().start()
    try:
        server = start_api(
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            RATE_LIMIT_DEFAULT="100000/minute",
            RATE_LIMIT_VOICE="100000/minute",
        )
        server.wait_for_log("app.started")
        base_url = f"http://127.0.0.1:{server.port}"
        results: list[tuple[int, float]] = []
        stop = threading.Event()
        clients = [
            threading.Thread(target=browse, args=(base_url, stop, results))
            for _ in range(3)
        ]
        for client in clients:
            client.start()

        await asyncio.sleep(2)
        redis.stop()
        await asyncio.sleep(4)
        redis.start()
        await asyncio.sleep(4)
        stop.set()
        for client in clients:
            await asyncio.to_thread(client.join, 35)

        # Back to caching in Redis once it responds again.
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await client.get(PRODUCTS, params={"category": "dresses"})
            cached = await client.get(PRODUCTS, params={"category": "dresses"})
    finally:
        redis.stop()

    statuses = {status for status, _ in results}
    assert statuses == {200}
    assert max(elapsed for _, elapsed in results) < 5
    assert cached.headers["x-cache"] == "HIT"
    assert "Traceback" not in server.log_text()
