"""Two shoppers use the assistant as new users would: each sees only their
own history and recordings, one deletes the account and nothing of theirs
remains, the other resets a forgotten password through the e-mail."""

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from tests.conftest import DATA, bearer, login, register
from tests.helpers import blob_names
from tests.servers import SmtpSink

RECORDING = (DATA / "goforward.wav").read_bytes()


async def test_two_shoppers_journey(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    smtp: SmtpSink,
) -> None:
    asha_email = await register(client, "asha.journey@example.com")
    ben_email = await register(client, "ben.journey@example.com")
    asha = bearer(await login(client, asha_email))
    ben = bearer(await login(client, ben_email))
    await client.patch(
        "/api/v1/users/me", json={"store_recordings": True}, headers=asha
    )
    await client.patch("/api/v1/users/me", json={"store_recordings": True}, headers=ben)

    spoken = {}
    for name, headers in (("asha", asha), ("ben", ben)):
        response = await client.post(
            "/api/v1/voice/query",
            files={"audio": ("clip.wav", RECORDING, "audio/wav")},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        spoken[name] = response.json()["interaction_id"]
    typed = await client.post(
        "/api/v1/voice/command", json={"text": "open my cart"}, headers=asha
    )
    assert typed.status_code == 200

    asha_history = (await client.get("/api/v1/voice/history", headers=asha)).json()
    ben_history = (await client.get("/api/v1/voice/history", headers=ben)).json()
    assert asha_history["total"] == 2
    assert ben_history["total"] == 1
    assert spoken["ben"] not in {item["id"] for item in asha_history["items"]}
    assert [item["id"] for item in ben_history["items"]] == [spoken["ben"]]
    own = await client.get(f"/api/v1/voice/recordings/{spoken['asha']}", headers=asha)
    assert own.content == RECORDING
    other = await client.get(f"/api/v1/voice/recordings/{spoken['ben']}", headers=asha)
    assert other.status_code == 404

    # Asha deletes her account: no row and no blob of hers remains.
    asha_blobs = {
        name
        for (name,) in (
            await db_session.exec(
                text(
                    "SELECT recording_blob FROM voice_interactions "
                    "WHERE id = :id AND recording_blob IS NOT NULL"
                ),
                params={"id": spoken["asha"]},
            )
        ).all()
    }
    assert len(asha_blobs) == 1
    assert (await client.delete("/api/v1/users/me", headers=asha)).status_code == 204
    leftovers = await db_session.exec(
        text(
            "SELECT (SELECT count(*) FROM users WHERE email = :email)"
            " + (SELECT count(*) FROM voice_interactions v WHERE v.id = :id)"
        ),
        params={"email": asha_email, "id": spoken["asha"]},
    )
    assert leftovers.one()[0] == 0
    assert asha_blobs.isdisjoint(await blob_names(settings))
    deleted_login = await client.post(
        "/api/v1/auth/login",
        data={"username": asha_email, "password": "correct horse 42"},
    )
    assert deleted_login.status_code == 401
    # Ben's history and recording are untouched.
    ben_after = (await client.get("/api/v1/voice/history", headers=ben)).json()
    assert [item["id"] for item in ben_after["items"]] == [spoken["ben"]]

    # Ben forgot his password and resets it through the e-mail.
    await client.post("/api/v1/auth/password-reset", json={"email": ben_email})
    (message,) = smtp.messages_to(ben_email)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = next(word for word in body.get_content().split() if "token=" in word)
    token = parse_qs(urlsplit(link).query)["token"][0]
    response = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "remembered at last 9"},
    )
    assert response.status_code == 204
    ben = bearer(await login(client, ben_email, "remembered at last 9"))
    ben_after = (await client.get("/api/v1/voice/history", headers=ben)).json()
    assert ben_after["total"] == 1
