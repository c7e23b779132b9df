"""The signed-in shopper's voice history: list, filters, read and delete."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from tests.conftest import bearer, login, register, user_id_of
from tests.helpers import add_interaction, blob_names, upload_blob

HISTORY = "/api/v1/voice/history"


async def shopper(
    client: httpx.AsyncClient, session: AsyncSession
) -> tuple[uuid.UUID, dict[str, str]]:
    email = await register(client)
    tokens = await login(client, email)
    return await user_id_of(session, email), bearer(tokens)


async def say(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> str:
    response = await client.post(
        "/api/v1/voice/command", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    interaction_id: str = response.json()["interaction_id"]
    return interaction_id


async def history(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await client.get(HISTORY, params=params, headers=headers)


async def test_history_lists_only_own(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    _, alice = await shopper(client, db_session)
    _, bob = await shopper(client, db_session)
    alice_ids = {await say(client, alice, text) for text in ("hello", "open my cart")}
    bob_ids = {await say(client, bob, "check out")}
    # An anonymous shopper's interaction belongs to nobody's history.
    await client.post("/api/v1/voice/command", json={"text": "hello"})

    alice_page = (await history(client, alice)).json()
    bob_page = (await history(client, bob)).json()

    assert {item["id"] for item in alice_page["items"]} == alice_ids
    assert alice_page["total"] == 2
    assert {item["id"] for item in bob_page["items"]} == bob_ids
    assert bob_page["total"] == 1


async def test_history_item_fields(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    _, headers = await shopper(client, db_session)
    interaction_id = await say(client, headers, "open my cart")
    body = (await history(client, headers)).json()
    assert body["page"] == 1
    assert body["page_size"] == 20
    item = body["items"][0]
    assert item["id"] == interaction_id
    assert item["transcript"] == "open my cart"
    assert item["intent"] == "navigate"
    assert item["action"] == {"type": "navigate", "page": "cart", "path": "/cart"}
    assert item["source"] == "text"
    assert item["recording_url"] is None
    assert item["feedback"] is None
    assert "recording_blob" not in item
    assert "user_id" not in item


async def test_history_pages_newest_first(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    user_id, headers = await shopper(client, db_session)
    created = [
        await add_interaction(
            db_session, user_id, created_at=datetime(2026, 1, day, tzinfo=UTC)
        )
        for day in range(1, 6)
    ]
    newest_first = [str(row.id) for row in reversed(created)]
    pages = [
        (await history(client, headers, page=page, page_size=2)).json()
        for page in (1, 2, 3)
    ]
    assert [item["id"] for page in pages for item in page["items"]] == newest_first
    assert [page["total"] for page in pages] == [5, 5, 5]


@pytest.mark.parametrize(
    ("params", "days"),
    [
        ({"from": "2026-01-02"}, [3, 2]),
        ({"to": "2026-01-02"}, [2, 1]),
        ({"from": "2026-01-02", "to": "2026-01-02"}, [2]),
        ({"to": "2026-01-02T10:00:00Z"}, [2, 1]),
        ({"to": "2026-01-02T09:59:59Z"}, [1]),
        ({"from": "2026-01-02T10:00:00"}, [3, 2]),
        ({"from": "2026-01-02T11:00:00+02:00"}, [3, 2]),
        ({"from": "2026-01-02T10:00:01Z"}, [3]),
        ({"to": "9999-12-31"}, [3, 2, 1]),
        ({"intent": "help"}, [2]),
        ({"intent": ["help", "checkout"]}, [3, 2]),
        ({"intent": "help", "from": "2026-01-03"}, []),
    ],
)
async def test_history_filters(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    params: dict[str, Any],
    days: list[int],
) -> None:
    user_id, headers = await shopper(client, db_session)
    rows = {
        day: await add_interaction(
            db_session,
            user_id,
            created_at=datetime(2026, 1, day, 10, tzinfo=UTC),
            intent=intent,
        )
        for day, intent in ((1, "greeting"), (2, "help"), (3, "checkout"))
    }
    response = await history(client, headers, **params)
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [
        str(rows[day].id) for day in days
    ]
    assert response.json()["total"] == len(days)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-01-03", "to": "2026-01-02"}, "from"),
        ({"from": "2" * 41}, "from"),
        ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
        ({"to": "9999-12-31T23:59:59-14:00"}, "to"),
        ({"intent": "shopping"}, "intent.0"),
        ({"page_size": 101}, "page_size"),
        ({"page": -1}, "page"),
    ],
)
async def test_history_invalid_query(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    params: dict[str, Any],
    field: str,
) -> None:
    _, headers = await shopper(client, db_session)
    response = await history(client, headers, **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_history_requires_sign_in(client: httpx.AsyncClient) -> None:
    assert (await client.get(HISTORY)).status_code == 401
    assert (await client.delete(HISTORY)).status_code == 401
    assert (await client.get(f"{HISTORY}/{uuid.uuid4()}")).status_code == 401


async def test_history_read_one(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    _, headers = await shopper(client, db_session)
    interaction_id = await say(client, headers, "hello")
    response = await client.get(f"{HISTORY}/{interaction_id}", headers=headers)
    assert response.status_code == 200
    assert response.json()["id"] == interaction_id
    assert response.json()["intent"] == "greeting"

    missing = await client.get(f"{HISTORY}/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404
    invalid = await client.get(f"{HISTORY}/not-an-id", headers=headers)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "interaction_id"


async def test_history_delete_one(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user_id, headers = await shopper(client, db_session)
    name = f"recordings/test/{uuid.uuid4()}.wav"
    await upload_blob(settings, name, b"RIFF")
    row = await add_interaction(db_session, user_id, recording_blob=name)
    kept_id = await say(client, headers, "hello")

    response = await client.delete(f"{HISTORY}/{row.id}", headers=headers)

    assert response.status_code == 204
    assert await db_session.get(VoiceInteraction, row.id) is None
    assert name not in await blob_names(settings)
    again = await client.delete(f"{HISTORY}/{row.id}", headers=headers)
    assert again.status_code == 404
    remaining = (await history(client, headers)).json()["items"]
    assert [item["id"] for item in remaining] == [kept_id]


async def test_history_delete_all(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user_id, alice = await shopper(client, db_session)
    _, bob = await shopper(client, db_session)
    names = [f"recordings/test/{uuid.uuid4()}.wav" for _ in range(3)]
    for name in names:
        await upload_blob(settings, name, b"RIFF")
        await add_interaction(db_session, user_id, recording_blob=name)
    await say(client, alice, "hello")
    bob_id = await say(client, bob, "hello")

    response = await client.delete(HISTORY, headers=alice)

    assert response.status_code == 204
    assert (await history(client, alice)).json()["total"] == 0
    assert set(names).isdisjoint(await blob_names(settings))
    bob_items = (await history(client, bob)).json()["items"]
    assert [item["id"] for item in bob_items] == [bob_id]
