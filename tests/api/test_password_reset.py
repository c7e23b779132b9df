"""Password reset through a real local SMTP server."""

import hashlib
import logging
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.auth_token import PasswordResetToken
from pravis_api.models.base import utc_now
from pravis_api.models.user import User
from pravis_api.services.password_reset import MAX_RESET_MAILS_PER_HOUR
from tests.conftest import bearer, login, register, running_app
from tests.servers import LocalServer, SmtpSink, azurite_connection_string, free_port

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new secret 7"


def reset_token(message: EmailMessage, settings: Settings) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    links = [
        word
        for word in body.get_content().split()
        if word.startswith(settings.password_reset_url)
    ]
    assert len(links) == 1
    return parse_qs(urlsplit(links[0]).query)["token"][0]


async def request_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(RESET, json={"email": email})


async def test_password_reset_end_to_end(
    client: httpx.AsyncClient, smtp: SmtpSink, settings: Settings
) -> None:
    email = await register(client)
    old_tokens = await login(client, email)

    response = await request_reset(client, email.upper())
    assert response.status_code == 202

    messages = smtp.messages_to(email)
    assert len(messages) == 1
    assert messages[0]["From"] == settings.smtp_sender
    assert "Reset" in messages[0]["Subject"]
    token = reset_token(messages[0], settings)

    response = await client.post(
        CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204

    old_password = await client.post(
        "/api/v1/auth/login",
        data={"username": email, "password": "correct horse 42"},
    )
    assert old_password.status_code == 401
    assert (await login(client, email, NEW_PASSWORD))["access_token"]
    # Every earlier session is signed out.
    me = await client.get("/api/v1/auth/me", headers=bearer(old_tokens))
    assert me.status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": old_tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_password_reset_token_single_use(
    client: httpx.AsyncClient, smtp: SmtpSink, settings: Settings
) -> None:
    email = await register(client)
    await request_reset(client, email)
    token = reset_token(smtp.messages_to(email)[0], settings)

    first = await client.post(
        CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}
    )
    second = await client.post(
        CONFIRM, json={"token": token, "new_password": "yet another one 8"}
    )
    assert first.status_code == 204
    assert second.status_code == 400
    problem = second.json()
    assert problem["type"] == "urn:problem:pravis:invalid-reset-token"
    assert [error["field"] for error in problem["errors"]] == ["token"]
    assert (await login(client, email, NEW_PASSWORD))["access_token"]


async def test_password_reset_expired_token_fails(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    smtp: SmtpSink,
    settings: Settings,
) -> None:
    email = await register(client)
    await request_reset(client, email)
    token = reset_token(smtp.messages_to(email)[0], settings)
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = (
        await db_session.exec(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == digest)
        )
    ).one()
    row.expires_at = utc_now() - timedelta(seconds=1)
    db_session.add(row)
    await db_session.commit()

    response = await client.post(
        CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


async def test_password_reset_token_stored_as_hash(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    smtp: SmtpSink,
    settings: Settings,
) -> None:
    email = await register(client)
    await request_reset(client, email)
    token = reset_token(smtp.messages_to(email)[0], settings)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    rows = (
        await db_session.exec(
            select(PasswordResetToken).where(PasswordResetToken.user_id == user.id)
        )
    ).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in rows[0].model_dump_json()
    expected_expiry = rows[0].created_at + timedelta(
        minutes=settings.password_reset_token_expire_minutes
    )
    assert abs(rows[0].expires_at - expected_expiry) < timedelta(seconds=5)


async def test_password_reset_same_answer_unknown_email(
    client: httpx.AsyncClient, smtp: SmtpSink
) -> None:
    email = await register(client)
    unknown = f"nobody-{email}"
    known_response = await request_reset(client, email)
    unknown_response = await request_reset(client, unknown)
    assert known_response.status_code == unknown_response.status_code == 202
    assert known_response.json() == unknown_response.json()
    assert len(smtp.messages_to(email)) == 1
    assert smtp.messages_to(unknown) == []


async def test_password_reset_skips_inactive_account(
    client: httpx.AsyncClient, db_session: AsyncSession, smtp: SmtpSink
) -> None:
    email = await register(client)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    user.is_active = False
    await db_session.commit()
    response = await request_reset(client, email)
    assert response.status_code == 202
    assert smtp.messages_to(email) == []


async def test_password_reset_newest_link_ends_others(
    client: httpx.AsyncClient, smtp: SmtpSink, settings: Settings
) -> None:
    email = await register(client)
    await request_reset(client, email)
    await request_reset(client, email)
    first, second = (reset_token(m, settings) for m in smtp.messages_to(email))

    used = await client.post(
        CONFIRM, json={"token": second, "new_password": NEW_PASSWORD}
    )
    older = await client.post(
        CONFIRM, json={"token": first, "new_password": "yet another one 8"}
    )
    assert used.status_code == 204
    assert older.status_code == 400


async def test_password_reset_mails_limited(
    client: httpx.AsyncClient, smtp: SmtpSink
) -> None:
    email = await register(client)
    for _ in range(MAX_RESET_MAILS_PER_HOUR + 2):
        assert (await request_reset(client, email)).status_code == 202
    assert len(smtp.messages_to(email)) == MAX_RESET_MAILS_PER_HOUR


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({}, "email"),
        ({"email": "a@example.com", "is_admin": True}, "is_admin"),
    ],
)
async def test_password_reset_request_invalid(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post(RESET, json=body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": "t" * 43, "new_password": "short"}, "new_password"),
        ({"token": "t" * 43, "new_password": "x" * 129}, "new_password"),
        ({"token": "", "new_password": NEW_PASSWORD}, "token"),
        ({"token": "t" * 129, "new_password": NEW_PASSWORD}, "token"),
        ({"new_password": NEW_PASSWORD}, "token"),
    ],
)
async def test_password_reset_confirm_invalid(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post(CONFIRM, json=body)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_password_reset_unknown_token_fails(client: httpx.AsyncClient) -> None:
    response = await client.post(
        CONFIRM, json={"token": "t" * 43, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400


async def test_password_reset_smtp_down_same_answer(
    database: str, azurite: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A mail server that cannot be reached changes nothing in the response;
    the failure is logged with the account id and without the token."""
    async with running_app(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        smtp_port=free_port(),
        smtp_timeout_seconds=2,
    ) as (_, client):
        email = await register(client)
        with caplog.at_level(logging.INFO, logger="pravis_api"):
            known = await request_reset(client, email)
            unknown = await request_reset(client, f"nobody-{email}")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    failures = [
        record
        for record in caplog.records
        if record.getMessage() == "auth.password_reset_mail_failed"
    ]
    assert len(failures) == 1
    assert getattr(failures[0], "user_id", None)
    assert "token=" not in str(failures[0].__dict__)
