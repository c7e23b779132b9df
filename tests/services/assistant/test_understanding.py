"""Intent and entity extraction over many phrasings, without the database."""

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from pravis_api.api.v1.endpoints import products
from pravis_api.services.assistant.numbers import words_to_digits
from pravis_api.services.assistant.understanding import (
    LAST,
    MAX_PRICE,
    MAX_QUANTITY,
    understand,
)
from pravis_api.services.speech import phrases
from pravis_api.services.speech.language_model import _REFINING, _REFINING_ONES
from tests.conftest import DATA

# (text, intent, expected entities). Only the keys given are checked, and a
# key given as None must be absent.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    # Search: categories and their synonyms.
    ("show me red dresses", "search", {"category": "dresses", "color": "red"}),
    ("red dresses please", "search", {"category": "dresses", "color": "red"}),
    ("do you have any sweaters", "search", {"category": "knitwear"}),
    ("I'm looking for a jumper", "search", {"category": "knitwear"}),
    ("show me cardigans", "search", {"category": "knitwear", "kind": "cardigan"}),
    ("find me some sneakers", "search", {"category": "shoes", "kind": "sneaker"}),
    ("trainers in size 8", "search", {"category": "shoes", "size": "8"}),
    ("high heels", "search", {"category": "shoes", "kind": "heel"}),
    ("show me boots", "search", {"category": "shoes", "kind": "boot"}),
    ("sandals for summer", "search", {"category": "shoes"}),
    ("handbags", "search", {"category": "bags"}),
    ("a leather tote", "search", {"category": "bags", "fabric": "leather"}),
    ("do you sell purses", "search", {"category": "bags"}),
    ("saris", "search", {"category": "sarees"}),
    ("show me silk sarees", "search", {"category": "sarees", "fabric": "silk"}),
    ("banarasi saree", "search", {"category": "sarees", "keywords": ["banarasi"]}),
    ("kurtis under thirty dollars", "search", {"category": "kurtas", "max_price": 30}),
    ("cotton kurta", "search", {"category": "kurtas", "fabric": "cotton"}),
    ("salwar kameez", "search", {"category": "suits"}),
    ("sharara sets", "search", {"category": "suits"}),
    ("dupattas in pink", "search", {"category": "dupattas", "color": "pink"}),
    ("chiffon dupatta", "search", {"category": "dupattas", "fabric": "chiffon"}),
    ("pashmina shawls", "search", {"category": "stoles", "fabric": "pashmina"}),
    ("wool stoles", "search", {"category": "stoles", "fabric": "wool"}),
    ("woollen scarves", "search", {"category": "scarves", "fabric": "wool"}),
    ("silk scarf", "search", {"category": "scarves", "fabric": "silk"}),
    ("t-shirts", "search", {"category": "tops"}),
    ("white tees", "search", {"category": "tops", "color": "white"}),
    ("blouses in ivory", "search", {"category": "tops", "color": "ivory"}),
    ("linen shirts", "search", {"category": "shirts", "fabric": "linen"}),
    ("button-down shirts", "search", {"category": "shirts"}),
    ("black pants", "search", {"category": "trousers", "color": "black"}),
    ("blue jeans", "search", {"category": "trousers", "color": "blue", "kind": "jean"}),
    ("show me skirts", "search", {"category": "skirts"}),
    ("a lehenga", "search", {"category": "skirts"}),
    ("navy blazer", "search", {"category": "jackets", "color": "navy"}),
    ("coats", "search", {"category": "jackets"}),
    ("gold earrings", "search", {"category": "jewellery", "color": "gold"}),
    ("jewelry", "search", {"category": "jewellery"}),
    ("necklaces", "search", {"category": "jewellery"}),
    ("gowns", "search", {"category": "dresses"}),
    ("maxi dresses", "search", {"category": "dresses"}),
    # Colour synonyms.
    ("gray sweaters", "search", {"color": "grey"}),
    ("navy blue dress", "search", {"color": "navy"}),
    ("off-white kurta", "search", {"color": "ivory"}),
    ("burgundy dress", "search", {"color": "maroon"}),
    ("scarlet saree", "search", {"color": "red"}),
    ("golden bangles", "search", {"color": "gold", "category": "jewellery"}),
    # Prices in words and digits, and word order.
    ("red dresses under one hundred dollars", "search", {"max_price": 100}),
    ("red dresses under 100 dollars", "search", {"max_price": 100}),
    ("red dresses under $100", "search", {"max_price": 100}),
    ("under fifty dollars red dresses", "search", {"max_price": 50, "color": "red"}),
    ("dresses below 80 bucks", "search", {"max_price": 80}),
    ("dresses less than seventy five", "search", {"max_price": 75}),
    ("tops cheaper than 40", "search", {"max_price": 40}),
    ("bags up to two hundred and fifty dollars", "search", {"max_price": 250}),
    ("sarees over 200", "search", {"min_price": 200}),
    ("sarees above two hundred dollars", "search", {"min_price": 200}),
    ("shoes at least 60 dollars", "search", {"min_price": 60}),
    ("dresses between 20 and 40", "search", {"min_price": 20, "max_price": 40}),
    (
        "dresses between twenty and forty dollars",
        "search",
        {"min_price": 20, "max_price": 40},
    ),
    ("dresses from $30 to $60", "search", {"min_price": 30, "max_price": 60}),
    ("kurtas 30 to 50 dollars", "search", {"min_price": 30, "max_price": 50}),
    ("shirts between 60 and 40", "search", {"min_price": 40, "max_price": 60}),
    ("scarves around 50 dollars", "search", {"min_price": 40, "max_price": 60}),
    ("a dress under $49.99", "search", {"max_price": Decimal("49.99")}),
    (
        "dresses under forty nine point nine nine",
        "search",
        {"max_price": Decimal("49.99")},
    ),
    ("bags under 1,200 dollars", "search", {"max_price": 1200}),
    ("jackets for less than a hundred", "search", {"max_price": 100}),
    # Sizes.
    ("dresses in size small", "search", {"size": "S"}),
    ("dresses in small", "search", {"size": "S"}),
    ("a medium shirt", "search", {"size": "M", "category": "shirts"}),
    ("tops size XL", "search", {"size": "XL"}),
    ("xxl kurtas", "search", {"size": "XXL"}),
    ("trousers in extra large", "search", {"size": "XL"}),
    ("skirts in extra small", "search", {"size": "XS"}),
    ("boots in size nine", "search", {"size": "9"}),
    ("sneakers size 7.5", "search", {"size": "7.5"}),
    # Refinements of an earlier search.
    ("in size small", "search", {"size": "S", "category": None}),
    ("under 50", "search", {"max_price": 50}),
    ("in blue", "search", {"color": "blue"}),
    ("in silk", "search", {"fabric": "silk"}),
    ("only in blue", "search", {"color": "blue", "category": None, "keywords": []}),
    ("just in silk", "search", {"fabric": "silk", "keywords": []}),
    ("now in size small", "search", {"size": "S", "keywords": []}),
    ("what about in navy", "search", {"color": "navy", "keywords": []}),
    ("what about size small", "search", {"size": "S", "keywords": []}),
    ("any in black", "search", {"color": "black", "keywords": []}),
    ("do you have them in green", "search", {"color": "green", "keywords": []}),
    ("show me them in cotton", "search", {"fabric": "cotton", "keywords": []}),
    ("only the blue ones", "search", {"color": "blue", "keywords": []}),
    ("what about the ones under 50", "search", {"max_price": 50, "keywords": []}),
    # Request words are not searched for.
    (
        "i would love to see linen shirts",
        "search",
        {"category": "shirts", "fabric": "linen", "keywords": []},
    ),
    ("i'd like to see red dresses", "search", {"color": "red", "keywords": []}),
    ("hey pravi may i see some silk sarees", "search", {"keywords": []}),
    ("well i need the whole range of kurtas", "search", {"keywords": ["range"]}),
    # Product details, price and availability.
    ("tell me about the first one", "product_details", {"ordinal": 1}),
    ("more about the second one", "product_details", {"ordinal": 2}),
    ("describe the third one", "product_details", {"ordinal": 3}),
    ("what is it made of", "product_details", {"refers_back": True}),
    ("the second one", "product_details", {"ordinal": 2}),
    ("tell me about the last one", "product_details", {"ordinal": LAST}),
    ("number 2", "product_details", {"ordinal": 2}),
    ("how much is the first one", "price", {"ordinal": 1}),
    ("what does it cost", "price", {"refers_back": True}),
    ("what's the price of the silk scarf", "price", {"category": "scarves"}),
    ("how much are the black sneakers", "price", {"color": "black"}),
    ("is it available in medium", "availability", {"size": "M"}),
    ("is the second one in stock", "availability", {"ordinal": 2}),
    ("do you have it in large", "availability", {"size": "L"}),
    ("does it come in size 8", "availability", {"size": "8"}),
    (
        "is the red dress available in small",
        "availability",
        {"size": "S", "color": "red"},
    ),
    ("is the red one available in small", "availability", {"color": "red"}),
    ("are there any left", "availability", {}),
    ("tell me about those", "product_details", {"refers_back": True}),
    # Add to cart.
    ("add the second one", "add_to_cart", {"ordinal": 2}),
    ("add it to my cart", "add_to_cart", {"refers_back": True}),
    ("add the silk scarf to my cart", "add_to_cart", {"category": "scarves"}),
    ("put the first one in my bag", "add_to_cart", {"ordinal": 1}),
    ("I'll take the third one in XL", "add_to_cart", {"ordinal": 3, "size": "XL"}),
    ("add two of the first one", "add_to_cart", {"quantity": 2, "ordinal": 1}),
    ("add 3 of them to my basket", "add_to_cart", {"quantity": 3}),
    ("buy the second one in medium", "add_to_cart", {"ordinal": 2, "size": "M"}),
    ("add the last one in size small", "add_to_cart", {"ordinal": LAST, "size": "S"}),
    ("okay add these to my cart please", "add_to_cart", {"refers_back": True}),
    ("yes please add the first one", "add_to_cart", {"ordinal": 1}),
    ("could you add it to my bag", "add_to_cart", {"refers_back": True}),
    ("i want to buy the silk scarf", "add_to_cart", {"category": "scarves"}),
    # Policies.
    ("what is your return policy", "policy", {"topic": "returns"}),
    ("can I return a dress", "policy", {"topic": "returns"}),
    ("how do refunds work", "policy", {"topic": "returns"}),
    ("can I exchange for another size", "policy", {"topic": "exchanges"}),
    ("how long does shipping take", "policy", {"topic": "shipping"}),
    ("do you deliver to canada", "policy", {"topic": "shipping"}),
    ("is delivery free", "policy", {"topic": "shipping"}),
    ("do you have a size guide", "policy", {"topic": "sizing"}),
    ("what size should I get", "policy", {"topic": "sizing"}),
    # Navigation, back, checkout.
    ("open my cart", "navigate", {"page": "cart"}),
    ("go to the home page", "navigate", {"page": "home"}),
    ("take me to my profile", "navigate", {"page": "profile"}),
    ("show me the collection", "navigate", {"page": "products"}),
    ("return to the cart", "navigate", {"page": "cart"}),
    ("go to checkout", "navigate", {"page": "checkout"}),
    ("go back", "back", {}),
    ("previous page", "back", {}),
    ("check out", "checkout", {}),
    ("checkout", "checkout", {}),
    ("I want to pay now", "checkout", {}),
    ("place my order", "checkout", {}),
    ("buy it now", "checkout", {}),
    ("i'm done shopping", "checkout", {}),
    ("hey pravi can i pay now please", "checkout", {}),
    ("bring me back", "back", {}),
    ("go back one page", "back", {}),
    ("let's go back please", "back", {}),
    ("head to my profile", "navigate", {"page": "profile"}),
    ("open the shopping bag", "navigate", {"page": "cart"}),
    ("okay take me to the home page thanks", "navigate", {"page": "home"}),
    # Conversation.
    ("hello", "greeting", {}),
    ("good morning Pravi", "greeting", {}),
    ("namaste", "greeting", {}),
    ("help", "help", {}),
    ("what can you do", "help", {}),
    # Out of domain: real recordings and chatter get the fallback.
    ("go forward ten meters", "fallback", {}),
    ("ten of clubs", "fallback", {}),
    ("four queen of clubs", "fallback", {}),
    ("seven of clubs", "fallback", {}),
    ("five five", "fallback", {}),
    ("eight of spades four of clubs seven of hearts", "fallback", {}),
    ("what is the weather like", "fallback", {}),
    # First-person and softened adds, and checkout of the cart or order.
    ("i'll buy it", "add_to_cart", {}),
    ("i'd buy it", "add_to_cart", {}),
    ("i'm going to buy it", "add_to_cart", {}),
    ("go ahead and add it", "add_to_cart", {}),
    ("actually add the first one", "add_to_cart", {"ordinal": 1}),
    ("i think i'll take it", "add_to_cart", {}),
    ("i'll take two please", "add_to_cart", {"quantity": 2}),
    ("check out my cart", "checkout", {}),
    ("check out my bag", "checkout", {}),
    ("i want to checkout with my card", "checkout", {}),
    ("pay for my order", "checkout", {}),
    ("ready to check out", "checkout", {}),
    ("finish checkout", "checkout", {}),
    ("i'll pay now", "checkout", {}),
    ("how many are left", "availability", {}),
    ("go back to shopping", "back", {}),
    # A command word inside a sentence about something else does not act.
    ("check out this video", "fallback", {}),
    ("this checkout is slow", "fallback", {}),
    ("i'll pay you back tomorrow", "fallback", {}),
    ("go back to sleep", "fallback", {}),
    ("can we go back to sleep", "fallback", {}),
    ("that doesn't add up", "fallback", {}),
    ("don't add it", "fallback", {}),
    ("please don't add that to my cart", "fallback", {}),
    ("i'll take that as a no", "fallback", {}),
    ("go to the shop and buy milk", "fallback", {}),
    ("my cart is empty", "fallback", {}),
    ("when will my order arrive", "fallback", {}),
    ("check out the red dresses", "search", {"color": "red", "category": "dresses"}),
    ("", "fallback", {}),
]


