"""Speech that cannot be made, and speech settings that change the audio.

A reply asked for with `speak=true` still goes out as text when eSpeak NG
fails, and after a change of TTS_WORDS_PER_MINUTE no audio cached at the
old pace is served.
"""

import ctypes
import logging
import uuid
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from pravis_api.services import speech_worker
from pravis_api.services.speech.espeak import espeak
from pravis_api.services.speech_worker import Role
from tests.conftest import DATA, running_app
from tests.servers import LocalServer, azurite_connection_string

COMMAND = "/api/v1/voice/command"
QUERY = "/api/v1/voice/query"
SPEECH = "/api/v1/voice/speech"
RED_DRESSES = (DATA / "red-dresses.wav").read_bytes()
# eSpeak NG's espeak_ERROR code for a failure inside the library.
EE_INTERNAL_ERROR = -1
# The real worker initialiser, taken before `failing_espeak` replaces it.
REAL_INITIALIZE = speech_worker.initialize


class SynthFailingLibrary:
    """The loaded eSpeak NG library, except that espeak_Synth fails."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._library = library

    def __getattr__(self, name: str) -> Any:
        return getattr(self._library, name)

    def espeak_Synth(self, *_args: object) -> int:
        return EE_INTERNAL_ERROR


def initialize_with_failing_synth(
    role: Role, ready: Barrier | None = None, ready_timeout: float = 120.0
) -> None:
    """Start a speech worker, then make eSpeak NG fail each synthesis."""
    REAL_INITIALIZE(role, ready, ready_timeout)
    if role == "assistant":
        espeak._library = SynthFailingLibrary(espeak._load())  # type: ignore[assignment]


@pytest.fixture
def failing_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make eSpeak NG fail in the workers of the speech pools started next.

    No text or voice that the API accepts was found to make eSpeak NG fail.
    Every listed voice loads, and a lone surrogate, which cannot be encoded
    as UTF-8, fails validation (422) before it reaches synthesis. So the
    fault is put at the library's boundary: its espeak_Synth call returns
    an error status, and the real binding raises EspeakError from it in the
    worker process. The pool pickles its initialiser by name, so replacing
    the module attribute starts this module's initialiser in new workers.
    """
    monkeypatch.setattr(speech_worker, "initialize", initialize_with_failing_synth)


@pytest.fixture
def app_settings(
    settings: Settings,
    azurite: LocalServer,
    own_redis: LocalServer,
    redis: Redis,
    tmp_path: Path,
) -> dict[str, Any]:
    """Settings of an app whose speech cache starts empty: the `redis`
    fixture empties this module's Redis, and the container is new."""
    return {
        "database_url": settings.sqlalchemy_database_url,
        "azure_storage_connection_string": azurite_connection_string(azurite.port),
        "azure_storage_container_name": f"test-{uuid.uuid4().hex[:12]}",
        "redis_url": f"redis://127.0.0.1:{own_redis.port}/0",
        "speech_workers": 1,
        "speech_model_dir": tmp_path / "models",
    }


async def stored_interaction(app: FastAPI, interaction_id: str) -> VoiceInteraction:
    async with app.state.resources.session_factory() as session:
        row: VoiceInteraction | None = await session.get(
            VoiceInteraction, uuid.UUID(interaction_id)
        )
    assert row is not None, f"interaction {interaction_id} was not saved"
    return row


def skipped_speech(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.getMessage() == "voice.speech_skipped"
    ]


async def test_command_speech_null_on_espeak_failure(
    failing_espeak: None,
    catalogue: None,
    app_settings: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pravis_api.services.voice")
    text = f"show me red dresses {uuid.uuid4().hex[:6]}"
    async with running_app(**app_settings) as (
        app,
        client,
    ):
        response = await client.post(
            COMMAND,
            json={"text": text, "speak": True, "voice": "en-gb", "format": "mp3"},
        )
        assert response.status_code == 200, response.text
        reply = response.json()
        row = await stored_interaction(app, reply["interaction_id"])

    assert reply["speech"] is None
    assert reply["reply"]
    assert reply["intent"] == "search"
    assert row.transcript == text
    assert row.reply == reply["reply"]
    assert "synthesise" in reply["timings_ms"]

    [record] = skipped_speech(caplog)
    assert record.levelno == logging.ERROR
    assert getattr(record, "interaction_id", None) == reply["interaction_id"]
    assert getattr(record, "voice", None) == "en-gb"
    assert getattr(record, "format", None) == "mp3"
    assert getattr(record, "provider", None) == "espeak-ng"
    assert "EspeakError" in getattr(record, "error", "")
    # The anonymous session id works like a credential for its conversation.
    assert reply["session_id"] not in repr(record.__dict__)


async def test_query_speech_null_on_espeak_failure(
    failing_espeak: None,
    catalogue: None,
    app_settings: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pravis_api.services.voice")
    async with running_app(**app_settings) as (
        app,
        client,
    ):
        response = await client.post(
            QUERY,
            files={"audio": ("clip.wav", RED_DRESSES, "audio/wav")},
            data={"speak": "true"},
        )
        assert response.status_code == 200, response.text
        reply = response.json()
        row = await stored_interaction(app, reply["interaction_id"])

    assert reply["speech"] is None
    assert reply["intent"] == "search"
    assert row.reply == reply["reply"]
    assert row.source == "audio"
    [record] = skipped_speech(caplog)
    assert getattr(record, "interaction_id", None) == reply["interaction_id"]


async def test_speech_pace_change_misses_cache(app_settings: dict[str, Any]) -> None:
    """Three deployments, one after another, share Redis and Blob Storage."""
    body = {"text": f"Your parcel {uuid.uuid4().hex[:6]} ships today.", "format": "wav"}

    async with running_app(**app_settings, tts_words_per_minute=120) as (_, client):
        slow = await client.post(SPEECH, json=body)
        slow_again = await client.post(SPEECH, json=body)
    assert slow.status_code == 200, slow.text
    assert slow.headers["x-cache"] == "MISS"
    assert slow_again.headers["x-cache"] == "HIT"

    async with running_app(**app_settings, tts_words_per_minute=300) as (_, client):
        fast = await client.post(SPEECH, json=body)
        fast_again = await client.post(SPEECH, json=body)
    assert fast.status_code == 200, fast.text
    assert fast.headers["x-cache"] == "MISS"
    assert fast.headers["x-speech-url"] != slow.headers["x-speech-url"]
    # WAV of one sample rate: the faster pace gives fewer bytes.
    assert len(fast.content) < len(slow.content)
    assert fast_again.headers["x-cache"] == "HIT"
    assert fast_again.content == fast.content

    async with running_app(**app_settings, tts_words_per_minute=120) as (_, client):
        slow_later = await client.post(SPEECH, json=body)
    # Back at the first pace, the first audio is found again.
    assert slow_later.headers["x-cache"] == "HIT"
    assert slow_later.content == slow.content
