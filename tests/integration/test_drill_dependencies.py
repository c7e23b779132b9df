"""Drills: Blob Storage and Redis stopped and started under a real server.

Each test starts its own Azurite or Redis on a spare loopback port and a
`pravis-api serve` process that uses it, stops the dependency, and checks
what clients see while it is down and after it is back.
"""

import asyncio
import csv
import io
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from azure.storage.blob import ContainerClient

from pravis_api.core.config import AZURITE_CONNECTION_STRING
from pravis_api.services.exports import BLOB_UNAVAILABLE_ERROR
from tests.conftest import (
    DATA,
    StartApi,
    create_database,
    drop_database,
    migrate,
)
from tests.servers import (
    AZURITE_BIN,
    ApiServer,
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


def serve_with_azurite(
    start_api: StartApi, azurite: LocalServer, **settings: str
) -> tuple[ApiServer, str, str]:
    """Start a server using `azurite` with a container of its own and a
    2-second Blob Storage timeout, and return it with the connection string
    and the container's name."""
    container = f"drill-{uuid.uuid4().hex[:12]}"
    connection_string = azurite_connection_string(azurite.port)
    server = start_api(
        AZURE_STORAGE_CONNECTION_STRING=connection_string,
        AZURE_STORAGE_CONTAINER_NAME=container,
        RATE_LIMIT_ENABLED="false",
        BLOB_TIMEOUT_SECONDS="2",
        **settings,
    )
    server.wait_until_serving()
    return server, connection_string, container


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
    server, connection_string, container = serve_with_azurite(start_api, own_azurite)
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
        server.wait_until_serving()
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


EXPORTS = "/api/v1/exports"
MY_EXPORTS = "/api/v1/users/me/exports"
# At BLOB_TIMEOUT_SECONDS=2 one Blob Storage call gives up within 5 s (two
# attempts and the half-second wait between them), and a failed call ends
# the job. The rest is slack for a busy machine.
JOB_SECONDS_MAX = 10
ACCOUNT_KEY = AZURITE_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]


async def signed_in(
    client: httpx.AsyncClient, database: str, *, admin: bool = False
) -> tuple[dict[str, str], str]:
    """Register and sign in an account, and return its Authorization header and id."""
    email = f"drill-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse 42"
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    assert registered.status_code == 201, registered.text
    if admin:
        connection = await asyncpg.connect(database.replace("+asyncpg", ""))
        try:
            await connection.execute(
                "UPDATE users SET is_admin = true WHERE email = $1", email
            )
        finally:
            await connection.close()
    tokens = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": password}
    )
    assert tokens.status_code == 200, tokens.text
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    me = await client.get("/api/v1/users/me", headers=headers)
    return headers, str(me.json()["id"])


@pytest.fixture
async def own_database() -> AsyncIterator[str]:
    """A database of its own, so that an export of every interaction holds
    only this test's rows."""
    name = f"pravis_drill_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    await migrate(url)
    yield url
    await drop_database(name)


