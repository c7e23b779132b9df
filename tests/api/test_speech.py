"""The speech routes on the embedded engines: dictation, synthesis with its
Redis and Blob Storage cache, cached speech by URL, and the voice list."""

import io
import re
import uuid

import av
import httpx
import pytest
from fastapi import FastAPI

from pravis_api.core.config import Settings
from pravis_api.services.audio import sniff_container
from pravis_api.services.speech.espeak import DEFAULT_VOICE, VOICES
from tests.conftest import DATA
from tests.helpers import blob_names, download_blob

SPEECH = "/api/v1/voice/speech"
TRANSCRIBE = "/api/v1/voice/transcribe"


def unique_text() -> str:
    """A sentence no earlier run has cached: the machine's Redis outlives runs.

    The unique part is letters only: eSpeak reads a run of digits as one
    number, and "12345678" alone took longer to say than a WAV file that
    fits the Redis entry limit (256 KiB, about 5.9 s).
    """
    letters = "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:8])
    return f"Your order {letters} is on its way."


def decoded_seconds(data: bytes) -> float:
    """Decode audio bytes with PyAV and return the length of their sound."""
    samples = 0
    rate = 0
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            samples += frame.samples
            rate = frame.sample_rate
    assert rate > 0
    return samples / rate


async def test_transcribe_keeps_general_words(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TRANSCRIBE,
        files={
            "audio": (
                "goforward.wav",
                (DATA / "goforward.wav").read_bytes(),
                "audio/wav",
            )
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert "forward" in body["transcript"].split()
    assert body["engine"] == "pocketsphinx/general-en-us"
    assert body["duration_s"] == pytest.approx(2.79, abs=0.1)


async def test_transcribe_rejects_non_audio(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TRANSCRIBE, files={"audio": ("notes.wav", b"not audio at all", "audio/wav")}
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "audio"


async def test_speech_cache_memory_blob_then_redis(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    """Before each lookup, the tiers above the one under test are emptied,
    and so is the tier below it, so only that tier can serve the hit."""
    body = {"text": unique_text(), "voice": "en-gb", "format": "ogg"}
    redis = app.state.resources.redis
    blobs = app.state.resources.blobs
    memory = app.state.resources.speech_cache.memory

    first = await client.post(SPEECH, json=body)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache"] == "MISS"
    url = first.headers["x-speech-url"]
    assert re.fullmatch(rf"{SPEECH}/[0-9a-f]{{40}}\.ogg", url), url
    name = url.rsplit("/", 1)[1]
    entry = f"speech:{name}"
    blob = f"speech/{name}"
    assert await redis.get(entry) == first.content
    assert blob in await blob_names(settings)

    assert memory.get(entry) == first.content
    from_memory = await client.post(SPEECH, json=body)
    assert from_memory.headers["x-cache"] == "HIT"
    assert from_memory.content == first.content

    # Memory and Redis are empty, so only Blob Storage can serve the hit.
    memory.clear()
    assert await redis.delete(entry) == 1
    from_blob = await client.post(SPEECH, json=body)
    assert from_blob.headers["x-cache"] == "HIT"
    assert from_blob.content == first.content
    # The Blob Storage hit puts the entry back into Redis and memory.
    assert await redis.get(entry) == first.content
    assert memory.get(entry) == first.content
    assert await download_blob(settings, blob) == first.content

    # Memory and Blob Storage are empty, so only Redis can serve the hit.
    memory.clear()
    await blobs.delete(blob)
    assert blob not in await blob_names(settings)
    from_redis = await client.post(SPEECH, json=body)
    assert from_redis.headers["x-cache"] == "HIT"
    assert from_redis.content == first.content
    # The Redis hit refills memory only: a synthesis would have uploaded
    # the blob again.
    assert memory.get(entry) == first.content
    assert blob not in await blob_names(settings)


async def test_speech_memory_hit_without_redis(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    body = {"text": unique_text(), "format": "wav"}
    redis = app.state.resources.redis
    first = await client.post(SPEECH, json=body)
    assert first.headers["x-cache"] == "MISS"
    key = first.headers["x-speech-url"].rsplit("/", 1)[1]

    assert await redis.delete(f"speech:{key}") == 1
    second = await client.post(SPEECH, json=body)

    assert second.headers["x-cache"] == "HIT"
    assert second.content == first.content
    # Served from this process's memory, so Redis was not read or refilled.
    assert await redis.get(f"speech:{key}") is None


async def test_speech_key_differs_by_voice_and_format(
    client: httpx.AsyncClient,
) -> None:
    text = unique_text()
    urls = set()
    for voice, audio_format in (("en-us", "wav"), ("en-gb", "wav"), ("en-us", "mp3")):
        response = await client.post(
            SPEECH, json={"text": text, "voice": voice, "format": audio_format}
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-cache"] == "MISS", (voice, audio_format)
        urls.add(response.headers["x-speech-url"])
    assert len(urls) == 3


@pytest.mark.parametrize(
    ("audio_format", "content_type"),
    [("ogg", "audio/ogg"), ("mp3", "audio/mpeg"), ("wav", "audio/wav")],
)
async def test_speech_formats_decode(
    client: httpx.AsyncClient, audio_format: str, content_type: str
) -> None:
    response = await client.post(
        SPEECH, json={"text": "Welcome to Pravis Boutique.", "format": audio_format}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    assert sniff_container(response.content) == audio_format
    # "Welcome to Pravis Boutique." lasts about a second and a half when spoken.
    assert 0.8 < decoded_seconds(response.content) < 4.0


async def test_speech_speaks_prices_as_words(client: httpx.AsyncClient) -> None:
    order = uuid.uuid4().hex[:8]
    priced = await client.post(SPEECH, json={"text": f"Item {order} is $49.99."})
    in_words = await client.post(
        SPEECH,
        json={"text": f"Item {order} is forty nine dollars and ninety nine cents."},
    )

    assert priced.headers["x-cache"] == "MISS"
    # Both texts are spoken as the same words, so they share one cache entry.
    assert in_words.headers["x-cache"] == "HIT"
    assert in_words.headers["x-speech-url"] == priced.headers["x-speech-url"]


@pytest.mark.parametrize("text", ["9" * 320, "$" + "9" * 400])
async def test_speech_spells_long_numbers(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post(SPEECH, json={"text": text, "format": "wav"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    # 320 words or more at 165 words a minute last about two minutes.
    assert decoded_seconds(response.content) > 60


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "Hello.", "voice": "en-xx-robot"}, "voice"),
        ({"text": "Hello.", "format": "flac"}, "format"),
        ({"text": "Hello.", "format": "OGG"}, "format"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"voice": "en-us"}, "text"),
    ],
)
async def test_speech_rejects_bad_fields(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    response = await client.post(SPEECH, json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert problem["request_id"]


async def test_speech_unknown_voice_lists_voices(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"text": "Hi.", "voice": "robot"})

    message = response.json()["errors"][0]["message"]
    assert "'robot'" in message
    for voice in VOICES:
        assert voice.id in message


async def test_speech_text_over_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    text = "a" * (settings.voice_max_text_chars + 1)

    response = await client.post(SPEECH, json={"text": text})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "text"


async def test_cached_speech_by_url(client: httpx.AsyncClient) -> None:
    spoken = await client.post(SPEECH, json={"text": unique_text(), "format": "mp3"})

    fetched = await client.get(spoken.headers["x-speech-url"])

    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "audio/mpeg"
    assert fetched.content == spoken.content


@pytest.mark.parametrize(
    "name",
    [
        f"{'0' * 40}.ogg",  # well formed, never synthesised
        f"{'0' * 40}.flac",
        "../../recordings/x.ogg",
        "short.ogg",
    ],
)
async def test_cached_speech_unknown_is_404(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.get(f"{SPEECH}/{name}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_voices_lists_espeak_voices(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/voice/voices")

    assert response.status_code == 200
    voices = response.json()
    assert [voice["id"] for voice in voices] == [voice.id for voice in VOICES]
    assert DEFAULT_VOICE in {voice["id"] for voice in voices}
    for voice in voices:
        assert set(voice) == {"id", "name", "language", "gender"}
        assert voice["language"].startswith("en-")
        assert voice["gender"] in {"male", "female"}


async def test_every_listed_voice_speaks(client: httpx.AsyncClient) -> None:
    voices = (await client.get("/api/v1/voice/voices")).json()
    spoken = []
    for voice in voices:
        response = await client.post(
            SPEECH, json={"text": "Thank you.", "voice": voice["id"], "format": "wav"}
        )
        assert response.status_code == 200, voice["id"]
        spoken.append(response.content)
    # Each voice sounds different, so no two give the same samples.
    assert len(set(spoken)) == len(voices)
