"""The embedded engines behind the provider interfaces: PocketSphinx and
eSpeak NG in the speech worker processes."""

from pravis_api.core.errors import ServiceUnavailableError
from pravis_api.services.providers.base import SpeechVoice
from pravis_api.services.speech.espeak import DEFAULT_VOICE, VOICES
from pravis_api.services.speech.models import SpeechModels
from pravis_api.services.speech_pool import SpeechJobTimeoutError, SpeechWorkerPool
from pravis_api.services.speech_worker import (
    ENGINE_NAME,
    DecodedRecording,
    Transcription,
)

ESPEAK_VOICES = tuple(
    SpeechVoice(voice.id, voice.name, voice.language, voice.gender, voice.espeak_name)
    for voice in VOICES
)


class SpeechTimedOutError(ServiceUnavailableError):
    code = "speech-timeout"


def workers_timed_out(workers: str, timeout_seconds: float) -> SpeechTimedOutError:
    return SpeechTimedOutError(
        f"The {workers} did not finish this recording within "
        f"{timeout_seconds:g} s, because they are busy. Retry shortly.",
        retry_after_seconds=5,
    )


class LocalSpeechToText:
    """PocketSphinx with the boutique model (assistant) or the general one."""

    name = ENGINE_NAME

    def __init__(
        self, pool: SpeechWorkerPool, models: SpeechModels | None = None
    ) -> None:
        self.pool = pool
        # None: the general dictation model, which the pool's workers load.
        self.models = models
        self.engine = (
            ENGINE_NAME if models is not None else f"{ENGINE_NAME}/general-en-us"
        )
        self._workers = "speech workers" if models is not None else "dictation workers"

    async def transcribe(self, data: bytes, *, max_seconds: float) -> Transcription:
        model = None
        if self.models is not None:
            model = await self.models.ensure()
            if model is None:
                raise ServiceUnavailableError(
                    "The speech recogniser's boutique model is not built yet, "
                    "because the catalogue could not be read. Retry in a few "
                    "seconds.",
                    retry_after_seconds=5,
                )
        try:
            return await self.pool.transcribe(
                data, max_seconds=max_seconds, model=model
            )
        except SpeechJobTimeoutError as exc:
            raise workers_timed_out(self._workers, self.pool.timeout_seconds) from exc


class LocalTextToSpeech:
    """eSpeak NG in the assistant's speech workers."""

    name = "espeak-ng"
    voices = ESPEAK_VOICES
    default_voice = DEFAULT_VOICE

    def __init__(self, pool: SpeechWorkerPool, *, words_per_minute: int) -> None:
        self.pool = pool
        self.words_per_minute = words_per_minute

    def cache_voice(self, voice: SpeechVoice) -> str:
        return f"{self.name}/{voice.id}"

    async def synthesize(
        self, text: str, voice: SpeechVoice, audio_format: str
    ) -> bytes:
        try:
            return await self.pool.synthesize(
                text,
                voice=voice.provider_voice,
                words_per_minute=self.words_per_minute,
                audio_format=audio_format,
            )
        except SpeechJobTimeoutError as exc:
            raise SpeechTimedOutError(
                f"The speech workers did not finish this speech within "
                f"{self.pool.timeout_seconds:g} s, because they are busy. "
                "Retry shortly.",
                retry_after_seconds=5,
            ) from exc


async def decode_in_workers(
    pool: SpeechWorkerPool, data: bytes, *, max_seconds: float
) -> DecodedRecording:
    """Decode an upload to 16 kHz WAV in the speech workers, off the event loop."""
    try:
        return await pool.decode(data, max_seconds=max_seconds)
    except SpeechJobTimeoutError as exc:
        raise workers_timed_out("speech workers", pool.timeout_seconds) from exc


def rejected_audio(decoded: DecodedRecording) -> Transcription | None:
    """Return the Transcription that reports unusable audio, or None if usable."""
    if decoded.error_code is None:
        return None
    return Transcription(
        error_code=decoded.error_code, error_message=decoded.error_message
    )
