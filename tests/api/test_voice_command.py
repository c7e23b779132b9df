import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from pravis_api.services.assistant.understanding import MAX_QUANTITY
from tests.conftest import register_and_login

COMMAND = "/api/v1/voice/command"


async def test_command_navigates(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await client.post(COMMAND, json={"text": "Open my cart, please"})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["transcript"] == "Open my cart, please"
    assert reply["intent"] == "navigate"
    assert reply["entities"] == {"page": "cart"}
    assert reply["action"] == {"type": "navigate", "page": "cart", "path": "/cart"}
    assert reply["products"] == []
    assert reply["speech"] is None

    row = await db_session.get(VoiceInteraction, reply["interaction_id"])
    assert row is not None
    assert row.source == "text"
    assert row.success is True
    assert row.action == reply["action"]
    assert row.recording_blob is None
    assert row.audio_duration_s is None


async def test_command_keeps_user_and_session(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await register_and_login(client)
    response = await client.post(
        COMMAND,
        json={"text": "check out", "session_id": "session-1234-abcdef"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["session_id"] == "session-1234-abcdef"
    assert response.json()["action"] == {"type": "checkout"}
    statement = select(VoiceInteraction).where(
        VoiceInteraction.session_id == "session-1234-abcdef"
    )
    row = (await db_session.exec(statement)).one()
    assert row.user_id is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "open\x00cart"}, "text"),
        ({"text": 42}, "text"),
        ({"text": "hello", "session_id": "x"}, "session_id"),
    ],
)
async def test_command_rejects_bad_input(
    client: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    response = await client.post(COMMAND, json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_command_text_length_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.voice_max_text_chars
    at_limit = await client.post(COMMAND, json={"text": "a" * limit})
    over = await client.post(COMMAND, json={"text": "a" * (limit + 1)})
    assert at_limit.status_code == 200
    assert over.status_code == 422
    assert str(limit) in over.json()["detail"]


async def test_command_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        COMMAND, content=b'{"text": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "text", ["\u200b\u200b", "?!", "open \u202ecart", "open\x85cart", "open\x7fcart"]
)
async def test_command_rejects_unreadable_text(
    client: httpx.AsyncClient, text: str
) -> None:
    response = await client.post(COMMAND, json={"text": text})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "text"


async def say(client: httpx.AsyncClient, text: str, session_id: str) -> dict[str, Any]:
    response = await client.post(COMMAND, json={"text": text, "session_id": session_id})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def new_session() -> str:
    return f"command-{uuid.uuid4().hex}"


PRICE_NOTE = "I can search prices from $0.00 to $1,000,000.00"


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "text",
    [
        "show me dresses under 21474837 dollars",
        "show me dresses under " + "9" * 32 + " dollars",
    ],
)
async def test_command_price_over_limit(client: httpx.AsyncClient, text: str) -> None:
    reply = await say(client, text, new_session())
    assert reply["intent"] == "search"
    assert reply["entities"] == {"category": "dresses", "max_price": 1_000_000}
    assert reply["products"]
    assert PRICE_NOTE in reply["reply"]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("text", "entities"),
    [
        (
            "dresses over 5000000 dollars",
            {"category": "dresses", "min_price": 1_000_000},
        ),
        ("show me dresses under -5 dollars", {"category": "dresses", "max_price": 0}),
    ],
)
async def test_command_price_finds_nothing(
    client: httpx.AsyncClient, text: str, entities: dict[str, Any]
) -> None:
    reply = await say(client, text, new_session())
    assert reply["intent"] == "search"
    assert reply["entities"] == entities
    assert reply["products"] == []
    assert reply["action"] is None
    assert PRICE_NOTE in reply["reply"]


