"""Recordings: streamed by the API, or read through a short-lived SAS link."""

import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.base import utc_now
from tests.conftest import DATA, register_and_login, running_app, user_id_of
from tests.helpers import add_interaction
from tests.servers import azurite_connection_string, azurite_server

RECORDING = (DATA / "goforward.wav").read_bytes()
RECORDINGS = "/api/v1/voice/recordings"


async def speak(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post(
        "/api/v1/voice/query",
        files={"audio": ("clip.wav", RECORDING, "audio/wav")},
        data={"store_recording": "true"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    interaction_id: str = response.json()["interaction_id"]
    return interaction_id


async def test_recording_streamed(client: httpx.AsyncClient) -> None:
    headers = await register_and_login(client)
    interaction_id = await speak(client, headers)

    item = (
        await client.get(f"/api/v1/voice/history/{interaction_id}", headers=headers)
    ).json()
    assert item["recording_url"] == f"{RECORDINGS}/{interaction_id}"

    response = await client.get(item["recording_url"], headers=headers)
    assert response.status_code == 200
    assert response.content == RECORDING
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["content-length"] == str(len(RECORDING))
    assert response.headers["cache-control"] == "private, no-store"


async def test_recording_link_reads_blob(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await register_and_login(client)
    interaction_id = await speak(client, headers)
    before = utc_now()

    response = await client.get(f"{RECORDINGS}/{interaction_id}/link", headers=headers)

    assert response.status_code == 200
    link = response.json()
    expires_at = datetime.fromisoformat(link["expires_at"])
    lifetime = timedelta(minutes=settings.recording_link_expire_minutes)
    assert before + lifetime - timedelta(seconds=5) <= expires_at
    assert expires_at <= utc_now() + lifetime
    query = parse_qs(urlsplit(link["url"]).query)
    assert query["sp"] == ["r"]
    # The link is signed for Azurite on this machine; read it like a browser.
    async with httpx.AsyncClient() as browser:
        blob = await browser.get(link["url"])
    assert blob.status_code == 200
    assert blob.content == RECORDING


async def test_recording_link_tampered_fails(client: httpx.AsyncClient) -> None:
    headers = await register_and_login(client)
    interaction_id = await speak(client, headers)
    link = (
        await client.get(f"{RECORDINGS}/{interaction_id}/link", headers=headers)
    ).json()
    # The signature covers the blob name: pointing it elsewhere is refused.
    other_blob = link["url"].replace(interaction_id, str(uuid.uuid4()))
    async with httpx.AsyncClient() as browser:
        response = await browser.get(other_blob)
    assert response.status_code == 403


async def test_recording_absent_is_404(client: httpx.AsyncClient) -> None:
    headers = await register_and_login(client)
    response = await client.post(
        "/api/v1/voice/command", json={"text": "hello"}, headers=headers
    )
    interaction_id = response.json()["interaction_id"]
    for url in (
        f"{RECORDINGS}/{interaction_id}",
        f"{RECORDINGS}/{interaction_id}/link",
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert "no stored recording" in response.json()["detail"]


async def test_recording_blob_missing_is_404(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    headers = await register_and_login(client, email)
    row = await add_interaction(
        db_session,
        await user_id_of(db_session, email),
        recording_blob=f"recordings/test/{uuid.uuid4()}.wav",
    )
    response = await client.get(f"{RECORDINGS}/{row.id}", headers=headers)
    assert response.status_code == 404
    assert "no longer stored" in response.json()["detail"]


async def test_recording_storage_down_503(database: str) -> None:
    blob_server = azurite_server().start()
    try:
        async with running_app(
            database_url=database,
            azure_storage_connection_string=azurite_connection_string(blob_server.port),
            blob_timeout_seconds=1,
        ) as (_, client):
            headers = await register_and_login(client)
            interaction_id = await speak(client, headers)
            blob_server.stop()
            response = await client.get(
                f"{RECORDINGS}/{interaction_id}", headers=headers
            )
    finally:
        blob_server.stop()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
