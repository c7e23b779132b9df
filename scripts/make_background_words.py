"""Write the recogniser's background vocabulary: the most probable words of
the general US English language model shipped with PocketSphinx.

The boutique language model includes these words with a low weight, so
speech that is not about the boutique is heard as ordinary English words,
which the assistant does not act on, instead of being forced into boutique
words. Run from the repository root:

    .venv/bin/python scripts/make_background_words.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import pocketsphinx

WORDS = 3000
TARGET = Path("src/pravis_api/services/speech/data/background-words.txt")


def unigrams(arpa: Path) -> list[tuple[float, str]]:
    entries: list[tuple[float, str]] = []
    section = ""
    with arpa.open(encoding="latin-1") as lines:
        for line in lines:
            line = line.strip()
            if line.startswith("\\"):
                section = line
                if section == "\\2-grams:":
                    break
                continue
            fields = line.split()
            if section == "\\1-grams:" and len(fields) >= 2:
                entries.append((float(fields[0]), fields[1]))
    return entries


_WRITE_ARPA = """
import sys, pocketsphinx
config, logmath = pocketsphinx.Config(), pocketsphinx.LogMath()
model = pocketsphinx.NGramModel(config, logmath, sys.argv[1])
model.write(sys.argv[2], pocketsphinx.NGramModel.str_to_type("arpa"))
"""


def main() -> None:
    model = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us.lm.bin"
    with tempfile.TemporaryDirectory() as directory:
        arpa = Path(directory) / "general.arpa"
        # NOTE: pocketsphinx 5.1.1 crashes (SIGSEGV) after writing the ARPA
        # file of this model, so the write runs in a child process and only
        # the unigram section, written first, is read.
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", _WRITE_ARPA, str(model), str(arpa)], check=False
        )
        # Most probable first; ties in alphabetical order, so reruns agree.
        entries = sorted(unigrams(arpa), key=lambda entry: (-entry[0], entry[1]))
    if len(entries) < WORDS:
        sys.exit(f"only {len(entries)} unigrams were read from the general model")
    words = [
        word
        for _, word in entries
        if word not in ("<s>", "</s>", "<unk>")
        and all(char.isalpha() or char == "'" for char in word)
    ][:WORDS]
    TARGET.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {TARGET}")


if __name__ == "__main__":
    main()
