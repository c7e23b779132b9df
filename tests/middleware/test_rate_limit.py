"""Rate limits: groups, buckets per user or address, trusted proxies, 429s."""

import ipaddress
import time
import uuid

import httpx
import pytest
from redis.asyncio import Redis

from pravis_api.middleware.rate_limit import client_address
from tests.conftest import bearer, login, middleware_app, register
from tests.servers import LocalServer, redis_server

LOGIN = "/api/v1/auth/login"
PRODUCTS = "/api/v1/products"
PROXY = [ipaddress.ip_network("10.0.0.0/8")]


async def bad_login(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        LOGIN,
        data={"username": "nobody@example.com", "password": "wrong password"},
        headers=headers,
    )


async def test_rate_limit_login_hammered(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    async with middleware_app(
        database, azurite, own_redis, rate_limit_login="3/minute"
    ) as (_, client):
        allowed = [await bad_login(client) for _ in range(3)]
        limited = await bad_login(client)

    assert [r.status_code for r in allowed] == [401, 401, 401]
    assert [r.headers["x-ratelimit-remaining"] for r in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["x-ratelimit-limit"] == "3"
    reset = int(allowed[0].headers["x-ratelimit-reset"])
    assert time.time() < reset <= time.time() + 61

    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    problem = limited.json()
    assert problem["status"] == 429
    assert problem["type"] == "urn:problem:pravis:rate-limit-exceeded"
    assert problem["request_id"] == limited.headers["x-request-id"]
    assert "3 per 1 minute" in problem["detail"]
    # One counter for the address; the per-account counters are separate.
    keys = [key async for key in redis.scan_iter(match="pravis:ratelimit:*/login/*")]
    assert len(keys) == 1


async def test_rate_limit_groups_are_separate(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    async with middleware_app(
        database,
        azurite,
        own_redis,
        rate_limit_login="1/minute",
        rate_limit_voice="2/minute",
        rate_limit_default="5/minute",
    ) as (_, client):
        assert (await bad_login(client)).status_code == 401
        assert (await bad_login(client)).status_code == 429
        # The catalogue counts against the default group, not the login one.
        assert (await client.get(PRODUCTS)).status_code == 200
        commands = [
            await client.post("/api/v1/voice/command", json={"text": "hello"})
            for _ in range(3)
        ]
        health = [await client.get("/health") for _ in range(10)]

    assert [r.status_code for r in commands] == [200, 200, 429]
    assert commands[0].headers["x-ratelimit-limit"] == "2"
    assert {r.status_code for r in health} == {200}
    assert "x-ratelimit-limit" not in health[0].headers


async def test_rate_limit_signed_in_users_have_own_bucket(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    # Registration and login count against their own groups.
    async with middleware_app(
        database, azurite, own_redis, rate_limit_default="2/minute"
    ) as (_, client):
        email = await register(client)
        alice = bearer(await login(client, email))
        email = await register(client)
        bob = bearer(await login(client, email))
        alice_responses = [await client.get(PRODUCTS, headers=alice) for _ in range(3)]
        bob_response = await client.get(PRODUCTS, headers=bob)
        anonymous = await client.get(PRODUCTS)

    assert [r.status_code for r in alice_responses] == [200, 200, 429]
    assert bob_response.status_code == 200
    assert anonymous.status_code == 200


async def test_rate_limit_untrusted_forwarded_for_ignored(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    # The test client connects from 127.0.0.1, which is not a trusted proxy.
    async with middleware_app(
        database,
        azurite,
        own_redis,
        rate_limit_login="2/minute",
        forwarded_allow_ips="10.0.0.0/8",
    ) as (_, client):
        responses = [
            await bad_login(client, {"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(3)
        ]
    assert [r.status_code for r in responses] == [401, 401, 429]


async def test_rate_limit_trusted_proxy_forwarded_for(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    # The test client connects from 127.0.0.1.
    async with middleware_app(
        database,
        azurite,
        own_redis,
        rate_limit_login="1/minute",
        forwarded_allow_ips="127.0.0.1",
    ) as (_, client):
        first = await bad_login(client, {"X-Forwarded-For": "203.0.113.7"})
        second = await bad_login(client, {"X-Forwarded-For": "203.0.113.8"})
        repeat = await bad_login(client, {"X-Forwarded-For": "203.0.113.7"})
    assert first.status_code == 401
    assert second.status_code == 401
    assert repeat.status_code == 429


def scope_from(peer: str, forwarded: str | None = None) -> dict[str, object]:
    headers = []
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    return {"type": "http", "client": (peer, 50000), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # No trusted proxy in front: the header is ignored.
        ("198.51.100.4", "203.0.113.9", "198.51.100.4"),
        # A trusted proxy: the address it received from.
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),
        # A client's forged entry sits left of what the proxy appended.
        ("10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        # Two trusted proxies in a row.
        ("10.0.0.2", "203.0.113.9, 10.0.0.3", "203.0.113.9"),
        # A trusted proxy without the header.
        ("10.0.0.2", None, "10.0.0.2"),
        # Garbage where the proxy's entry should be.
        ("10.0.0.2", "not-an-address", "10.0.0.2"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(scope_from(peer, forwarded), PROXY) == expected


async def test_rate_limit_falls_back_to_memory(
    database: str, azurite: LocalServer, own_redis: LocalServer
) -> None:
    down = redis_server()
    async with middleware_app(database, azurite, down, rate_limit_login="2/minute") as (
        _,
        client,
    ):
        # Nothing listens on this Redis port: counting happens in memory.
        responses = [await bad_login(client) for _ in range(3)]
        catalogue = await client.get(PRODUCTS, params={"email": uuid.uuid4().hex})
    assert [r.status_code for r in responses] == [401, 401, 429]
    assert catalogue.status_code == 200
    assert catalogue.headers["x-cache"] == "MISS"
