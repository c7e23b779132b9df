"""eSpeak NG, loaded from the espeakng-loader wheel through ctypes.

eSpeak NG keeps global state and crashes when two threads synthesise at
once, so every call takes one lock per process. It runs in the speech
worker processes, never on the event loop.
"""

import ctypes
import threading
from dataclasses import dataclass

import espeakng_loader

SAMPLE_RATE = 22_050  # eSpeak NG's output rate, 16-bit mono PCM

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES_MNEMONIC = 0
_PARAMETER_RATE = 1

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    name: str
    language: str
    gender: str
    # eSpeak NG's voice file name, with an optional +variant.
    espeak_name: str


# English voices of eSpeak NG, and female variants of the main ones.
VOICES = (
    Voice("en-us", "American English", "en-US", "male", "en-us"),
    Voice("en-us-f", "American English", "en-US", "female", "en-us+f3"),
    Voice("en-gb", "British English", "en-GB", "male", "en"),
    Voice("en-gb-f", "British English", "en-GB", "female", "en+f3"),
    Voice(
        "en-gb-rp",
        "British English, Received Pronunciation",
        "en-GB",
        "male",
        "en-gb-x-rp",
    ),
    Voice("en-gb-scotland", "Scottish English", "en-GB", "male", "en-gb-scotland"),
    Voice("en-029", "Caribbean English", "en-029", "male", "en-029"),
    Voice("en-us-nyc", "American English, New York City", "en-US", "male", "en-us-nyc"),
)
VOICES_BY_ID = {voice.id: voice for voice in VOICES}
DEFAULT_VOICE = "en-us-f"


class EspeakError(RuntimeError):
    pass


class _Espeak:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._library: ctypes.CDLL | None = None
        self._chunks: list[bytes] = []
        # Kept on the instance: ctypes calls a collected callback and crashes.
        self._callback = _SynthCallback(self._collect)

    def _collect(
        self, wav: "ctypes._Pointer[ctypes.c_short]", samples: int, _events: int
    ) -> int:
        if samples > 0:
            self._chunks.append(ctypes.string_at(wav, samples * 2))
        return 0

    def _load(self) -> ctypes.CDLL:
        if self._library is None:
            library = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path().encode()
            rate = library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
            if rate != SAMPLE_RATE:
                raise EspeakError(f"eSpeak NG failed to initialise (returned {rate})")
            library.espeak_SetSynthCallback(self._callback)
            library.espeak_Synth.argtypes = [
                ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
            ]  # fmt: skip
            library.espeak_TextToPhonemes.restype = ctypes.c_char_p
            library.espeak_TextToPhonemes.argtypes = [
                ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
            ]  # fmt: skip
            self._library = library
        return self._library

    def synthesize(self, text: str, voice: str, words_per_minute: int = 165) -> bytes:
        """Return 16-bit mono PCM at SAMPLE_RATE for the text."""
        with self._lock:
            library = self._load()
            if library.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"eSpeak NG has no voice {voice}")
            library.espeak_SetParameter(_PARAMETER_RATE, words_per_minute, 0)
            self._chunks = []
            data = text.encode()
            status = library.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            library.espeak_Synchronize()
            if status != 0:
                raise EspeakError(f"eSpeak NG synthesis failed with status {status}")
            return b"".join(self._chunks)

    def phonemes(self, word: str, voice: str = "en-us") -> str:
        """Return eSpeak's phoneme mnemonics for a word, e.g. "k'3:t#@" for kurta."""
        with self._lock:
            library = self._load()
            library.espeak_SetVoiceByName(voice.encode())
            pointer = ctypes.c_char_p(word.encode())
            result = library.espeak_TextToPhonemes(
                ctypes.byref(pointer), _CHARS_UTF8, _PHONEMES_MNEMONIC
            )
            return (result or b"").decode().strip()


espeak = _Espeak()
