"""Ask Pravi through /voice/command against the seeded catalogue: grounding,
conversation context, and every intent."""

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.money import format_price
from pravis_api.models.voice_interaction import VoiceInteraction
from tests.conftest import register_and_login

COMMAND = "/api/v1/voice/command"

pytestmark = pytest.mark.usefixtures("catalogue")


def new_session() -> str:
    return f"assistant-{uuid.uuid4().hex}"


async def say(
    client: httpx.AsyncClient,
    text: str,
    session_id: str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        COMMAND, json={"text": text, "session_id": session_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def product(client: httpx.AsyncClient, product_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def matches(item: dict[str, Any], filters: dict[str, Any]) -> bool:
    checks = [
        "category" not in filters or item["category"] == filters["category"],
        "color" not in filters or filters["color"] in item["colors"],
        "fabric" not in filters or (item["fabric"] or "").lower() == filters["fabric"],
        "size" not in filters or filters["size"] in item["available_sizes"],
        "min_price" not in filters
        or item["price_minor"] >= Decimal(str(filters["min_price"])) * 100,
        "max_price" not in filters
        or item["price_minor"] <= Decimal(str(filters["max_price"])) * 100,
    ]
    return all(checks)


async def test_done_when_red_dresses_under_100(client: httpx.AsyncClient) -> None:
    reply = await say(
        client, "show me red dresses under one hundred dollars", new_session()
    )
    assert reply["intent"] == "search"
    assert reply["entities"] == {
        "category": "dresses",
        "color": "red",
        "max_price": 100,
    }
    assert reply["action"] == {
        "type": "search",
        "query": "",
        "filters": {"category": "dresses", "color": "red", "max_price": 100},
    }
    assert reply["products"]
    for summary in reply["products"]:
        item = await product(client, summary["id"])
        assert item["category"] == "dresses"
        assert "red" in item["colors"]
        assert item["price_minor"] <= 10000
        assert summary["name"] == item["name"]
        assert summary["price_minor"] == item["price_minor"]


@pytest.mark.parametrize(
    "text",
    [
        "show me red dresses under one hundred dollars",
        "silk sarees over 200 dollars",
        "cotton kurtas in size medium",
        "sneakers in size 8",
        "linen shirts between 30 and 80 dollars",
        "leather bags",
        "wool stoles under fifty",
        "gold jewellery",
    ],
)
async def test_search_grounded_in_catalogue(
    client: httpx.AsyncClient, text: str
) -> None:
    reply = await say(client, text, new_session())
    assert reply["intent"] == "search"
    filters = reply["entities"]
    assert reply["products"], reply["reply"]
    for position, summary in enumerate(reply["products"]):
        item = await product(client, summary["id"])
        assert matches(item, filters), (item["name"], filters)
        if position < 3:  # the reply names the top three with their prices
            spoken = f"the {item['name']} at {format_price(item['price_minor'], 'USD')}"
            assert spoken in reply["reply"]
    count = re.search(r"I found (\d+|one match)", reply["reply"])
    assert count is not None


async def test_search_without_match_suggests(client: httpx.AsyncClient) -> None:
    reply = await say(client, "red silk dresses under 10 dollars", new_session())
    assert reply["intent"] == "search"
    assert reply["products"] == []
    assert reply["action"] is None
    assert reply["reply"].startswith(
        "I couldn't find any red silk dresses under $10.00."
    )
    assert "I did find" in reply["reply"]
    assert "at other prices, from $" in reply["reply"]


async def test_three_turn_context(client: httpx.AsyncClient) -> None:
    session = new_session()
    first = await say(client, "show me red dresses", session)
    second = await say(client, "in size small", session)
    third = await say(client, "add the second one", session)

    assert first["intent"] == "search"
    assert second["intent"] == "search"
    assert second["entities"]["size"] == "S"
    assert second["entities"]["color"] == "red"
    assert second["entities"]["category"] == "dresses"
    assert len(second["products"]) >= 2
    for summary in second["products"]:
        assert "S" in (await product(client, summary["id"]))["available_sizes"]

    assert third["intent"] == "add_to_cart"
    assert third["action"] == {
        "type": "addToCart",
        "product_id": second["products"][1]["id"],
        "size": "S",
        "quantity": 1,
    }
    assert second["products"][1]["name"] in third["reply"]


async def test_ordinals_count_in_last_search(client: httpx.AsyncClient) -> None:
    session = new_session()
    results = await say(client, "show me red dresses in size small", session)
    await say(client, "add the first one", session)
    await say(client, "tell me more about the third one", session)

    second = await say(client, "add the second one", session)

    assert len(results["products"]) >= 3
    assert second["action"]["type"] == "addToCart"
    assert second["action"]["product_id"] == results["products"][1]["id"]


async def test_context_belongs_to_its_speaker(client: httpx.AsyncClient) -> None:
    session = new_session()
    alice = await register_and_login(client)
    bob = await register_and_login(client)
    results = await say(client, "show me red dresses", session, alice)

    # Another shopper, then an anonymous one, sending Alice's session id.
    for headers in (bob, {}):
        reply = await say(client, "tell me more about the first one", session, headers)
        assert reply["products"] == []
        assert reply["action"] is None
    own = await say(client, "tell me more about the first one", session, alice)

    assert own["intent"] == "product_details"
    assert [item["id"] for item in own["products"]] == [results["products"][0]["id"]]


async def test_interactions_record_products_shown(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    reply = await say(client, "show me silk scarves", new_session())
    row = await db_session.get(VoiceInteraction, uuid.UUID(reply["interaction_id"]))
    assert row is not None
    assert [str(product_id) for product_id in row.product_ids] == [
        summary["id"] for summary in reply["products"]
    ]
    assert row.entities == reply["entities"]
    assert row.action == reply["action"]


async def test_product_questions_after_search(client: httpx.AsyncClient) -> None:
    session = new_session()
    listing = await say(client, "show me linen shirts", session)
    first = listing["products"][0]
    item = await product(client, first["id"])

    details = await say(client, "tell me about the first one", session)
    assert details["intent"] == "product_details"
    assert details["entities"]["product_id"] == first["id"]
    assert item["name"] in details["reply"]
    assert format_price(item["price_minor"], item["currency"]) in details["reply"]

    price = await say(client, "how much is it", session)
    assert price["intent"] == "price"
    assert price["entities"]["product_id"] == first["id"]
    assert format_price(item["price_minor"], item["currency"]) in price["reply"]

    size = item["sizes"][0]["size"]
    available = await say(client, f"is it available in size {size}", session)
    assert available["intent"] == "availability"
    stock = item["sizes"][0]["stock"]
    expected = "is in stock" if stock else "out of stock"
    assert expected in available["reply"]


async def test_add_to_cart_needs_a_size(client: httpx.AsyncClient) -> None:
    session = new_session()
    await say(client, "show me linen dresses", session)
    reply = await say(client, "add the first one", session)
    assert reply["intent"] == "add_to_cart"
    assert reply["action"] is None
    assert "Which size" in reply["reply"]


async def test_add_to_cart_out_of_range(client: httpx.AsyncClient) -> None:
    session = new_session()
    listing = await say(client, "show me silk sarees", session)
    reply = await say(client, "add the ninth one", session)
    assert reply["action"] is None
    assert f"only showed you {len(listing['products'])}" in reply["reply"]


async def test_add_to_cart_without_list(client: httpx.AsyncClient) -> None:
    reply = await say(client, "add the second one", new_session())
    assert reply["intent"] == "add_to_cart"
    assert reply["action"] is None


async def test_add_to_cart_quantity_and_one_size(client: httpx.AsyncClient) -> None:
    session = new_session()
    listing = await say(client, "show me silk scarves in stock", session)
    reply = await say(client, "add two of the first one to my cart", session)
    item = await product(client, listing["products"][0]["id"])
    if item["sizes"][0]["stock"] >= 2:
        assert reply["action"] == {
            "type": "addToCart",
            "product_id": item["id"],
            "size": "One Size",
            "quantity": 2,
        }
    else:
        assert reply["action"] is None


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("what is your return policy", "returns"),
        ("can I exchange a dress", "exchanges"),
        ("how long does delivery take", "shipping"),
        ("do you have a size guide", "sizing"),
    ],
)
async def test_policy_replies_from_store(
    client: httpx.AsyncClient, text: str, topic: str
) -> None:
    policies = (await client.get("/api/v1/store/policies")).json()
    summary = next(policy["summary"] for policy in policies if policy["topic"] == topic)
    reply = await say(client, text, new_session())
    assert reply["intent"] == "policy"
    assert reply["entities"] == {"topic": topic}
    assert reply["reply"] == summary
    assert reply["action"] is None


@pytest.mark.parametrize(
    ("text", "intent", "action"),
    [
        ("hello", "greeting", None),
        ("help", "help", None),
        ("go to my profile", "navigate", {"type": "navigate", "page": "profile",
                                          "path": "/profile"}),
        ("take me home", "navigate", {"type": "navigate", "page": "home", "path": "/"}),
        ("go back", "back", {"type": "back"}),
        ("check out", "checkout", {"type": "checkout"}),
        ("go forward ten meters", "fallback", None),
        ("eight of spades four of clubs seven of hearts", "fallback", None),
    ],
)  # fmt: skip
async def test_conversation_intents(
    client: httpx.AsyncClient, text: str, intent: str, action: dict[str, Any] | None
) -> None:
    reply = await say(client, text, new_session())
    assert reply["intent"] == intent
    assert reply["action"] == action
    assert reply["products"] == []
