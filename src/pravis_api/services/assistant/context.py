"""What the conversation so far says, read back from the stored interactions.

The session's recent interactions are the conversation's memory, so a
follow-up such as "in size small" or "add the second one" works across API
processes and restarts, with no other store to keep in step.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.repositories.interactions import recent_turns

# Turns looked back over; older ones no longer shape the conversation.
CONTEXT_TURNS = 6
_PRODUCT_INTENTS = ("product_details", "price", "availability", "add_to_cart")


@dataclass(slots=True)
class Context:
    # The latest search results shown, which "the second one" refers to.
    last_products: list[uuid.UUID] = field(default_factory=list)
    # The latest search's filters (entity keys) and its text query.
    search_filters: dict[str, Any] = field(default_factory=dict)
    search_query: str = ""
    # The product the conversation is about, which "it" refers to.
    focus: uuid.UUID | None = None


async def load_context(
    session: AsyncSession, session_id: str, user_id: uuid.UUID | None
) -> Context:
    turns = await recent_turns(session, session_id, user_id, CONTEXT_TURNS)
    context = Context()
    seen_products = False
    for turn in turns:  # newest first
        if not seen_products and turn.product_ids:
            seen_products = True
            # "It" means the newest product shown on its own; after a list of
            # several, "it" is ambiguous and has no focus.
            product_id = turn.entities.get("product_id")
            if turn.intent in _PRODUCT_INTENTS and product_id:
                context.focus = uuid.UUID(product_id)
            elif len(turn.product_ids) == 1:
                context.focus = turn.product_ids[0]
        # "The second one" counts in the last list the shopper could pick
        # from: search results, or the choices of a "which one do you mean"
        # reply. The one product a details or cart reply showed is no list.
        is_list = turn.intent == "search" or len(turn.product_ids) > 1
        if not context.last_products and is_list and turn.product_ids:
            context.last_products = list(turn.product_ids)
        if not context.search_filters and turn.intent == "search" and turn.action:
            context.search_filters = dict(turn.action.get("filters") or {})
            context.search_query = str(turn.action.get("query") or "")
    return context
