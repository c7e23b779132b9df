"""A recording is kept only when the shopper allows it: by the request's
field, else the account's preference, else VOICE_STORE_RECORDINGS_DEFAULT."""

from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from pravis_api.services.voice import recording_allowed
from tests.conftest import DATA, register_and_login, running_app
from tests.helpers import blob_names
from tests.servers import LocalServer, azurite_connection_string

RECORDING = (DATA / "goforward.wav").read_bytes()


async def speak(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **form: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/voice/query",
        files={"audio": ("clip.wav", RECORDING, "audio/wav")},
        data=form,
        headers=headers,
    )
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def stored_blob(session: AsyncSession, reply: dict[str, Any]) -> str | None:
    row = await session.get(VoiceInteraction, reply["interaction_id"])
    assert row is not None
    return row.recording_blob


@pytest.mark.parametrize(
    ("request_choice", "account_choice", "default", "expected"),
    [
        (None, None, False, False),
        (None, None, True, True),
        (None, True, False, True),
        (None, False, True, False),
        (True, False, False, True),
        (False, True, True, False),
    ],
)
def test_recording_allowed_precedence(
    request_choice: bool | None,
    account_choice: bool | None,
    default: bool,
    expected: bool,
) -> None:
    assert recording_allowed(request_choice, account_choice, default) is expected


async def test_recording_not_stored_by_default(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    blobs_before = await blob_names(settings)
    reply = await speak(client)
    assert await stored_blob(db_session, reply) is None
    assert "store_recording" not in reply["timings_ms"]
    assert await blob_names(settings) == blobs_before


async def test_recording_stored_when_request_allows(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    reply = await speak(client, store_recording="true")
    name = await stored_blob(db_session, reply)
    assert name is not None
    assert name in await blob_names(settings)


async def test_recording_follows_account_preference(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = await register_and_login(client)
    response = await client.patch(
        "/api/v1/users/me", json={"store_recordings": True}, headers=headers
    )
    assert response.json()["store_recordings"] is True

    allowed = await speak(client, headers)
    denied_by_request = await speak(client, headers, store_recording="false")
    await client.patch(
        "/api/v1/users/me", json={"store_recordings": False}, headers=headers
    )
    denied_by_account = await speak(client, headers)

    assert await stored_blob(db_session, allowed) is not None
    assert await stored_blob(db_session, denied_by_request) is None
    assert await stored_blob(db_session, denied_by_account) is None


async def test_recording_preference_at_registration(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "consent-at-signup@example.com",
            "password": "correct horse 42",
            "store_recordings": True,
        },
    )
    assert response.status_code == 201
    assert response.json()["store_recordings"] is True


async def test_recording_choice_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/voice/query",
        files={"audio": ("clip.wav", RECORDING, "audio/wav")},
        data={"store_recording": "perhaps"},
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [
        "store_recording"
    ]


async def test_recording_default_setting_on(
    database: str, azurite: LocalServer
) -> None:
    async with running_app(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        voice_store_recordings_default=True,
    ) as (app, client):
        reply = await speak(client)
        async with app.state.resources.session_factory() as session:
            name = await stored_blob(session, reply)
    assert name is not None
