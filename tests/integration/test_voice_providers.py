"""The voice routes with every stage on Azure AI Speech or on an
OpenAI-compatible server, each a local fake that checks its protocol:
the working paths, then 502 and 504 when the provider fails."""

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
from pravis_api.services.speech.cache import speech_key
from pravis_api.services.speech.spoken_text import spoken_text
from pravis_api.services.speech.synthesis import SPEECH_PATH
from tests.conftest import DATA, client_for, make_settings
from tests.fakes.azure_speech import STT_PATH, TTS_PATH
from tests.fakes.openai_api import DEFAULT_REPLY
from tests.fakes.server import FakeServer

RECORDING = (DATA / "goforward.wav").read_bytes()
SPOKEN_REQUEST = "show me red dresses under one hundred dollars"
TIMEOUT_SECONDS = 1.0
# One retry, so a 5xx or 429 reaches the fake twice.
MAX_RETRIES = 1
SPEECH = "/api/v1/voice/speech"
COMMAND = "/api/v1/voice/command"
QUERY = "/api/v1/voice/query"


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


async def forget_speech(app: FastAPI, url: str) -> None:
    """Remove one spoken reply from the speech cache, by its URL.

    The machine's Redis outlives test runs, so a reply spoken by an earlier
    run would be a cache hit and reach no provider.
    """
    name = url.rsplit("/", 1)[1]
    resources = app.state.resources
    resources.speech_cache.memory.clear()
    await resources.redis.delete(f"speech:{name}")
    await resources.blobs.delete(f"speech/{name}")


async def forget_spoken(app: FastAPI, text: str, voice: str, audio_format: str) -> None:
    """Remove the speech of `text` from the cache; `voice` as cache_voice gives it."""
    key = speech_key(spoken_text(text), voice, audio_format)
    await forget_speech(app, f"{SPEECH_PATH}/{key}.{audio_format}")


async def stored_interaction(app: FastAPI, interaction_id: str) -> VoiceInteraction:
    async with app.state.resources.session_factory() as session:
        row = await session.get(VoiceInteraction, uuid.UUID(interaction_id))
    assert row is not None
    return row


async def interactions_of(app: FastAPI, session_id: str) -> list[VoiceInteraction]:
    async with app.state.resources.session_factory() as session:
        statement = select(VoiceInteraction).where(
            VoiceInteraction.session_id == session_id
        )
        return list((await session.exec(statement)).all())


def new_session_id() -> str:
    return f"providers-{uuid.uuid4().hex}"


async def query(
    client: httpx.AsyncClient, session_id: str, **form: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/voice/query",
        files={"audio": ("request.wav", RECORDING, "audio/wav")},
        data={"session_id": session_id, **form},
    )


