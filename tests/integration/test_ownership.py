"""Two shoppers talk to the assistant; neither can reach the other's
interactions, recordings or feedback, by list or by id."""

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from tests.conftest import DATA, register_and_login
from tests.helpers import blob_names

RECORDING = (DATA / "goforward.wav").read_bytes()


async def speak(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post(
        "/api/v1/voice/query",
        files={"audio": ("clip.wav", RECORDING, "audio/wav")},
        data={"store_recording": "true"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    interaction_id: str = response.json()["interaction_id"]
    return interaction_id


async def test_shoppers_see_only_their_own(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    alice = await register_and_login(client)
    bob = await register_and_login(client)
    alice_id = await speak(client, alice)
    bob_id = await speak(client, bob)
    feedback = f"/api/v1/voice/interactions/{alice_id}/feedback"
    assert (
        await client.post(feedback, json={"rating": 4}, headers=alice)
    ).status_code == 201

    # Bob's list never shows Alice's rows, and Alice's never shows Bob's.
    bob_items = (await client.get("/api/v1/voice/history", headers=bob)).json()
    alice_items = (await client.get("/api/v1/voice/history", headers=alice)).json()
    assert [item["id"] for item in bob_items["items"]] == [bob_id]
    assert [item["id"] for item in alice_items["items"]] == [alice_id]

    # Every route that takes an id returns 404 for the other's id.
    requests = [
        ("GET", f"/api/v1/voice/history/{alice_id}", None),
        ("DELETE", f"/api/v1/voice/history/{alice_id}", None),
        ("GET", f"/api/v1/voice/recordings/{alice_id}", None),
        ("GET", f"/api/v1/voice/recordings/{alice_id}/link", None),
        ("GET", feedback, None),
        ("POST", feedback, {"rating": 1}),
    ]
    for method, url, body in requests:
        response = await client.request(method, url, json=body, headers=bob)
        assert response.status_code == 404, (method, url)
        assert "forward" not in response.text, (method, url)
        assert RECORDING[:64] not in response.content, (method, url)

    # Bob clearing his history leaves Alice's untouched.
    assert (
        await client.delete("/api/v1/voice/history", headers=bob)
    ).status_code == 204
    row = await db_session.get(VoiceInteraction, alice_id)
    assert row is not None
    assert row.recording_blob in await blob_names(settings)
    alice_feedback = await client.get(feedback, headers=alice)
    assert alice_feedback.json()["rating"] == 4

    # Alice still reaches all of it.
    for method, url, _ in requests[:1] + requests[2:5]:
        response = await client.request(method, url, headers=alice)
        assert response.status_code == 200, (method, url)
