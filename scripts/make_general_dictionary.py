"""Write the dictation model's dictionary: the entries of PocketSphinx's
US English dictionary whose word the general language model contains.

The recogniser can only hear words of its language model, so the other
entries (about 55,000 of 134,000) are dead weight: loaded, they cost every
dictation worker about 13 MB. Run from the repository root after
upgrading PocketSphinx:

    .venv/bin/python scripts/make_general_dictionary.py
"""

from pathlib import Path

import pocketsphinx

TARGET = Path("src/pravis_api/services/speech/data/general.dict")
# The log probability of a word the model does not contain.
UNKNOWN = -536870912


def main() -> None:
    model_dir = Path(pocketsphinx.get_model_path()) / "en-us"
    model = pocketsphinx.NGramModel.readfile(str(model_dir / "en-us.lm.bin"))
    written = total = 0
    with (
        (model_dir / "cmudict-en-us.dict").open(encoding="utf-8") as source,
        TARGET.open("w", encoding="utf-8") as target,
    ):
        for line in source:
            total += 1
            # Alternative pronunciations are written "word(2)".
            word = line.split(maxsplit=1)[0].split("(")[0]
            if model.prob([word]) != UNKNOWN:
                target.write(line)
                written += 1
    print(f"wrote {written} of {total} entries to {TARGET}")


if __name__ == "__main__":
    main()
