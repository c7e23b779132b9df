import base64
import json
import uuid
from datetime import UTC, datetime

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.security import create_access_token, decode_access_token
from pravis_api.models.user import User
from tests.conftest import register_and_login

PASSWORD = "correct horse 42"


def new_email() -> str:
    return f"shopper-{uuid.uuid4().hex[:8]}@example.com"


async def test_register_returns_user(client: httpx.AsyncClient) -> None:
    email = new_email()
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": PASSWORD, "full_name": " Asha Rao "},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email
    assert body["full_name"] == "Asha Rao"
    assert body["is_active"] is True
    assert body["is_admin"] is False
    uuid.UUID(body["id"])
    assert "password" not in json.dumps(body)


async def test_register_hashes_password(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = new_email()
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    assert user.hashed_password.startswith("$argon2id$")
    assert PASSWORD not in user.hashed_password


async def test_register_duplicate_email_conflicts(client: httpx.AsyncClient) -> None:
    email = new_email()
    first = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert first.status_code == 201
    second = await client.post(
        "/api/v1/auth/register", json={"email": email.title(), "password": PASSWORD}
    )
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert email in second.json()["detail"]


@pytest.mark.parametrize("flag", ["is_admin", "is_active"])
async def test_register_rejects_flags(client: httpx.AsyncClient, flag: str) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": new_email(), "password": PASSWORD, flag: True},
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [flag]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "x" * 129}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
    ],
)
async def test_register_invalid_fields(
    client: httpx.AsyncClient, payload: dict[str, str], field: str
) -> None:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    assert problem["request_id"] == response.headers["x-request-id"]
    assert field in [error["field"] for error in problem["errors"]]
    assert field in problem["detail"]


async def test_login_returns_bearer_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    email = new_email()
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    response = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_expire_minutes * 60

    claims = jwt.decode(
        body["access_token"],
        settings.secret_key.get_secret_value(),
        algorithms=["HS256"],
    )
    assert set(claims) == {"sub", "iat", "exp", "jti", "typ", "sid", "ver"}
    assert claims["typ"] == "access"
    assert claims["ver"] == 0
    assert claims["exp"] - claims["iat"] == settings.access_token_expire_minutes * 60
    assert body["refresh_expires_in"] == settings.refresh_token_expire_days * 86400
    assert len(body["refresh_token"]) >= 43
    assert body["refresh_token"].count(".") == 0


async def test_login_failures_share_message(client: httpx.AsyncClient) -> None:
    email = new_email()
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    wrong_password = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": "wrong password"}
    )
    unknown_email = await client.post(
        "/api/v1/auth/login", data={"username": new_email(), "password": PASSWORD}
    )
    assert wrong_password.status_code == 401
    assert unknown_email.status_code == 401
    assert wrong_password.json()["detail"] == unknown_email.json()["detail"]
    assert wrong_password.headers["www-authenticate"] == "Bearer"


async def test_login_requires_form_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", data={"username": new_email()})
    assert response.status_code == 422
    assert "password" in [error["field"] for error in response.json()["errors"]]


async def test_login_inactive_user_forbidden(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = new_email()
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    user.is_active = False
    await db_session.commit()
    response = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 403


async def test_me_returns_current_user(client: httpx.AsyncClient) -> None:
    email = new_email()
    headers = await register_and_login(client, email)
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["email"] == email


async def test_me_without_token_unauthorized(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(subject: str, **changes: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "sub": subject,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "sid": uuid.uuid4().hex,
        "ver": 0,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


async def _user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get("/api/v1/auth/me", headers=headers)).json()["id"])


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_me_rejects_bad_tokens(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await register_and_login(client)
    subject = await _user_id(client, headers)
    key = settings.secret_key.get_secret_value()
    valid = headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = valid.split(".")
    past = int(datetime.now(UTC).timestamp()) - 3600

    bad_tokens = {
        "tampered payload": f"{header}.{_b64(_claims(str(uuid.uuid4())))}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[::-1]}",
        "expired": jwt.encode(_claims(subject, iat=past, exp=past + 60), key),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "other key": jwt.encode(
            _claims(subject), "another-key-that-is-long-enough-0000"
        ),
        "HS512": jwt.encode(_claims(subject), key, algorithm="HS512"),
        "no exp": jwt.encode(_claims(subject, exp=None), key),
        "no jti": jwt.encode(_claims(subject, jti=None), key),
        "no typ": jwt.encode(_claims(subject, typ=None), key),
        "typ refresh": jwt.encode(_claims(subject, typ="refresh"), key),
        "no sid": jwt.encode(_claims(subject, sid=None), key),
        "sid not a string": jwt.encode(_claims(subject, sid=7), key),
        "no ver": jwt.encode(_claims(subject, ver=None), key),
        "ver not an integer": jwt.encode(_claims(subject, ver="0"), key),
        "ver true": jwt.encode(_claims(subject, ver=True), key),
        "older ver": jwt.encode(_claims(subject, ver=-1), key),
        "sub not a uuid": jwt.encode(_claims("admin"), key),
        "exp past year 9999": jwt.encode(_claims(subject, exp=10**20), key),
        "exp out of range for the OS": jwt.encode(_claims(subject, exp=10**18), key),
        "iat far in the past": jwt.encode(_claims(subject, iat=-(10**20)), key),
        "unknown user": jwt.encode(_claims(str(uuid.uuid4())), key),
        "garbage": "not.a.token",
    }
    # The helper's claims themselves are accepted: each case differs in one way.
    control = jwt.encode(_claims(subject), key)
    response = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {control}"}
    )
    assert response.status_code == 200

    for name, token in bad_tokens.items():
        response = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json", name


async def test_me_rejects_token_of_deactivated_user(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    email = new_email()
    headers = await register_and_login(client, email)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    user.is_active = False
    await db_session.commit()
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401


async def test_token_helper_round_trip(settings: Settings) -> None:
    key = settings.secret_key.get_secret_value()
    token = create_access_token(
        "subject",
        secret_key=key,
        expires_minutes=1,
        session_id="session",
        token_version=3,
    )
    claims = decode_access_token(token.token, secret_key=key)
    assert token.expires_in == 60
    assert claims.subject == "subject"
    assert claims.jti == token.jti
    assert claims.session_id == "session"
    assert claims.token_version == 3
    assert claims.expires_at == token.expires_at
    assert (claims.expires_at - claims.issued_at).total_seconds() == 60


async def test_login_with_unnormalised_email(client: httpx.AsyncClient) -> None:
    """An e-mail typed with a combining accent matches its composed form."""
    decomposed = f"e\u0301mile-{uuid.uuid4().hex[:6]}@example.com"
    response = await client.post(
        "/api/v1/auth/register", json={"email": decomposed, "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json()["email"].startswith("\u00e9mile")
    login = await client.post(
        "/api/v1/auth/login", data={"username": decomposed, "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_me_ends_read_transaction(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    """A signed-in request must not hold a connection in a transaction
    while it goes on to wait for transcription."""
    headers = await register_and_login(client)
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    assert not db_session.in_transaction()


@pytest.mark.parametrize("name", ["A\x00B", "Asha\x7f", "Asha \u202eoaR", "Asha\x85"])
async def test_register_rejects_bad_name_characters(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": new_email(), "password": PASSWORD, "full_name": name},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "full_name"
    assert (
        response.json()["errors"][0]["message"] == "must not contain control characters"
    )


async def test_login_nul_in_email_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        data={"username": "a\x00@example.com", "password": "whatever1"},
    )
    assert response.status_code == 401
