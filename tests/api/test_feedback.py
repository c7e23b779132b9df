"""Feedback on an interaction: one per user and interaction, updatable."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import register_and_login


async def say(client: httpx.AsyncClient, headers: dict[str, str] | None) -> str:
    response = await client.post(
        "/api/v1/voice/command", json={"text": "hello"}, headers=headers
    )
    assert response.status_code == 200, response.text
    interaction_id: str = response.json()["interaction_id"]
    return interaction_id


def feedback_url(interaction_id: str) -> str:
    return f"/api/v1/voice/interactions/{interaction_id}/feedback"


async def test_feedback_create_then_update(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await register_and_login(client)
    interaction_id = await say(client, headers)

    created = await client.post(
        feedback_url(interaction_id),
        json={"rating": 2, "comment": "  Too slow \n"},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json()["rating"] == 2
    assert created.json()["comment"] == "Too slow"
    assert created.json()["interaction_id"] == interaction_id

    updated = await client.post(
        feedback_url(interaction_id), json={"rating": 5}, headers=headers
    )
    assert updated.status_code == 200
    assert updated.json()["rating"] == 5
    assert updated.json()["comment"] is None
    assert updated.json()["created_at"] == created.json()["created_at"]

    read = await client.get(feedback_url(interaction_id), headers=headers)
    assert read.json() == updated.json()
    rows = await db_session.exec(
        text("SELECT count(*) FROM interaction_feedback WHERE interaction_id = :id"),
        params={"id": interaction_id},
    )
    assert rows.one()[0] == 1
    item = (
        await client.get(f"/api/v1/voice/history/{interaction_id}", headers=headers)
    ).json()
    assert item["feedback"]["rating"] == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "great"}, "rating"),
        ({}, "rating"),
        ({"rating": 3, "comment": "x" * 1001}, "comment"),
        ({"rating": 3, "comment": "bad\x00"}, "comment"),
        ({"rating": 3, "user_id": str(uuid.uuid4())}, "user_id"),
    ],
)
async def test_feedback_invalid_fields(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    headers = await register_and_login(client)
    interaction_id = await say(client, headers)
    response = await client.post(
        feedback_url(interaction_id), json=body, headers=headers
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_feedback_absent_is_404(client: httpx.AsyncClient) -> None:
    headers = await register_and_login(client)
    interaction_id = await say(client, headers)
    response = await client.get(feedback_url(interaction_id), headers=headers)
    assert response.status_code == 404


async def test_feedback_on_anonymous_interaction_404(
    client: httpx.AsyncClient,
) -> None:
    headers = await register_and_login(client)
    interaction_id = await say(client, None)
    response = await client.post(
        feedback_url(interaction_id), json={"rating": 4}, headers=headers
    )
    assert response.status_code == 404


async def test_feedback_requires_sign_in(client: httpx.AsyncClient) -> None:
    interaction_id = await say(client, None)
    response = await client.post(feedback_url(interaction_id), json={"rating": 4})
    assert response.status_code == 401
