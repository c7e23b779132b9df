"""Code that runs inside the speech worker processes.

PocketSphinx holds the GIL while it decodes, so it would stall the event
loop from a thread; a separate process does not. A worker keeps one
decoder per model: the general dictation model in dictation workers, the
boutique model (rebuilt when the catalogue changes) in assistant workers,
which also synthesise speech with eSpeak NG. Results cross the process
boundary as plain dataclasses, not exceptions, because exceptions with
extra attributes do not survive pickling.
"""

import difflib
import io
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
import wave
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Literal

from pocketsphinx import Decoder

from pravis_api.services.audio import SAMPLE_RATE, AudioError, decode_to_pcm
from pravis_api.services.speech.encoding import encode_speech
from pravis_api.services.speech.espeak import espeak
from pravis_api.services.speech.language_model import (
    CatalogueVocabulary,
    ModelFiles,
    build_model,
    read_words,
)

logger = logging.getLogger(__name__)

Role = Literal["assistant", "dictation"]
GENERAL_MODEL = "general"
ENGINE_NAME = "pocketsphinx"

# Decoders by model: "general", or a boutique model's version, each with the
# words of its boutique corpus (empty for the general model).
_decoders: dict[str, tuple[Decoder, frozenset[str]]] = {}
# PocketSphinx's US English dictionary cut to the words of its general
# language model, because that model can hear no others. The full one costs
# each dictation worker 13 MB more (scripts/make_general_dictionary.py).
GENERAL_DICTIONARY = Path(__file__).parent / "speech" / "data" / "general.dict"
# How often a worker checks that the API process that started it still runs.
PARENT_CHECK_SECONDS = 1.0
# Tokens of the decoder output that are not words.
_NON_WORDS = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"})
# How many of the decoder's best hypotheses the boutique model returns as
# alternatives (see Transcription.alternatives). Taking 20 or 30 set no more
# commands of bench/speech_accuracy.py right than 10.
NBEST = 10


def initialize(
    role: Role, ready: Barrier | None = None, ready_timeout: float = 120.0
) -> None:
    """Load what the worker's role needs before its first job.

    With a barrier, wait until every worker of the pool has loaded, so the
    pool is fully warm once its first job completes.
    """
    # Ctrl-C in a terminal sends SIGINT to the whole process group. The API
    # process stops the pool itself after a graceful shutdown, so a worker
    # that died on SIGINT would only fail the requests still in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    if role == "dictation":
        _decoder_for(None)
    else:
        espeak.synthesize("ready", "en-us")  # loads the library and its voice data
    if ready is not None:
        ready.wait(ready_timeout)


def _exit_with_parent(interval_seconds: float = PARENT_CHECK_SECONDS) -> None:
    """Exit when the API process is gone.

    A worker blocks reading its job queue, so a parent killed with SIGKILL
    (by an out-of-memory killer, or a test) would leave it running for ever.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_seconds)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def ping() -> int:
    """Return the worker's pid; used to start and health-check the pool."""
    return os.getpid()


def _decoder_for(model: ModelFiles | None) -> tuple[Decoder, frozenset[str]]:
    key = model.version if model is not None else GENERAL_MODEL
    loaded = _decoders.get(key)
    if loaded is None:
        if model is None:
            loaded = (
                Decoder(dict=str(GENERAL_DICTIONARY), loglevel="FATAL"),
                frozenset(),
            )
        else:
            # NOTE: without the second, flat-lexicon pass (fwdflat=False)
            # transcription takes a third less time, but in 3 of 12 runs a
            # synthesised sentence about something else became a search
            # (bench/RESULTS.md), so the pass stays.
            decoder = Decoder(lm=model.lm_path, dict=model.dict_path, loglevel="FATAL")
            loaded = decoder, read_words(model)
        # Keep one boutique model: an older version is never used again.
        for stale in [name for name in _decoders if name not in (GENERAL_MODEL, key)]:
            del _decoders[stale]
        _decoders[key] = loaded
    return loaded


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    # Posterior probability of the word given the audio, 0 to 1.
    confidence: float
    # Whether the boutique corpus has the word, rather than only the list of
    # common words added so that other speech has somewhere to go. None from
    # recognisers without the boutique model: the general one, cloud ones.
    boutique: bool | None = None


@dataclass(frozen=True, slots=True)
class Transcription:
    transcript: str = ""
    words: tuple[Word, ...] = field(default_factory=tuple)
    model: str = GENERAL_MODEL
    audio_format: str | None = None
    duration_s: float = 0.0
    decode_ms: float = 0.0
    transcribe_ms: float = 0.0
    error_code: str | None = None
    error_message: str = ""
    # The boutique model's next best readings of the same audio, best first,
    # without repeats of `words`. Empty from other recognisers.
    alternatives: tuple[tuple[Word, ...], ...] = ()


