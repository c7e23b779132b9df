import io
import resource

import av
import pytest

from pravis_api.services.audio import (
    SAMPLE_RATE,
    AudioError,
    decode_to_pcm,
    is_accepted_content_type,
)
from tests.conftest import DATA
from tests.helpers import noise_wav

GOFORWARD = DATA / "goforward.wav"


class StreamSink(io.RawIOBase):
    """A write-only, unseekable file, like a browser's MediaRecorder output."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        self.data += chunk
        return len(chunk)


def encode(
    source: bytes,
    container: str,
    codec: str,
    rate: int,
    *,
    layout: str = "mono",
    seekable: bool = True,
    container_options: dict[str, str] | None = None,
) -> bytes:
    """Encode a recording; unseekable output leaves the duration out of the header."""
    target: io.BytesIO | StreamSink = io.BytesIO() if seekable else StreamSink()
    with (
        av.open(io.BytesIO(source)) as reader,
        av.open(target, "w", format=container, options=container_options) as writer,
    ):
        stream = writer.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(
            format=stream.format.name, layout=layout, rate=rate
        )
        for frame in reader.decode(audio=0):
            frame.pts = None
            for resampled in resampler.resample(frame):
                writer.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            writer.mux(stream.encode(resampled))
        writer.mux(stream.encode(None))
    return bytes(target.getvalue() if isinstance(target, io.BytesIO) else target.data)


@pytest.mark.parametrize(
    ("container", "codec", "rate", "expected"),
    [
        ("webm", "libopus", 48_000, "webm"),
        ("ogg", "libopus", 48_000, "ogg"),
        ("mp3", "libmp3lame", 44_100, "mp3"),
        ("ipod", "aac", 44_100, "m4a"),
        ("wav", "pcm_s16le", 8_000, "wav"),
    ],
)
def test_decode_accepted_formats(
    container: str, codec: str, rate: int, expected: str
) -> None:
    data = encode(GOFORWARD.read_bytes(), container, codec, rate)
    audio = decode_to_pcm(data, max_seconds=30)
    assert audio.audio_format == expected
    # Codecs pad the start and end by a few milliseconds.
    assert audio.duration_s == pytest.approx(2.79, abs=0.1)
    assert len(audio.pcm) == round(audio.duration_s * SAMPLE_RATE) * 2


def test_decode_wav_is_exact() -> None:
    audio = decode_to_pcm(GOFORWARD.read_bytes(), max_seconds=30)
    assert audio.duration_s == pytest.approx(44_578 / SAMPLE_RATE, abs=1e-3)


def test_decode_rejects_long_header_early() -> None:
    with pytest.raises(AudioError) as error:
        decode_to_pcm(noise_wav(31), max_seconds=30)
    assert error.value.code == "too-long"
    assert "31.0 s" in error.value.message


def test_decode_rejects_long_stream_without_header() -> None:
    """WebM written by a browser has no duration; the decoded length counts."""
    data = encode(noise_wav(12), "webm", "libopus", 48_000, seekable=False)
    with av.open(io.BytesIO(data)) as container:
        assert container.duration is None
    with pytest.raises(AudioError) as error:
        decode_to_pcm(data, max_seconds=5)
    assert error.value.code == "too-long"


def test_decode_joined_mp3_with_rate_change() -> None:
    """Two MP3s joined end to end, the second at another rate and layout."""
    bare = {"write_xing": "0", "id3v2_version": "0"}
    stereo = encode(
        GOFORWARD.read_bytes(), "mp3", "libmp3lame", 44_100,
        layout="stereo", container_options=bare,
    )  # fmt: skip
    mono = encode(
        GOFORWARD.read_bytes(), "mp3", "libmp3lame", 16_000, container_options=bare
    )
    audio = decode_to_pcm(stereo + mono, max_seconds=30)
    assert audio.audio_format == "mp3"
    assert audio.duration_s == pytest.approx(2 * 2.79, abs=0.2)


def low_rate_frame_matroska(samples: int, rate: int) -> bytes:
    """One PCM frame of `samples` at `rate` Hz, stamped as lasting one tick."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as writer:
        stream = writer.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.sample_rate = rate
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            packet.pts = packet.dts = 0
            packet.duration = 1
            writer.mux(packet)
    return buffer.getvalue()


def test_decode_stops_before_resampling_long_frame() -> None:
    """A 600 KB frame of 3,000 s at 100 Hz would resample to about 1 GB."""
    data = low_rate_frame_matroska(samples=300_000, rate=100)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(AudioError) as error:
        decode_to_pcm(data, max_seconds=30)
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert error.value.code == "too-long"
    assert peak_after - peak_before < 150 * 1024  # ru_maxrss is in KiB on Linux


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"plain text, not audio at all" * 10, "unsupported-format"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "unsupported-format"),
        (b"ffconcat version 1.0\nfile pyproject.toml\n", "unsupported-format"),
        (b"RIFF\x00\x00\x00\x00WAVEffconcat version 1.0\n", "undecodable"),
        (GOFORWARD.read_bytes()[:44], "no-audio"),
    ],
)
def test_decode_rejects_bad_data(data: bytes, code: str) -> None:
    with pytest.raises(AudioError) as error:
        decode_to_pcm(data, max_seconds=30)
    assert error.value.code == code
    assert error.value.message


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        (None, True),
        ("audio/webm;codecs=opus", True),
        ("Audio/WAV", True),
        ("application/octet-stream", True),
        ("audio/mpeg", True),
        ("text/plain", False),
        ("image/png", False),
        ("audio/flac", False),
    ],
)
def test_content_type_allow_list(content_type: str | None, accepted: bool) -> None:
    assert is_accepted_content_type(content_type) is accepted
