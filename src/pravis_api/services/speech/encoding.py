"""Encoding of synthesised speech: WAV, Ogg/Opus or MP3, with PyAV."""

import io
import wave
from typing import cast

import av
from av.audio.stream import AudioStream

from pravis_api.services.speech.espeak import SAMPLE_RATE

SPEECH_FORMATS = {
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
}
# Opus encodes 8, 12, 16, 24 or 48 kHz; 24 kHz keeps eSpeak's 11 kHz band.
_OPUS_RATE = 24_000


def _wav(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    return buffer.getvalue()


def encode_speech(pcm: bytes, audio_format: str) -> bytes:
    """Encode 16-bit mono PCM at eSpeak's rate; raise ValueError for other formats."""
    if audio_format not in SPEECH_FORMATS:
        raise ValueError(f"unsupported speech format {audio_format!r}")
    wav = _wav(pcm)
    if audio_format == "wav":
        return wav

    codec, rate = (
        ("libopus", _OPUS_RATE)
        if audio_format == "ogg"
        else ("libmp3lame", SAMPLE_RATE)
    )
    output = io.BytesIO()
    with (
        av.open(io.BytesIO(wav), "r") as reader,
        av.open(output, "w", format=audio_format) as writer,
    ):
        stream = cast(AudioStream, writer.add_stream(codec, rate=rate, layout="mono"))
        resampler = av.AudioResampler(
            format=stream.format.name, layout="mono", rate=rate
        )
        for frame in reader.decode(audio=0):
            frame.pts = None
            for resampled in resampler.resample(frame):
                writer.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            writer.mux(stream.encode(resampled))
        writer.mux(stream.encode(None))
    return output.getvalue()
