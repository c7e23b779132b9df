"""Azure AI Speech providers against the fake that checks Azure's protocol."""

import io
import time
import wave
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from pravis_api.services.audio import sniff_container
from pravis_api.services.providers.azure_speech import (
    AZURE_VOICES,
    KEY_HEADER,
    AzureSpeechToText,
    AzureTextToSpeech,
    build_ssml,
)
from pravis_api.services.providers.base import (
    SpeechProviderFailedError,
    SpeechProviderTimeoutError,
)
from pravis_api.services.providers.http import ProviderHttp, create_http_client
from pravis_api.services.speech_pool import SpeechWorkerPool
from tests.conftest import DATA
from tests.fakes.azure_speech import STT_PATH, TTS_PATH
from tests.fakes.server import FakeServer
from tests.servers import free_port

RECORDING = (DATA / "goforward.wav").read_bytes()
JENNY = AZURE_VOICES[0]
TIMEOUT_SECONDS = 0.5


@pytest.fixture
async def http(azure_fake: FakeServer) -> AsyncIterator[ProviderHttp]:
    client = create_http_client(TIMEOUT_SECONDS, {KEY_HEADER: azure_fake.control.key})
    yield ProviderHttp(
        "azure-speech",
        "Azure AI Speech",
        client,
        max_retries=2,
        max_retry_after_seconds=2.0,
    )
    await client.aclose()


def speech_pool(app: FastAPI) -> SpeechWorkerPool:
    pool: SpeechWorkerPool = app.state.resources.speech_pool
    return pool


def recognizer(app: FastAPI, http: ProviderHttp, url: str) -> AzureSpeechToText:
    return AzureSpeechToText(http, speech_pool(app), url=url, language="en-US")


