"""Reply text rewritten for a speech synthesiser.

eSpeak NG reads "$49.99" as "dollar forty nine point nine nine" and "size
S" as the letter S, so prices, sizes and other numbers are spelled out in
words before synthesis. A number of more than 15 digits is spelled digit
by digit.
"""

import re

from num2words import num2words

# Each currency's unit and its hundredth, singular then plural.
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
_SIZE_WORDS = {
    "XXS": "double extra small",
    "XS": "extra small",
    "S": "small",
    "M": "medium",
    "L": "large",
    "XL": "extra large",
    "XXL": "double extra large",
}
# A longer run of digits (a quadrillion or more) is more often an order, card
# or phone number than a quantity, so it is spelled digit by digit. num2words
# 0.5.14 raises OverflowError from 307 digits on.
_MAX_DIGITS_AS_NUMBER = 15
_DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
_PRICE = re.compile(r"([$€£₹])(\d[\d,]*)(?:\.(\d{2}))?")
# Size labels after "size", "sizes" or "in", the way replies list them:
# "in sizes S, M and L", "it comes in XS and S". The lead word may start a
# sentence, so its case is ignored, but the labels must be upper case.
_SIZE_LIST = re.compile(
    r"\b(?i:(sizes?|in))\s+((?:XXS|XS|S|M|L|XL|XXL|\d{1,2}(?:\.5)?)"
    r"(?:(?:,\s*|\s+and\s+|\s+or\s+)(?:XXS|XS|S|M|L|XL|XXL|\d{1,2}(?:\.5)?))*)\b"
)
_SIZE_LABEL = re.compile(r"\b(XXS|XS|XXL|XL|S|M|L)\b")
_ORDINAL = re.compile(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b")
_NUMBER = re.compile(r"(?<![\w.])(\d+)(?:\.(\d+))?(?![\w.]*\d)")


def _words(number: int, to: str = "cardinal") -> str:
    return str(num2words(number, to=to)).replace("-", " ").replace(",", "")


def _digits(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(digit)] for digit in digits)


def _is_long(digits: str) -> bool:
    return len(digits.lstrip("0")) > _MAX_DIGITS_AS_NUMBER


def _cardinal(digits: str) -> str:
    """Spell a run of digits as a number, or digit by digit when it is long."""
    if _is_long(digits):
        return _digits(digits)
    return _words(int(digits))


def _ordinal(digits: str) -> str:
    """Spell "22" of "22nd" as "twenty second". A long run is spelled digit
    by digit up to its last digit, or its last two from 10 to 19, which are
    spelled as an ordinal."""
    if not _is_long(digits):
        return _words(int(digits), "ordinal")
    tail = 2 if digits[-2] == "1" else 1
    return f"{_digits(digits[:-tail])} {_words(int(digits[-tail:]), 'ordinal')}"


def _number(match: re.Match[str]) -> str:
    """Spell "4.5" as "four point five", the fraction digit by digit and
    without its trailing zeros, as num2words does. The digits come from the
    text because num2words 0.5.14 converts a fraction to a float, which keeps
    about 16 significant digits: "1." and 400 nines became "two point zero"."""
    spoken = _cardinal(match.group(1))
    fraction = (match.group(2) or "").rstrip("0")
    if fraction:
        spoken += f" point {_digits(fraction)}"
    return spoken


def _price(match: re.Match[str]) -> str:
    unit, units, hundredth, hundredths = _CURRENCIES[match.group(1)]
    whole = match.group(2).replace(",", "")
    cents = int(match.group(3) or 0)
    spoken_cents = f"{_words(cents)} {hundredth if cents == 1 else hundredths}"
    if whole.strip("0") == "" and cents:
        return spoken_cents
    spoken = f"{_cardinal(whole)} {unit if whole.lstrip('0') == '1' else units}"
    if cents:
        spoken += f" and {spoken_cents}"
    return spoken


def _sizes(match: re.Match[str]) -> str:
    labels = _SIZE_LABEL.sub(lambda label: _SIZE_WORDS[label.group(1)], match.group(2))
    return f"{match.group(1)} {labels}"


def spoken_text(text: str) -> str:
    """Spell prices, sizes and numbers as words: "$49.99" becomes
    "forty nine dollars and ninety nine cents", "size XL" "size extra large"."""
    text = _PRICE.sub(_price, text)
    text = _SIZE_LIST.sub(_sizes, text)
    text = text.replace("One Size", "one size")
    text = _ORDINAL.sub(lambda match: _ordinal(match.group(1)), text)
    return _NUMBER.sub(_number, text)