@pytest.mark.parametrize(("text", "intent", "entities"), CASES)
def test_understand_phrasing(text: str, intent: str, entities: dict[str, Any]) -> None:
    request = understand(text)
    assert request.intent == intent
    for key, expected in entities.items():
        value = getattr(request, key)
        if key == "keywords":
            assert value == expected, key
        elif expected is None:
            assert value is None, key
        else:
            assert value == expected, key


def test_understand_table_is_large() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("one hundred", "100"),
        ("a hundred", "100"),
        ("two hundred and fifty", "250"),
        ("twenty one", "21"),
        ("one thousand two hundred", "1200"),
        ("forty nine point nine nine", "49.99"),
        ("the second one", "the 2nd one"),
        ("that one", "that one"),
        ("ten of clubs", "10 of clubs"),
        ("two million", "2000000"),
        ("one million two hundred thousand", "1200000"),
        ("a billion", "1000000000"),
    ],
)
def test_words_to_digits(text: str, digits: str) -> None:
    assert words_to_digits(text) == digits


def test_max_price_same_as_catalogue_search() -> None:
    assert MAX_PRICE == products.MAX_PRICE


@pytest.mark.parametrize(
    ("text", "min_price", "max_price"),
    [
        ("show me dresses under 21474837 dollars", None, MAX_PRICE),
        ("dresses under " + "9" * 40 + " dollars", None, MAX_PRICE),
        ("dresses under two million dollars", None, MAX_PRICE),
        ("dresses over 5000000 dollars", MAX_PRICE, None),
        ("dresses between 20 and 3000000 dollars", 20, MAX_PRICE),
        ("dresses around 3000000 dollars", MAX_PRICE, MAX_PRICE),
        ("dresses around " + "9" * 40 + " dollars", MAX_PRICE, MAX_PRICE),
        ("dresses under -5 dollars", None, 0),
        ("dresses under $-5", None, 0),
        ("dresses under -$5", None, 0),
        ("dresses under \u22125 dollars", None, 0),
        ("dresses under minus five dollars", None, 0),
        ("dresses over negative 5 dollars", 0, None),
        ("dresses between -5 and 50", 0, 50),
    ],
)
def test_understand_price_outside_limits(
    text: str, min_price: int | None, max_price: int | None
) -> None:
    request = understand(text)
    assert request.intent == "search"
    assert request.min_price == min_price
    assert request.max_price == max_price
    assert request.price_limited is True
    assert request.keywords == []


