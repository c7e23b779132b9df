"""Measure how well Ask Pravi hears: intent and entity accuracy, word error
rate and per-stage latency of the speech pipeline, and the memory of a
speech worker.

Run from the repository root:

    .venv/bin/python bench/speech_accuracy.py [-v]

It needs no server or database. It builds the boutique model from the demo
catalogue in a real speech worker, as the API does, and sends every clip
through that worker, then through the same word filter and understanding
step as /voice/query. The sets:

- spoken: the committed spoken test set (tests/data/spoken), American
  English voices of eSpeak NG;
- accents: the same commands spoken by eSpeak NG's British (`en`), Received
  Pronunciation, Caribbean and plain American voices, made here;
- other: speech about something else, which must get no action: sixty
  synthesised sentences and the six real recordings of tests/data.

The per-stage times are those a request would see with an idle pool:
`round trip` is the wait for the worker, including decode and transcribe.
"""

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPOKEN = ROOT / "tests" / "data" / "spoken"
sys.path.insert(0, str(SPOKEN))

from commands import COMMANDS  # noqa: E402
from generate import resample, to_wav, with_noise_floor  # noqa: E402

from pravis_api.services.assistant.understanding import (  # noqa: E402
    Request,
    understand_spoken,
)
from pravis_api.services.speech.espeak import SAMPLE_RATE, espeak  # noqa: E402
from pravis_api.services.speech.language_model import vocabulary_of  # noqa: E402
from pravis_api.services.speech_pool import SpeechWorkerPool  # noqa: E402

# Recordings of human speakers, none of them a boutique request.
REAL = sorted(
    [
        ROOT / "tests" / "data" / "goforward.wav",
        *(ROOT / "tests" / "data").glob("cards-*.wav"),
    ]
)
ACCENT_VOICES = ("en", "en-gb-x-rp", "en-029", "en-us")
OTHER_SENTENCES = (
    "the weather is lovely today", "turn left at the next traffic light",
    "please call my mother tomorrow", "i need a taxi to the airport",
    "what is the capital of france", "play some music", "set an alarm for seven",
    "how tall is mount everest", "remind me to buy milk",
    "who won the football game", "send a message to john",
    "what time is it in tokyo", "book a table for two tonight",
    "how many kilometers to boston", "read me the news",
    # Everyday requests and remarks, some with words the boutique's commands
    # use too (open, find, order, show me, home, exchange).
    "turn off the kitchen lights", "what's the score of the cricket match",
    "how do i make pancakes", "remind me to call the dentist on monday",
    "the train leaves at half past nine", "can you spell necessary",
    "tell me a joke", "how far away is the moon", "i will be home by six tonight",
    "my car needs new tyres", "what's the exchange rate for euros",
    "play the next song", "who wrote hamlet", "schedule a meeting with sarah",
    "the printer is out of paper", "what is two plus two",
    "how do you say thank you in spanish", "open the garage door",
    "find a recipe for chicken curry", "is it going to rain tomorrow",
    "set a timer for ten minutes", "wake me up at six thirty",
    "what's on my calendar today", "how old is the eiffel tower",
    "text my brother that i'm running late", "where is the nearest petrol station",
    "what movies are playing tonight", "translate good night into french",
    "i lost my keys again", "the dog needs a walk", "call a plumber",
    "what does photosynthesis mean", "turn up the volume", "lock the front door",
    "how many days until christmas", "start a new playlist",
    "what's the traffic like on the highway", "order a pizza with extra cheese",
    "how do i fix a flat tyre", "my phone battery is low",
    "what is the speed of light", "read my new emails",
    "the meeting has been moved to thursday", "put the kettle on",
    "show me photos from last summer",
)  # fmt: skip
OTHER_VOICES = ("en-us+klatt3", "en-us+klatt", "en-us+f2", "en")


@dataclass
class Clip:
    name: str
    audio: bytes
    text: str  # what is said, for the word error rate
    intent: str = "fallback"
    entities: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    clip: Clip
    heard: str
    request: Request
    round_trip_ms: float
    decode_ms: float
    transcribe_ms: float
    understand_ms: float
    audio_s: float

    @property
    def intent_right(self) -> bool:
        return self.request.intent == self.clip.intent

    @property
    def right(self) -> bool:
        return self.intent_right and all(
            _same(getattr(self.request, name), value)
            for name, value in self.clip.entities.items()
        )


def _same(found: Any, expected: Any) -> bool:
    if found is None:
        return False
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return float(found) == float(expected)
    return bool(found == expected)


def synthesised(text: str, voice: str, rate: int, seed: int) -> bytes:
    pcm = resample(to_wav(espeak.synthesize(text, voice, rate), SAMPLE_RATE), 16_000)
    return to_wav(with_noise_floor(pcm, level=60, seed=seed), 16_000)


def spoken_set() -> list[Clip]:
    manifest = json.loads((SPOKEN / "manifest.json").read_text())
    return [
        Clip(
            entry["file"],
            (SPOKEN / entry["file"]).read_bytes(),
            entry["text"],
            entry["intent"],
            entry["entities"],
        )
        for entry in manifest
    ]


def accent_set() -> list[Clip]:
    clips = []
    for index, (text, intent, entities) in enumerate(COMMANDS):
        voice = ACCENT_VOICES[index % len(ACCENT_VOICES)]
        audio = synthesised(text, voice, 140 + 10 * (index % 4), seed=index)
        clips.append(Clip(f"{voice}:{text}", audio, text, intent, entities))
    return clips


