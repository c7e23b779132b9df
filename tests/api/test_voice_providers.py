"""The voice routes when a cloud provider fails: 502 for a 4xx or 5xx
response, 504 for a timeout, and no interaction stored either way.

Each provider is a local fake that checks its protocol, and the tests
script its next responses. The successful paths are tested in
tests/integration/test_voice_providers.py.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from pravis_api.core.config import Settings
from pravis_api.main import create_app
from pravis_api.models.voice_interaction import VoiceInteraction
from pravis_api.services.audio import sniff_container
from tests.conftest import DATA, client_for, make_settings
from tests.fakes.azure_speech import STT_PATH, TTS_PATH
from tests.fakes.server import FakeServer

SPEECH = "/api/v1/voice/speech"
COMMAND = "/api/v1/voice/command"
QUERY = "/api/v1/voice/query"
RECORDING = (DATA / "goforward.wav").read_bytes()
TIMEOUT_SECONDS = 1.0
# One retry, so a 5xx or 429 reaches the fake twice.
MAX_RETRIES = 1


def provider_settings(base: Settings, **providers: Any) -> Settings:
    """Settings of an app of its own on the test database and Azurite."""
    assert base.database_url is not None
    return make_settings(
        database_url=base.database_url.get_secret_value(),
        azure_storage_connection_string=base.blob_connection_string,
        azure_storage_container_name=base.azure_storage_container_name,
        speech_workers=1,
        provider_timeout_seconds=TIMEOUT_SECONDS,
        provider_max_retries=MAX_RETRIES,
        **providers,
    )


@pytest.fixture(scope="module")
async def azure_app(
    settings: Settings, catalogue: None, azure_speech_server: FakeServer
) -> AsyncIterator[FastAPI]:
    app = create_app(
        provider_settings(
            settings,
            speech_to_text_provider="azure",
            text_to_speech_provider="azure",
            azure_speech_key=azure_speech_server.control.key,
            azure_speech_stt_endpoint=azure_speech_server.url + STT_PATH,
            azure_speech_tts_endpoint=azure_speech_server.url + TTS_PATH,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def openai_app(
    settings: Settings, catalogue: None, openai_server: FakeServer
) -> AsyncIterator[FastAPI]:
    app = create_app(
        provider_settings(
            settings,
            speech_to_text_provider="openai",
            reply_provider="openai",
            text_to_speech_provider="openai",
            openai_api_key=openai_server.control.key,
            openai_base_url=openai_server.url + "/v1",
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def azure_client(azure_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(azure_app) as client:
        yield client


@pytest.fixture
async def openai_client(openai_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(openai_app) as client:
        yield client


def new_text() -> str:
    """A sentence that no cache holds: the machine's Redis outlives runs."""
    return f"Your parcel {uuid.uuid4().hex} has left the boutique."


def new_session_id() -> str:
    return f"providers-{uuid.uuid4().hex}"


async def interactions_of(app: FastAPI, session_id: str) -> list[VoiceInteraction]:
    async with app.state.resources.session_factory() as session:
        statement = select(VoiceInteraction).where(
            VoiceInteraction.session_id == session_id
        )
        return list((await session.exec(statement)).all())