@pytest.mark.parametrize(
    "text", ["dresses under 1000000 dollars", "dresses under 0", "t-shirts 20-40"]
)
def test_understand_price_within_limits(text: str) -> None:
    assert understand(text).price_limited is False


@pytest.mark.parametrize(
    ("text", "requested", "quantity"),
    [
        ("add 999999999 of the first one", 999999999, MAX_QUANTITY),
        ("add twelve of the first one", 12, MAX_QUANTITY),
        ("add 10 of the first one", 10, 10),
        ("add 0 of the first one", 0, None),
        ("add zero of the first one", 0, None),
        ("add -3 of the first one", -3, None),
        ("add minus three of the first one", -3, None),
        ("buy 1000 pieces of the second one", 1000, MAX_QUANTITY),
    ],
)
def test_understand_quantity_outside_limits(
    text: str, requested: int, quantity: int | None
) -> None:
    request = understand(text)
    assert request.intent == "add_to_cart"
    assert request.requested_quantity == requested
    assert request.quantity == quantity


def test_search_openings_add_no_keywords() -> None:
    """Every way the language model's corpus opens, frames or closes a search
    leaves only the product words."""
    openings = itertools.product(phrases.SEARCH_OPENINGS, phrases.DETERMINERS)
    framings = itertools.product(phrases.LEAD_INS, phrases.TAGS)
    texts = [f"{opening} {determiner} linen shirts" for opening, determiner in openings]
    texts += [f"{lead_in} show me linen shirts {tag}" for lead_in, tag in framings]
    texts += [
        f"linen shirts {qualifier}"
        for qualifier in ("in stock", "do you have", "you have", "that are")
    ]
    leaks = {}
    for text in texts:
        request = understand(text)
        if request.category != "shirts" or request.keywords:
            leaks[text] = (request.category, request.keywords)
    assert leaks == {}


