"""Exports and their jobs, run for real: background tasks, Blob Storage and
the download link, against committed rows."""

import asyncio
import base64
import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from pravis_api.repositories.interactions import NewInteraction, add_interaction
from pravis_api.services import exports as exports_module
from pravis_api.services.exports import (
    INTERACTION_COLUMNS,
    STOPPED_ERROR,
    UNEXPECTED_ERROR,
)
from tests.conftest import (
    ADMIN_URL,
    bearer,
    login,
    promote_to_admin,
    register,
    running_app,
)
from tests.servers import LocalServer, azurite_connection_string

EXPORTS = "/api/v1/exports"
MY_EXPORTS = "/api/v1/users/me/exports"


@pytest.fixture
async def export_app(
    database: str, azurite: LocalServer
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        azure_storage_container_name=f"test-{uuid.uuid4().hex[:12]}",
        export_block_bytes=64 * 1024,
    ) as (app, client):
        yield app, client


async def signed_in(
    app: FastAPI, client: httpx.AsyncClient, *, admin: bool = False
) -> tuple[dict[str, str], uuid.UUID]:
    email = await register(client)
    if admin:
        await promote_to_admin(app, email)
    tokens = await login(client, email)
    me = (await client.get("/api/v1/users/me", headers=bearer(tokens))).json()
    return bearer(tokens), uuid.UUID(me["id"])


async def commit_interactions(
    app: FastAPI, user_id: uuid.UUID | None, day: date, count: int
) -> None:
    async with app.state.resources.session_factory() as session:
        for n in range(count):
            await add_interaction(
                session,
                NewInteraction(
                    id=uuid.uuid4(),
                    created_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
                    + timedelta(seconds=n),
                    user_id=user_id,
                    session_id=f"export-test-{uuid.uuid4().hex}",
                    source="text",
                    transcript=f'red, "dress" {n}\nwith a comma',
                    intent="search" if n % 2 else "fallback",
                    entities={"color": "red", "n": n},
                    reply="Here you are.",
                    action={"type": "search"} if n % 2 else None,
                    product_ids=[uuid.uuid4()],
                    success=bool(n % 2),
                    timings_ms={"understand": 0.5 + n},
                ),
            )


async def finished(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> dict[str, Any]:
    for _ in range(300):
        body: dict[str, Any] = (await client.get(url, headers=headers)).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not finish: {body}")


async def expected_rows(where: str, *args: Any) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE[0])
    try:
        rows = await connection.fetch(
            "SELECT row_to_json(t)::text FROM (SELECT id, created_at, user_id, "
            "session_id, source, transcript, intent, entities, reply, action, "
            "to_jsonb(product_ids) AS product_ids, success, audio_format, "
            "audio_duration_s, recording_blob IS NOT NULL AS has_recording, "
            f"stt_engine, timings_ms FROM voice_interactions WHERE {where} "
            "ORDER BY created_at, id) t",
            *args,
        )
    finally:
        await connection.close()
    return [json.loads(row[0]) for row in rows]


DATABASE: list[str] = []


@pytest.fixture(autouse=True)
def _database_name(database: str) -> None:
    DATABASE[:] = [database.rsplit("/", 1)[1]]


def same_value(text: str, expected: Any) -> bool:
    if expected is None:
        return text == ""
    if isinstance(expected, bool):
        return text == ("true" if expected else "false")
    if isinstance(expected, dict | list):
        return bool(json.loads(text) == expected)
    if isinstance(expected, int | float):
        return float(text) == expected
    if isinstance(expected, str) and len(expected) > 19 and expected[10:11] == "T":
        return datetime.fromisoformat(text) == datetime.fromisoformat(expected)
    return text == expected


async def download(job: dict[str, Any]) -> bytes:
    assert job["download_url"], job
    assert job["download_expires_at"]
    async with httpx.AsyncClient() as plain:
        response = await plain.get(job["download_url"])
    assert response.status_code == 200
    return response.content


