"""The voice pipeline: a recording or typed text in, a reply and a stored
interaction out."""

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from azure.core.exceptions import AzureError
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.errors import (
    AppError,
    AuthenticationError,
    FieldError,
    InvalidInputError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from pravis_api.core.timing import elapsed_ms
from pravis_api.db.driver import autocommit
from pravis_api.models.base import utc_now
from pravis_api.repositories.interactions import (
    DEFAULT_QUERY_CAP,
    NewInteraction,
    add_interaction,
)
from pravis_api.repositories.products import CatalogueItem
from pravis_api.schemas.voice import ProductSummary, SpeechInfo, VoiceReply
from pravis_api.services.assistant.responder import Assistant, AssistantReply
from pravis_api.services.assistant.understanding import understand_spoken
from pravis_api.services.interaction_writer import InteractionWriter
from pravis_api.services.providers.base import (
    ProviderFailedError,
    ProviderTimeoutError,
    SpeechToText,
    SpeechVoice,
)
from pravis_api.services.speech.espeak import EspeakError
from pravis_api.services.speech.synthesis import SpeechService
from pravis_api.services.speech_pool import SpeechJobTimeoutError
from pravis_api.services.speech_worker import Transcription, Word
from pravis_api.services.storage import RECORDING_CONTENT_TYPES, BlobStore

logger = logging.getLogger(__name__)

# The SQLSTATE of a row whose user no longer exists.
FOREIGN_KEY_VIOLATION = "23503"

AUDIO_FIELD = "audio"


class InvalidAudioError(InvalidInputError):
    code = "invalid-audio"


class AudioTooLongError(InvalidInputError):
    code = "audio-too-long"


class UnsupportedAudioFormatError(UnsupportedMediaTypeError):
    code = "unsupported-audio-format"


@dataclass(frozen=True, slots=True)
class Shopper:
    """The speaker: a signed-in user, or else an anonymous session."""

    user_id: uuid.UUID | None
    session_id: str
    # Whether the shopper allows their recording to be kept.
    store_recording: bool = False


def recording_allowed(
    request_choice: bool | None, account_choice: bool | None, default: bool
) -> bool:
    """Decide whether to keep a recording: the request's `store_recording`
    field wins, then the account's preference, then the configured default."""
    if request_choice is not None:
        return request_choice
    if account_choice is not None:
        return account_choice
    return default


def _new_interaction(
    shopper: Shopper, source: str, transcript: str, answer: AssistantReply
) -> NewInteraction:
    return NewInteraction(
        id=uuid.uuid4(),
        created_at=utc_now(),
        user_id=shopper.user_id,
        session_id=shopper.session_id,
        source=source,
        transcript=transcript,
        intent=answer.intent,
        entities=answer.entities,
        reply=answer.reply,
        action=answer.action,
        product_ids=[product.id for product in answer.products],
        success=answer.understood,
    )


def _summary(product: CatalogueItem) -> ProductSummary:
    return ProductSummary(
        id=product.id,
        slug=product.slug,
        name=product.name,
        category=product.category,
        colors=product.colors,
        price_minor=product.price_minor,
        currency=product.currency,
        image_url=product.image_urls[0] if product.image_urls else None,
    )


def raise_for_audio_error(result: Transcription) -> None:
    if result.error_code is None:
        return
    error_class: type[AppError] = {
        "too-long": AudioTooLongError,
        "unsupported-format": UnsupportedAudioFormatError,
    }.get(result.error_code, InvalidAudioError)
    raise error_class(
        result.error_message,
        errors=[FieldError(AUDIO_FIELD, result.error_message)],
    )


def choose_reading(
    result: Transcription, min_confidence: float, max_unknown_share: float
) -> tuple[Word, ...]:
    """Pick the reading of a recording that the assistant acts on.

    The recogniser's best hypothesis decides whether the speech is a
    boutique request at all. Only if understand_spoken finds a request in
    it may one of the alternatives replace it: the one with the fewest
    words outside the boutique vocabulary, the better-scored on a tie, and
    only if it is a request too. So "linen shirts" beats "living shirts"
    when the decoder ranked them close, and speech about something else
    that the best hypothesis leaves without an action never gains one.
    """
    best = result.words
    if not result.alternatives or not _is_request(
        best, min_confidence, max_unknown_share
    ):
        return best
    chosen = best
    for alternative in result.alternatives:
        if _unknown_count(alternative) < _unknown_count(chosen) and _is_request(
            alternative, min_confidence, max_unknown_share
        ):
            chosen = alternative
    return chosen


def transcript_and_words(
    result: Transcription, min_confidence: float, max_unknown_share: float
) -> tuple[str, str]:
    """Return the transcript to store and the words the assistant acts on,
    both from the reading `choose_reading` picks."""
    reading = choose_reading(result, min_confidence, max_unknown_share)
    heard = words_to_act_on(reading, min_confidence, max_unknown_share)
    if reading is result.words:
        # The recogniser's own text, with a cloud provider's punctuation.
        return result.transcript, heard
    return " ".join(word.text for word in reading), heard


def _is_request(
    words: Sequence[Word], min_confidence: float, max_unknown_share: float
) -> bool:
    heard = words_to_act_on(words, min_confidence, max_unknown_share)
    return bool(heard) and understand_spoken(heard).intent != "fallback"


def _unknown_count(words: Sequence[Word]) -> int:
    return sum(word.boutique is False for word in words)


def words_to_act_on(
    words: Sequence[Word], min_confidence: float, max_unknown_share: float
) -> str:
    """The words of a transcript that the assistant may act on.

    Unsure words are left out. If too many of the rest are outside the
    boutique vocabulary, none is kept: such speech is about something else,
    and its few boutique-sounding words ("gold", "add") are mishearings.
    Only the boutique model marks its words. A general recogniser's words
    are kept, since it hears other speech as the words that were said.
    """
    sure = [word for word in words if word.confidence >= min_confidence]
    marked = [word for word in sure if word.boutique is not None]
    unknown = sum(not word.boutique for word in marked)
    if marked and unknown / len(marked) > max_unknown_share:
        return ""
    return " ".join(word.text for word in sure)


@dataclass(frozen=True, slots=True)
class SpeakRequest:
    """The shopper asked for the reply as speech, in this voice and format."""

    voice: SpeechVoice
    audio_format: str


class VoiceService:
    def __init__(
        self,
        session: AsyncSession,
        speech_to_text: SpeechToText,
        blobs: BlobStore,
        assistant: Assistant,
        *,
        speech: SpeechService,
        max_audio_seconds: float,
        min_word_confidence: float,
        max_unknown_word_share: float,
        query_cap: int = DEFAULT_QUERY_CAP,
        interactions: InteractionWriter | None = None,
    ) -> None:
        self.session = session
        self.speech_to_text = speech_to_text
        self.blobs = blobs
        self.assistant = assistant
        self.speech = speech
        self.max_audio_seconds = max_audio_seconds
        self.min_word_confidence = min_word_confidence
        self.max_unknown_word_share = max_unknown_word_share
        self.query_cap = query_cap
        self.interactions = interactions

    async def answer_recording(
        self, data: bytes, shopper: Shopper, speak: SpeakRequest | None = None
    ) -> VoiceReply:
        """Transcribe, understand, store the recording (when the shopper
        allows it) and the interaction.

        Bad audio raises before anything is stored. If the interaction row
        cannot be saved, the recording uploaded for it is deleted again.
        """
        started = time.perf_counter()
        result = await self.speech_to_text.transcribe(
            data, max_seconds=self.max_audio_seconds
        )
        raise_for_audio_error(result)
        timings = {
            "decode": round(result.decode_ms, 1),
            "transcribe": round(result.transcribe_ms, 1),
            "speech_worker": elapsed_ms(started),
        }

        step = time.perf_counter()
        transcript, heard = transcript_and_words(
            result, self.min_word_confidence, self.max_unknown_word_share
        )
        answer = await self.assistant.respond(
            heard, shopper.session_id, user_id=shopper.user_id, spoken=True
        )
        timings["understand"] = elapsed_ms(step)

        interaction = _new_interaction(shopper, "audio", transcript, answer)
        interaction.audio_format = result.audio_format
        interaction.audio_duration_s = round(result.duration_s, 3)
        interaction.stt_engine = self.speech_to_text.name

        if shopper.store_recording:
            step = time.perf_counter()
            interaction.recording_blob = await self._store_recording(interaction, data)
            timings["store_recording"] = elapsed_ms(step)

        speech = await self._speak(answer.reply, speak, timings, interaction.id)
        # The total covers everything up to the reply. It cannot include the
        # time to save the row that stores it.
        timings["total"] = elapsed_ms(started)
        recording_stored = None
        if shopper.store_recording:
            recording_stored = interaction.recording_blob is not None
        return await self._save(
            interaction, timings, answer.products, speech, recording_stored
        )

    async def answer_text(
        self, text: str, shopper: Shopper, speak: SpeakRequest | None = None
    ) -> VoiceReply:
        """Understand a typed request and store the interaction."""
        started = time.perf_counter()
        answer = await self.assistant.respond(
            text, shopper.session_id, user_id=shopper.user_id
        )
        timings = {"understand": elapsed_ms(started)}
        interaction = _new_interaction(shopper, "text", text, answer)
        speech = await self._speak(answer.reply, speak, timings, interaction.id)
        timings["total"] = elapsed_ms(started)
        return await self._save(interaction, timings, answer.products, speech)

    async def _speak(
        self,
        reply: str,
        speak: SpeakRequest | None,
        timings: dict[str, float],
        interaction_id: uuid.UUID,
    ) -> SpeechInfo | None:
        """Synthesise the reply when asked; on failure the reply goes out as text."""
        if speak is None:
            return None
        step = time.perf_counter()
        try:
            speech = await self.speech.speak(reply, speak.voice, speak.audio_format)
        except (
            ServiceUnavailableError,
            SpeechJobTimeoutError,
            ProviderFailedError,
            ProviderTimeoutError,
        ) as exc:
            # Busy or restarting workers, or a cloud provider that failed.
            self._log_speech_skipped(logging.WARNING, exc, speak, interaction_id)
            return None
        except (EspeakError, ValueError) as exc:
            # eSpeak NG failed in a worker, or the reply could not be encoded.
            # Unlike load, this is a fault to look into.
            self._log_speech_skipped(logging.ERROR, exc, speak, interaction_id)
            return None
        finally:
            timings["synthesise"] = elapsed_ms(step)
        return SpeechInfo(
            url=speech.url, format=speech.audio_format, cache=speech.cache
        )

    def _log_speech_skipped(
        self,
        level: int,
        error: Exception,
        speak: SpeakRequest,
        interaction_id: uuid.UUID,
    ) -> None:
        # The session id is left out, because it continues an anonymous
        # shopper's conversation much as a credential would.
        logger.log(
            level,
            "voice.speech_skipped",
            extra={
                "interaction_id": str(interaction_id),
                "provider": self.speech.provider.name,
                "voice": speak.voice.id,
                "format": speak.audio_format,
                "error": repr(error),
            },
        )

    async def _save(
        self,
        interaction: NewInteraction,
        timings: dict[str, float],
        products: list[CatalogueItem],
        speech: SpeechInfo | None = None,
        recording_stored: bool | None = None,
    ) -> VoiceReply:
        """Commit the interaction and return its reply.

        The reply is built first, so nothing can fail after the commit. If
        the commit fails, the recording uploaded for the row is deleted.
        """
        interaction.timings_ms = timings
        reply = VoiceReply.model_validate(
            {
                "interaction_id": interaction.id,
                "session_id": interaction.session_id,
                "transcript": interaction.transcript,
                "intent": interaction.intent,
                "entities": interaction.entities,
                "reply": interaction.reply,
                "action": interaction.action,
                "products": [_summary(product) for product in products],
                "speech": speech,
                "recording_stored": recording_stored,
                "timings_ms": timings,
            }
        )
        try:
            await self._insert(interaction)
        except IntegrityError as exc:
            await self.session.rollback()
            await self._discard_recording(interaction.recording_blob)
            foreign_key = getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION
            if interaction.user_id is None or not foreign_key:
                raise
            # The only foreign key: the account was deleted mid-request.
            raise AuthenticationError("This account no longer exists.") from exc
        except BaseException:
            await self._discard_recording(interaction.recording_blob)
            raise

        # DEBUG: the row itself is the record; the request line is at INFO.
        logger.debug(
            "voice.interaction.saved",
            extra={
                "interaction_id": str(interaction.id),
                "source": interaction.source,
                "intent": interaction.intent,
                "audio_s": interaction.audio_duration_s,
                "timings_ms": timings,
            },
        )
        return reply

    async def _insert(self, interaction: NewInteraction) -> None:
        if self.interactions is None or not autocommit(self.session):
            await add_interaction(self.session, interaction, query_cap=self.query_cap)
            return
        # The session's statements have committed: its connection goes back
        # to the pool while the row waits for its batch.
        await self.session.commit()
        await self.interactions.add(interaction)

    async def _store_recording(
        self, interaction: NewInteraction, data: bytes
    ) -> str | None:
        """Upload the recording; on a storage outage, log and keep going without it."""
        audio_format = interaction.audio_format or "bin"
        day = f"{interaction.created_at:%Y/%m/%d}"
        name = f"recordings/{day}/{interaction.id}.{audio_format}"
        content_type = RECORDING_CONTENT_TYPES.get(
            audio_format, "application/octet-stream"
        )
        try:
            await self.blobs.upload(name, data, content_type)
        except (AzureError, OSError, TimeoutError) as exc:
            logger.warning(
                "voice.recording_not_stored",
                extra={"interaction_id": str(interaction.id), "error": repr(exc)},
            )
            # A timed-out upload may still have been written; no row will
            # name it, so remove it.
            await self._discard_recording(name)
            return None
        return name

    async def _discard_recording(self, name: str | None) -> None:
        if name is None:
            return
        try:
            await self.blobs.delete(name)
        except (AzureError, OSError, TimeoutError) as exc:
            # NOTE: the blob stays orphaned until storage is back; its name
            # in this log line is what an operator needs to remove it.
            logger.error(
                "voice.orphan_recording", extra={"blob": name, "error": repr(exc)}
            )
