"""The signed-in user's own account: profile, password and deletion."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.user import User
from tests.conftest import DATA, bearer, login, register
from tests.helpers import blob_names
from tests.servers import SmtpSink

ME = "/api/v1/users/me"
PASSWORD = "correct horse 42"
NEW_PASSWORD = "a brand new secret 7"


def new_email() -> str:
    return f"shopper-{uuid.uuid4().hex[:8]}@example.com"


async def signed_in(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    email = await register(client)
    return email, await login(client, email)


async def test_users_me_returns_user(client: httpx.AsyncClient) -> None:
    email, tokens = await signed_in(client)
    response = await client.get(ME, headers=bearer(tokens))
    assert response.status_code == 200
    assert response.json()["email"] == email
    assert "hashed_password" not in response.json()
    assert "token_version" not in response.json()


async def test_update_me_full_name(client: httpx.AsyncClient) -> None:
    email, tokens = await signed_in(client)
    response = await client.patch(
        ME, json={"full_name": "  Asha Rao "}, headers=bearer(tokens)
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Asha Rao"
    assert response.json()["email"] == email

    cleared = await client.patch(ME, json={"full_name": None}, headers=bearer(tokens))
    assert cleared.json()["full_name"] is None


async def test_update_me_email_needs_password(client: httpx.AsyncClient) -> None:
    _, tokens = await signed_in(client)
    response = await client.patch(
        ME, json={"email": new_email()}, headers=bearer(tokens)
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "current_password", "message": "required to change the e-mail"}
    ]


async def test_update_me_email_wrong_password(client: httpx.AsyncClient) -> None:
    _, tokens = await signed_in(client)
    response = await client.patch(
        ME,
        json={"email": new_email(), "current_password": "not the password"},
        headers=bearer(tokens),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "current_password"


async def test_update_me_email_changes_login(client: httpx.AsyncClient) -> None:
    old_email, tokens = await signed_in(client)
    email = new_email()
    response = await client.patch(
        ME,
        json={"email": email.upper(), "current_password": PASSWORD},
        headers=bearer(tokens),
    )
    assert response.status_code == 200
    assert response.json()["email"] == email
    assert (await login(client, email))["access_token"]
    old_login = await client.post(
        "/api/v1/auth/login", data={"username": old_email, "password": PASSWORD}
    )
    assert old_login.status_code == 401


async def test_update_me_email_taken(client: httpx.AsyncClient) -> None:
    existing_email = await register(client)
    _, tokens = await signed_in(client)
    response = await client.patch(
        ME,
        json={"email": existing_email, "current_password": PASSWORD},
        headers=bearer(tokens),
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"


async def test_update_me_email_voids_reset_links(
    client: httpx.AsyncClient, smtp: SmtpSink, settings: Settings
) -> None:
    email, tokens = await signed_in(client)
    await client.post("/api/v1/auth/password-reset", json={"email": email})
    body = smtp.messages_to(email)[0].get_body(preferencelist=("plain",))
    assert body is not None
    link = next(word for word in body.get_content().split() if "token=" in word)
    token = link.split("token=", 1)[1]

    await client.patch(
        ME,
        json={"email": new_email(), "current_password": PASSWORD},
        headers=bearer(tokens),
    )
    response = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_admin": True}, "is_admin"),
        ({"is_active": False}, "is_active"),
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"full_name": "x" * 256}, "full_name"),
        ({"full_name": "Asha\x00"}, "full_name"),
    ],
)
async def test_update_me_invalid_fields(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    _, tokens = await signed_in(client)
    response = await client.patch(ME, json=body, headers=bearer(tokens))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]
    me = (await client.get(ME, headers=bearer(tokens))).json()
    assert me["is_admin"] is False


async def test_change_password_revokes_older_tokens(client: httpx.AsyncClient) -> None:
    email, tokens = await signed_in(client)
    other_device = await login(client, email)

    response = await client.put(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(tokens),
    )
    assert response.status_code == 200
    new_tokens = response.json()

    for old in (tokens, other_device):
        assert (await client.get(ME, headers=bearer(old))).status_code == 401
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}
        )
        assert refreshed.status_code == 401
    assert (await client.get(ME, headers=bearer(new_tokens))).status_code == 200
    assert (await login(client, email, NEW_PASSWORD))["access_token"]


async def test_change_password_wrong_current(client: httpx.AsyncClient) -> None:
    _, tokens = await signed_in(client)
    response = await client.put(
        f"{ME}/password",
        json={"current_password": "not the password", "new_password": NEW_PASSWORD},
        headers=bearer(tokens),
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:problem:pravis:incorrect-password"
    assert (await client.get(ME, headers=bearer(tokens))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "x" * 129}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
    ],
)
async def test_change_password_invalid_fields(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    _, tokens = await signed_in(client)
    response = await client.put(f"{ME}/password", json=body, headers=bearer(tokens))
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def _rows_of_user(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    counts = {}
    for table, column in [
        ("users", "id"),
        ("voice_interactions", "user_id"),
        ("refresh_tokens", "user_id"),
        ("password_reset_tokens", "user_id"),
    ]:
        statement = text(f"SELECT count(*) FROM {table} WHERE {column} = :id")  # noqa: S608
        counts[table] = (await session.exec(statement, params={"id": user_id})).one()[0]
    return counts


async def test_delete_me_leaves_nothing(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    email, tokens = await signed_in(client)
    other_email, other_tokens = await signed_in(client)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    recording = (DATA / "goforward.wav").read_bytes()
    for headers in (bearer(tokens), bearer(other_tokens)):
        response = await client.post(
            "/api/v1/voice/query",
            files={"audio": ("clip.wav", recording, "audio/wav")},
            data={"store_recording": "true"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    await client.post(
        "/api/v1/voice/command", json={"text": "open my cart"}, headers=bearer(tokens)
    )
    await client.post("/api/v1/auth/password-reset", json={"email": email})
    before = await _rows_of_user(db_session, user.id)
    assert before == {
        "users": 1,
        "voice_interactions": 2,
        "refresh_tokens": 1,
        "password_reset_tokens": 1,
    }
    own_blobs = {
        name
        for (name,) in (
            await db_session.exec(
                text(
                    "SELECT recording_blob FROM voice_interactions "
                    "WHERE user_id = :id AND recording_blob IS NOT NULL"
                ),
                params={"id": user.id},
            )
        ).all()
    }
    assert len(own_blobs) == 1
    assert own_blobs <= await blob_names(settings)
    blobs_before = await blob_names(settings)

    response = await client.delete(ME, headers=bearer(tokens))

    assert response.status_code == 204
    after = await _rows_of_user(db_session, user.id)
    assert after == dict.fromkeys(after, 0)
    remaining_blobs = await blob_names(settings)
    assert own_blobs.isdisjoint(remaining_blobs)
    assert remaining_blobs == blobs_before - own_blobs
    queued = await db_session.exec(text("SELECT name FROM blob_deletions"))
    assert own_blobs.isdisjoint({name for (name,) in queued.all()})
    assert (await client.get(ME, headers=bearer(tokens))).status_code == 401
    # The other shopper keeps everything.
    other = await client.get(ME, headers=bearer(other_tokens))
    assert other.json()["email"] == other_email
