"""The speech cache key: what changes the audio changes the key, and the
cloud providers' keys stay as earlier versions made them."""

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from pravis_api.services.providers.azure_speech import AzureTextToSpeech
from pravis_api.services.providers.http import ProviderHttp
from pravis_api.services.providers.local import ESPEAK_VOICES, LocalTextToSpeech
from pravis_api.services.providers.openai_compatible import OpenAITextToSpeech
from pravis_api.services.speech.cache import speech_key
from pravis_api.services.speech.synthesis import cache_key
from pravis_api.services.speech_pool import SpeechWorkerPool

WORDS = "the ruby wrap dress is eighty nine dollars"
EN_US = next(voice for voice in ESPEAK_VOICES if voice.id == "en-us")


def local(words_per_minute: int) -> LocalTextToSpeech:
    # The pool is never started: a key needs no worker.
    pool = SpeechWorkerPool(workers=1, queue_limit=0, timeout_seconds=1.0)
    return LocalTextToSpeech(pool, words_per_minute=words_per_minute)


def key_before_pace(voice: str, audio_format: str, text: str) -> str:
    """The key as versions without the pace made it."""
    material = f"espeak-ng-1\n{voice}\n{audio_format}\n{text}".encode()
    return hashlib.sha256(material).hexdigest()[:40]


@pytest.fixture
async def provider_http() -> AsyncIterator[ProviderHttp]:
    async with httpx.AsyncClient() as client:
        yield ProviderHttp(
            "test", "Test", client, max_retries=0, max_retry_after_seconds=0
        )


def test_key_differs_by_pace() -> None:
    slow = cache_key(local(120), WORDS, EN_US, "ogg")
    default = cache_key(local(165), WORDS, EN_US, "ogg")
    fast = cache_key(local(300), WORDS, EN_US, "ogg")

    assert len({slow, default, fast}) == 3


def test_key_same_for_same_pace() -> None:
    assert cache_key(local(165), WORDS, EN_US, "ogg") == cache_key(
        local(165), WORDS, EN_US, "ogg"
    )


def test_local_key_names_provider_and_pace() -> None:
    key = cache_key(local(165), WORDS, EN_US, "wav")

    assert key == speech_key(WORDS, "espeak-ng/en-us", "wav", words_per_minute=165)
    # Speech cached under the bare voice id may be of any earlier pace.
    assert key != key_before_pace("en-us", "wav", WORDS)


def test_key_differs_by_voice_and_format() -> None:
    en_gb = next(voice for voice in ESPEAK_VOICES if voice.id == "en-gb")
    provider = local(165)
    keys = {
        cache_key(provider, WORDS, EN_US, "ogg"),
        cache_key(provider, WORDS, EN_US, "mp3"),
        cache_key(provider, WORDS, en_gb, "ogg"),
    }

    assert len(keys) == 3


async def test_azure_key_unchanged(provider_http: ProviderHttp) -> None:
    azure = AzureTextToSpeech(provider_http, url="http://127.0.0.1:9/tts")
    jenny = next(voice for voice in azure.voices if voice.id == "en-US-JennyNeural")

    assert cache_key(azure, WORDS, jenny, "ogg") == key_before_pace(
        "azure-speech/en-US-JennyNeural", "ogg", WORDS
    )


async def test_openai_key_unchanged(provider_http: ProviderHttp) -> None:
    openai = OpenAITextToSpeech(
        provider_http, base_url="http://127.0.0.1:9/v1", model="tts-1"
    )
    nova = next(voice for voice in openai.voices if voice.id == "nova")

    assert cache_key(openai, WORDS, nova, "mp3") == key_before_pace(
        "openai/tts-1/nova", "mp3", WORDS
    )
