"""Drill: PostgreSQL restarted under load, against a real server.

The test starts a PostgreSQL cluster of its own and a `pravis-api serve`
process on it, keeps four clients sending typed voice commands (each one
stores an interaction), stops the database for a few seconds and starts
it again. It checks what a client receives: only 200 or 503 with Retry-After,
no request waiting past the 30-second client timeout, the service
responding again without a restart, and every interaction that a 200
reported present in the database afterwards.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from tests.conftest import StartApi, migrate
from tests.servers import PostgresCluster

COMMAND = "/api/v1/voice/command"
CLIENTS = 4
CLIENT_TIMEOUT_SECONDS = 30.0
WARM_UP_SECONDS = 3.0
OUTAGE_SECONDS = 5.0
# How long after the restart the service may take to respond with 200 again.
RECOVERY_SECONDS = 5.0
AFTER_SECONDS = 10.0


@dataclass
class Outcome:
    started: float
    elapsed: float
    status: int
    retry_after: str | None
    interaction_id: str | None


@pytest.fixture
async def cluster() -> AsyncIterator[PostgresCluster]:
    cluster = PostgresCluster().init().start()
    try:
        connection = await asyncpg.connect(cluster.admin_url)
        try:
            await connection.execute("CREATE DATABASE pravis")
        finally:
            await connection.close()
        await migrate(cluster.database_url("pravis"))
        yield cluster
    finally:
        cluster.remove()


def send_commands(
    base_url: str, stop: threading.Event, outcomes: list[Outcome]
) -> None:
    session_id = f"drill-{uuid.uuid4().hex}"
    with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_SECONDS) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = client.post(
                    COMMAND, json={"text": "open my cart", "session_id": session_id}
                )
            except httpx.HTTPError:
                # A timed-out or dropped request: status 0 fails the drill.
                outcomes.append(
                    Outcome(started, time.monotonic() - started, 0, None, None)
                )
                continue
            body = response.json()
            outcomes.append(
                Outcome(
                    started=started,
                    elapsed=time.monotonic() - started,
                    status=response.status_code,
                    retry_after=response.headers.get("retry-after"),
                    interaction_id=body.get("interaction_id"),
                )
            )
            time.sleep(0.02)


async def test_drill_postgres_restart_under_load(
    cluster: PostgresCluster, start_api: StartApi
) -> None:
    server = start_api(
        DATABASE_URL=cluster.database_url("pravis"), RATE_LIMIT_ENABLED="false"
    )
    server.wait_until_serving()
    base_url = f"http://127.0.0.1:{server.port}"
    outcomes: list[Outcome] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=send_commands, args=(base_url, stop, outcomes))
        for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()

    await asyncio.sleep(WARM_UP_SECONDS)
    stopped_at = time.monotonic()
    await asyncio.to_thread(cluster.stop)
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(cluster.start)
    restarted_at = time.monotonic()
    await asyncio.sleep(AFTER_SECONDS)
    stop.set()
    for client in clients:
        await asyncio.to_thread(client.join, CLIENT_TIMEOUT_SECONDS + 5)

    statuses = {outcome.status for outcome in outcomes}
    assert statuses <= {200, 503}, sorted(statuses)
    during = [o for o in outcomes if stopped_at <= o.started < restarted_at]
    assert any(outcome.status == 503 for outcome in during)
    for outcome in outcomes:
        if outcome.status == 503:
            assert outcome.retry_after is not None
    assert max(outcome.elapsed for outcome in outcomes) < CLIENT_TIMEOUT_SECONDS

    recovered = [o for o in outcomes if o.started >= restarted_at + RECOVERY_SECONDS]
    assert recovered
    assert {outcome.status for outcome in recovered} == {200}

    reported = {
        uuid.UUID(outcome.interaction_id)
        for outcome in outcomes
        if outcome.status == 200 and outcome.interaction_id
    }
    connection = await asyncpg.connect(
        cluster.database_url("pravis").replace("+asyncpg", "")
    )
    try:
        rows = await connection.fetch(
            "SELECT id FROM voice_interactions WHERE id = ANY($1::uuid[])",
            list(reported),
        )
    finally:
        await connection.close()
    assert reported
    assert {row["id"] for row in rows} == reported
    assert "Traceback" not in server.log_text()