@pytest.mark.usefixtures("catalogue")
async def test_command_quantity_over_limit(client: httpx.AsyncClient) -> None:
    session = new_session()
    listing = await say(client, "show me silk scarves", session)
    reply = await say(client, "add 999999999 of the first one", session)

    assert reply["intent"] == "add_to_cart"
    assert reply["entities"]["product_id"] == listing["products"][0]["id"]
    assert reply["entities"]["quantity"] == MAX_QUANTITY
    assert f"I can add at most {MAX_QUANTITY} of one product" in reply["reply"]
    if reply["action"] is not None:
        assert reply["action"]["quantity"] == MAX_QUANTITY
    else:
        assert "left" in reply["reply"]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "text",
    [
        "add 0 of the first one",
        "add -3 of the first one",
        "add minus three of the first one",
    ],
)
async def test_command_quantity_below_one(client: httpx.AsyncClient, text: str) -> None:
    session = new_session()
    listing = await say(client, "show me silk scarves", session)
    reply = await say(client, text, session)

    assert reply["intent"] == "add_to_cart"
    assert reply["action"] is None
    assert "quantity" not in reply["entities"]
    name = listing["products"][0]["name"]
    assert f"I can add 1 to {MAX_QUANTITY} of the {name}" in reply["reply"]


@pytest.mark.usefixtures("catalogue")
async def test_command_request_words_not_searched(client: httpx.AsyncClient) -> None:
    reply = await say(client, "i would love to see linen shirts", new_session())
    assert reply["intent"] == "search"
    assert reply["action"] == {
        "type": "search",
        "query": "",
        "filters": {"category": "shirts", "fabric": "linen"},
    }
    assert reply["products"]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "refinement", ["only in blue", "just in blue", "what about in blue", "any in blue"]
)
async def test_command_refinement_keeps_search(
    client: httpx.AsyncClient, refinement: str
) -> None:
    session = new_session()
    await say(client, "show me dresses", session)
    reply = await say(client, refinement, session)

    assert reply["intent"] == "search"
    assert reply["entities"] == {"category": "dresses", "color": "blue"}
    assert reply["action"]["query"] == ""
    assert reply["products"]
    assert all(item["category"] == "dresses" for item in reply["products"])
    assert all("blue" in item["colors"] for item in reply["products"])


@pytest.mark.usefixtures("catalogue")
async def test_command_ordinal_after_cart_reply(client: httpx.AsyncClient) -> None:
    session = new_session()
    results = await say(client, "show me red dresses in size small", session)
    await say(client, "add the first one", session)
    reply = await say(client, "add two of the second one", session)

    assert len(results["products"]) >= 2
    second = results["products"][1]
    assert reply["entities"]["product_id"] == second["id"]
    assert reply["entities"]["quantity"] == 2
    if reply["action"] is not None:
        assert reply["action"]["quantity"] == 2
        assert reply["reply"].startswith(f"Added 2 of the {second['name']} in size S")
    else:
        assert "left in size S, not 2" in reply["reply"]


@pytest.mark.usefixtures("catalogue")
async def test_command_ordinal_after_candidates(client: httpx.AsyncClient) -> None:
    session = new_session()
    question = await say(client, "add the silk scarf to my cart", session)
    reply = await say(client, "add the second one", session)

    assert len(question["products"]) >= 2
    assert question["action"] is None
    assert reply["entities"].get("product_id") == question["products"][1]["id"]


@pytest.mark.usefixtures("catalogue")
async def test_command_counts_in_singular(client: httpx.AsyncClient) -> None:
    session = new_session()
    listing = await say(client, "show me blue silk slip dresses", session)
    reply = await say(client, "add the second one", session)

    assert len(listing["products"]) == 1
    assert reply["reply"].startswith("I only showed you 1 product, so there is no")


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "text",
    [
        "check out this video",
        "go back to sleep",
        "that doesn't add up",
        "don't add it to my cart",
        "go to the shop and buy milk",
    ],
)
async def test_command_keyword_inside_other_sentence(
    client: httpx.AsyncClient, text: str
) -> None:
    session = new_session()
    await say(client, "show me red dresses", session)
    reply = await say(client, text, session)
    assert reply["intent"] == "fallback"
    assert reply["action"] is None
