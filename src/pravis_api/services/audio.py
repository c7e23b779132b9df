"""Audio decoding to 16 kHz mono 16-bit PCM with PyAV.

These functions are CPU work: the API runs them in the speech worker
processes, never on the event loop.
"""

import io
from dataclasses import dataclass

import av

SAMPLE_RATE = 16_000
BYTES_PER_SAMPLE = 2

# FFmpeg demuxer names of the containers the API accepts, and the short name
# stored with each interaction.
CONTAINER_FORMATS = {
    "wav": "wav",
    "matroska,webm": "webm",
    "ogg": "ogg",
    "mp3": "mp3",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
}
ACCEPTED_FORMATS_TEXT = "WAV, WebM/Opus, Ogg/Opus, MP3 or M4A"

# Declared content types of an upload that may hold an accepted format.
# Browsers and curl often send application/octet-stream or nothing, so the
# container is always sniffed from the bytes as well.
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "audio/wav",
        "audio/wave",
        "audio/x-wav",
        "audio/vnd.wave",
        "audio/webm",
        "video/webm",
        "audio/ogg",
        "application/ogg",
        "audio/opus",
        "audio/mpeg",
        "audio/mp3",
        "audio/mp4",
        "audio/m4a",
        "audio/x-m4a",
        "video/mp4",
        "application/octet-stream",
    }
)


class AudioError(Exception):
    """Input that cannot be turned into PCM; `code` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    pcm: bytes  # 16 kHz, mono, signed 16-bit little-endian
    audio_format: str
    duration_s: float


def is_accepted_content_type(content_type: str | None) -> bool:
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ACCEPTED_CONTENT_TYPES


def decode_to_pcm(data: bytes, *, max_seconds: float) -> DecodedAudio:
    """Decode a recording and resample it to 16 kHz mono s16.

    Decoding stops as soon as the audio passes `max_seconds`, so a small
    file that expands to hours of samples costs no more than the limit.
    Raises AudioError with code `undecodable`, `unsupported-format`,
    `too-long` or `no-audio`.
    """
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise AudioError(
            "undecodable",
            f"The file could not be read as audio ({exc.__class__.__name__}). "
            f"Send {ACCEPTED_FORMATS_TEXT}.",
        ) from exc

    with container:
        audio_format = CONTAINER_FORMATS.get(container.format.name)
        if audio_format is None or not container.streams.audio:
            raise AudioError(
                "unsupported-format",
                f"The file is {container.format.long_name or container.format.name}"
                f", which is not a supported audio format. Send "
                f"{ACCEPTED_FORMATS_TEXT}.",
            )

        # The header's duration, when present, rejects long files before any
        # decoding. WebM from MediaRecorder usually has none.
        if container.duration is not None:
            declared_s = container.duration / av.time_base
            if declared_s > max_seconds + 0.5:
                raise _too_long(declared_s, max_seconds)

        pcm = _decode_stream(container, max_seconds=max_seconds)

    if not pcm:
        raise AudioError(
            "no-audio",
            "The file contains no audio samples. Record again and send the "
            "whole recording.",
        )
    duration_s = len(pcm) / (SAMPLE_RATE * BYTES_PER_SAMPLE)
    return DecodedAudio(pcm=pcm, audio_format=audio_format, duration_s=duration_s)


def _decode_stream(
    container: av.container.InputContainer, *, max_seconds: float
) -> bytes:
    max_bytes = int(max_seconds * SAMPLE_RATE) * BYTES_PER_SAMPLE
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pcm = bytearray()

    def append(frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            # Planes can be padded past the last sample.
            pcm.extend(bytes(frame.planes[0])[: frame.samples * BYTES_PER_SAMPLE])
        if len(pcm) > max_bytes:
            raise _too_long(len(pcm) / (SAMPLE_RATE * BYTES_PER_SAMPLE), max_seconds)

    try:
        for frame in container.decode(audio=0):
            append(resampler.resample(frame))
        append(resampler.resample(None))
    except av.FFmpegError as exc:
        if not pcm:
            raise AudioError(
                "undecodable",
                f"The audio stream could not be decoded ({exc.__class__.__name__}). "
                f"Send {ACCEPTED_FORMATS_TEXT}.",
            ) from exc
        # A recording cut short at the end still has usable audio before the
        # damage, as with a browser upload interrupted mid-chunk.
    return bytes(pcm)


def _too_long(seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        "too-long",
        f"The recording is longer than the limit of {max_seconds:g} s "
        f"(at least {seconds:.1f} s). Send a shorter recording.",
    )
