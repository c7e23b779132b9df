"""Replies written by a chat model from the assistant's grounding.

The assistant still decides the intent, the entities, the action and the
products, so the voice reply keeps its contract, and the model only words
the reply. Its system prompt contains the store policies, the catalogue
rows found for this turn, the action the frontend will take and the reply
the templates wrote. It tells the model to use no other facts.
"""

import json
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.money import format_price
from pravis_api.repositories.products import CatalogueItem, list_policies
from pravis_api.services.assistant.responder import Assistant, AssistantReply
from pravis_api.services.providers.base import ReplyTurn, ReplyWriter

RULES = """\
You are Pravi, the shopping assistant of Pravis Boutique, a fashion boutique \
with handloom sarees, kurtas, suits, dupattas and stoles beside western wear.
Write the reply to the shopper's last message.
- Use only the facts below: the store policies, the products found for this \
turn, the action and the draft reply. Never name a product, price, size, \
stock level or policy that is not listed.
- The action is what the shop's app does now. Do not promise anything else, \
and do not claim an item was added to the cart unless the action says so.
- If no products are listed, do not suggest any beyond those the draft names.
- Keep the reply short: at most three sentences."""
SPOKEN_RULE = (
    "- The reply is spoken aloud: plain sentences, no lists, markdown, emoji or URLs."
)
# Products described to the model, at most; replies list no more.
MAX_GROUNDING_PRODUCTS = 10


def _product_facts(product: CatalogueItem, currency: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "id": str(product.id),
        "name": product.name,
        "category": product.category,
        "price": format_price(product.price_minor, currency),
        "colors": product.colors,
        "sizes_in_stock": product.available_sizes,
        "in_stock": product.in_stock,
        "rating": product.rating,
    }
    if product.original_price_minor:
        facts["original_price"] = format_price(product.original_price_minor, currency)
    for name in ("fabric", "weave", "origin"):
        value = getattr(product, name)
        if value:
            facts[name] = value
    return facts


def _action_text(answer: AssistantReply) -> str:
    if answer.action is None:
        return "none: the app does nothing"
    return json.dumps(answer.action, ensure_ascii=False, default=str)


def build_messages(turn: ReplyTurn) -> list[dict[str, str]]:
    """Return the chat messages: the system prompt with the grounding, then
    the shopper's words."""
    answer = turn.answer
    policies = [
        {"topic": policy.topic, "title": policy.title, "summary": policy.summary}
        for policy in turn.policies
    ]
    products = [
        _product_facts(product, turn.currency)
        for product in answer.products[:MAX_GROUNDING_PRODUCTS]
    ]
    sections = [
        RULES + ("\n" + SPOKEN_RULE if turn.spoken else ""),
        "Store policies:\n" + json.dumps(policies, ensure_ascii=False),
        "Products found for this turn:\n" + json.dumps(products, ensure_ascii=False),
        f"Understood intent: {answer.intent}",
        "Entities: " + json.dumps(answer.entities, ensure_ascii=False, default=str),
        f"Action: {_action_text(answer)}",
        f"Draft reply: {answer.reply}",
    ]
    return [
        {"role": "system", "content": "\n\n".join(sections)},
        {"role": "user", "content": turn.text},
    ]


class WrittenReplyAssistant(Assistant):
    """The assistant, with its reply reworded by a reply writer."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        currency: str,
        max_products: int,
        writer: ReplyWriter,
    ) -> None:
        super().__init__(session, currency=currency, max_products=max_products)
        self.writer = writer

    async def respond(
        self,
        text: str,
        session_id: str,
        *,
        user_id: uuid.UUID | None = None,
        spoken: bool = False,
    ) -> AssistantReply:
        answer = await super().respond(text, session_id, user_id=user_id, spoken=spoken)
        policies = await list_policies(self.session)
        turn = ReplyTurn(
            text=text,
            answer=answer,
            policies=policies,
            currency=self.currency,
            spoken=spoken,
        )
        answer.reply = await self.writer.write(turn)
        return answer