def assert_problem(
    response: httpx.Response, status: int, code: str, provider: str
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:problem:pravis:{code}"
    assert problem["status"] == status
    assert problem["provider"] == provider
    assert problem["request_id"]
    return problem


async def test_azure_speech_server_error_is_502(
    azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(503, times=MAX_RETRIES + 1)
    body = {"text": new_text(), "format": "mp3"}

    response = await azure_client.post(SPEECH, json=body)

    problem = assert_problem(response, 502, "speech-provider-failed", "azure-speech")
    assert problem["provider_status"] == 503
    assert "503 Service Unavailable" in problem["detail"]
    assert azure_fake.control.key not in response.text
    assert [request.path for request in azure_fake.control.requests] == [
        TTS_PATH,
        TTS_PATH,
    ]
    # The failure cached nothing: the next request reaches the provider.
    retried = await azure_client.post(SPEECH, json=body)
    assert retried.status_code == 200, retried.text
    assert retried.headers["x-cache"] == "MISS"
    assert sniff_container(retried.content) == "mp3"
    assert len(azure_fake.control.requests) == 3


async def test_azure_speech_client_error_is_502(
    azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(400)

    response = await azure_client.post(SPEECH, json={"text": new_text()})

    problem = assert_problem(response, 502, "speech-provider-failed", "azure-speech")
    assert problem["provider_status"] == 400
    assert len(azure_fake.control.requests) == 1, "a 4xx must not be retried"


async def test_openai_speech_server_error_is_502(
    openai_client: httpx.AsyncClient, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(500, times=MAX_RETRIES + 1)
    body = {"text": new_text(), "voice": "onyx", "format": "wav"}

    response = await openai_client.post(SPEECH, json=body)

    problem = assert_problem(response, 502, "speech-provider-failed", "openai")
    assert problem["provider_status"] == 500
    assert "500 Internal Server Error" in problem["detail"]
    assert openai_fake.control.key not in response.text
    assert [request.path for request in openai_fake.control.requests] == [
        "/v1/audio/speech",
        "/v1/audio/speech",
    ]
    # The failure cached nothing: the next request reaches the provider.
    retried = await openai_client.post(SPEECH, json=body)
    assert retried.status_code == 200, retried.text
    assert retried.headers["x-cache"] == "MISS"
    assert sniff_container(retried.content) == "wav"
    assert len(openai_fake.control.requests) == 3


async def test_openai_speech_timeout_is_504(
    openai_client: httpx.AsyncClient, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)
    body = {"text": new_text(), "format": "ogg"}

    response = await openai_client.post(SPEECH, json=body)

    problem = assert_problem(response, 504, "speech-provider-timeout", "openai")
    assert f"within {TIMEOUT_SECONDS:g} s" in problem["detail"]
    assert len(openai_fake.control.requests) == 1, "a timeout must not be retried"
    # The late response cached nothing: the next request reaches the provider.
    retried = await openai_client.post(SPEECH, json=body)
    assert retried.status_code == 200, retried.text
    assert retried.headers["x-cache"] == "MISS"


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_openai_command_reply_client_error_is_502(
    openai_app: FastAPI,
    openai_client: httpx.AsyncClient,
    openai_fake: FakeServer,
    status: int,
) -> None:
    openai_fake.control.answer_next(status)
    session_id = new_session_id()

    response = await openai_client.post(
        COMMAND,
        json={"text": "hello", "session_id": session_id, "speak": True},
    )

    problem = assert_problem(response, 502, "reply-provider-failed", "openai")
    assert problem["provider_status"] == status
    assert openai_fake.control.key not in response.text
    # Not retried, and the reply never reached speech synthesis.
    assert [request.path for request in openai_fake.control.requests] == [
        "/v1/chat/completions"
    ]
    assert await interactions_of(openai_app, session_id) == []
    # The same request, once the provider succeeds, stores its row where the
    # check above looked.
    answered = await openai_client.post(
        COMMAND, json={"text": "hello", "session_id": session_id}
    )
    assert answered.status_code == 200, answered.text
    [row] = await interactions_of(openai_app, session_id)
    assert row.id == uuid.UUID(answered.json()["interaction_id"])


async def test_openai_query_reply_client_error_is_502(
    openai_app: FastAPI, openai_client: httpx.AsyncClient, openai_fake: FakeServer
) -> None:
    # The transcription succeeds and the chat completion is rejected.
    openai_fake.control.answer_next(None)
    openai_fake.control.answer_next(400)
    session_id = new_session_id()
    blobs = openai_app.state.resources.blobs
    recordings_before = await blobs.list_names("recordings/")

    response = await openai_client.post(
        QUERY,
        files={"audio": ("request.wav", RECORDING, "audio/wav")},
        data={"session_id": session_id, "store_recording": "true", "speak": "true"},
    )

    problem = assert_problem(response, 502, "reply-provider-failed", "openai")
    assert problem["provider_status"] == 400
    assert [request.path for request in openai_fake.control.requests] == [
        "/v1/audio/transcriptions",
        "/v1/chat/completions",
    ]
    assert await interactions_of(openai_app, session_id) == []
    assert await blobs.list_names("recordings/") == recordings_before
    # The same request, once the provider succeeds, stores its row and
    # recording where the checks above looked.
    answered = await openai_client.post(
        QUERY,
        files={"audio": ("request.wav", RECORDING, "audio/wav")},
        data={"session_id": session_id, "store_recording": "true"},
    )
    assert answered.status_code == 200, answered.text
    [row] = await interactions_of(openai_app, session_id)
    assert row.recording_blob is not None
    recordings_after = await blobs.list_names("recordings/")
    assert set(recordings_after) - set(recordings_before) == {row.recording_blob}
