"""The wording of Ask Pravi's replies, filled in with catalogue data."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pravis_api.core.money import format_price, to_minor
from pravis_api.models.product import ONE_SIZE
from pravis_api.repositories.products import CatalogueItem
from pravis_api.services.assistant.lexicon import CATEGORY_WORDS

GREETING = (
    "Hello, I'm Pravi, your shopping assistant. Ask me for something like "
    "'red dresses under 100 dollars', or about returns and shipping."
)
HELP = (
    "You can search, for example 'silk sarees under 200 dollars' or 'linen "
    "shirts in size medium'; ask about a product, like 'how much is the first "
    "one' or 'is it available in small'; say 'add the second one to my cart'; "
    "ask about returns, exchanges, shipping or sizes; or say 'open my cart', "
    "'go back' or 'check out'."
)
FALLBACK = (
    "Sorry, I didn't understand that. Could you say it another way? For "
    "example, 'show me red dresses' or 'open my cart'."
)
# Also sent when the last search is older than the turns the context reads,
# so it must not claim that nothing was ever shown.
NO_LIST = "I have no recent list of products to pick from. What are you looking for?"
WHICH_PRODUCT = "Which product do you mean? Tell me its name, or search first."
PAGE_REPLIES = {
    "home": "Taking you to the home page.",
    "products": "Here is the collection.",
    "cart": "Opening your cart.",
    "checkout": "Taking you to checkout.",
    "profile": "Opening your profile.",
}
_RELAXED = {
    "query": "of other kinds",
    "color": "in other colours",
    "fabric": "in other fabrics",
    "size": "in other sizes",
    "price": "at other prices",
}


def _money(amount: Any, currency: str) -> str:
    return format_price(to_minor(Decimal(str(amount)), currency), currency)


def _count(number: int, noun: str) -> str:
    """Return "1 product" or "2 products"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _noun(category: str | None, query: str) -> tuple[str, str]:
    """Return the noun of a search and what is left of its query.

    A query that names a kind of the category ("sneaker" among shoes) is
    the better noun: "black sneakers", not "black sneaker shoes".
    """
    words = query.split()
    if category and words:
        for form in (words[-1] + "s", words[-1] + "es", words[-1]):
            word = CATEGORY_WORDS.get(form)
            if word is not None and word.category == category and word.kind:
                return form, " ".join(words[:-1])
    return category or "products", query


def describe_search(filters: dict[str, Any], query: str, currency: str) -> str:
    """Name a search in words: "red silk dresses in size S under $100.00"."""
    noun, query = _noun(filters.get("category"), query)
    words = [filters.get("color"), query or None, filters.get("fabric")]
    phrase = " ".join([word for word in words if word] + [noun])
    if size := filters.get("size"):
        phrase += f" in size {size}"
    low, high = filters.get("min_price"), filters.get("max_price")
    if low is not None and high is not None:
        phrase += f" between {_money(low, currency)} and {_money(high, currency)}"
    elif high is not None:
        phrase += f" under {_money(high, currency)}"
    elif low is not None:
        phrase += f" over {_money(low, currency)}"
    return phrase


def _named_with_price(product: CatalogueItem) -> str:
    return (
        f"the {product.name} at {format_price(product.price_minor, product.currency)}"
    )


def found(
    phrase: str, total: int, products: Sequence[CatalogueItem], currency: str
) -> str:
    top = [_named_with_price(product) for product in products[:3]]
    if total == 1:
        return f"I found one match for {phrase}: {top[0]}."
    if total <= len(top):
        return f"I found {total} {phrase}: {_listing(top)}."
    return f"I found {total} {phrase}. The top {len(top)} are {_listing(top)}."


def nothing_found(phrase: str, hint: str) -> str:
    return f"I couldn't find any {phrase}. {hint}"


def relaxed_hint(key: str, count: int, phrase: str) -> str:
    matches = "1 match" if count == 1 else f"{count} matches"
    return f"{matches} for {phrase} {_RELAXED[key]}"


def join_hints(hints: Sequence[str]) -> str:
    if not hints:
        return "Try a broader search, such as just a category or a colour."
    return f"I did find {_listing(list(hints))}."


