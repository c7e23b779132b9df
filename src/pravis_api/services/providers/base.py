"""The interface of each pipeline stage, and the errors of cloud providers."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pravis_api.core.errors import AppError
from pravis_api.models.policy import StorePolicy
from pravis_api.services.assistant.responder import AssistantReply
from pravis_api.services.speech_worker import Transcription

Stage = Literal["speech-to-text", "reply", "text-to-speech"]


@dataclass(frozen=True, slots=True)
class SpeechVoice:
    """A voice offered by GET /voice/voices."""

    id: str
    name: str
    language: str
    gender: str
    # The provider's own name of the voice, sent in its requests.
    provider_voice: str


class SpeechToText(Protocol):
    # Stored with each interaction; at most 32 characters.
    name: str
    # Returned by /voice/transcribe, e.g. "azure-speech/en-US".
    engine: str

    async def transcribe(self, data: bytes, *, max_seconds: float) -> Transcription:
        """Decode an uploaded recording and transcribe it.

        Audio that cannot be used comes back as a Transcription with an
        `error_code`, before any provider is called.
        """
        ...


class TextToSpeech(Protocol):
    name: str
    # The id of the voice used when a request names none.
    default_voice: str

    @property
    def words_per_minute(self) -> int | None:
        """The speaking pace, part of the speech cache key, or None for a
        provider that has no pace setting."""
        ...

    @property
    def voices(self) -> Sequence[SpeechVoice]:
        """The voices offered, as GET /voice/voices lists them."""
        ...

    def cache_voice(self, voice: SpeechVoice) -> str:
        """Return the part of the speech cache key that names the voice.

        It names the provider too, so audio of two providers never shares
        a key.
        """
        ...

    async def synthesize(
        self, text: str, voice: SpeechVoice, audio_format: str
    ) -> bytes:
        """Speak `text` and return audio in `audio_format` (ogg, mp3 or wav)."""
        ...


@dataclass(frozen=True, slots=True)
class ReplyTurn:
    """One turn for a reply writer: the shopper's words and the grounding."""

    text: str
    answer: AssistantReply
    policies: list[StorePolicy] = field(default_factory=list)
    currency: str = "USD"
    # The reply will be spoken, so it must read well aloud.
    spoken: bool = False


class ReplyWriter(Protocol):
    name: str

    async def write(self, turn: ReplyTurn) -> str:
        """Return the reply text for the turn, from its grounding only."""
        ...


class ProviderFailedError(AppError):
    """A provider returned an error status, or could not be reached."""

    status = 502
    code = "provider-failed"
    title = "Bad Gateway"

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        provider_status: int | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        headers = (
            {"Retry-After": str(retry_after_seconds)}
            if retry_after_seconds is not None
            else None
        )
        super().__init__(
            detail,
            headers=headers,
            extensions={"provider": provider, "provider_status": provider_status},
        )
        self.provider = provider
        self.provider_status = provider_status


class ProviderTimeoutError(AppError):
    """A provider did not respond within the configured timeout."""

    status = 504
    code = "provider-timeout"
    title = "Gateway Timeout"

    def __init__(self, detail: str, *, provider: str) -> None:
        super().__init__(detail, extensions={"provider": provider})
        self.provider = provider


class SpeechProviderFailedError(ProviderFailedError):
    code = "speech-provider-failed"


class SpeechProviderTimeoutError(ProviderTimeoutError):
    code = "speech-provider-timeout"


class ReplyProviderFailedError(ProviderFailedError):
    code = "reply-provider-failed"


class ReplyProviderTimeoutError(ProviderTimeoutError):
    code = "reply-provider-timeout"


FAILED_ERRORS: dict[Stage, type[ProviderFailedError]] = {
    "speech-to-text": SpeechProviderFailedError,
    "text-to-speech": SpeechProviderFailedError,
    "reply": ReplyProviderFailedError,
}
TIMEOUT_ERRORS: dict[Stage, type[ProviderTimeoutError]] = {
    "speech-to-text": SpeechProviderTimeoutError,
    "text-to-speech": SpeechProviderTimeoutError,
    "reply": ReplyProviderTimeoutError,
}
