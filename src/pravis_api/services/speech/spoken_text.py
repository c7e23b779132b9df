"""Reply text rewritten for a speech synthesiser.

eSpeak NG reads "$49.99" as "dollar forty nine point nine nine" and "size
S" as the letter S, so prices, sizes and other numbers are spelled out in
words before synthesis.
"""

import re
from decimal import Decimal

from num2words import num2words

_CURRENCIES = {
    "$": ("dollar", "dollars"),
    "€": ("euro", "euros"),
    "£": ("pound", "pounds"),
    "₹": ("rupee", "rupees"),
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
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]*\d)")


def _words(number: Decimal | int) -> str:
    return str(num2words(number)).replace("-", " ").replace(",", "")


def _price(match: re.Match[str]) -> str:
    one, many = _CURRENCIES[match.group(1)]
    whole = int(match.group(2).replace(",", ""))
    cents = int(match.group(3) or 0)
    spoken = f"{_words(whole)} {one if whole == 1 else many}"
    if cents:
        spoken += f" and {_words(cents)} {'cent' if cents == 1 else 'cents'}"
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
    return _NUMBER.sub(lambda match: _words(Decimal(match.group(1))), text)
