"""Speech for replies: cached synthesis with eSpeak NG in the speech workers."""

from dataclasses import dataclass
from typing import Literal

from pravis_api.core.errors import FieldError, InvalidInputError
from pravis_api.services.speech.cache import SpeechCache, speech_key
from pravis_api.services.speech.encoding import SPEECH_FORMATS
from pravis_api.services.speech.espeak import VOICES, VOICES_BY_ID, Voice
from pravis_api.services.speech.spoken_text import spoken_text
from pravis_api.services.speech_pool import SpeechWorkerPool

SPEECH_PATH = "/api/v1/voice/speech"


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


def resolve_voice(voice_id: str | None, default: str) -> Voice:
    voice = VOICES_BY_ID.get(voice_id or default)
    if voice is None:
        known = ", ".join(voice.id for voice in VOICES)
        message = f"Unknown voice {voice_id!r}. Choose one of: {known}."
        raise InvalidInputError(message, errors=[FieldError("voice", message)])
    return voice


class SpeechService:
    def __init__(
        self, pool: SpeechWorkerPool, cache: SpeechCache, *, words_per_minute: int
    ) -> None:
        self.pool = pool
        self.cache = cache
        self.words_per_minute = words_per_minute

    async def speak(self, text: str, voice: Voice, audio_format: str) -> Speech:
        """Return the speech for a text, from the cache or synthesised now."""
        words = spoken_text(text)
        key = speech_key(words, voice.id, audio_format)
        cached = await self.cache.get(key, audio_format)
        if cached is not None:
            return Speech(key, audio_format, cached[0], "HIT")
        data = await self.pool.synthesize(
            words,
            voice=voice.espeak_name,
            words_per_minute=self.words_per_minute,
            audio_format=audio_format,
        )
        await self.cache.put(key, audio_format, data)
        return Speech(key, audio_format, data, "MISS")

    async def cached(self, key: str, audio_format: str) -> bytes | None:
        found = await self.cache.get(key, audio_format)
        return found[0] if found is not None else None
