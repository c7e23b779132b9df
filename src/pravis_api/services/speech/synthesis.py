"""Speech for replies: cached synthesis by the text-to-speech provider."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pravis_api.core.errors import FieldError, InvalidInputError
from pravis_api.services.providers.base import SpeechVoice, TextToSpeech
from pravis_api.services.speech.cache import SpeechCache, speech_key
from pravis_api.services.speech.encoding import SPEECH_FORMATS
from pravis_api.services.speech.spoken_text import spoken_text

SPEECH_PATH = "/api/v1/voice/speech"

# Spelling out the numbers of a typical reply takes about 0.15 ms, and the
# same replies come back again and again.
_words_of = lru_cache(maxsize=4096)(spoken_text)


@dataclass(frozen=True, slots=True)
class Speech:
    key: str
    audio_format: str
    data: bytes
    cache: Literal["HIT", "MISS"]

    @property
    def content_type(self) -> str:
        return SPEECH_FORMATS[self.audio_format]

    @property
    def url(self) -> str:
        """Where the frontend fetches this audio again, while it is cached."""
        return f"{SPEECH_PATH}/{self.key}.{self.audio_format}"


def cache_key(
    provider: TextToSpeech, words: str, voice: SpeechVoice, audio_format: str
) -> str:
    """Return the speech cache key of `words` as `provider` speaks them."""
    return speech_key(
        words,
        provider.cache_voice(voice),
        audio_format,
        words_per_minute=provider.words_per_minute,
    )


def resolve_voice(
    voice_id: str | None, default: str, voices: Sequence[SpeechVoice]
) -> SpeechVoice:
    wanted = voice_id or default
    for voice in voices:
        if voice.id == wanted:
            return voice
    known = ", ".join(voice.id for voice in voices)
    message = f"Unknown voice {voice_id!r}. Choose one of: {known}."
    raise InvalidInputError(message, errors=[FieldError("voice", message)])


class SpeechService:
    def __init__(
        self,
        provider: TextToSpeech,
        cache: SpeechCache,
        *,
        default_voice: str | None = None,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.default_voice = default_voice or provider.default_voice

    @property
    def voices(self) -> Sequence[SpeechVoice]:
        return self.provider.voices

    def resolve_voice(self, voice_id: str | None) -> SpeechVoice:
        """Return the provider's voice with this id, or the default for None."""
        return resolve_voice(voice_id, self.default_voice, self.provider.voices)

    async def speak(self, text: str, voice: SpeechVoice, audio_format: str) -> Speech:
        """Return the speech for a text, from the cache or synthesised now."""
        words = _words_of(text)
        key = cache_key(self.provider, words, voice, audio_format)
        cached = await self.cache.get(key, audio_format)
        if cached is not None:
            return Speech(key, audio_format, cached[0], "HIT")
        data = await self.provider.synthesize(words, voice, audio_format)
        await self.cache.put(key, audio_format, data)
        return Speech(key, audio_format, data, "MISS")

    async def cached(self, key: str, audio_format: str) -> bytes | None:
        found = await self.cache.get(key, audio_format)
        return found[0] if found is not None else None
