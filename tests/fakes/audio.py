"""Real audio bytes for the fakes to answer with: a short tone."""

import math
import struct
from functools import cache

from pravis_api.services.speech.encoding import encode_speech
from pravis_api.services.speech.espeak import SAMPLE_RATE


@cache
def tone(audio_format: str, seconds: float = 0.4) -> bytes:
    """A 440 Hz tone encoded as wav, ogg (Opus) or mp3."""
    count = int(SAMPLE_RATE * seconds)
    samples = (
        int(8000 * math.sin(2 * math.pi * 440 * index / SAMPLE_RATE))
        for index in range(count)
    )
    pcm = struct.pack(f"<{count}h", *samples)
    return encode_speech(pcm, audio_format)
