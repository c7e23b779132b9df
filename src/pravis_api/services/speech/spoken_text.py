"""Reply text rewritten for a speech synthesiser.

eSpeak NG reads "$49.99" as "dollar forty nine point nine nine" and "size
S" as the letter S, so prices, sizes and other numbers are spelled out in
words before synthesis.
"""

import re
from decimal import Decimal

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
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]*\d)")


def _words(number: Decimal | int, to: str = "cardinal") -> str:
    return str(num2words(number, to=to)).replace("-", " ").replace(",", "")


def _price(match: re.Match[str]) -> str:
    unit, units, hundredth, hundredths = _CURRENCIES[match.group(1)]
    whole = int(match.group(2).replace(",", ""))
    cents = int(match.group(3) or 0)
    spoken_cents = f"{_words(cents)} {hundredth if cents == 1 else hundredths}"
    if whole == 0 and cents:
        return spoken_cents
    spoken = f"{_words(whole)} {unit if whole == 1 else units}"
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
    text = _ORDINAL.sub(lambda match: _words(int(match.group(1)), "ordinal"), text)
    return _NUMBER.sub(lambda match: _words(Decimal(match.group(1))), text)