async def test_admin_export_matches_rows_in_both_formats(
    export_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = export_app
    admin, _ = await signed_in(app, client, admin=True)
    _, shopper_id = await signed_in(app, client)
    day = date(2041, 2, 3)
    await commit_interactions(app, shopper_id, day, 150)
    await commit_interactions(app, None, day, 40)
    await commit_interactions(app, None, date(2041, 2, 4), 5)  # outside the range
    expected = await expected_rows(
        "created_at >= $1 AND created_at < $2",
        datetime(2041, 2, 3, tzinfo=UTC),
        datetime(2041, 2, 4, tzinfo=UTC),
    )
    assert len(expected) == 190

    for fmt in ("jsonl", "csv"):
        response = await client.post(
            EXPORTS,
            json={
                "kind": "interactions",
                "format": fmt,
                "from": "2041-02-03",
                "to": "2041-02-03",
            },
            headers=admin,
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] in ("queued", "running", "succeeded")
        job = await finished(client, response.headers["location"], admin)
        assert job["status"] == "succeeded", job
        assert job["row_count"] == 190
        assert job["from"] == "2041-02-03"
        content = (await download(job)).decode()
        if fmt == "jsonl":
            assert [json.loads(line) for line in content.splitlines()] == expected
        else:
            rows = list(csv.reader(io.StringIO(content)))
            assert tuple(rows[0]) == INTERACTION_COLUMNS
            assert len(rows) == 191
            for row, want in zip(rows[1:], expected, strict=True):
                for column, value in zip(INTERACTION_COLUMNS, row, strict=True):
                    assert same_value(value, want[column]), (
                        column,
                        value,
                        want[column],
                    )

    listed = (await client.get(EXPORTS, headers=admin)).json()
    assert listed["total"] >= 2
    assert listed["page"] == 1
    assert listed["page_size"] == 20


async def test_shopper_exports_only_their_own_data(
    export_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = export_app
    shopper_a, a_id = await signed_in(app, client)
    shopper_b, b_id = await signed_in(app, client)
    await commit_interactions(app, a_id, date(2041, 3, 1), 3)
    await commit_interactions(app, b_id, date(2041, 3, 1), 4)

    response = await client.post(
        MY_EXPORTS, json={"format": "jsonl"}, headers=shopper_a
    )
    assert response.status_code == 202
    a_job = await finished(client, response.headers["location"], shopper_a)
    assert a_job["status"] == "succeeded"
    assert a_job["row_count"] == 3
    lines = [json.loads(line) for line in (await download(a_job)).decode().splitlines()]
    assert {line["user_id"] for line in lines} == {str(a_id)}
    assert lines == await expected_rows("user_id = $1", a_id)

    # B cannot see or retry A's export; the admin routes do not list it either.
    for method, url in (
        ("GET", f"{MY_EXPORTS}/{a_job['id']}"),
        ("POST", f"{MY_EXPORTS}/{a_job['id']}/retry"),
    ):
        answer = await client.request(method, url, headers=shopper_b)
        assert answer.status_code == 404, (method, url)
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get(MY_EXPORTS, headers=shopper_b)).json()["total"] == 0
    assert (await client.get(MY_EXPORTS, headers=shopper_a)).json()["total"] == 1

    # A deleted account takes its export files with it.
    blob = f"{app.state.settings.export_prefix}/{a_job['id']}/interactions.jsonl"
    assert blob in await app.state.resources.blobs.list_names("exports/")
    assert (
        await client.delete("/api/v1/users/me", headers=shopper_a)
    ).status_code == 204
    assert blob not in await app.state.resources.blobs.list_names("exports/")
    assert (
        await client.delete("/api/v1/users/me", headers=shopper_b)
    ).status_code == 204


async def test_admin_routes_forbidden_for_shoppers(
    export_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = export_app
    shopper, _ = await signed_in(app, client)
    job_id = uuid.uuid4()
    for method, url in (
        ("POST", EXPORTS),
        ("GET", EXPORTS),
        ("GET", f"{EXPORTS}/{job_id}"),
        ("POST", f"{EXPORTS}/{job_id}/retry"),
        ("POST", "/api/v1/backups"),
        ("GET", "/api/v1/backups"),
        ("GET", f"/api/v1/backups/{job_id}"),
        ("POST", f"/api/v1/backups/{job_id}/retry"),
        ("GET", "/api/v1/analytics/voice"),
        ("GET", "/api/v1/analytics/usage"),
    ):
        body = {"kind": "events"} if method == "POST" else None
        response = await client.request(method, url, json=body, headers=shopper)
        assert response.status_code == 403, (method, url)
        assert (await client.request(method, url, json=body)).status_code == 401


async def test_events_export(export_app: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = export_app
    admin, _ = await signed_in(app, client, admin=True)
    shopper, shopper_id = await signed_in(app, client)
    await client.post(
        "/api/v1/analytics/consent",
        json={"analytics": True, "policy_version": "v1"},
        headers=shopper,
    )
    session = f"export-events-{uuid.uuid4().hex}"
    events = [
        {"type": "page_view", "path": f"/p/{n}", "properties": {"n": n}}
        for n in range(7)
    ]
    answer = await client.post(
        "/api/v1/analytics/events",
        json={"session_id": session, "events": events},
        headers=shopper,
    )
    assert answer.json()["accepted"] == 7
    response = await client.post(
        MY_EXPORTS, json={"kind": "events", "format": "csv"}, headers=shopper
    )
    job = await finished(client, response.headers["location"], shopper)
    assert job["row_count"] == 7
    rows = list(csv.DictReader(io.StringIO((await download(job)).decode())))
    assert sorted(row["path"] for row in rows) == sorted(f"/p/{n}" for n in range(7))
    assert {row["user_id"] for row in rows} == {str(shopper_id)}
    assert {row["session_id"] for row in rows} == {session}
    assert sorted(json.loads(row["properties"])["n"] for row in rows) == list(range(7))
    await client.delete("/api/v1/users/me", headers=shopper)


async def insert_job(
    status: str, date_from: date = date(2041, 5, 1), date_to: date = date(2041, 5, 1)
) -> uuid.UUID:
    job_id = uuid.uuid4()
    connection = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE[0])
    try:
        await connection.execute(
            "INSERT INTO export_jobs (id, kind, format, status, attempts, row_count,"
            " blob_name, date_from, date_to) VALUES ($1, 'interactions', 'jsonl',"
            " $2, 1, 0, $3, $4, $5)",
            job_id,
            status,
            f"exports/{job_id}/interactions.jsonl",
            date_from,
            date_to,
        )
    finally:
        await connection.close()
    return job_id


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"to": "9999-12-31"}, ["to"]),
        ({"from": "0001-01-01"}, ["from"]),
        ({"from": "1999-12-31"}, ["from"]),
        ({"to": "1999-12-31"}, ["to"]),
        ({"from": "3000-01-01"}, ["from"]),
        ({"from": "2041-01-01", "to": "3000-01-01"}, ["to"]),
        ({"from": "2041-02-04", "to": "2041-02-03"}, ["to"]),
        ({"from": "0001-01-01", "to": "9999-12-31"}, ["from", "to"]),
    ],
)
async def test_export_range_out_of_bounds(
    export_app: tuple[FastAPI, httpx.AsyncClient],
    body: dict[str, str],
    fields: list[str],
) -> None:
    app, client = export_app
    admin, _ = await signed_in(app, client, admin=True)
    shopper, _ = await signed_in(app, client)
    admin_jobs = (await client.get(EXPORTS, headers=admin)).json()["total"]

    for url, headers in ((EXPORTS, admin), (MY_EXPORTS, shopper)):
        response = await client.post(url, json=body, headers=headers)

        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert [error["field"] for error in errors] == fields
    assert (await client.get(EXPORTS, headers=admin)).json()["total"] == admin_jobs
    assert (await client.get(MY_EXPORTS, headers=shopper)).json()["total"] == 0


