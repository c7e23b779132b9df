"""Refresh token rotation, reuse detection, logout and password re-hashing."""

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.auth_token import RefreshToken
from pravis_api.models.base import utc_now
from pravis_api.models.user import User
from tests.conftest import bearer, login, register

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
PASSWORD = "correct horse 42"


async def refresh(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})


async def me_status(client: httpx.AsyncClient, tokens: dict[str, Any]) -> int:
    return (await client.get(ME, headers=bearer(tokens))).status_code


async def test_refresh_returns_new_pair(client: httpx.AsyncClient) -> None:
    first = await login(client, await register(client))
    response = await refresh(client, first)
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["token_type"] == "bearer"
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert await me_status(client, second) == 200


async def test_refresh_revokes_rotated_away_pair(client: httpx.AsyncClient) -> None:
    first = await login(client, await register(client))
    second = (await refresh(client, first)).json()
    assert await me_status(client, first) == 401
    assert await me_status(client, second) == 200


async def test_refresh_token_reuse_revokes_family(client: httpx.AsyncClient) -> None:
    email = await register(client)
    first = await login(client, email)
    other_device = await login(client, email)
    second = (await refresh(client, first)).json()

    reused = await refresh(client, first)
    assert reused.status_code == 401
    assert "already used" in reused.json()["detail"]
    # The family is revoked: the pair issued by the first refresh is dead too.
    assert (await refresh(client, second)).status_code == 401
    assert await me_status(client, second) == 401
    # Another login session of the same user is untouched.
    assert await me_status(client, other_device) == 200
    assert (await refresh(client, other_device)).status_code == 200


async def test_refresh_token_not_an_access_token(client: httpx.AsyncClient) -> None:
    tokens = await login(client, await register(client))
    response = await client.get(
        ME, headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert response.status_code == 401


async def test_access_token_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    tokens = await login(client, await register(client))
    response = await client.post(
        REFRESH, json={"refresh_token": tokens["access_token"][:128]}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_refresh_unknown_token_401(client: httpx.AsyncClient) -> None:
    response = await client.post(REFRESH, json={"refresh_token": "x" * 43})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_refresh_invalid_body_422(client: httpx.AsyncClient) -> None:
    for body in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 129}):
        response = await client.post(REFRESH, json=body)
        assert response.status_code == 422, body
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields == ["refresh_token"], body


async def test_refresh_expired_token_401(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    tokens = await login(client, await register(client))
    digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    row = (
        await db_session.exec(
            select(RefreshToken).where(RefreshToken.token_hash == digest)
        )
    ).one()
    row.expires_at = utc_now() - timedelta(seconds=1)
    db_session.add(row)
    await db_session.commit()
    assert (await refresh(client, tokens)).status_code == 401


async def test_refresh_tokens_stored_as_hashes(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = await register(client)
    tokens = await login(client, email)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    rows = (
        await db_session.exec(
            select(RefreshToken).where(RefreshToken.user_id == user.id)
        )
    ).all()
    assert len(rows) == 1
    digest = hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    assert rows[0].token_hash == digest
    assert tokens["refresh_token"] not in rows[0].model_dump_json()


async def test_refresh_deactivated_user_401(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = await register(client)
    tokens = await login(client, email)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    user.is_active = False
    await db_session.commit()
    assert (await refresh(client, tokens)).status_code == 401


async def test_logout_revokes_session(client: httpx.AsyncClient) -> None:
    email = await register(client)
    tokens = await login(client, email)
    other_device = await login(client, email)

    response = await client.post(LOGOUT, headers=bearer(tokens))
    assert response.status_code == 204
    assert await me_status(client, tokens) == 401
    assert (await refresh(client, tokens)).status_code == 401
    assert (await client.post(LOGOUT, headers=bearer(tokens))).status_code == 401
    assert await me_status(client, other_device) == 200


async def test_logout_revokes_older_access_tokens(client: httpx.AsyncClient) -> None:
    """An access token replaced by a refresh is also gone after logout of
    the newer one, through the session entry on the deny-list."""
    first = await login(client, await register(client))
    second = (await refresh(client, first)).json()
    assert (await client.post(LOGOUT, headers=bearer(second))).status_code == 204
    assert await me_status(client, second) == 401
    assert (await refresh(client, second)).status_code == 401


async def test_logout_requires_token(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGOUT)
    assert response.status_code == 401


async def test_login_rehashes_weak_hash(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = f"weak-{uuid.uuid4().hex[:8]}@example.com"
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    db_session.add(User(email=email, hashed_password=weak))
    await db_session.commit()

    await login(client, email)

    user = (await db_session.exec(select(User).where(User.email == email))).one()
    await db_session.refresh(user)
    assert user.hashed_password != weak
    assert user.hashed_password.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    # The new hash still verifies the same password.
    assert (await login(client, email))["access_token"]


async def test_login_keeps_current_hash(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    email = await register(client)
    user = (await db_session.exec(select(User).where(User.email == email))).one()
    before = user.hashed_password
    await login(client, email)
    await db_session.refresh(user)
    assert user.hashed_password == before
