"""Ask Pravi's replies, grounded in the catalogue and the store policies.

Every product name, price and stock figure in a reply is read from the
database for this turn; nothing is made up or remembered from training.
"""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.money import format_price, to_minor
from pravis_api.repositories.products import (
    CatalogueItem,
    ProductFilters,
    count_matches,
    get_policy,
    get_products_in_order,
    search_products,
)
from pravis_api.schemas.voice import PAGE_PATHS
from pravis_api.services.assistant import replies
from pravis_api.services.assistant.context import Context, load_context
from pravis_api.services.assistant.understanding import (
    LAST,
    MAX_PRICE,
    MAX_QUANTITY,
    Request,
    understand,
    understand_spoken,
)


@dataclass(slots=True)
class AssistantReply:
    intent: str
    reply: str
    entities: dict[str, Any] = field(default_factory=dict)
    action: dict[str, Any] | None = None
    products: list[CatalogueItem] = field(default_factory=list)

    @property
    def understood(self) -> bool:
        return self.intent != "fallback"


def _narrows_last_search(request: Request) -> bool:
    """Return whether a search names no category and no words of its own,
    so it refines the conversation's last search ("in size small")."""
    return not request.category and not request.keywords


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class Assistant:
    def __init__(
        self, session: AsyncSession, *, currency: str, max_products: int
    ) -> None:
        self.session = session
        self.currency = currency
        self.max_products = max_products

    async def respond(
        self,
        text: str,
        session_id: str,
        *,
        user_id: uuid.UUID | None = None,
        spoken: bool = False,
    ) -> AssistantReply:
        """Understand one turn of the conversation and reply from the catalogue.

        The conversation so far is the session's turns of the same speaker
        (`user_id`, None when anonymous). With `spoken`, the text is a
        transcript: see `understand_spoken`.
        """
        request = understand_spoken(text) if spoken else understand(text)
        intent = request.intent
        if intent == "search":
            # Only a search that narrows the last one reads the conversation.
            context = (
                await load_context(self.session, session_id, user_id)
                if _narrows_last_search(request)
                else Context()
            )
            return await self._search(request, context)
        if intent in ("product_details", "price", "availability", "add_to_cart"):
            context = await load_context(self.session, session_id, user_id)
            return await self._about_product(request, context)
        if intent == "policy" and request.topic is not None:
            return await self._policy(request.topic)
        return self._conversation(request)

    # Search

    def _filters_from(
        self, request: Request, context: Context
    ) -> tuple[dict[str, Any], str]:
        """Entity filters and text query for this turn, refining the last search
        when the request only narrows it ("in size small", "under $50")."""
        own = {
            "category": request.category,
            "color": request.color,
            "size": request.size,
            "fabric": request.fabric,
            "min_price": _number(request.min_price)
            if request.min_price is not None
            else None,
            "max_price": _number(request.max_price)
            if request.max_price is not None
            else None,
        }
        own = {key: value for key, value in own.items() if value is not None}
        query = " ".join(request.keywords)
        if _narrows_last_search(request) and context.search_filters:
            return {**context.search_filters, **own}, context.search_query
        return own, query

    def _product_filters(self, filters: dict[str, Any], query: str) -> ProductFilters:
        def minor(key: str) -> int | None:
            value = filters.get(key)
            return (
                to_minor(Decimal(str(value)), self.currency)
                if value is not None
                else None
            )

        return ProductFilters(
            category=filters.get("category"),
            color=filters.get("color"),
            size=filters.get("size"),
            fabric=filters.get("fabric"),
            min_price_minor=minor("min_price"),
            max_price_minor=minor("max_price"),
            keywords=tuple(query.split()),
        )

    async def _search(self, request: Request, context: Context) -> AssistantReply:
        filters, query = self._filters_from(request, context)
        product_filters = self._product_filters(filters, query)
        products, total = await search_products(
            self.session, product_filters, sort="relevance", limit=self.max_products
        )
        phrase = replies.describe_search(filters, query, self.currency)
        note = (
            " " + replies.price_limited(MAX_PRICE, self.currency)
            if request.price_limited
            else ""
        )
        if not products:
            hint = await self._suggest(product_filters, filters, query)
            reply = replies.nothing_found(phrase, hint) + note
            return AssistantReply("search", reply, filters)

        action = {"type": "search", "query": query, "filters": filters}
        reply = replies.found(phrase, total, products, self.currency) + note
        return AssistantReply("search", reply, filters, action, products)

    async def _suggest(
        self, product_filters: ProductFilters, filters: dict[str, Any], query: str
    ) -> str:
        """Find the nearest searches that do match, one filter dropped at a time."""
        # (what is dropped, its ProductFilters fields, its entity keys)
        relaxations = [
            ("query", ("keywords",), ()),
            ("color", ("color",), ("color",)),
            ("fabric", ("fabric",), ("fabric",)),
            ("size", ("size",), ("size",)),
            (
                "price",
                ("min_price_minor", "max_price_minor"),
                ("min_price", "max_price"),
            ),
        ]
        present = []
        for name, fields, keys in relaxations:
            if name == "query":
                asked = bool(query)
            else:
                asked = any(key in filters for key in keys)
            if asked:
                present.append((name, fields, keys))
        # One round trip counts the matches of every relaxed search.
        matches = await count_matches(
            self.session,
            [product_filters.without(*fields) for _, fields, _ in present],
        )
        options: list[tuple[int, str]] = []
        for (name, _, keys), (count, lowest) in zip(present, matches, strict=True):
            if not count:
                continue
            kept = {key: value for key, value in filters.items() if key not in keys}
            phrase = replies.describe_search(
                kept, "" if name == "query" else query, self.currency
            )
            hint = replies.relaxed_hint(name, count, phrase)
            if name == "price" and lowest is not None:
                hint += f", from {format_price(lowest, self.currency)}"
            options.append((count, hint))
        options.sort(key=lambda option: -option[0])
        return replies.join_hints([hint for _, hint in options[:2]])

    # One product

    async def _find_product(
        self, request: Request, context: Context
    ) -> tuple[CatalogueItem | None, list[CatalogueItem], str | None]:
        """Resolve which product the shopper means.

        Returns the product, or the candidates to choose from, or a
        question to ask when the request names nothing that can be found.
        """
        shown = await get_products_in_order(self.session, context.last_products)
        if request.ordinal is not None:
            if not shown:
                return None, [], replies.NO_LIST
            position = len(shown) if request.ordinal == LAST else request.ordinal
            if not 1 <= position <= len(shown):
                return None, [], replies.out_of_range(position, len(shown))
            return shown[position - 1], [], None

        if request.has_product_filters:
            matching = [product for product in shown if _matches(product, request)]
            if len(matching) == 1:
                return matching[0], [], None
            named, query = self._filters_from(request, Context())
            filters = self._product_filters(named, query)
            found, total = await search_products(
                self.session, filters, sort="relevance", limit=self.max_products
            )
            if total == 1:
                return found[0], [], None
            if found:
                return None, found, None
            hint = await self._suggest(filters, named, query)
            phrase = replies.describe_search(named, query, self.currency)
            return None, [], replies.nothing_found(phrase, hint)

        if context.focus is not None:
            # The product in focus is usually among those just shown.
            focus = [product for product in shown if product.id == context.focus]
            if not focus:
                focus = await get_products_in_order(self.session, [context.focus])
            if focus:
                return focus[0], [], None
        if len(shown) > 1:
            return None, shown, None
        return None, [], replies.WHICH_PRODUCT

    async def _about_product(
        self, request: Request, context: Context
    ) -> AssistantReply:
        product, candidates, question = await self._find_product(request, context)
        intent = request.intent
        if product is None:
            if candidates:
                reply = replies.choose_one(candidates, self.currency)
                return AssistantReply(intent, reply, products=candidates)
            return AssistantReply(intent, question or replies.WHICH_PRODUCT)

        entities: dict[str, Any] = {"product_id": str(product.id)}
        if intent == "product_details":
            return AssistantReply(
                intent, replies.details(product), entities, products=[product]
            )
        if intent == "price":
            return AssistantReply(
                intent, replies.price(product), entities, products=[product]
            )
        size = request.size or _single_size(product)
        if size is None and intent == "add_to_cart":
            size = context.search_filters.get("size")
        if size is not None:
            entities["size"] = size
        if intent == "availability":
            reply = replies.availability(product, size)
            return AssistantReply(intent, reply, entities, products=[product])
        return self._add_to_cart(request, product, size, entities)

    def _add_to_cart(
        self,
        request: Request,
        product: CatalogueItem,
        size: str | None,
        entities: dict[str, Any],
    ) -> AssistantReply:
        if request.requested_quantity is not None and request.quantity is None:
            # A quantity below 1 adds nothing, and no action removes items.
            reply = replies.invalid_quantity(product, MAX_QUANTITY)
            return AssistantReply("add_to_cart", reply, entities, products=[product])
        quantity = request.quantity or 1
        entities["quantity"] = quantity
        note = ""
        if (
            request.requested_quantity is not None
            and quantity < request.requested_quantity
        ):
            note = " " + replies.quantity_limited(MAX_QUANTITY)
        if size is None:
            reply = replies.ask_size(product) + note
            return AssistantReply("add_to_cart", reply, entities, products=[product])
        stock = product.stock_of(size)
        if not stock or stock < quantity:
            reply = replies.cannot_add(product, size, stock, quantity) + note
            return AssistantReply("add_to_cart", reply, entities, products=[product])

        canonical_size = next(
            entry["size"]
            for entry in product.sizes
            if entry["size"].lower() == size.lower()
        )
        entities["size"] = canonical_size
        action = {
            "type": "addToCart",
            "product_id": str(product.id),
            "size": canonical_size,
            "quantity": quantity,
        }
        reply = replies.added(product, canonical_size, quantity) + note
        return AssistantReply("add_to_cart", reply, entities, action, [product])

    # Policies and conversation

    async def _policy(self, topic: str) -> AssistantReply:
        policy = await get_policy(self.session, topic)
        entities = {"topic": topic}
        if policy is None:
            return AssistantReply("policy", replies.policy_missing(topic), entities)
        return AssistantReply("policy", policy.summary, entities)

    def _conversation(self, request: Request) -> AssistantReply:
        intent = request.intent
        if intent == "navigate" and request.page:
            action = {
                "type": "navigate",
                "page": request.page,
                "path": PAGE_PATHS[request.page],
            }
            reply = replies.PAGE_REPLIES[request.page]
            return AssistantReply(intent, reply, {"page": request.page}, action)
        if intent == "back":
            return AssistantReply(intent, "Going back.", action={"type": "back"})
        if intent == "checkout":
            return AssistantReply(
                intent, "Taking you to checkout.", action={"type": "checkout"}
            )
        if intent == "greeting":
            return AssistantReply(intent, replies.GREETING)
        if intent == "help":
            return AssistantReply(intent, replies.HELP)
        return AssistantReply("fallback", replies.FALLBACK)


def _single_size(product: CatalogueItem) -> str | None:
    return product.sizes[0]["size"] if len(product.sizes) == 1 else None


def _matches(product: CatalogueItem, request: Request) -> bool:
    """Whether a product already shown fits what the shopper now names."""
    if request.category and product.category != request.category:
        return False
    if request.color and request.color not in product.colors:
        return False
    if request.fabric and (product.fabric or "").lower() != request.fabric:
        return False
    name = product.name.lower()
    return all(keyword in name for keyword in request.keywords)
