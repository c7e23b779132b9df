"""What a shopper asked for: the intent and its entities, from text alone.

This step knows the boutique's vocabulary but not its stock; resolving
"the second one" or finding products is the responder's job.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pravis_api.services.assistant.lexicon import (
    CATEGORY_WORDS,
    COLOR_WORDS,
    FABRIC_WORDS,
    PAGE_WORDS,
    SIZE_WORDS,
    TOPIC_WORDS,
)
from pravis_api.services.assistant.numbers import ordinal_value, words_to_digits

LAST = -1  # ordinal of "the last one"


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
    quantity: int | None = None
    page: str | None = None
    topic: str | None = None
    # 1-based position in the last list of products shown, or LAST.
    ordinal: int | None = None
    # "it", "that one": the product the conversation is about.
    refers_back: bool = False
    keywords: list[str] = field(default_factory=list)

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


def _alternation(words: Mapping[str, object]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_NUMBER = r"(\d+(?:\.\d{1,2})?)"
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
    r"\b(?:size|in an?|in|an?)\s+("
    + _alternation(SIZE_WORDS)
    + r")\b(?!\s+(?:of|amount))"
    r"|\bsize\s+(\d{1,2}(?:\.5)?)\b"
    r"|\b(xxs|xs|xl|xxl|2xl)\b"
)
_QUANTITY = re.compile(
    r"\b(\d{1,3})\s+(?:of\s+(?:them|those|these|it|the\b)|pieces?|units?|items?|pairs?)"
    r"|\b(?:add|buy|get|take|order)\s+(\d{1,3})\b(?!\s*(?:dollars?|bucks|usd|\.))"
    r"|\bquantity\s+(?:of\s+)?(\d{1,3})\b"
)
_ORDINAL = re.compile(
    r"\b(\d{1,2}(?:st|nd|rd|th))\b|\bnumber\s+(\d{1,2})\b|\b(last)\s+(?:one|item|product)"
)
_REFERS_BACK = re.compile(r"\b(?:it|that|this|them|that one|this one|the same)\b")

_CATEGORY_PATTERN = re.compile(r"\b(" + _alternation(CATEGORY_WORDS) + r")\b")
_COLOR_PATTERN = re.compile(r"\b(" + _alternation(COLOR_WORDS) + r")\b")
_FABRIC_PATTERN = re.compile(r"\b(" + _alternation(FABRIC_WORDS) + r")\b")
_TOPIC_PATTERN = re.compile(r"\b(" + _alternation(TOPIC_WORDS) + r")\b")
_PAGE_PATTERN = _alternation(PAGE_WORDS)

_NAVIGATE = re.compile(
    r"\b(?:go|take me|bring me|open|show(?: me)?|view|see|navigate|visit|switch)"
    r"(?: back)?(?: to| into)?(?: the| my)?(?: whole| entire| full)?\s+"
    r"(?P<page>" + _PAGE_PATTERN + r")\b"
)
_BARE_PAGE = re.compile(
    r"^(?:(?:the|my)\s+)?(?P<page>" + _PAGE_PATTERN + r")(?:\s+page)?(?:\s+please)?$"
)
_BACK = re.compile(
    r"^(?:go\s+)?back$|\b(?:go back|take me back|previous page|last page)\b"
)
_CHECKOUT = re.compile(
    r"\b(?:check ?out|pay(?: now)?|place (?:my |the )?order|"
    r"complete (?:my |the )?(?:order|purchase)|buy (?:it|them|everything) now)\b"
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|namaste)\b"
)
_HELP = re.compile(
    r"\b(?:help|what can you do|what can i (?:say|ask)|how does this work|"
    r"how do i use (?:this|you))\b"
)
_ADD_TO_CART = re.compile(
    r"\b(?:add|put|place)\b.*\b(?:cart|bag|basket)\b|\badd\b|\bi(?:'ll| will) take\b"
    r"|\b(?:buy|purchase|order)\b(?! (?:it|them|everything) now)"
)
_AVAILABILITY = re.compile(
    r"\b(?:available|availability|in stock|out of stock|sold out"
    r"|do you have (?:it|this|that|the)|have (?:it|this|that|them) in"
    r"|come in|comes in|any left|how many left)\b"
)
_PRICE = re.compile(r"\b(?:how much|price|cost|costs|priced|expensive)\b")
_DETAILS = re.compile(
    r"\b(?:tell me (?:more )?about|more about|details|detail|describe|description|"
    r"what is (?:it|this|that|the \S+ one) made of|made of|what fabric|more info|"
    r"information about|what about)\b"
)
_SEARCH = re.compile(
    r"\b(?:show|find|search|looking for|look for|i want|i need|i'm after|"
    r"do you (?:have|sell|carry|stock)|got any|have any|browse|recommend|suggest|"
    r"see some|any)\b"
)

# Words that carry no search meaning: command words, fillers, and the words
# of the entities above once they are extracted.
_STOP_WORDS = frozenset(
    """
    a an the and or of for to in on at by with from me my i i'm im you your we
    our it its this that these those them they please show find search see get
    looking look want need would like could can do does have has got any some
    something anything more other else just also really very nice pretty
    lovely beautiful good great new latest best cheap cheaper expensive under
    below over above less than between around about up most least price
    prices dollar dollars bucks usd size sizes one ones item items product
    products add cart bag basket buy order take ill will is are there what
    which how much many available stock left sell carry browse recommend
    suggest hi hello hey okay ok yes no thanks thank maybe kind sort type
    style styles color colour colours colors fabric made wear wearing tell
    details detail describe description info information cost costs priced
    availability come comes put place purchase will go open view visit
    navigate switch back page home checkout check out pay now profile account
    collection shop catalogue catalog help after same number last quantity
    pieces piece units unit pair pairs let know
    """.split()
)


def normalise(text: str) -> str:
    """Lower-case, spell numbers as digits, keep $ and . in amounts."""
    text = text.lower().replace("-", " ")
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


def _money(*groups: str | None) -> Decimal | None:
    for group in groups:
        if group is not None:
            return Decimal(group)
    return None


def _extract_prices(request: Request, text: str) -> str:
    if match := _BETWEEN.search(text):
        low = _money(match.group(1), match.group(3))
        high = _money(match.group(2), match.group(4))
        if low is not None and high is not None:
            request.min_price, request.max_price = min(low, high), max(low, high)
        return text.replace(match.group(0), " ")
    if match := _AROUND.search(text):
        amount = Decimal(match.group(1))
        request.min_price = (amount * Decimal("0.8")).quantize(Decimal(1))
        request.max_price = (amount * Decimal("1.2")).quantize(Decimal(1))
        return text.replace(match.group(0), " ")
    if match := _AT_MOST.search(text):
        request.max_price = Decimal(match.group(1))
        text = text.replace(match.group(0), " ")
    if match := _AT_LEAST.search(text):
        request.min_price = Decimal(match.group(1))
        text = text.replace(match.group(0), " ")
    return text


def _extract_entities(request: Request) -> None:
    text = _extract_prices(request, request.text)

    if match := _SIZE_PHRASE.search(text):
        word = next(group for group in match.groups() if group is not None)
        request.size = SIZE_WORDS.get(word, word.upper())
        text = text.replace(match.group(0), " ")
    if match := _QUANTITY.search(text):
        value = int(next(group for group in match.groups() if group is not None))
        if value > 0:
            request.quantity = value
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
    # "return to the cart" is a way back, not a question about returns.
    navigation_text = re.sub(r"\b(?:return|get back) to\b", "go to", text)
    if match := _TOPIC_PATTERN.search(navigation_text):
        request.topic = TOPIC_WORDS[match.group(1)]
    if match := _NAVIGATE.search(navigation_text) or _BARE_PAGE.match(navigation_text):
        request.page = PAGE_WORDS[match.group("page")]

    entity_words = set()
    for pattern in (_CATEGORY_PATTERN, _COLOR_PATTERN, _FABRIC_PATTERN):
        for found in pattern.findall(text):
            entity_words.update(found.split())
    request.keywords = [
        word
        for word in text.split()
        if word not in _STOP_WORDS
        and word not in entity_words
        and len(word) > 2
        and not any(char.isdigit() for char in word)
        and "$" not in word
    ]
    if request.kind:
        request.keywords.insert(0, request.kind)


def _classify(request: Request) -> str:
    text = request.text
    refers_to_product = request.ordinal is not None or request.refers_back

    adds_product = bool(_ADD_TO_CART.search(text)) and (
        refers_to_product or request.has_product_filters
    )
    asks_policy = request.topic is not None and not (
        adds_product and (refers_to_product or request.names_products)
    )
    # "what size should i order" asks about sizing; "add it, can i return
    # it" would add to the cart.
    if asks_policy:
        return "policy"
    if request.page and not request.names_products:
        if request.page == "checkout" and not _NAVIGATE.search(text):
            return "checkout"
        return "navigate"
    if _CHECKOUT.search(text):
        return "checkout"
    if _BACK.search(text):
        return "back"
    if adds_product:
        return "add_to_cart"
    if _AVAILABILITY.search(text) and (
        refers_to_product or request.has_product_filters
    ):
        return "availability"
    if _PRICE.search(text) and (refers_to_product or request.has_product_filters):
        return "price"
    if _DETAILS.search(text) and (refers_to_product or request.has_product_filters):
        return "product_details"
    if request.category or request.color or request.fabric:
        return "search"
    if (request.min_price or request.max_price or request.size) is not None:
        return "search"  # a refinement of an earlier search, or a price range
    if _SEARCH.search(text) and request.keywords:
        return "search"
    if request.ordinal is not None:
        return "product_details"  # "the second one" picks a product to look at
    if _HELP.search(text):
        return "help"
    if _GREETING.search(text):
        return "greeting"
    return "fallback"
