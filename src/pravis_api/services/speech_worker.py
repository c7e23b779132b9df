"""Code that runs inside the speech worker processes.

Each process keeps one PocketSphinx decoder, created by `initialize` when
the process starts. PocketSphinx holds the GIL while it decodes, so it
would stall the event loop from a thread; a separate process does not.
Results cross the process boundary as plain dataclasses, not exceptions,
because exceptions with extra attributes do not survive pickling.
"""

import logging
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier

from pocketsphinx import Decoder

from pravis_api.services.audio import AudioError, decode_to_pcm

logger = logging.getLogger(__name__)

ENGINE_NAME = "pocketsphinx"

_decoder: Decoder | None = None


def initialize(ready: Barrier | None = None, ready_timeout: float = 120.0) -> None:
    """Load the decoder with the general US English model shipped in the wheel.

    With a barrier, wait until every worker of the pool has loaded its own,
    so the pool is fully warm once its first job completes.
    """
    # Ctrl-C in a terminal sends SIGINT to the whole process group. The API
    # process stops the pool itself after a graceful shutdown, so a worker
    # that died on SIGINT would only fail the requests still in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _load_decoder()
    if ready is not None:
        ready.wait(ready_timeout)


def _load_decoder() -> Decoder:
    global _decoder
    if _decoder is None:
        _decoder = Decoder(loglevel="FATAL")
    return _decoder


def ping() -> int:
    """Return the worker's pid; used to start and health-check the pool."""
    return os.getpid()


@dataclass(frozen=True, slots=True)
class Transcription:
    transcript: str = ""
    audio_format: str | None = None
    duration_s: float = 0.0
    decode_ms: float = 0.0
    transcribe_ms: float = 0.0
    error_code: str | None = None
    error_message: str = ""


def transcribe_recording(data: bytes, max_seconds: float) -> Transcription:
    """Decode an uploaded recording and transcribe it."""
    started = time.perf_counter()
    try:
        audio = decode_to_pcm(data, max_seconds=max_seconds)
    except AudioError as exc:
        return Transcription(error_code=exc.code, error_message=exc.message)
    decoded = time.perf_counter()

    transcript = transcribe_pcm(audio.pcm)
    finished = time.perf_counter()
    return Transcription(
        transcript=transcript,
        audio_format=audio.audio_format,
        duration_s=audio.duration_s,
        decode_ms=(decoded - started) * 1000,
        transcribe_ms=(finished - decoded) * 1000,
    )


def transcribe_pcm(pcm: bytes) -> str:
    decoder = _load_decoder()
    if not pcm:
        return ""  # the decoder raises IndexError on an empty buffer

    decoder.start_utt()
    try:
        decoder.process_raw(pcm, full_utt=True)
    finally:
        # Without end_utt after an error the decoder refuses the next start_utt.
        decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr.strip() if hypothesis is not None else ""