async def test_azure_stt_transcribes_recording(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert result.error_code is None
    assert result.transcript == "Show me red dresses under one hundred dollars."
    assert [word.text for word in result.words][:3] == ["show", "me", "red"]
    assert {word.confidence for word in result.words} == {0.93}
    assert result.audio_format == "wav"
    assert result.duration_s == pytest.approx(2.79, abs=0.1)
    [request] = azure_fake.control.requests
    assert request.query == {"language": "en-US", "format": "detailed"}
    assert request.headers[KEY_HEADER.lower()] == azure_fake.control.key
    assert request.headers["content-type"] == (
        "audio/wav; codecs=audio/pcm; samplerate=16000"
    )
    assert request.headers["accept"] == "application/json"
    with wave.open(io.BytesIO(request.body), "rb") as sent:
        assert sent.getframerate() == 16000
        assert sent.getnchannels() == 1


async def test_azure_stt_decodes_webm(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    result = await stt.transcribe(
        (DATA / "goforward.webm").read_bytes(), max_seconds=30
    )

    assert result.audio_format == "webm"
    assert sniff_container(azure_fake.control.requests[0].body) == "wav"


@pytest.mark.parametrize("status", ["NoMatch", "InitialSilenceTimeout"])
async def test_azure_stt_no_speech_is_empty(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer, status: str
) -> None:
    azure_fake.control.options["recognition_status"] = status
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert result.transcript == ""
    assert result.words == ()


async def test_azure_stt_error_status_is_502(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.options["recognition_status"] = "Error"
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    with pytest.raises(SpeechProviderFailedError, match="RecognitionStatus"):
        await stt.transcribe(RECORDING, max_seconds=30)


async def test_azure_stt_bad_audio_sends_nothing(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    result = await stt.transcribe(b"this is not audio at all", max_seconds=30)

    assert result.error_code == "unsupported-format"
    assert azure_fake.control.requests == []


async def test_azure_stt_too_long_sends_nothing(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    result = await stt.transcribe(RECORDING, max_seconds=1)

    assert result.error_code == "too-long"
    assert azure_fake.control.requests == []


async def test_azure_stt_wrong_key_is_502(app: FastAPI, azure_fake: FakeServer) -> None:
    client = create_http_client(TIMEOUT_SECONDS, {KEY_HEADER: "wrong-key-98765"})
    http = ProviderHttp(
        "azure-speech", "Azure AI Speech", client, max_retries=2,
        max_retry_after_seconds=2.0,
    )  # fmt: skip
    stt = recognizer(app, http, azure_fake.url + STT_PATH)
    try:
        with pytest.raises(SpeechProviderFailedError) as caught:
            await stt.transcribe(RECORDING, max_seconds=30)
    finally:
        await client.aclose()

    error = caught.value
    assert error.status == 502
    assert error.code == "speech-provider-failed"
    assert error.provider == "azure-speech"
    assert error.provider_status == 401
    assert "401 Unauthorized" in error.detail
    assert "wrong-key-98765" not in error.detail
    assert len(azure_fake.control.requests) == 1, "a 401 must not be retried"


async def test_azure_stt_server_error_retried(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(500)
    azure_fake.control.answer_next(503)
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert result.transcript.startswith("Show me red dresses")
    assert len(azure_fake.control.requests) == 3


async def test_azure_stt_server_error_exhausts_retries(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(500, times=5)
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    with pytest.raises(SpeechProviderFailedError) as caught:
        await stt.transcribe(RECORDING, max_seconds=30)

    assert caught.value.provider_status == 500
    assert "on all 3 attempts" in caught.value.detail
    assert len(azure_fake.control.requests) == 3


async def test_azure_stt_429_waits_retry_after(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(429, headers={"Retry-After": "1"})
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    started = time.monotonic()
    result = await stt.transcribe(RECORDING, max_seconds=30)

    assert time.monotonic() - started >= 1.0
    assert result.transcript.startswith("Show me")
    assert len(azure_fake.control.requests) == 2


async def test_azure_stt_long_retry_after_fails_at_once(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(429, headers={"Retry-After": "30"})
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    with pytest.raises(SpeechProviderFailedError) as caught:
        await stt.transcribe(RECORDING, max_seconds=30)

    assert caught.value.provider_status == 429
    assert caught.value.headers["Retry-After"] == "30"
    assert len(azure_fake.control.requests) == 1


async def test_azure_stt_timeout_is_504(
    app: FastAPI, http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)
    stt = recognizer(app, http, azure_fake.url + STT_PATH)

    with pytest.raises(SpeechProviderTimeoutError) as caught:
        await stt.transcribe(RECORDING, max_seconds=30)

    assert caught.value.status == 504
    assert caught.value.code == "speech-provider-timeout"
    assert len(azure_fake.control.requests) == 1, "a timeout must not be retried"


async def test_azure_stt_unreachable_is_502(app: FastAPI, http: ProviderHttp) -> None:
    stt = recognizer(app, http, f"http://127.0.0.1:{free_port()}{STT_PATH}")

    with pytest.raises(SpeechProviderFailedError) as caught:
        await stt.transcribe(RECORDING, max_seconds=30)

    assert caught.value.provider_status is None
    assert "ConnectError" in caught.value.detail


@pytest.mark.parametrize("audio_format", ["ogg", "mp3", "wav"])
async def test_azure_tts_returns_audio(
    http: ProviderHttp, azure_fake: FakeServer, audio_format: str
) -> None:
    tts = AzureTextToSpeech(http, url=azure_fake.url + TTS_PATH)

    audio = await tts.synthesize("Here are two red dresses.", JENNY, audio_format)

    assert sniff_container(audio) == audio_format
    [request] = azure_fake.control.requests
    assert request.headers["content-type"] == "application/ssml+xml"
    assert request.headers["user-agent"].startswith("pravis-api/")
    assert request.headers["x-microsoft-outputformat"] in (
        "ogg-24khz-16bit-mono-opus",
        "audio-24khz-48kbitrate-mono-mp3",
        "riff-24khz-16bit-mono-pcm",
    )
    assert request.parsed == {
        "language": "en-US",
        "voices": ["en-US-JennyNeural"],
        "text": "Here are two red dresses.",
    }


async def test_azure_tts_escapes_markup(
    http: ProviderHttp, azure_fake: FakeServer
) -> None:
    tts = AzureTextToSpeech(http, url=azure_fake.url + TTS_PATH)
    text = 'Tom & Jerry say <break time="5s"/> "hi" </voice></speak>'

    await tts.synthesize(text, JENNY, "mp3")

    assert azure_fake.control.requests[0].parsed["text"] == text


async def test_azure_tts_bad_request_not_retried(
    http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(400)
    tts = AzureTextToSpeech(http, url=azure_fake.url + TTS_PATH)

    with pytest.raises(SpeechProviderFailedError) as caught:
        await tts.synthesize("Hello.", JENNY, "ogg")

    assert caught.value.provider_status == 400
    assert len(azure_fake.control.requests) == 1


async def test_azure_tts_timeout_is_504(
    http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(delay_seconds=TIMEOUT_SECONDS + 1)
    tts = AzureTextToSpeech(http, url=azure_fake.url + TTS_PATH)

    with pytest.raises(SpeechProviderTimeoutError):
        await tts.synthesize("Hello.", JENNY, "ogg")


async def test_azure_tts_server_error_exhausts_retries(
    http: ProviderHttp, azure_fake: FakeServer
) -> None:
    azure_fake.control.answer_next(503, times=3)
    tts = AzureTextToSpeech(http, url=azure_fake.url + TTS_PATH)

    with pytest.raises(SpeechProviderFailedError) as caught:
        await tts.synthesize("Hello.", JENNY, "ogg")

    assert caught.value.status == 502
    assert caught.value.provider_status == 503
    assert "on all 3 attempts" in caught.value.detail
    assert len(azure_fake.control.requests) == 3


def test_build_ssml_is_well_formed() -> None:
    document = build_ssml("Sizes S & M", AZURE_VOICES[4])

    root = ElementTree.fromstring(document)  # noqa: S314 (built by the test)
    namespace = "{http://www.w3.org/2001/10/synthesis}"
    assert root.tag == f"{namespace}speak"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    voice = root.find(f"{namespace}voice")
    assert voice is not None
    assert voice.get("name") == "en-GB-SoniaNeural"
    assert voice.text == "Sizes S & M"


async def test_azure_fake_rejects_broken_requests(azure_fake: FakeServer) -> None:
    """The fake must reject what Azure rejects, or the tests above prove little."""
    key = {KEY_HEADER: azure_fake.control.key}
    wav = {"Content-Type": "audio/wav; codecs=audio/pcm; samplerate=16000"}
    ssml = {
        "Content-Type": "application/ssml+xml",
        "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
        "User-Agent": "test",
    }
    good_ssml = build_ssml("Hello.", JENNY)
    sample_8k = io.BytesIO()
    with wave.open(sample_8k, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\0\0" * 800)
    stt = azure_fake.url + STT_PATH + "?language=en-US"
    tts = azure_fake.url + TTS_PATH
    cases = [
        (stt, wav, RECORDING, 403),
        (stt, {KEY_HEADER: "wrong", **wav}, RECORDING, 401),
        (stt, {**key, "Content-Type": "audio/mpeg"}, RECORDING, 415),
        (azure_fake.url + STT_PATH, {**key, **wav}, RECORDING, 400),
        (stt, {**key, **wav}, sample_8k.getvalue(), 400),
        (tts, ssml, good_ssml, 401),
        (tts, {**key, **ssml, "Content-Type": "text/plain"}, good_ssml, 415),
        (tts, {**key, **ssml, "X-Microsoft-OutputFormat": "x"}, good_ssml, 400),
        (tts, {**key, **ssml}, b"<speak version='1.0'><voice>", 400),
        (tts, {**key, **ssml}, b"<speak>Hello</speak>", 400),
        (tts, {**key, **ssml}, good_ssml.replace(b"voice name", b"voice xname"), 400),
        (tts, {**key, **ssml, "User-Agent": "a" * 254}, good_ssml, 200),
        (tts, {**key, **ssml}, good_ssml, 200),
    ]
    async with httpx.AsyncClient(timeout=5) as client:
        for url, headers, body, expected in cases:
            response = await client.post(url, headers=headers, content=body)
            assert response.status_code == expected, (headers, body[:60])


@pytest.mark.parametrize(
    "user_agent", [None, "", "a" * 255], ids=["missing", "empty", "too-long"]
)
async def test_azure_fake_rejects_bad_user_agent(
    azure_fake: FakeServer, user_agent: str | None
) -> None:
    """The fake rejects synthesis without a User-Agent of 1 to 254 characters.
    httpx sends its own User-Agent unless the client's default is deleted."""
    headers = {
        KEY_HEADER: azure_fake.control.key,
        "Content-Type": "application/ssml+xml",
        "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
    }
    async with httpx.AsyncClient(timeout=5) as client:
        del client.headers["User-Agent"]
        if user_agent is not None:
            client.headers["User-Agent"] = user_agent
        response = await client.post(
            azure_fake.url + TTS_PATH,
            headers=headers,
            content=build_ssml("Hello.", JENNY),
        )

    assert response.status_code == 400
    assert "User-Agent" in response.json()["error"]["message"]
    [request] = azure_fake.control.requests
    assert request.headers.get("user-agent") == user_agent