def out_of_range(position: int, shown: int) -> str:
    return (
        f"I only showed you {_count(shown, 'product')}, "
        f"so there is no number {position}."
    )


def choose_one(candidates: Sequence[CatalogueItem], currency: str) -> str:
    options = [_named_with_price(product) for product in candidates[:3]]
    return (
        f"Which one do you mean: {_listing(options)}? Say 'the first one', for example."
    )


def _price_phrase(product: CatalogueItem) -> str:
    price = format_price(product.price_minor, product.currency)
    if (
        product.original_price_minor
        and product.original_price_minor > product.price_minor
    ):
        original = format_price(product.original_price_minor, product.currency)
        return f"{price}, reduced from {original}"
    return price


def _sizes_phrase(product: CatalogueItem) -> str:
    if product.available_sizes == [ONE_SIZE]:
        return "It is one size and in stock."
    if not product.available_sizes:
        return "It is sold out at the moment."
    return f"It is in stock in sizes {_listing(product.available_sizes)}."


def details(product: CatalogueItem) -> str:
    rating = ""
    if product.review_count:
        rating = (
            f" It is rated {product.rating:.1f} out of 5 from "
            f"{_count(product.review_count, 'review')}."
        )
    return (
        f"The {product.name}: {product.description} It costs {_price_phrase(product)}."
        f"{rating} {_sizes_phrase(product)}"
    )


def price(product: CatalogueItem) -> str:
    return f"The {product.name} costs {_price_phrase(product)}."


def availability(product: CatalogueItem, size: str | None) -> str:
    if size is None or size == ONE_SIZE and product.available_sizes == [ONE_SIZE]:
        return f"The {product.name}: {_sizes_phrase(product)}"
    stock = product.stock_of(size)
    if stock is None:
        return _no_such_size(product, size)
    if stock == 0:
        others = product.available_sizes
        rest = (
            f" It is available in {_listing(others)}." if others else " It is sold out."
        )
        return f"Sorry, the {product.name} is out of stock in size {size}.{rest}"
    left = f" Only {stock} left." if stock <= 3 else ""
    return f"Yes, the {product.name} is in stock in size {size}.{left}"


def _no_such_size(product: CatalogueItem, size: str) -> str:
    sizes = _listing([entry["size"] for entry in product.sizes])
    return f"The {product.name} doesn't come in size {size}; it comes in {sizes}."


def ask_size(product: CatalogueItem) -> str:
    if not product.available_sizes:
        return f"Sorry, the {product.name} is sold out in every size."
    return (
        f"Which size would you like? The {product.name} is in stock in "
        f"{_listing(product.available_sizes)}."
    )


def cannot_add(
    product: CatalogueItem, size: str, stock: int | None, quantity: int
) -> str:
    if stock is None:
        return _no_such_size(product, size)
    size_text = "" if size == ONE_SIZE else f" in size {size}"
    if stock == 0:
        return f"Sorry, the {product.name} is out of stock{size_text}."
    verb = "is" if stock == 1 else "are"
    return f"Only {stock} of the {product.name} {verb} left{size_text}, not {quantity}."


def added(product: CatalogueItem, size: str, quantity: int) -> str:
    # "Added 2 of the Silk Slip Dress": product names are singular.
    count = "one" if quantity == 1 else f"{quantity} of the"
    size_text = "" if size == ONE_SIZE else f" in size {size}"
    return f"Added {count} {product.name}{size_text} to your cart."


def invalid_quantity(product: CatalogueItem, max_quantity: int) -> str:
    return (
        f"I can add 1 to {max_quantity} of the {product.name} at a time. How many "
        "would you like? To remove items, open your cart."
    )


def quantity_limited(max_quantity: int) -> str:
    return (
        f"I can add at most {max_quantity} of one product at a time, "
        f"so I counted it as {max_quantity}."
    )


def price_limited(max_price: Decimal, currency: str) -> str:
    return (
        f"I can search prices from {_money(0, currency)} to "
        f"{_money(max_price, currency)}, so I kept your price within that range."
    )


def policy_missing(topic: str) -> str:
    return f"I can't find our {topic} policy right now. Please check the help page."
