"""Recordings the simulated shoppers send to /api/v1/voice/query.

Two sets from tests/data: real recordings of human speakers, which are not
boutique requests (the assistant replies to them with `fallback`), and the
synthesised boutique commands in tests/data/spoken, in WAV, WebM/Opus and
Ogg/Opus. A third set has one clip padded to exactly 3.0 s, the length the
latency target is stated for.
"""

import io
import json
import random
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"
CONTENT_TYPES = {".wav": "audio/wav", ".webm": "audio/webm", ".ogg": "audio/ogg"}
THREE_SECOND_SOURCE = "goforward.wav"


@dataclass(frozen=True, slots=True)
class Clip:
    name: str
    content_type: str
    data: bytes
    # The format as the request statistics name it: wav, webm or ogg.
    kind: str


def _clip(path: Path) -> Clip:
    return Clip(
        name=path.name,
        content_type=CONTENT_TYPES[path.suffix],
        data=path.read_bytes(),
        kind=path.suffix.lstrip("."),
    )


def recordings() -> list[Clip]:
    """Return the human recordings: the WAV files and goforward.webm."""
    paths = sorted(DATA_DIR.glob("*.wav")) + [DATA_DIR / "goforward.webm"]
    return [_clip(path) for path in paths]


def spoken_commands() -> list[Clip]:
    """Return the synthesised boutique commands listed in spoken/manifest.json."""
    manifest = json.loads((DATA_DIR / "spoken" / "manifest.json").read_text())
    return [_clip(DATA_DIR / "spoken" / entry["file"]) for entry in manifest]


def command_texts() -> list[str]:
    """Return the text of every spoken command, for typed requests."""
    manifest = json.loads((DATA_DIR / "spoken" / "manifest.json").read_text())
    return [entry["text"] for entry in manifest]


def three_second_clip() -> Clip:
    """Return goforward.wav (2.79 s of speech) padded to 3.0 s.

    The padding is a low noise floor, not digital silence, which
    PocketSphinx decodes badly.
    """
    with wave.open(str(DATA_DIR / THREE_SECOND_SOURCE)) as reader:
        rate = reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    missing = 3 * rate - len(frames) // 2
    generator = random.Random(3)
    noise = [generator.randint(-100, 100) for _ in range(missing)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames + struct.pack(f"<{missing}h", *noise))
    return Clip("goforward-3s.wav", "audio/wav", buffer.getvalue(), "wav")


def multipart_body(clip: Clip, fields: dict[str, str], boundary: str) -> bytes:
    """Encode `fields` and the clip as the `audio` part of a multipart form."""
    lines: list[bytes] = []
    for name, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{name}"'.encode(),
            b"",
            value.encode(),
        ]
    disposition = f'form-data; name="audio"; filename="{clip.name}"'
    lines += [
        f"--{boundary}".encode(),
        f"Content-Disposition: {disposition}".encode(),
        f"Content-Type: {clip.content_type}".encode(),
        b"",
        clip.data,
        f"--{boundary}--".encode(),
        b"",
    ]
    return b"\r\n".join(lines)