async def test_export_range_bounds_included(
    export_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = export_app
    admin, _ = await signed_in(app, client, admin=True)

    response = await client.post(
        EXPORTS,
        json={"from": "2000-01-01", "to": "2999-12-31"},
        headers=admin,
    )

    assert response.status_code == 202, response.text
    job = await finished(client, response.headers["location"], admin)
    assert job["status"] == "succeeded", job
    assert job["from"] == "2000-01-01"
    assert job["to"] == "2999-12-31"


async def test_retry_of_job_ending_at_infinity(
    export_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """A job stored without the range check may end at date.max, which
    asyncpg writes as 'infinity'. Its retry exports with no upper bound."""
    app, client = export_app
    admin, _ = await signed_in(app, client, admin=True)
    await commit_interactions(app, None, date(2041, 9, 1), 3)
    job_id = await insert_job("failed", date(2041, 9, 1), date.max)

    retried = await client.post(f"{EXPORTS}/{job_id}/retry", headers=admin)

    assert retried.status_code == 202, retried.text
    job = await finished(client, f"{EXPORTS}/{job_id}", admin)
    assert job["status"] == "succeeded", job
    assert job["to"] == "9999-12-31"
    expected = await expected_rows("created_at >= $1", datetime(2041, 9, 1, tzinfo=UTC))
    assert job["row_count"] == len(expected)
    assert job["row_count"] >= 3


async def test_job_left_running_is_failed_at_next_start(
    database: str, azurite: LocalServer
) -> None:
    # A process killed mid-export leaves its row running and its lock free.
    orphan = await insert_job("running")
    # A job still running in another live process holds its lock.
    alive = await insert_job("running")
    holder = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE[0])
    await holder.fetchval(
        "SELECT pg_advisory_lock(hashtextextended($1, 0))", str(alive)
    )
    try:
        async with running_app(
            database_url=database,
            azure_storage_connection_string=azurite_connection_string(azurite.port),
            azure_storage_container_name=f"test-{uuid.uuid4().hex[:12]}",
        ) as (app, client):
            email = await register(client)
            await promote_to_admin(app, email)
            admin = bearer(await login(client, email))
            job = (await client.get(f"{EXPORTS}/{orphan}", headers=admin)).json()
            assert job["status"] == "failed"
            assert job["error"] == STOPPED_ERROR
            assert (await client.get(f"{EXPORTS}/{alive}", headers=admin)).json()[
                "status"
            ] == "running"
            # Not failed: a retry is refused.
            conflict = await client.post(f"{EXPORTS}/{alive}/retry", headers=admin)
            assert conflict.status_code == 409

            retried = await client.post(f"{EXPORTS}/{orphan}/retry", headers=admin)
            assert retried.status_code == 202
            job = await finished(client, f"{EXPORTS}/{orphan}", admin)
            assert job["status"] == "succeeded"
            assert job["attempts"] == 2
            assert job["error"] is None
    finally:
        await holder.execute(
            "UPDATE export_jobs SET status = 'failed' WHERE id = $1", alive
        )
        await holder.close()


async def test_shutdown_fails_the_running_job(
    database: str, azurite: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def stuck(*args: Any) -> int:
        started.set()
        await asyncio.sleep(3600)
        return 0

    monkeypatch.setattr("pravis_api.services.exports.stream_export", stuck)
    async with running_app(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        azure_storage_container_name=f"test-{uuid.uuid4().hex[:12]}",
    ) as (app, client):
        admin, _ = await signed_in(app, client, admin=True)
        response = await client.post(
            EXPORTS, json={"from": "2041-06-01"}, headers=admin
        )
        location = response.headers["location"]
        await asyncio.wait_for(started.wait(), 10)
        running = (await client.get(location, headers=admin)).json()
        assert running["status"] == "running"
    # The app has shut down: the task was cancelled and marked its job.
    connection = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE[0])
    try:
        row = await connection.fetchrow(
            "SELECT status, error FROM export_jobs WHERE id = $1",
            uuid.UUID(location.rsplit("/", 1)[1]),
        )
    finally:
        await connection.close()
    assert row["status"] == "failed"
    assert row["error"] == STOPPED_ERROR


async def test_export_rejected_by_blob_storage_names_status(
    database: str, azurite: LocalServer
) -> None:
    # Azurite checks the Shared Key signature, so another key gets 403.
    wrong_key = base64.b64encode(b"not the account key").decode()
    connection_string = re.sub(
        "AccountKey=[^;]+",
        f"AccountKey={wrong_key}",
        azurite_connection_string(azurite.port),
    )
    async with running_app(
        database_url=database,
        azure_storage_connection_string=connection_string,
        azure_storage_container_name=f"test-{uuid.uuid4().hex[:12]}",
    ) as (app, client):
        admin, _ = await signed_in(app, client, admin=True)
        response = await client.post(
            EXPORTS, json={"from": "2041-07-01"}, headers=admin
        )
        job = await finished(client, response.headers["location"], admin)
    assert job["status"] == "failed"
    assert job["error"].startswith("Blob Storage returned HTTP 403 ")
    assert wrong_key not in job["error"]


async def test_unexpected_failure_hides_its_details(
    export_app: tuple[FastAPI, httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, client = export_app
    admin, _ = await signed_in(app, client, admin=True)

    async def failing_stream(*args: Any) -> int:
        raise RuntimeError("relation internal_table at 10.0.0.5 does not exist")

    monkeypatch.setattr(exports_module, "stream_export", failing_stream)
    response = await client.post(EXPORTS, json={"from": "2041-07-01"}, headers=admin)
    job = await finished(client, response.headers["location"], admin)

    assert job["status"] == "failed"
    assert job["error"] == UNEXPECTED_ERROR
    assert "internal_table" in caplog.text
