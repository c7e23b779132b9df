"""What a shopper asked for: the intent and its entities, from text alone.

This step knows the boutique's vocabulary but not its stock; resolving
"the second one" or finding products is the responder's job.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from pravis_api.services.assistant import intent_patterns as patterns
from pravis_api.services.assistant.intent_patterns import alternation
from pravis_api.services.assistant.lexicon import (
    CATEGORY_WORDS,
    COLOR_WORDS,
    FABRIC_WORDS,
    PAGE_WORDS,
    SIZE_WORDS,
    STOP_WORDS,
    TOPIC_WORDS,
)
from pravis_api.services.assistant.numbers import ordinal_value, words_to_digits

LAST = -1  # ordinal of "the last one"
# The maximum price of a search, in major units of the store currency: the
# limit GET /products puts on min_price and max_price. A requested price
# above it is read as MAX_PRICE and a negative one as zero, so the amount in
# minor units fits the integer price column (for up to three decimals).
MAX_PRICE = Decimal(1_000_000)
# The maximum quantity of one product that one request adds to the cart. A
# larger quantity is added as MAX_QUANTITY, and the reply states it.
MAX_QUANTITY = 10


@dataclass(slots=True)
class Request:
    """A shopper's request: intent, entities, and references to earlier turns."""

    text: str
    intent: str = "fallback"
    category: str | None = None
    kind: str | None = None
    color: str | None = None
    size: str | None = None
    fabric: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    # The quantity to add, from 1 to MAX_QUANTITY.
    quantity: int | None = None
    # The quantity as requested, which may be 0, negative or above MAX_QUANTITY.
    requested_quantity: int | None = None
    # Whether a requested price was outside 0 to MAX_PRICE and was moved into
    # that range.
    price_limited: bool = False
    page: str | None = None
    topic: str | None = None
    # 1-based position in the last list of products shown, or LAST.
    ordinal: int | None = None
    # "it", "that one": the product the conversation is about.
    refers_back: bool = False
    keywords: list[str] = field(default_factory=list)
    # The text without lead-ins such as "okay" or "hey pravi". Checkout, back
    # and navigation must fill it up to closing words such as "please", and
    # an add to the cart must start it.
    command: str = ""

    @property
    def names_products(self) -> bool:
        """Whether it names a kind of product by category, colour, fabric or price."""
        filters = (
            self.category,
            self.color,
            self.fabric,
            self.min_price,
            self.max_price,
        )
        return any(value is not None for value in filters)

    @property
    def has_product_filters(self) -> bool:
        return self.names_products or bool(self.keywords)

    @property
    def has_refinements(self) -> bool:
        """Whether it narrows an earlier search ("in size small", "under $50")."""
        return any(
            value is not None
            for value in (
                self.color,
                self.size,
                self.fabric,
                self.min_price,
                self.max_price,
            )
        )


# A signed amount or count: `normalise` spells a minus sign as "minus".
_SIGN = r"(?:minus |negative )?"
_NUMBER = rf"({_SIGN}\d+(?:\.\d{{1,2}})?)"
_COUNT = rf"({_SIGN}\d+)"
_MONEY = rf"\$?\s?{_NUMBER}(?:\s?(?:dollars?|bucks|usd))?"
_BETWEEN = re.compile(
    rf"\b(?:between|from)\s+{_MONEY}\s+(?:and|to)\s+{_MONEY}"
    rf"|\b{_NUMBER}\s+to\s+{_NUMBER}\s+(?:dollars?|bucks|usd)"
)
_AT_MOST = re.compile(
    r"\b(?:under|below|less than|cheaper than|up to|at most|no more than|"
    rf"not more than|max(?:imum)?(?: of)?|within|budget(?: of| is)?)\s+{_MONEY}"
)
_AT_LEAST = re.compile(
    rf"\b(?:over|above|more than|at least|starting at|min(?:imum)?(?: of)?)\s+{_MONEY}"
)
_AROUND = re.compile(rf"\b(?:around|about|roughly|approximately)\s+{_MONEY}")

