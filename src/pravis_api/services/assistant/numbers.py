"""Numbers spoken as words, rewritten as digits: "one hundred" to "100"."""

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
}
_NUMBER_WORDS = _UNITS.keys() | _TENS.keys() | _SCALES.keys()

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip

_DIGIT_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")


def _parse_number(tokens: list[str], start: int) -> tuple[int, int] | None:
    """Parse number words from `start`; return (value, tokens used) or None."""
    total = 0
    current = 0
    index = start
    used_any = False
    while index < len(tokens):
        word = tokens[index]
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total += current
                current = 0
        elif word == "a" and index + 1 < len(tokens) and tokens[index + 1] in _SCALES:
            current += 1  # "a hundred"
        elif (
            word == "and"
            and used_any
            and index + 1 < len(tokens)
            and tokens[index + 1] in _UNITS.keys() | _TENS.keys()
            and tokens[index - 1] in _SCALES
        ):
            pass  # "two hundred and fifty"
        else:
            break
        used_any = used_any or word not in ("a", "and")
        index += 1
    if not used_any:
        return None
    return total + current, index - start


def words_to_digits(text: str) -> str:
    """Rewrite number words as digits; ordinals become "2nd" and so on.

    A lone "one" stays a word, because in "the red one" or "that one" it
    is a pronoun. "one hundred" and "twenty one" are numbers.
    """
    tokens = text.split()
    output: list[str] = []
    index = 0
    while index < len(tokens):
        word = tokens[index]
        if word in ORDINALS:
            output.append(f"{ORDINALS[word]}{_ordinal_suffix(ORDINALS[word])}")
            index += 1
            continue
        parsed = _parse_number(tokens, index) if word in _NUMBER_WORDS | {"a"} else None
        if parsed is None or (word == "one" and parsed[1] == 1):
            output.append(word)
            index += 1
            continue
        value, used = parsed
        index += used
        # "forty nine point nine nine": digits after "point" one by one.
        if index + 1 < len(tokens) and tokens[index] == "point":
            decimals = ""
            cursor = index + 1
            while (
                cursor < len(tokens)
                and tokens[cursor] in _UNITS
                and _UNITS[tokens[cursor]] < 10
            ):
                decimals += str(_UNITS[tokens[cursor]])
                cursor += 1
            if decimals:
                output.append(f"{value}.{decimals}")
                index = cursor
                continue
        output.append(str(value))
    return " ".join(output)


def _ordinal_suffix(value: int) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(value, "th")


def ordinal_value(token: str) -> int | None:
    """Return 2 for "2nd"; None for anything else."""
    match = _DIGIT_ORDINAL.fullmatch(token)
    return int(match.group(1)) if match else None