def test_refining_phrases_narrow_last_search() -> None:
    """The corpus's refinements name no category and no words of their own,
    which is what makes the responder refine the last search."""
    texts = [
        f"{refining} {value}"
        for refining in _REFINING
        for value in ("blue", "silk", "size small", "extra large")
    ]
    texts += [
        f"{refining} {value}"
        for refining in _REFINING_ONES
        for value in ("blue ones", "ones under thirty dollars", "ones over 50")
    ]
    wrong = {}
    for text in texts:
        request = understand(text)
        if (
            request.intent != "search"
            or request.category is not None
            or request.keywords
            or not request.has_refinements
        ):
            wrong[text] = (request.intent, request.category, request.keywords)
    assert wrong == {}


SPOKEN_SET = json.loads((DATA / "spoken" / "manifest.json").read_text())


@pytest.mark.parametrize(
    "entry", SPOKEN_SET, ids=[entry["file"] for entry in SPOKEN_SET]
)
def test_spoken_set_text_understood(entry: dict[str, Any]) -> None:
    request = understand(entry["text"])
    assert request.intent == entry["intent"]
    for key, expected in entry["entities"].items():
        assert getattr(request, key) == expected, key
    if request.intent == "search":
        # Only a narrower kind ("sneaker" among shoes) is searched as a word.
        assert request.keywords == ([request.kind] if request.kind else [])