async def test_azure_voice_query_speaks_reply(
    azure_app: FastAPI, azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    earlier = (await query(azure_client, new_session_id(), speak="true")).json()
    await forget_speech(azure_app, earlier["speech"]["url"])
    azure_fake.control.requests.clear()

    response = await query(azure_client, new_session_id(), speak="true")

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["speech"]["cache"] == "MISS"
    assert reply["transcript"] == "Show me red dresses under one hundred dollars."
    assert reply["intent"] == "search"
    assert reply["action"]["type"] == "search"
    assert reply["entities"]["color"] == "red"
    assert reply["entities"]["max_price"] == 100
    assert reply["products"]
    assert all(product["price_minor"] <= 10_000 for product in reply["products"])
    assert reply["speech"]["format"] == "ogg"

    audio = await azure_client.get(reply["speech"]["url"])
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/ogg"
    assert sniff_container(audio.content) == "ogg"
    stt, tts = azure_fake.control.requests
    assert stt.path == STT_PATH
    assert tts.path == TTS_PATH
    assert tts.parsed["voices"] == ["en-US-JennyNeural"]
    assert "one hundred dollars" in tts.parsed["text"]

    row = await stored_interaction(azure_app, reply["interaction_id"])
    assert row.stt_engine == "azure-speech"
    assert row.transcript == reply["transcript"]


async def test_azure_transcribe_route(
    azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    response = await azure_client.post(
        "/api/v1/voice/transcribe",
        files={"audio": ("request.wav", RECORDING, "audio/wav")},
    )

    assert response.status_code == 200, response.text
    assert response.json()["engine"] == "azure-speech/en-US"
    assert response.json()["transcript"].startswith("Show me red dresses")
    assert len(azure_fake.control.requests) == 1


async def test_azure_speech_route_caches(
    azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    body = {
        "text": f"Welcome back, {uuid.uuid4().hex[:6]}.",
        "voice": "en-GB-RyanNeural",
        "format": "mp3",
    }
    first = await azure_client.post("/api/v1/voice/speech", json=body)
    second = await azure_client.post("/api/v1/voice/speech", json=body)

    assert first.status_code == 200, first.text
    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert first.headers["content-type"] == "audio/mpeg"
    assert second.content == first.content
    assert len(azure_fake.control.requests) == 1
    assert azure_fake.control.requests[0].parsed["voices"] == ["en-GB-RyanNeural"]


async def test_azure_voices_listed(azure_client: httpx.AsyncClient) -> None:
    response = await azure_client.get("/api/v1/voice/voices")

    ids = [voice["id"] for voice in response.json()]
    assert "en-US-JennyNeural" in ids
    assert "en-IN-NeerjaNeural" in ids
    assert "en-us-f" not in ids
    rejected = await azure_client.post(
        "/api/v1/voice/speech", json={"text": "Hello.", "voice": "en-us-f"}
    )
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["field"] == "voice"


async def test_azure_rejected_key_is_502(
    azure_app: FastAPI, azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(401)
    session_id = new_session_id()

    response = await query(azure_client, session_id)

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:problem:pravis:speech-provider-failed"
    assert problem["provider"] == "azure-speech"
    assert problem["provider_status"] == 401
    assert problem["request_id"]
    assert azure_fake.control.key not in response.text
    assert await interactions_of(azure_app, session_id) == []


async def test_azure_timeout_is_504(
    azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)

    response = await azure_client.post(
        "/api/v1/voice/speech", json={"text": f"Timeout {uuid.uuid4().hex}"}
    )

    assert response.status_code == 504
    assert response.json()["type"] == "urn:problem:pravis:speech-provider-timeout"


async def test_azure_speech_failure_keeps_text_reply(
    azure_app: FastAPI, azure_client: httpx.AsyncClient, azure_fake: FakeServer
) -> None:
    await forget_spoken(
        azure_app, "Opening your cart.", "azure-speech/en-US-JennyNeural", "ogg"
    )
    azure_fake.control.options["transcript"] = "open my cart"
    # The recognition succeeds; both tries of the synthesis fail.
    azure_fake.control.answer_next(None)
    azure_fake.control.answer_next(503, times=2)

    response = await query(azure_client, new_session_id(), speak="true")

    assert response.status_code == 200, response.text
    assert response.json()["action"]["page"] == "cart"
    assert response.json()["speech"] is None


async def test_openai_voice_command_speaks_model_reply(
    openai_app: FastAPI, openai_client: httpx.AsyncClient, openai_fake: FakeServer
) -> None:
    await forget_spoken(openai_app, DEFAULT_REPLY, "openai/tts-1/shimmer", "mp3")
    response = await openai_client.post(
        "/api/v1/voice/command",
        json={
            "text": SPOKEN_REQUEST,
            "session_id": new_session_id(),
            "speak": True,
            "voice": "shimmer",
            "format": "mp3",
        },
    )

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["reply"] == DEFAULT_REPLY
    assert reply["intent"] == "search"
    assert reply["action"]["type"] == "search"
    assert reply["products"]
    chat, speech = openai_fake.control.requests
    assert chat.path == "/v1/chat/completions"
    system_prompt = chat.parsed["messages"][0]["content"]
    for product in reply["products"]:
        assert product["name"] in system_prompt
    assert speech.parsed["voice"] == "shimmer"
    assert speech.parsed["input"] == DEFAULT_REPLY
    audio = await openai_client.get(reply["speech"]["url"])
    assert sniff_container(audio.content) == "mp3"


async def test_openai_voice_query(
    openai_app: FastAPI, openai_client: httpx.AsyncClient, openai_fake: FakeServer
) -> None:
    await forget_spoken(openai_app, DEFAULT_REPLY, "openai/tts-1/nova", "ogg")

    response = await query(openai_client, new_session_id(), speak="true")

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["transcript"] == SPOKEN_REQUEST
    assert reply["intent"] == "search"
    assert reply["reply"] == DEFAULT_REPLY
    assert reply["speech"]["format"] == "ogg"
    paths = [request.path for request in openai_fake.control.requests]
    assert paths == [
        "/v1/audio/transcriptions",
        "/v1/chat/completions",
        "/v1/audio/speech",
    ]
    assert openai_fake.control.requests[2].parsed["response_format"] == "opus"
    row = await stored_interaction(openai_app, reply["interaction_id"])
    assert row.stt_engine == "openai"
    assert row.reply == DEFAULT_REPLY


async def test_openai_reply_failure_is_502(
    openai_app: FastAPI, openai_client: httpx.AsyncClient, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(500, times=2)
    session_id = new_session_id()

    response = await openai_client.post(
        "/api/v1/voice/command", json={"text": "hello", "session_id": session_id}
    )

    assert response.status_code == 502
    problem = response.json()
    assert problem["type"] == "urn:problem:pravis:reply-provider-failed"
    assert problem["provider"] == "openai"
    assert problem["provider_status"] == 500
    assert len(openai_fake.control.requests) == 2
    assert await interactions_of(openai_app, session_id) == []


async def test_openai_voices_listed(openai_client: httpx.AsyncClient) -> None:
    response = await openai_client.get("/api/v1/voice/voices")

    assert {voice["id"] for voice in response.json()} == {
        "alloy",
        "echo",
        "fable",
        "onyx",
        "nova",
        "shimmer",
    }


# A provider that fails: 502 for a 4xx or 5xx response, 504 for a timeout,
# and nothing cached or stored either way.


def new_text() -> str:
    """A sentence that no cache holds: the machine's Redis outlives runs."""
    return f"Your parcel {uuid.uuid4().hex} has left the boutique."


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
