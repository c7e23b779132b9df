"""Synthesise the spoken test set: eSpeak NG voices and rates, a low noise
floor, and a third of the files round-tripped through WebM/Opus.

Run from the repository root:  .venv/bin/python tests/data/spoken/generate.py
It rewrites the audio files and manifest.json beside this script. With
`--only N` it rewrites command N's file and manifest entry and keeps the
rest: eSpeak NG's output differs slightly from run to run, so a full run
changes every file.
"""

import argparse
import io
import json
import random
import struct
import sys
import wave
from pathlib import Path

import av

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from commands import COMMANDS  # noqa: E402

from pravis_api.services.speech.espeak import SAMPLE_RATE, espeak  # noqa: E402

RATES = (140, 150, 160, 170)  # words per minute
TARGET_RATE = 16_000
FORMATS = ("webm", "ogg", "wav")
# eSpeak NG's American English with its Klatt voices and one female
# variant. The acoustic model was trained on American speech; British and
# Caribbean voices, and the plainer variants, are measured separately by
# bench/speech_accuracy.py.
VOICES_USED = (
    "en-us+klatt3", "en-us+klatt", "en-us+klatt4", "en-us+klatt5", "en-us+f2",
)  # fmt: skip


def to_wav(pcm: bytes, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


def resample(wav: bytes, rate: int) -> bytes:
    """Return 16-bit mono PCM at `rate` from a WAV file's bytes."""
    pcm = bytearray()
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    with av.open(io.BytesIO(wav)) as reader:
        for frame in reader.decode(audio=0):
            for out in resampler.resample(frame):
                pcm += bytes(out.planes[0])[: out.samples * 2]
    for out in resampler.resample(None):
        pcm += bytes(out.planes[0])[: out.samples * 2]
    return bytes(pcm)


def with_noise_floor(pcm: bytes, level: int, seed: int) -> bytes:
    """Add quiet noise, and 0.3 s of it before and after the speech.

    PocketSphinx decodes audio padded with digital silence badly.
    """
    rng = random.Random(seed)
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    pad = [rng.randint(-level, level) for _ in range(int(0.3 * TARGET_RATE))]
    noisy = [max(-32768, min(32767, s + rng.randint(-level, level))) for s in samples]
    out = pad + noisy + pad
    return struct.pack(f"<{len(out)}h", *out)


def encode_opus(pcm: bytes, container: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as writer:
        stream = writer.add_stream("libopus", rate=48_000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        with av.open(io.BytesIO(to_wav(pcm, TARGET_RATE))) as reader:
            for frame in reader.decode(audio=0):
                frame.pts = None
                for out in resampler.resample(frame):
                    writer.mux(stream.encode(out))
        for out in resampler.resample(None):
            writer.mux(stream.encode(out))
        writer.mux(stream.encode(None))
    return buffer.getvalue()


def make_clip(index: int) -> dict[str, object]:
    """Write command `index` as audio beside this script and return its entry."""
    text, intent, entities = COMMANDS[index]
    voice = VOICES_USED[index % len(VOICES_USED)]
    rate = RATES[index % len(RATES)]
    container = FORMATS[index % len(FORMATS)]
    spoken = espeak.synthesize(text, voice, words_per_minute=rate)
    pcm = resample(to_wav(spoken, SAMPLE_RATE), TARGET_RATE)
    pcm = with_noise_floor(pcm, level=40 + 20 * (index % 3), seed=index)
    name = f"command-{index:02d}.{container}"
    data = (
        to_wav(pcm, TARGET_RATE) if container == "wav" else encode_opus(pcm, container)
    )
    (HERE / name).write_bytes(data)
    return {
        "file": name,
        "text": text,
        "voice": voice,
        "words_per_minute": rate,
        "intent": intent,
        "entities": entities,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", type=int, metavar="N", help="rewrite command N only (0-based)"
    )
    options = parser.parse_args()
    manifest_path = HERE / "manifest.json"
    if options.only is None:
        manifest = [make_clip(index) for index in range(len(COMMANDS))]
    else:
        manifest = json.loads(manifest_path.read_text())
        manifest[options.only] = make_clip(options.only)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(manifest) if options.only is None else 1} recordings")


if __name__ == "__main__":
    main()
