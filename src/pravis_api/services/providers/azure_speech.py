"""Azure AI Speech: the speech-to-text REST API for short audio, and the
text-to-speech REST API with SSML.

Both are documented on Microsoft Learn ("Speech to text REST API for short
audio" and "Text to speech REST API"). The shared client sends the resource
key in `Ocp-Apim-Subscription-Key` (KEY_HEADER) on every request.
"""

import math
import time
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import httpx

from pravis_api.services.audio import sniff_container
from pravis_api.services.providers.base import SpeechVoice
from pravis_api.services.providers.http import ProviderHttp
from pravis_api.services.providers.local import decode_in_workers, rejected_audio
from pravis_api.services.speech_pool import SpeechWorkerPool
from pravis_api.services.speech_worker import Transcription, Word

PROVIDER_NAME = "azure-speech"
PROVIDER_TITLE = "Azure AI Speech"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
# The only WAV form the short-audio API accepts.
STT_CONTENT_TYPE = "audio/wav; codecs=audio/pcm; samplerate=16000"
SSML_CONTENT_TYPE = "application/ssml+xml"
SSML_NAMESPACE = "http://www.w3.org/2001/10/synthesis"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# X-Microsoft-OutputFormat for each speech format of this API.
OUTPUT_FORMATS = {
    "ogg": "ogg-24khz-16bit-mono-opus",
    "mp3": "audio-24khz-48kbitrate-mono-mp3",
    "wav": "riff-24khz-16bit-mono-pcm",
}
# Statuses of a recognition that heard no speech: an empty transcript, not
# an error.
NO_SPEECH_STATUSES = frozenset({"NoMatch", "InitialSilenceTimeout", "BabbleTimeout"})


def _voice(short_name: str, name: str, gender: str) -> SpeechVoice:
    language = "-".join(short_name.split("-")[:2])
    return SpeechVoice(short_name, name, language, gender, short_name)


# English neural voices, named as Azure names them.
AZURE_VOICES = (
    _voice("en-US-JennyNeural", "Jenny, American English", "female"),
    _voice("en-US-GuyNeural", "Guy, American English", "male"),
    _voice("en-US-AriaNeural", "Aria, American English", "female"),
    _voice("en-US-DavisNeural", "Davis, American English", "male"),
    _voice("en-GB-SoniaNeural", "Sonia, British English", "female"),
    _voice("en-GB-RyanNeural", "Ryan, British English", "male"),
    _voice("en-IN-NeerjaNeural", "Neerja, Indian English", "female"),
    _voice("en-IN-PrabhatNeural", "Prabhat, Indian English", "male"),
    _voice("en-AU-NatashaNeural", "Natasha, Australian English", "female"),
    _voice("en-AU-WilliamNeural", "William, Australian English", "male"),
)


def build_ssml(text: str, voice: SpeechVoice) -> bytes:
    """Return an SSML document that speaks `text` in `voice`, as UTF-8.

    ElementTree escapes the text, so `<`, `&` and quotes in a reply cannot
    break the document.
    """
    speak = Element(
        "speak",
        {"version": "1.0", "xmlns": SSML_NAMESPACE, XML_LANG: voice.language},
    )
    spoken = SubElement(speak, "voice", {"name": voice.provider_voice})
    spoken.text = text
    document: bytes = tostring(speak, encoding="utf-8", xml_declaration=True)
    return document


def _best_result(body: dict[str, Any]) -> tuple[str, str, float]:
    """Return the display text, lexical text and confidence of the best result.

    The short-audio API gives one confidence per result, not per word, so
    every word of the result is given the result's confidence.
    """
    candidates = [entry for entry in body.get("NBest") or [] if isinstance(entry, dict)]
    if not candidates:
        display = str(body.get("DisplayText", ""))
        return display, display, 1.0
    best = max(candidates, key=lambda entry: float(entry.get("Confidence", 0.0)))
    display = str(best.get("Display") or body.get("DisplayText") or "")
    lexical = str(best.get("Lexical") or display)
    confidence = float(best.get("Confidence", 0.0))
    if not math.isfinite(confidence):
        confidence = 0.0
    return display, lexical, min(1.0, max(0.0, confidence))


class AzureSpeechToText:
    """Recognition with the short-audio REST API, detailed format."""

    name = PROVIDER_NAME

    def __init__(
        self,
        http: ProviderHttp,
        pool: SpeechWorkerPool,
        *,
        url: str,
        language: str,
    ) -> None:
        self.http = http
        self.pool = pool
        self.url = url
        self.language = language
        self.engine = f"{PROVIDER_NAME}/{language}"

    async def transcribe(self, data: bytes, *, max_seconds: float) -> Transcription:
        decoded = await decode_in_workers(self.pool, data, max_seconds=max_seconds)
        rejected = rejected_audio(decoded)
        if rejected is not None:
            return rejected

        started = time.perf_counter()
        response = await self.http.post(
            self.url,
            stage="speech-to-text",
            params={"language": self.language, "format": "detailed"},
            headers={
                "Content-Type": STT_CONTENT_TYPE,
                "Accept": "application/json",
            },
            content=decoded.wav,
        )
        body = self._json(response)
        status = body.get("RecognitionStatus")
        transcript = ""
        words: tuple[Word, ...] = ()
        if status == "Success":
            transcript, lexical, confidence = _best_result(body)
            words = tuple(Word(text, confidence) for text in lexical.split())
        elif status not in NO_SPEECH_STATUSES:
            raise self.http.invalid_answer(
                "speech-to-text", f"RecognitionStatus {status!r}"
            )
        return Transcription(
            transcript=transcript,
            words=words,
            model=self.engine,
            audio_format=decoded.audio_format,
            duration_s=decoded.duration_s,
            decode_ms=decoded.decode_ms,
            transcribe_ms=(time.perf_counter() - started) * 1000,
        )

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self.http.invalid_answer("speech-to-text", "a body that is not JSON")
        return body


class AzureTextToSpeech:
    """Synthesis with the text-to-speech REST API and an SSML body."""

    name = PROVIDER_NAME
    voices = AZURE_VOICES
    default_voice = "en-US-JennyNeural"
    words_per_minute = None

    def __init__(self, http: ProviderHttp, *, url: str) -> None:
        self.http = http
        self.url = url

    def cache_voice(self, voice: SpeechVoice) -> str:
        return f"{PROVIDER_NAME}/{voice.provider_voice}"

    async def synthesize(
        self, text: str, voice: SpeechVoice, audio_format: str
    ) -> bytes:
        response = await self.http.post(
            self.url,
            stage="text-to-speech",
            headers={
                "Content-Type": SSML_CONTENT_TYPE,
                "X-Microsoft-OutputFormat": OUTPUT_FORMATS[audio_format],
            },
            content=build_ssml(text, voice),
        )
        if sniff_container(response.content) != audio_format:
            raise self.http.invalid_answer(
                "text-to-speech", f"a body that is not {audio_format} audio"
            )
        return response.content