_SIZE_PHRASE = re.compile(
    r"\b(?:size|in an?|in|an?|(?:what|how) about)\s+("
    + alternation(SIZE_WORDS)
    + r")\b(?!\s+(?:of|amount))"
    r"|\bsize\s+(\d{1,2}(?:\.5)?)\b"
    r"|\b(xxs|xs|xl|xxl|2xl)\b"
)
_QUANTITY = re.compile(
    rf"\b{_COUNT}\s+(?:of\s+(?:them|those|these|it|the\b)|pieces?|units?|items?|pairs?)"
    rf"|\b(?:add|buy|get|take|order)\s+{_COUNT}\b(?!\s*(?:dollars?|bucks|usd|\.))"
    rf"|\bquantity\s+(?:of\s+)?{_COUNT}\b"
)
_ORDINAL = re.compile(
    r"\b(\d{1,2}(?:st|nd|rd|th))\b|\bnumber\s+(\d{1,2})\b"
    r"|\b(last)\s+(?:one|item|product|option)"
)
_REFERS_BACK = re.compile(
    r"\b(?:it|that|this|them|these|those|that one|this one|the same)\b"
)
# A request about one product rather than about a list: "is it in blue",
# "the red one".
_ONE_PRODUCT = re.compile(r"\b(?:it|this|that|one)\b")

_CATEGORY_PATTERN = re.compile(r"\b(" + alternation(CATEGORY_WORDS) + r")\b")
_COLOR_PATTERN = re.compile(r"\b(" + alternation(COLOR_WORDS) + r")\b")
_FABRIC_PATTERN = re.compile(r"\b(" + alternation(FABRIC_WORDS) + r")\b")
_TOPIC_PATTERN = re.compile(r"\b(" + alternation(TOPIC_WORDS) + r")\b")
# "return to the cart" is a way back, not a question about returns.
_RETURN_TO = re.compile(r"\b(?:return|get back) to\b")


