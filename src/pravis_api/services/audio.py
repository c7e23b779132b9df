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
# Slack over the duration limit for encoder padding: MP3 and AAC encoders
# add tens of milliseconds of priming samples to a recording.
DURATION_TOLERANCE_S = 0.1

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


def sniff_container(data: bytes) -> str | None:
    """Return the short name of an accepted container from the magic bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML, the header of WebM and Matroska
        return "webm"
    if data[:4] == b"OggS":
        return "ogg"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data[:3] == b"ID3" or (
        len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0
    ):
        return "mp3"
    return None


def decode_to_pcm(data: bytes, *, max_seconds: float) -> DecodedAudio:
    """Decode a recording and resample it to 16 kHz mono s16.

    Only the accepted containers are ever opened: FFmpeg would otherwise
    also open playlists and session descriptions that read local files or
    listen on sockets. Decoding stops as soon as the audio passes
    `max_seconds`, so a small file that expands to hours of samples costs
    no more than the limit. Raises AudioError with code
    `unsupported-format`, `undecodable`, `too-long` or `no-audio`.
    """
    audio_format = sniff_container(data)
    if audio_format is None:
        raise AudioError(
            "unsupported-format",
            "The file is not in a supported audio format. "
            f"Send {ACCEPTED_FORMATS_TEXT}.",
        )
    try:
        container = av.open(io.BytesIO(data), mode="r", options=_DEMUXER_OPTIONS)
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise _undecodable() from exc

    with container:
        if not container.streams.audio:
            raise AudioError(
                "no-audio",
                "The file has no audio track. Send a recording with sound.",
            )
        # The header's duration, when present, rejects long files before any
        # decoding. WebM from MediaRecorder usually has none.
        if container.duration is not None:
            declared_s = container.duration / av.time_base
            if declared_s > max_seconds + DURATION_TOLERANCE_S:
                raise _too_long(max_seconds, declared_s)
        try:
            pcm = _decode_stream(container, max_seconds=max_seconds)
        except (av.FFmpegError, ValueError, ZeroDivisionError) as exc:
            raise _undecodable() from exc

    if not pcm:
        raise AudioError(
            "no-audio",
            "The file contains no audio samples. Record again and send the "
            "whole recording.",
        )
    duration_s = len(pcm) / (SAMPLE_RATE * BYTES_PER_SAMPLE)
    return DecodedAudio(pcm=pcm, audio_format=audio_format, duration_s=duration_s)


# FFmpeg demuxers allowed to open an upload, and no protocols: no demuxer may
# open another file or a network address named inside the upload.
_DEMUXER_OPTIONS = {
    "format_whitelist": "wav,matroska,webm,ogg,mp3,mov,mp4,m4a",
    "protocol_whitelist": "none",
}


def _decode_stream(
    container: av.container.InputContainer, *, max_seconds: float
) -> bytes:
    pcm = bytearray()
    decoded_s = 0.0
    resampler: av.AudioResampler | None = None
    source_format: tuple[str, str, int] | None = None

    def append(frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            # Planes can be padded past the last sample.
            pcm.extend(bytes(frame.planes[0])[: frame.samples * BYTES_PER_SAMPLE])

    try:
        for frame in container.decode(audio=0):
            # Count before resampling: one frame at a very low rate can
            # expand to far more samples at 16 kHz than it holds.
            decoded_s += frame.samples / frame.sample_rate
            if decoded_s > max_seconds + DURATION_TOLERANCE_S:
                raise _too_long(max_seconds)
            # A stream may change rate or channels midway (joined MP3s), and
            # a resampler accepts only the format it was made for.
            frame_format = (frame.format.name, frame.layout.name, frame.sample_rate)
            if resampler is None or frame_format != source_format:
                if resampler is not None:
                    append(resampler.resample(None))
                resampler = av.AudioResampler(
                    format="s16", layout="mono", rate=SAMPLE_RATE
                )
                source_format = frame_format
            append(resampler.resample(frame))
        if resampler is not None:
            append(resampler.resample(None))
    except av.FFmpegError:
        if not pcm:
            raise
        # A recording cut short at the end still has usable audio before the
        # damage, as with a browser upload interrupted mid-chunk.
    return bytes(pcm)


def _undecodable() -> AudioError:
    return AudioError(
        "undecodable",
        f"The file could not be decoded as audio; it may be damaged or "
        f"incomplete. Send {ACCEPTED_FORMATS_TEXT}.",
    )


def _too_long(max_seconds: float, declared_s: float | None = None) -> AudioError:
    length = f" (its header says {declared_s:.1f} s)" if declared_s is not None else ""
    return AudioError(
        "too-long",
        f"The recording is longer than the limit of {max_seconds:g} s{length}. "
        "Send a shorter recording.",
    )