def transcribe_recording(
    data: bytes, max_seconds: float, model: ModelFiles | None = None
) -> Transcription:
    """Decode an uploaded recording and transcribe it with the given model
    (the general model when None)."""
    started = time.perf_counter()
    try:
        audio = decode_to_pcm(data, max_seconds=max_seconds)
    except AudioError as exc:
        return Transcription(error_code=exc.code, error_message=exc.message)
    decoded = time.perf_counter()

    words, alternatives = transcribe_pcm(audio.pcm, model)
    finished = time.perf_counter()
    return Transcription(
        transcript=" ".join(word.text for word in words),
        words=words,
        alternatives=alternatives,
        model=model.version if model is not None else GENERAL_MODEL,
        audio_format=audio.audio_format,
        duration_s=audio.duration_s,
        decode_ms=(decoded - started) * 1000,
        transcribe_ms=(finished - decoded) * 1000,
    )


@dataclass(frozen=True, slots=True)
class DecodedRecording:
    """An upload decoded to 16 kHz mono 16-bit WAV, for a cloud recogniser."""

    wav: bytes = b""
    audio_format: str | None = None
    duration_s: float = 0.0
    decode_ms: float = 0.0
    error_code: str | None = None
    error_message: str = ""


def decode_recording(data: bytes, max_seconds: float) -> DecodedRecording:
    """Decode an uploaded recording and wrap its samples in a WAV file."""
    started = time.perf_counter()
    try:
        audio = decode_to_pcm(data, max_seconds=max_seconds)
    except AudioError as exc:
        return DecodedRecording(error_code=exc.code, error_message=exc.message)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(audio.pcm)
    return DecodedRecording(
        wav=buffer.getvalue(),
        audio_format=audio.audio_format,
        duration_s=audio.duration_s,
        decode_ms=(time.perf_counter() - started) * 1000,
    )


def transcribe_pcm(
    pcm: bytes, model: ModelFiles | None = None
) -> tuple[tuple[Word, ...], tuple[tuple[Word, ...], ...]]:
    """Return the best hypothesis and, for a boutique model, the next best."""
    decoder, boutique_words = _decoder_for(model)
    if not pcm:
        return (), ()  # the decoder raises IndexError on an empty buffer

    # The front end otherwise carries state (its noise estimate, it seems)
    # over from the worker's last recording, so the same audio was heard
    # differently depending on which recording came before it.
    decoder.reinit_feat()
    decoder.start_utt()
    try:
        decoder.process_raw(pcm, full_utt=True)
    finally:
        # Without end_utt after an error the decoder refuses the next start_utt.
        decoder.end_utt()
    if decoder.hyp() is None:
        return (), ()
    words = []
    for segment in decoder.seg():
        if segment.word in _NON_WORDS:
            continue
        text = _spelling(segment.word)
        boutique = text in boutique_words if model is not None else None
        words.append(Word(text, round(segment.prob, 3), boutique))
    if model is None:
        return tuple(words), ()
    return tuple(words), _alternatives(decoder, words, boutique_words)


def _spelling(token: str) -> str:
    # Alternative pronunciations come out as "the(2)".
    return token.split("(", 1)[0]


def _alternatives(
    decoder: Decoder, best: list[Word], boutique_words: frozenset[str]
) -> tuple[tuple[Word, ...], ...]:
    """Return the decoder's next best word sequences after `best`, without repeats.

    The n-best list has no per-word posteriors. A word the alternative
    shares with `best` (matched in order by difflib) keeps its confidence,
    and any other word gets 0.0, so a confidence floor drops it.
    """
    seen = {tuple(word.text for word in best)}
    alternatives = []
    for hypothesis in itertools.islice(decoder.nbest(), NBEST):
        if hypothesis is None:
            continue  # the n-best search of a short, silent recording
        texts = tuple(
            _spelling(token)
            for token in hypothesis.hypstr.split()
            if token not in _NON_WORDS
        )
        if not texts or texts in seen:
            continue
        seen.add(texts)
        confidences = [0.0] * len(texts)
        matcher = difflib.SequenceMatcher(
            a=[word.text for word in best], b=texts, autojunk=False
        )
        for block in matcher.get_matching_blocks():
            for offset in range(block.size):
                confidences[block.b + offset] = best[block.a + offset].confidence
        alternatives.append(
            tuple(
                Word(text, confidence, text in boutique_words)
                for text, confidence in zip(texts, confidences, strict=True)
            )
        )
    return tuple(alternatives)


def synthesize(
    text: str, voice: str, words_per_minute: int, audio_format: str
) -> bytes:
    """Speak the text with an eSpeak NG voice and encode it (wav, ogg or mp3)."""
    pcm = espeak.synthesize(text, voice, words_per_minute)
    return encode_speech(pcm, audio_format)


def build_language_model(vocabulary: CatalogueVocabulary, directory: str) -> ModelFiles:
    """Build the boutique model in a child process of this worker.

    The build allocates about 65 MB that Python keeps after it ends; in a
    child, it goes back to the system when the child exits.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as builder:
        return builder.submit(build_model, vocabulary, Path(directory)).result()
