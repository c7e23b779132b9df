"""Voice endpoints when the speech workers are busy or slow."""

import asyncio

import httpx

from pravis_api.core.config import Settings
from tests.conftest import DATA, running_app
from tests.servers import LocalServer, azurite_connection_string

QUERY = "/api/v1/voice/query"
RECORDING = (DATA / "goforward.wav").read_bytes()


async def post_recording(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        QUERY, files={"audio": ("clip.wav", RECORDING, "audio/wav")}
    )


async def test_full_pool_sheds_with_503(
    settings: Settings, azurite: LocalServer
) -> None:
    async with running_app(
        database_url=settings.sqlalchemy_database_url,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        speech_workers=1,
        speech_queue_limit=0,
    ) as (_, client):
        responses = await asyncio.gather(*(post_recording(client) for _ in range(3)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses[0] == 200
    assert 503 in statuses
    for response in responses:
        if response.status_code == 503:
            assert response.headers["retry-after"] == "2"
            assert response.headers["content-type"] == "application/problem+json"
            assert "busy" in response.json()["detail"]


async def test_slow_transcription_is_503(
    settings: Settings, azurite: LocalServer
) -> None:
    async with running_app(
        database_url=settings.sqlalchemy_database_url,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        speech_timeout_seconds=0.05,
    ) as (_, client):
        response = await post_recording(client)

    assert response.status_code == 503
    problem = response.json()
    assert problem["type"] == "urn:problem:pravis:speech-timeout"
    assert "retry-after" in response.headers
    assert "busy" in problem["detail"]
