"""Write goforward.webm: goforward.wav as WebM/Opus, as a browser would send it.

Run from the repository root: python tests/data/transcode.py
"""

from pathlib import Path

import av

DATA = Path(__file__).parent


def transcode_to_webm_opus(source: Path, target: Path) -> None:
    with (
        av.open(str(source)) as reader,
        av.open(str(target), "w", format="webm") as writer,
    ):
        stream = writer.add_stream("libopus", rate=48_000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for frame in reader.decode(audio=0):
            frame.pts = None
            for resampled in resampler.resample(frame):
                writer.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            writer.mux(stream.encode(resampled))
        writer.mux(stream.encode(None))


if __name__ == "__main__":
    transcode_to_webm_opus(DATA / "goforward.wav", DATA / "goforward.webm")