async def finished_job(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[dict[str, Any], float]:
    """Poll a job until it succeeds or fails, and return it with the seconds taken."""
    started = time.monotonic()
    while True:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        elapsed = time.monotonic() - started
        if job["status"] in ("succeeded", "failed"):
            return job, elapsed
        if elapsed > 2 * JOB_SECONDS_MAX:
            raise AssertionError(
                f"{url} is still {job['status']} after {elapsed:.1f} s"
            )
        await asyncio.sleep(0.1)


async def test_drill_exports_blob_storage_stopped(
    own_azurite: LocalServer, start_api: StartApi, own_database: str
) -> None:
    server, connection_string, container = serve_with_azurite(
        start_api, own_azurite, DATABASE_URL=own_database
    )
    base_url = f"http://127.0.0.1:{server.port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        admin, _ = await signed_in(client, own_database, admin=True)
        shopper, shopper_id = await signed_in(client, own_database)
        session_id = f"drill-{uuid.uuid4().hex}"
        for headers in (shopper, shopper, shopper, {}, {}):
            seeded = await client.post(
                COMMAND,
                json={"text": "show me red dresses", "session_id": session_id},
                headers=headers,
            )
            assert seeded.status_code == 200, seeded.text

        own_azurite.stop()
        admin_created = await client.post(
            EXPORTS, json={"kind": "interactions", "format": "jsonl"}, headers=admin
        )
        own_created = await client.post(
            MY_EXPORTS, json={"kind": "interactions", "format": "csv"}, headers=shopper
        )
        admin_url = admin_created.headers.get("location", "")
        own_url = own_created.headers.get("location", "")
        admin_failed, admin_seconds = await finished_job(client, admin_url, admin)
        own_failed, own_seconds = await finished_job(client, own_url, shopper)
        ready = await client.get("/health/ready")
        statuses = {"/health/ready": ready.status_code}
        for path, headers in (
            ("/health", {}),
            (PRODUCTS, {}),
            (EXPORTS, admin),
            (MY_EXPORTS, shopper),
        ):
            statuses[path] = (await client.get(path, headers=headers)).status_code
        command = await client.post(
            COMMAND,
            json={"text": "open my cart", "session_id": session_id},
            headers=shopper,
        )
        statuses[COMMAND] = command.status_code

        own_azurite.start()
        blobs = ContainerClient.from_connection_string(connection_string, container)
        left = [blob.name for blob in blobs.list_blobs(name_starts_with="exports/")]
        admin_retried = await client.post(f"{admin_url}/retry", headers=admin)
        own_retried = await client.post(f"{own_url}/retry", headers=shopper)
        admin_done, _ = await finished_job(client, admin_url, admin)
        own_done, _ = await finished_job(client, own_url, shopper)

    assert admin_created.status_code == 202, admin_created.text
    assert own_created.status_code == 202, own_created.text
    for job, seconds in ((admin_failed, admin_seconds), (own_failed, own_seconds)):
        assert job["status"] == "failed", job
        assert seconds < JOB_SECONDS_MAX
        assert job["error"] == BLOB_UNAVAILABLE_ERROR
        assert job["row_count"] == 0
        assert job["download_url"] is None
    assert statuses == dict.fromkeys(statuses, 200)
    assert ready.json()["checks"]["blob_storage"]["status"] == "down"
    # No file of a failed job is listed, so none can pass for a finished export.
    assert left == []

    assert admin_retried.status_code == 202, admin_retried.text
    assert own_retried.status_code == 202, own_retried.text
    for job in (admin_done, own_done):
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 2
        assert job["error"] is None
    connection = await asyncpg.connect(own_database.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch("SELECT id, user_id FROM voice_interactions")
    finally:
        await connection.close()
    every_id = {str(row["id"]) for row in rows}
    shopper_ids = {str(row["id"]) for row in rows if str(row["user_id"]) == shopper_id}
    # Five seeded commands and the one sent during the outage, four of them
    # the shopper's.
    assert len(every_id) == 6
    assert len(shopper_ids) == 4
    assert admin_done["row_count"] == 6
    assert own_done["row_count"] == 4

    admin_file = await asyncio.to_thread(httpx.get, admin_done["download_url"])
    own_file = await asyncio.to_thread(httpx.get, own_done["download_url"])
    assert admin_file.status_code == 200
    assert own_file.status_code == 200
    exported = [json.loads(line)["id"] for line in admin_file.text.splitlines()]
    assert sorted(exported) == sorted(every_id)
    own_rows = list(csv.DictReader(io.StringIO(own_file.text)))
    assert sorted(row["id"] for row in own_rows) == sorted(shopper_ids)

    log = server.log_text()
    assert "Traceback" not in log
    assert ACCOUNT_KEY not in log
    assert "status=5" not in log
