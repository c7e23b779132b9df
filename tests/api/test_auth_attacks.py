"""Attacks on sign-in and tokens that the other auth tests do not cover.

Forged tokens (`alg: none`, another key, no `exp`) are in test_auth.py,
and tokens reused after logout or a password change in test_auth_tokens.py
and test_users.py. This module adds a far-future `exp`, the per-account
limit on sign-in attempts, and the dummy hash verified for unknown e-mails.
"""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from redis.asyncio import Redis

from pravis_api.core import security
from pravis_api.core.config import Settings
from tests.conftest import middleware_app, register, register_and_login
from tests.servers import LocalServer

LOGIN = "/api/v1/auth/login"
PASSWORD = "correct horse 42"


def forged_claims(subject: str, lifetime: timedelta) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "sid": uuid.uuid4().hex,
        "ver": 0,
    }


async def test_token_far_future_exp_rejected(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await register_and_login(client)
    subject = (await client.get("/api/v1/auth/me", headers=headers)).json()["id"]
    key = settings.secret_key.get_secret_value()
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)

    longest = jwt.encode(forged_claims(subject, lifetime), key)
    far_future = jwt.encode(forged_claims(subject, timedelta(days=3650)), key)
    accepted = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {longest}"}
    )
    rejected = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {far_future}"}
    )

    assert accepted.status_code == 200
    assert rejected.status_code == 401
    assert rejected.headers["content-type"] == "application/problem+json"


async def attempt(
    client: httpx.AsyncClient, email: str, password: str, address: str
) -> httpx.Response:
    return await client.post(
        LOGIN,
        data={"username": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def test_login_limited_per_account(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    # Each attempt comes from another client address, through a trusted
    # proxy, so only the per-account limit can stop them.
    async with middleware_app(
        database,
        azurite,
        own_redis,
        rate_limit_login_account="3/minute",
        forwarded_allow_ips="127.0.0.1",
    ) as (_, client):
        victim = await register(client)
        bystander = await register(client)
        guesses = [
            await attempt(client, victim, f"guess {index}", f"203.0.113.{index}")
            for index in range(3)
        ]
        # The right password, in another letter case, from a new address.
        blocked = await attempt(client, victim.upper(), PASSWORD, "198.51.100.1")
        other_account = await attempt(client, bystander, PASSWORD, "203.0.113.0")
        keys = [key async for key in redis.scan_iter(match="*login_account*")]

    assert [response.status_code for response in guesses] == [401, 401, 401]
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "this account" in blocked.json()["detail"]
    assert other_account.status_code == 200
    assert keys
    assert not any(victim.encode() in key for key in keys)


async def test_login_limited_per_client(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    # One client guessing across many accounts meets the per-client limit.
    async with middleware_app(
        database, azurite, own_redis, rate_limit_login="3/minute"
    ) as (_, client):
        responses = [
            await client.post(
                LOGIN,
                data={"username": f"guess-{index}@example.com", "password": "x"},
            )
            for index in range(4)
        ]

    assert [response.status_code for response in responses] == [401, 401, 401, 429]


@pytest.fixture
def verified_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the hash each password verification runs against."""
    hashes: list[str] = []
    verify = security._verify

    def recording_verify(hashed_password: str, password: str) -> bool:
        hashes.append(hashed_password)
        return verify(hashed_password, password)

    monkeypatch.setattr(security, "_verify", recording_verify)
    return hashes


async def test_login_unknown_email_verifies_dummy_hash(
    client: httpx.AsyncClient, verified_hashes: list[str]
) -> None:
    email = await register(client)
    known = await client.post(LOGIN, data={"username": email, "password": "wrong"})
    known_hashes = list(verified_hashes)
    verified_hashes.clear()
    unknown = await client.post(
        LOGIN,
        data={
            "username": f"nobody-{uuid.uuid4().hex[:8]}@example.com",
            "password": "x",
        },
    )

    assert known.status_code == unknown.status_code == 401
    assert known.json()["detail"] == unknown.json()["detail"]
    # Each path runs exactly one argon2 verification in the hashing threads.
    assert len(known_hashes) == 1
    assert verified_hashes == [security._DUMMY_HASH]
    # The dummy hash has the parameters of real hashes, so it costs the same.
    assert not security.password_needs_rehash(security._DUMMY_HASH)
    assert not security.password_needs_rehash(known_hashes[0])
