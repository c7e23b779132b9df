"""A server that speaks OpenAI's HTTP API: audio transcriptions, chat
completions and audio speech.

OpenAI itself and servers built to the same protocol (vLLM, llama.cpp's
server, LocalAI, Speaches and others) all work, each with the endpoints it
implements. The shared client sends `Authorization: Bearer <key>` when a
key is set.
"""

import math
import time
from typing import Any

import httpx

from pravis_api.services.audio import sniff_container
from pravis_api.services.providers.base import ReplyTurn, SpeechVoice, Stage
from pravis_api.services.providers.grounding import build_messages
from pravis_api.services.providers.http import ProviderHttp
from pravis_api.services.providers.local import decode_in_workers, rejected_audio
from pravis_api.services.speech_pool import SpeechWorkerPool
from pravis_api.services.speech_worker import Transcription, Word

PROVIDER_NAME = "openai"
PROVIDER_TITLE = "The OpenAI-compatible server"
# ISO 639-1 language of the recordings, which improves recognition.
TRANSCRIPTION_LANGUAGE = "en"
# response_format of /audio/speech for each speech format of this API.
SPEECH_FORMATS = {"ogg": "opus", "mp3": "mp3", "wav": "wav"}
REPLY_MAX_TOKENS = 200
REPLY_TEMPERATURE = 0.3

# The voices that every OpenAI speech model offers, with the gender they
# are usually described by; they speak the language of the text.
OPENAI_VOICES = tuple(
    SpeechVoice(name, name.capitalize(), "en", gender, name)
    for name, gender in (
        ("alloy", "neutral"),
        ("echo", "male"),
        ("fable", "male"),
        ("onyx", "male"),
        ("nova", "female"),
        ("shimmer", "female"),
    )
)


def segment_confidence(segment: dict[str, Any]) -> float:
    """Estimate a segment's confidence from verbose_json's statistics.

    exp(avg_logprob) is the mean token probability. A segment that the
    model rates as likely silence (no_speech_prob) is trusted less.
    """
    try:
        probability = math.exp(float(segment.get("avg_logprob", 0.0)))
        no_speech = float(segment.get("no_speech_prob", 0.0))
    except (TypeError, ValueError, OverflowError):
        return 0.0
    confidence = min(probability, 1.0 - no_speech)
    return min(1.0, max(0.0, confidence)) if math.isfinite(confidence) else 0.0


def transcription_words(body: dict[str, Any]) -> tuple[Word, ...]:
    """Return the words of a transcription with a confidence for each.

    Plain json carries no confidence, so its words get 1.0.
    """
    segments = [item for item in body.get("segments") or [] if isinstance(item, dict)]
    if not segments:
        return tuple(Word(text, 1.0) for text in str(body.get("text", "")).split())
    return tuple(
        Word(text, segment_confidence(segment))
        for segment in segments
        for text in str(segment.get("text", "")).split()
    )


def _json_object(
    http: ProviderHttp, response: httpx.Response, stage: Stage
) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise http.invalid_answer(stage, "a body that is not a JSON object")
    return body


class OpenAISpeechToText:
    """POST /audio/transcriptions with the recording as 16 kHz WAV."""

    name = PROVIDER_NAME

    def __init__(
        self,
        http: ProviderHttp,
        pool: SpeechWorkerPool,
        *,
        base_url: str,
        model: str,
        response_format: str,
    ) -> None:
        self.http = http
        self.pool = pool
        self.url = f"{base_url}/audio/transcriptions"
        self.model = model
        self.response_format = response_format
        self.engine = f"{PROVIDER_NAME}/{model}"

    async def transcribe(self, data: bytes, *, max_seconds: float) -> Transcription:
        decoded = await decode_in_workers(self.pool, data, max_seconds=max_seconds)
        rejected = rejected_audio(decoded)
        if rejected is not None:
            return rejected

        started = time.perf_counter()
        response = await self.http.post(
            self.url,
            stage="speech-to-text",
            files={"file": ("recording.wav", decoded.wav, "audio/wav")},
            data={
                "model": self.model,
                "response_format": self.response_format,
                "language": TRANSCRIPTION_LANGUAGE,
            },
        )
        body = _json_object(self.http, response, "speech-to-text")
        text = body.get("text")
        if not isinstance(text, str):
            raise self.http.invalid_answer("speech-to-text", "no text field")
        return Transcription(
            transcript=text.strip(),
            words=transcription_words(body),
            model=self.engine,
            audio_format=decoded.audio_format,
            duration_s=decoded.duration_s,
            decode_ms=decoded.decode_ms,
            transcribe_ms=(time.perf_counter() - started) * 1000,
        )


class OpenAITextToSpeech:
    """POST /audio/speech."""

    name = PROVIDER_NAME
    words_per_minute = None
    voices = OPENAI_VOICES
    default_voice = "nova"

    def __init__(self, http: ProviderHttp, *, base_url: str, model: str) -> None:
        self.http = http
        self.url = f"{base_url}/audio/speech"
        self.model = model

    def cache_voice(self, voice: SpeechVoice) -> str:
        return f"{PROVIDER_NAME}/{self.model}/{voice.provider_voice}"

    async def synthesize(
        self, text: str, voice: SpeechVoice, audio_format: str
    ) -> bytes:
        response = await self.http.post(
            self.url,
            stage="text-to-speech",
            json={
                "model": self.model,
                "input": text,
                "voice": voice.provider_voice,
                "response_format": SPEECH_FORMATS[audio_format],
            },
        )
        if sniff_container(response.content) != audio_format:
            raise self.http.invalid_answer(
                "text-to-speech", f"a body that is not {audio_format} audio"
            )
        return response.content


class OpenAIReplyWriter:
    """POST /chat/completions with the turn's grounding in the system prompt."""

    name = PROVIDER_NAME

    def __init__(self, http: ProviderHttp, *, base_url: str, model: str) -> None:
        self.http = http
        self.url = f"{base_url}/chat/completions"
        self.model = model

    async def write(self, turn: ReplyTurn) -> str:
        response = await self.http.post(
            self.url,
            stage="reply",
            json={
                "model": self.model,
                "messages": build_messages(turn),
                "temperature": REPLY_TEMPERATURE,
                "max_tokens": REPLY_MAX_TOKENS,
            },
        )
        body = _json_object(self.http, response, "reply")
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str) or not content.strip():
            raise self.http.invalid_answer("reply", "no message content")
        return content.strip()
