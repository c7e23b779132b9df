"""OpenAI-compatible providers against the fake that checks OpenAI's protocol."""

import json
import math
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.services.audio import sniff_container
from pravis_api.services.providers.base import (
    ReplyProviderFailedError,
    ReplyProviderTimeoutError,
    SpeechProviderFailedError,
    SpeechProviderTimeoutError,
)
from pravis_api.services.providers.grounding import WrittenReplyAssistant
from pravis_api.services.providers.http import ProviderHttp, create_http_client
from pravis_api.services.providers.openai_compatible import (
    OPENAI_VOICES,
    OpenAIReplyWriter,
    OpenAISpeechToText,
    OpenAITextToSpeech,
)
from pravis_api.services.speech_pool import SpeechWorkerPool
from tests.conftest import DATA
from tests.fakes.openai_api import DEFAULT_REPLY
from tests.fakes.server import FakeServer

RECORDING = (DATA / "goforward.wav").read_bytes()
NOVA = next(voice for voice in OPENAI_VOICES if voice.id == "nova")
TIMEOUT_SECONDS = 0.5


def provider_http(key: str) -> ProviderHttp:
    client = create_http_client(TIMEOUT_SECONDS, {"Authorization": f"Bearer {key}"})
    return ProviderHttp(
        "openai",
        "The OpenAI-compatible server",
        client,
        max_retries=2,
        max_retry_after_seconds=2.0,
    )


@pytest.fixture
async def http(openai_fake: FakeServer) -> AsyncIterator[ProviderHttp]:
    provider = provider_http(openai_fake.control.key)
    yield provider
    await provider.client.aclose()


def base_url(fake: FakeServer) -> str:
    return f"{fake.url}/v1"


def recognizer(
    app: FastAPI, http: ProviderHttp, fake: FakeServer, response_format: str
) -> OpenAISpeechToText:
    pool: SpeechWorkerPool = app.state.resources.speech_pool
    return OpenAISpeechToText(
        http,
        pool,
        base_url=base_url(fake),
        model="whisper-1",
        response_format=response_format,
    )