def normalise(text: str) -> str:
    """Lower-case, spell numbers as digits, keep $ and . in amounts."""
    text = text.lower()
    # A minus sign before a number makes it negative ("-5", "$-5", "-$5").
    # Any other hyphen separates words ("t-shirt").
    text = re.sub(r"(?<![\w.])\$?[-\u2212\u2013]\$?(?=\d)", " minus ", text)
    text = text.replace("-", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,200 -> 1200
    text = re.sub(r"[^a-z0-9'$. ]+", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep only decimal points
    text = re.sub(r"\s+", " ", text).strip()
    return words_to_digits(text)


def understand(raw_text: str) -> Request:
    """Extract the entities of a request, then decide its intent."""
    text = normalise(raw_text)
    request = Request(text=text)
    if not text:
        return request
    _extract_entities(request)
    request.intent = _classify(request)
    return request


def understand_spoken(transcript: str) -> Request:
    """Understand a transcript of speech, where free words prove nothing.

    A search that names no category, colour, fabric, size or price is taken
    as not understood: such free words are how speech about something else
    comes out of a recogniser that knows the boutique's vocabulary.
    """
    request = understand(transcript)
    if (
        request.intent == "search"
        and not request.names_products
        and request.size is None
    ):
        request.intent = "fallback"
    return request


def _signed(group: str) -> Decimal:
    """Read "12.5", "minus 3" or "negative 3" as a number."""
    sign, _, digits = group.rpartition(" ")
    return -Decimal(digits) if sign else Decimal(digits)


def _within_limits(amount: Decimal) -> Decimal:
    return min(max(amount, Decimal(0)), MAX_PRICE)


def _price(request: Request, *groups: str | None) -> Decimal | None:
    """Read the first amount present, moved into 0 to MAX_PRICE."""
    group = next((group for group in groups if group is not None), None)
    if group is None:
        return None
    amount = _signed(group)
    if not 0 <= amount <= MAX_PRICE:
        request.price_limited = True
    return _within_limits(amount)


def _extract_prices(request: Request, text: str) -> str:
    if match := _BETWEEN.search(text):
        low = _price(request, match.group(1), match.group(3))
        high = _price(request, match.group(2), match.group(4))
        if low is not None and high is not None:
            request.min_price, request.max_price = min(low, high), max(low, high)
        return text.replace(match.group(0), " ")
    if match := _AROUND.search(text):
        amount = _signed(match.group(1))
        if not 0 <= amount <= MAX_PRICE:
            request.price_limited = True
        low, high = amount * Decimal("0.8"), amount * Decimal("1.2")
        request.min_price = _within_limits(low).quantize(Decimal(1))
        request.max_price = _within_limits(high).quantize(Decimal(1))
        return text.replace(match.group(0), " ")
    if match := _AT_MOST.search(text):
        request.max_price = _price(request, match.group(1))
        text = text.replace(match.group(0), " ")
    if match := _AT_LEAST.search(text):
        request.min_price = _price(request, match.group(1))
        text = text.replace(match.group(0), " ")
    return text


def _extract_quantity(request: Request, text: str) -> None:
    if match := _QUANTITY.search(text):
        group = next(group for group in match.groups() if group is not None)
        requested = int(_signed(group))
        request.requested_quantity = requested
        if requested >= 1:
            request.quantity = min(requested, MAX_QUANTITY)


def _command(text: str) -> str:
    return patterns.LEAD_IN.sub("", _RETURN_TO.sub("go to", text))


def _extract_entities(request: Request) -> None:
    text = _extract_prices(request, request.text)
    request.command = _command(request.text)

    if match := _SIZE_PHRASE.search(text):
        word = next(group for group in match.groups() if group is not None)
        request.size = SIZE_WORDS.get(word, word.upper())
        text = text.replace(match.group(0), " ")
    _extract_quantity(request, text)
    if match := _ORDINAL.search(text):
        if match.group(3):
            request.ordinal = LAST
        else:
            request.ordinal = (
                ordinal_value(match.group(1)) if match.group(1) else int(match.group(2))
            )
    request.refers_back = bool(_REFERS_BACK.search(text))

    if match := _CATEGORY_PATTERN.search(text):
        word = CATEGORY_WORDS[match.group(1)]
        request.category, request.kind = word.category, word.kind
    if match := _COLOR_PATTERN.search(text):
        request.color = COLOR_WORDS[match.group(1)]
    if match := _FABRIC_PATTERN.search(text):
        request.fabric = FABRIC_WORDS[match.group(1)]
    if match := _TOPIC_PATTERN.search(_RETURN_TO.sub("go to", text)):
        request.topic = TOPIC_WORDS[match.group(1)]
    command = request.command
    page = patterns.NAVIGATE.fullmatch(command) or patterns.BARE_PAGE.fullmatch(command)
    if page:
        request.page = PAGE_WORDS[page.group("page")]

    entity_words = set()
    for pattern in (_CATEGORY_PATTERN, _COLOR_PATTERN, _FABRIC_PATTERN):
        for found in pattern.findall(text):
            entity_words.update(found.split())
    request.keywords = [
        word
        for word in text.split()
        if word not in STOP_WORDS
        and word not in entity_words
        and len(word) > 2
        and not any(char.isdigit() for char in word)
        and "$" not in word
    ]
    if request.kind:
        request.keywords.insert(0, request.kind)


def _refines_search(request: Request) -> bool:
    """Return whether the request only narrows the last search: "only in blue",
    "what about the ones under $50", "do you have them in silk"."""
    return (
        request.has_refinements
        and request.category is None
        and not request.keywords
        and request.ordinal is None
        and not _ONE_PRODUCT.search(request.text)
    )


def _classify(request: Request) -> str:
    text = request.text
    command = request.command
    refers_to_product = request.ordinal is not None or request.refers_back

    # "i'll take 2" names no product: it means the one in focus.
    adds_product = bool(patterns.ADD_TO_CART.match(command)) and (
        refers_to_product
        or request.has_product_filters
        or request.requested_quantity is not None
    )
    asks_policy = request.topic is not None and not (
        adds_product and (refers_to_product or request.names_products)
    )
    # "what size should i order" asks about sizing; "add it, can i return
    # it" would add to the cart.
    if asks_policy:
        return "policy"
    # Before the pages: "check out my cart" names the cart page.
    if patterns.CHECKOUT.fullmatch(command):
        return "checkout"
    if request.page:
        if request.page == "checkout" and not patterns.NAVIGATE.fullmatch(command):
            return "checkout"
        return "navigate"
    if patterns.BACK.fullmatch(command):
        return "back"
    if adds_product:
        return "add_to_cart"
    if _refines_search(request):
        return "search"
    if patterns.AVAILABILITY.search(text) and (
        refers_to_product
        or request.has_product_filters
        or patterns.ANY_LEFT.search(text)
    ):
        return "availability"
    if patterns.PRICE.search(text) and (
        refers_to_product or request.has_product_filters
    ):
        return "price"
    if patterns.DETAILS.search(text) and (
        refers_to_product or request.has_product_filters
    ):
        return "product_details"
    if request.category or request.color or request.fabric:
        return "search"
    if (request.min_price or request.max_price or request.size) is not None:
        return "search"  # a refinement of an earlier search, or a price range
    if patterns.SEARCH.search(text) and request.keywords:
        return "search"
    if request.ordinal is not None:
        return "product_details"  # "the second one" picks a product to look at
    if patterns.HELP.search(text):
        return "help"
    if patterns.GREETING.search(text):
        return "greeting"
    return "fallback"
