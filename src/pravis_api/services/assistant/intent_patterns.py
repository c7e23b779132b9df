"""The phrasings of each intent, as regular expressions over normalised text.

understanding.py picks the intent of a request with these.
"""

import re
from collections.abc import Mapping

from pravis_api.services.assistant.lexicon import PAGE_WORDS


def alternation(words: Mapping[str, object]) -> str:
    """Return a regex alternation of the words, longest first."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_PAGE = alternation(PAGE_WORDS)

# Said before or after a request without changing it.
LEAD_IN = re.compile(
    r"^(?:(?:please|okay|ok|so|now|and|then|also|um|uh|er|hmm|well|alright|right|"
    r"yes|yeah|sure|oh|great|perfect|cool|nice|hi|hey|hello|pravi|actually|maybe|"
    r"definitely|go ahead and|i think|i guess)\s+)+"
)
CLOSING = (
    r"(?:\s+(?:please|for me|thanks|thank you|today|now|right now|as well|too|"
    r"then|pravi))*"
)
# Openings of a command: "can you", "i'd like to", "let's".
OPENING = (
    r"(?:(?:can|could|would|will) (?:you|i|we) (?:please )?|may i |"
    r"i (?:want|need|would like|would love|am ready) to |i'd (?:like|love) to |"
    r"i'm ready to |i wanna |let's |let us |let me )?"
)
# The commands below match a whole `Request.command` up to its closing
# words, so "check out this video" or "go back to sleep" do not act.
NAVIGATE = re.compile(
    OPENING
    + r"(?:go|take me|bring me|get me|open|show(?: me)?|view|see|navigate|visit|"
    r"switch|jump|head)(?: back)?(?: to| into)?(?: the| my)?(?: whole| entire| full)?"
    r"\s+(?P<page>" + _PAGE + r")(?:\s+page)?" + CLOSING
)
BARE_PAGE = re.compile(
    r"(?:(?:the|my)\s+)?(?P<page>" + _PAGE + r")(?:\s+page)?" + CLOSING
)
BACK = re.compile(
    OPENING + r"(?:(?:(?:go|come|take me|bring me|get me|step|move) )?back"
    r"(?: (?:a|one) (?:page|step))?"
    r"(?: to (?:(?:the )?(?:previous|last) (?:page|screen)|shopping))?"
    r"|(?:(?:go|take me|bring me|show me|open) )?(?:back )?(?:to )?(?:the )?"
    r"(?:previous|last) (?:page|screen))" + CLOSING
)
CHECKOUT = re.compile(
    OPENING + r"(?:(?:i'll|i will|i'm|i am) )?(?:(?:ready|time) to )?"
    r"(?:check ?out|pay|proceed to (?:the )?check ?out|take me to pay|"
    r"(?:place|complete|finish) (?:my |the |our )?(?:order|purchase|check ?out)|"
    r"buy (?:it|them|everything) now|(?:i'm|i am) done shopping)(?: now)?"
    r"(?: (?:with|for) (?:it|them|these|those|everything|"
    r"(?:my|the|our) (?:cart|bag|basket|order|items|card)))?"
    r"(?: (?:my|the|our) (?:cart|bag|basket|order|items))?" + CLOSING
)
GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|namaste)\b"
)
HELP = re.compile(
    r"\b(?:help|what can you do|what can i (?:say|ask)|how does this work|"
    r"how do i use (?:this|you))\b"
)
# Matched at the start of `Request.command`: "that doesn't add up" and
# "don't add it" add nothing.
ADD_TO_CART = re.compile(
    OPENING + r"(?:also |just )?(?:(?:add|put|place)\b.*\b(?:cart|bag|basket)\b|add\b"
    r"|(?:i'll|i will|i'd|i would|we'll|we will|i'm going to|i'm gonna|you can) "
    r"(?:take|buy|order|purchase|add|put|get)\b(?! (?:it|that) as an? )"
    r"|(?:buy|purchase|order)\b(?! (?:it|them|everything) now))"
)
AVAILABILITY = re.compile(
    r"\b(?:available|availability|in stock|out of stock|sold out"
    r"|do you have (?:it|this|that|the)|have (?:it|this|that|them) in"
    r"|come in|comes in|any left|how many left|how many are left)\b"
)
# A question about the stock of the product in focus that does not name it.
ANY_LEFT = re.compile(r"\b(?:any|how many are|how many) left\b")
PRICE = re.compile(r"\b(?:how much|price|cost|costs|priced|expensive)\b")
DETAILS = re.compile(
    r"\b(?:tell me (?:more )?about|more about|details|detail|describe|description|"
    r"what is (?:it|this|that|the \S+ one) made of|made of|what fabric|more info|"
    r"information about|what about)\b"
)
SEARCH = re.compile(
    r"\b(?:show|find|search|looking for|look for|i want|i need|i'm after|"
    r"do you (?:have|sell|carry|stock)|got any|have any|browse|recommend|suggest|"
    r"see some|any)\b"
)