async def test_openai_stt_verbose_json(
    app: FastAPI, http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.options["avg_logprob"] = -0.25
    stt = recognizer(app, http, openai_fake, "verbose_json")

    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert result.transcript == "show me red dresses under one hundred dollars"
    assert len(result.words) == 8
    assert result.words[0].confidence == pytest.approx(math.exp(-0.25))
    assert stt.engine == "openai/whisper-1"
    [request] = openai_fake.control.requests
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["authorization"] == f"Bearer {openai_fake.control.key}"
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert request.parsed["model"] == "whisper-1"
    assert request.parsed["response_format"] == "verbose_json"
    assert request.parsed["language"] == "en"
    assert request.parsed["filename"] == "recording.wav"
    assert request.parsed["audio_format"] == "wav"


async def test_openai_stt_silence_lowers_confidence(
    app: FastAPI, http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.options["no_speech_prob"] = 0.9
    stt = recognizer(app, http, openai_fake, "verbose_json")

    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert all(word.confidence == pytest.approx(0.1) for word in result.words)


async def test_openai_stt_plain_json(
    app: FastAPI, http: ProviderHttp, openai_fake: FakeServer
) -> None:
    stt = recognizer(app, http, openai_fake, "json")

    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert result.transcript.startswith("show me red dresses")
    assert {word.confidence for word in result.words} == {1.0}


async def test_openai_stt_wrong_key_is_502(
    app: FastAPI, openai_fake: FakeServer
) -> None:
    http = provider_http("sk-wrong-key-5555")
    stt = recognizer(app, http, openai_fake, "json")
    try:
        with pytest.raises(SpeechProviderFailedError) as caught:
            await stt.transcribe(RECORDING, max_seconds=30)
    finally:
        await http.client.aclose()

    assert caught.value.provider_status == 401
    assert caught.value.provider == "openai"
    assert "sk-wrong-key-5555" not in caught.value.detail
    assert len(openai_fake.control.requests) == 1


async def test_openai_stt_server_error_exhausts_retries(
    app: FastAPI, http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(502, times=3)
    stt = recognizer(app, http, openai_fake, "json")

    with pytest.raises(SpeechProviderFailedError) as caught:
        await stt.transcribe(RECORDING, max_seconds=30)

    assert caught.value.provider_status == 502
    assert len(openai_fake.control.requests) == 3


async def test_openai_stt_timeout_is_504(
    app: FastAPI, http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)
    stt = recognizer(app, http, openai_fake, "json")

    with pytest.raises(SpeechProviderTimeoutError):
        await stt.transcribe(RECORDING, max_seconds=30)


@pytest.mark.parametrize(
    ("audio_format", "response_format"),
    [("ogg", "opus"), ("mp3", "mp3"), ("wav", "wav")],
)
async def test_openai_tts_returns_audio(
    http: ProviderHttp, openai_fake: FakeServer, audio_format: str, response_format: str
) -> None:
    tts = OpenAITextToSpeech(http, base_url=base_url(openai_fake), model="tts-1")

    audio = await tts.synthesize("Two red dresses.", NOVA, audio_format)

    assert sniff_container(audio) == audio_format
    [request] = openai_fake.control.requests
    assert request.headers["content-type"] == "application/json"
    assert request.parsed == {
        "model": "tts-1",
        "input": "Two red dresses.",
        "voice": "nova",
        "response_format": response_format,
    }


async def test_openai_tts_bad_request_not_retried(
    http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(400)
    tts = OpenAITextToSpeech(http, base_url=base_url(openai_fake), model="tts-1")

    with pytest.raises(SpeechProviderFailedError):
        await tts.synthesize("Hello.", NOVA, "mp3")

    assert len(openai_fake.control.requests) == 1


async def test_openai_tts_server_error_exhausts_retries(
    http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(500, times=3)
    tts = OpenAITextToSpeech(http, base_url=base_url(openai_fake), model="tts-1")

    with pytest.raises(SpeechProviderFailedError) as caught:
        await tts.synthesize("Hello.", NOVA, "mp3")

    assert caught.value.status == 502
    assert caught.value.code == "speech-provider-failed"
    assert caught.value.provider_status == 500
    assert "on all 3 attempts" in caught.value.detail
    assert len(openai_fake.control.requests) == 3


async def test_openai_tts_timeout_is_504(
    http: ProviderHttp, openai_fake: FakeServer
) -> None:
    openai_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)
    tts = OpenAITextToSpeech(http, base_url=base_url(openai_fake), model="tts-1")

    with pytest.raises(SpeechProviderTimeoutError) as caught:
        await tts.synthesize("Hello.", NOVA, "mp3")

    assert caught.value.status == 504
    assert caught.value.code == "speech-provider-timeout"
    assert len(openai_fake.control.requests) == 1, "a timeout must not be retried"


def written_assistant(
    session: AsyncSession, http: ProviderHttp, fake: FakeServer
) -> WrittenReplyAssistant:
    writer = OpenAIReplyWriter(http, base_url=base_url(fake), model="gpt-test")
    return WrittenReplyAssistant(session, currency="USD", max_products=5, writer=writer)


async def test_openai_reply_grounded_in_catalogue(
    db_session: AsyncSession,
    catalogue: None,
    http: ProviderHttp,
    openai_fake: FakeServer,
) -> None:
    assistant = written_assistant(db_session, http, openai_fake)
    text = "show me red dresses under one hundred dollars"

    answer = await assistant.respond(text, "grounding-test-0001", spoken=True)

    assert answer.reply == DEFAULT_REPLY
    assert answer.intent == "search"
    assert answer.action is not None
    assert answer.action["type"] == "search"
    assert answer.products
    [request] = openai_fake.control.requests
    assert request.path == "/v1/chat/completions"
    body = json.loads(request.body)
    assert body["model"] == "gpt-test"
    system, user = body["messages"]
    assert system["role"] == "system"
    assert user == {"role": "user", "content": text}
    for product in answer.products:
        assert product.name in system["content"]
    assert "Store policies" in system["content"]
    assert "returns" in system["content"]
    assert "spoken aloud" in system["content"]


async def test_openai_reply_server_error_is_502(
    db_session: AsyncSession,
    catalogue: None,
    http: ProviderHttp,
    openai_fake: FakeServer,
) -> None:
    openai_fake.control.answer_next(500, times=3)
    assistant = written_assistant(db_session, http, openai_fake)

    with pytest.raises(ReplyProviderFailedError) as caught:
        await assistant.respond("hello", "grounding-test-0002")

    assert caught.value.code == "reply-provider-failed"
    assert len(openai_fake.control.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_openai_reply_client_error_is_502(
    db_session: AsyncSession,
    catalogue: None,
    http: ProviderHttp,
    openai_fake: FakeServer,
    status: int,
) -> None:
    openai_fake.control.answer_next(status)
    assistant = written_assistant(db_session, http, openai_fake)

    with pytest.raises(ReplyProviderFailedError) as caught:
        await assistant.respond("hello", "grounding-test-0006")

    assert caught.value.status == 502
    assert caught.value.code == "reply-provider-failed"
    assert caught.value.provider_status == status
    assert len(openai_fake.control.requests) == 1, "a 4xx must not be retried"


async def test_openai_reply_429_waits_retry_after(
    db_session: AsyncSession,
    catalogue: None,
    http: ProviderHttp,
    openai_fake: FakeServer,
) -> None:
    openai_fake.control.answer_next(429, headers={"Retry-After": "1"})
    assistant = written_assistant(db_session, http, openai_fake)

    started = time.monotonic()
    answer = await assistant.respond("hello", "grounding-test-0003")

    assert time.monotonic() - started >= 1.0
    assert answer.reply == DEFAULT_REPLY
    assert answer.intent == "greeting"


async def test_openai_reply_timeout_is_504(
    db_session: AsyncSession,
    catalogue: None,
    http: ProviderHttp,
    openai_fake: FakeServer,
) -> None:
    openai_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)
    assistant = written_assistant(db_session, http, openai_fake)

    with pytest.raises(ReplyProviderTimeoutError) as caught:
        await assistant.respond("hello", "grounding-test-0004")

    assert caught.value.status == 504


async def test_openai_reply_without_choices_is_502(
    db_session: AsyncSession,
    catalogue: None,
    http: ProviderHttp,
    openai_fake: FakeServer,
) -> None:
    openai_fake.control.options["chat_without_choices"] = True
    assistant = written_assistant(db_session, http, openai_fake)

    with pytest.raises(ReplyProviderFailedError, match="no message content"):
        await assistant.respond("hello", "grounding-test-0005")


async def test_openai_fake_rejects_broken_requests(openai_fake: FakeServer) -> None:
    """The fake must reject what the API rejects, or the tests above prove little."""
    auth = {"Authorization": f"Bearer {openai_fake.control.key}"}
    v1 = base_url(openai_fake)
    wav = ("clip.wav", RECORDING, "audio/wav")
    speech = {"model": "tts-1", "input": "Hi", "voice": "nova"}
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(timeout=5) as client:
        cases = [
            (
                client.post(f"{v1}/audio/transcriptions", files={"file": wav}),
                401,
            ),
            (
                client.post(
                    f"{v1}/audio/transcriptions", headers=auth, data={"model": "m"}
                ),
                400,
            ),
            (
                client.post(
                    f"{v1}/audio/transcriptions", headers=auth, files={"file": wav}
                ),
                400,
            ),
            (
                client.post(
                    f"{v1}/audio/transcriptions",
                    headers=auth,
                    files={"file": ("a.txt", b"plain text", "text/plain")},
                    data={"model": "m"},
                ),
                400,
            ),
            (client.post(f"{v1}/audio/transcriptions", headers=auth, json={}), 400),
            (
                client.post(
                    f"{v1}/chat/completions", headers=auth, json={"model": "m"}
                ),
                400,
            ),
            (client.post(f"{v1}/chat/completions", headers=auth, content=b"{"), 400),
            (client.post(f"{v1}/chat/completions", json=chat), 401),
            (
                client.post(
                    f"{v1}/audio/speech", headers=auth, json={**speech, "voice": "x"}
                ),
                400,
            ),
            (client.post(f"{v1}/audio/speech", headers=auth, data=speech), 400),
            (client.post(f"{v1}/audio/speech", headers=auth, json=speech), 200),
            (
                client.post(
                    f"{v1}/audio/transcriptions",
                    headers=auth,
                    files={"file": wav},
                    data={"model": "m"},
                ),
                200,
            ),
        ]
        for request, expected in cases:
            response = await request
            assert response.status_code == expected, response.request.url
