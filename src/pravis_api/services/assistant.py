"""The first Ask Pravi assistant: rules for greetings, help and navigation.

It understands a handful of phrasings and asks the shopper to rephrase
anything else, with no action, rather than guess.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from pravis_api.schemas.voice import PAGE_PATHS

# Spoken names of each page, longest first so "home page" beats "home".
_PAGE_WORDS: dict[str, str] = {
    "home page": "home",
    "homepage": "home",
    "main page": "home",
    "front page": "home",
    "home": "home",
    "product catalogue": "products",
    "product catalog": "products",
    "catalogue": "products",
    "catalog": "products",
    "products": "products",
    "collection": "products",
    "shop": "products",
    "shopping cart": "cart",
    "shopping bag": "cart",
    "basket": "cart",
    "cart": "cart",
    "check out page": "checkout",
    "checkout page": "checkout",
    "checkout": "checkout",
    "profile": "profile",
    "account": "profile",
}
_PAGE_PATTERN = "|".join(
    re.escape(word) for word in sorted(_PAGE_WORDS, key=len, reverse=True)
)

_NAVIGATE = re.compile(
    r"\b(?:go|take me|bring me|open|show(?: me)?|view|see|navigate|visit|switch)"
    r"(?: back)?(?: to| into)?(?: the| my)?\s+(?P<page>" + _PAGE_PATTERN + r")\b"
)
# "my cart", "cart please": a page named on its own, the whole request.
_BARE_PAGE = re.compile(
    r"^(?:(?:the|my)\s+)?(?P<page>" + _PAGE_PATTERN + r")(?:\s+page)?(?:\s+please)?$"
)
_BACK = re.compile(r"^(?:go\s+)?back$|\b(?:go back|previous page|last page)\b")
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

GREETING_REPLY = (
    "Hello, I'm Pravi, your shopping assistant. You can ask me to open the "
    "collection, show your cart, or check out."
)
HELP_REPLY = (
    "You can say things like 'show me the collection', 'open my cart', "
    "'go to my profile', 'go back' or 'check out'."
)
FALLBACK_REPLY = (
    "Sorry, I didn't understand that. Could you say it another way? For "
    "example, 'open my cart' or 'show me the collection'."
)
_PAGE_REPLIES = {
    "home": "Taking you to the home page.",
    "products": "Here is the collection.",
    "cart": "Opening your cart.",
    "checkout": "Taking you to checkout.",
    "profile": "Opening your profile.",
}


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: str
    reply: str
    action: dict[str, Any] | None = None
    entities: dict[str, Any] = field(default_factory=dict)

    @property
    def understood(self) -> bool:
        return self.intent != "fallback"


def normalise(text: str) -> str:
    """Lower-case, drop punctuation and collapse spaces."""
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def understand(text: str) -> Understanding:
    """Find the shopper's intent in a transcript or typed request."""
    words = normalise(text)
    if not words:
        return Understanding("fallback", FALLBACK_REPLY)

    # "go to checkout" opens the page; "check out" on its own is the intent.
    if match := _NAVIGATE.search(words):
        return _navigate(_PAGE_WORDS[match.group("page")])
    if _CHECKOUT.search(words):
        return Understanding(
            "checkout", "Taking you to checkout.", {"type": "checkout"}
        )
    if match := _BARE_PAGE.match(words):
        return _navigate(_PAGE_WORDS[match.group("page")])
    if _BACK.search(words):
        return Understanding("back", "Going back.", {"type": "back"})
    if _HELP.search(words):
        return Understanding("help", HELP_REPLY)
    if _GREETING.search(words):
        return Understanding("greeting", GREETING_REPLY)
    return Understanding("fallback", FALLBACK_REPLY)


def _navigate(page: str) -> Understanding:
    action = {"type": "navigate", "page": page, "path": PAGE_PATHS[page]}
    return Understanding("navigate", _PAGE_REPLIES[page], action, {"page": page})