def other_set() -> list[Clip]:
    readme = (ROOT / "tests" / "data" / "README.md").read_text()
    said = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in readme.splitlines()
        if line.startswith("| ") and ".wav" in line
    }
    clips = [Clip(path.name, path.read_bytes(), said[path.name]) for path in REAL]
    for index, text in enumerate(OTHER_SENTENCES):
        voice = OTHER_VOICES[index % len(OTHER_VOICES)]
        clips.append(
            Clip(f"{voice}:{text}", synthesised(text, voice, 150, index), text)
        )
    return clips


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Edit distance in words, and the reference's length."""
    ref = reference.replace("'", "").split()
    hyp = hypothesis.replace("'", "").split()
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        previous, row[0] = row[:], i
        for j, hyp_word in enumerate(hyp, 1):
            row[j] = min(
                previous[j] + 1,
                row[j - 1] + 1,
                previous[j - 1] + (ref_word != hyp_word),
            )
    return row[len(hyp)], len(ref)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def resident_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value
    return (
        int(fields["VmRSS"].split()[0]) / 1024,
        int(fields["VmHWM"].split()[0]) / 1024,
    )


async def run_set(
    pool: SpeechWorkerPool, model: Any, clips: list[Clip], options: argparse.Namespace
) -> list[Outcome]:
    # Imported here and in main(), not at the top: each speech worker starts
    # by importing this file (spawn), and these two modules would add about
    # 80 MB to its resident memory.
    from pravis_api.services.voice import transcript_and_words

    outcomes = []
    for clip in clips:
        started = time.perf_counter()
        result = await pool.transcribe(clip.audio, max_seconds=30, model=model)
        round_trip = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        transcript, heard = transcript_and_words(
            result, options.min_confidence, options.max_unknown_share
        )
        request = understand_spoken(heard)
        understood = (time.perf_counter() - started) * 1000
        outcome = Outcome(
            clip,
            transcript,
            request,
            round_trip,
            result.decode_ms,
            result.transcribe_ms,
            understood,
            result.duration_s,
        )
        outcomes.append(outcome)
        wrong = not outcome.right if clip.intent != "fallback" else request.intent
        if (
            options.verbose
            and wrong
            and (clip.intent != "fallback" or wrong != "fallback")
        ):
            print(f"  miss {clip.name}: heard {transcript!r} -> {request.intent}")
    return outcomes


def report(name: str, outcomes: list[Outcome]) -> str:
    errors = references = 0
    for outcome in outcomes:
        found, length = word_errors(outcome.clip.text, outcome.heard)
        errors, references = errors + found, references + length
    right = sum(outcome.right for outcome in outcomes)
    intents = sum(outcome.intent_right for outcome in outcomes)
    count = len(outcomes)
    factor = [o.transcribe_ms / 1000 / o.audio_s for o in outcomes if o.audio_s]
    trips = [o.round_trip_ms for o in outcomes]
    return (
        f"| {name} | {count} | {right} ({100 * right / count:.0f}%) "
        f"| {intents} ({100 * intents / count:.0f}%) | {errors / references:.2f} "
        f"| {statistics.median(o.decode_ms for o in outcomes):.1f} "
        f"| {statistics.median(o.transcribe_ms for o in outcomes):.0f} "
        f"| {statistics.median(trips):.0f} / {percentile(trips, 0.95):.0f} "
        f"| {statistics.median(o.understand_ms for o in outcomes):.2f} "
        f"| {statistics.median(factor):.3f} |"
    )


async def main() -> None:
    from pravis_api.services.demo_catalogue import demo_products

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses")
    parser.add_argument("--min-confidence", type=float, default=0.0)
    parser.add_argument("--max-unknown-share", type=float, default=0.25)
    options = parser.parse_args()

    pool = SpeechWorkerPool(
        workers=1, queue_limit=8, timeout_seconds=120, role="assistant"
    )
    dictation = SpeechWorkerPool(
        workers=1, queue_limit=8, timeout_seconds=120, role="dictation"
    )
    await pool.start()
    await dictation.start()
    try:
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            vocabulary = vocabulary_of(demo_products())
            model = await pool.build_language_model(vocabulary, directory)
            build_s = time.perf_counter() - started
            sets = {
                "spoken (committed)": spoken_set(),
                "accents (made here)": accent_set(),
                "other speech": other_set(),
            }
            results = {}
            for name, clips in sets.items():
                if options.verbose:
                    print(name)
                results[name] = await run_set(pool, model, clips, options)
            await dictation.transcribe(REAL[0].read_bytes(), max_seconds=30)
            assistant_rss = resident_mb(pool.worker_pids()[0])
            dictation_rss = resident_mb(dictation.worker_pids()[0])
    finally:
        await pool.close()
        await dictation.close()

    other = results["other speech"]
    no_action = [o for o in other if o.request.intent == "fallback"]
    real = [o for o in no_action if o.clip.name in {path.name for path in REAL}]
    machine = f"{platform.node()} {platform.machine()}"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(
        f"settings: min confidence {options.min_confidence}, "
        f"max unknown share {options.max_unknown_share}"
    )
    print(
        f"boutique model built in {build_s:.1f} s from {len(demo_products())} products"
    )
    print()
    print(
        "| set | clips | intent and entities right | intent right | word error rate "
        "| decode ms | transcribe ms | round trip ms p50 / p95 | understand ms "
        "| real-time factor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, outcomes in results.items():
        print(report(name, outcomes))
    print()
    print(
        f"other speech given no action: {len(no_action)} of {len(other)} "
        f"(real recordings {len(real)} of {len(REAL)})"
    )
    print(
        f"speech worker resident MB (now / peak): assistant {assistant_rss[0]:.0f} / "
        f"{assistant_rss[1]:.0f}, dictation {dictation_rss[0]:.0f} / "
        f"{dictation_rss[1]:.0f}"
    )


if __name__ == "__main__":
    random.seed(0)
    asyncio.run(main())
