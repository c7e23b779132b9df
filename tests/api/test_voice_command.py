import httpx
import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from tests.conftest import register_and_login

COMMAND = "/api/v1/voice/command"


async def test_command_navigates(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await client.post(COMMAND, json={"text": "Open my cart, please"})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["transcript"] == "Open my cart, please"
    assert reply["intent"] == "navigate"
    assert reply["entities"] == {"page": "cart"}
    assert reply["action"] == {"type": "navigate", "page": "cart", "path": "/cart"}
    assert reply["products"] == []
    assert reply["speech"] is None

    row = await db_session.get(VoiceInteraction, reply["interaction_id"])
    assert row is not None
    assert row.source == "text"
    assert row.success is True
    assert row.action == reply["action"]
    assert row.recording_blob is None
    assert row.audio_duration_s is None


async def test_command_keeps_user_and_session(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await register_and_login(client)
    response = await client.post(
        COMMAND,
        json={"text": "check out", "session_id": "session-1234-abcdef"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["session_id"] == "session-1234-abcdef"
    assert response.json()["action"] == {"type": "checkout"}
    statement = select(VoiceInteraction).where(
        VoiceInteraction.session_id == "session-1234-abcdef"
    )
    row = (await db_session.exec(statement)).one()
    assert row.user_id is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "open\x00cart"}, "text"),
        ({"text": 42}, "text"),
        ({"text": "hello", "session_id": "x"}, "session_id"),
    ],
)
async def test_command_rejects_bad_input(
    client: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    response = await client.post(COMMAND, json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_command_text_length_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.voice_max_text_chars
    at_limit = await client.post(COMMAND, json={"text": "a" * limit})
    over = await client.post(COMMAND, json={"text": "a" * (limit + 1)})
    assert at_limit.status_code == 200
    assert over.status_code == 422
    assert str(limit) in over.json()["detail"]


async def test_command_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        COMMAND, content=b'{"text": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "text", ["\u200b\u200b", "?!", "open \u202ecart", "open\x85cart", "open\x7fcart"]
)
async def test_command_rejects_unreadable_text(
    client: httpx.AsyncClient, text: str
) -> None:
    response = await client.post(COMMAND, json={"text": text})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "text"
