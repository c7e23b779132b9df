"""The response cache: keys, hits, per-user entries, invalidation by writes."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from pravis_api.core import security
from pravis_api.middleware import bearer as bearer_module
from pravis_api.services import tokens as tokens_module
from pravis_api.services.response_cache import cached
from tests.conftest import (
    bearer,
    login,
    middleware_app,
    promote_to_admin,
    register,
)
from tests.servers import LocalServer

PRODUCTS = "/api/v1/products"
ME = "/api/v1/users/me"
HISTORY = "/api/v1/voice/history"

pytestmark = pytest.mark.usefixtures("catalogue")


@pytest.fixture(scope="module")
async def cache_app(
    database: str, azurite: LocalServer, own_redis: LocalServer
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with middleware_app(database, azurite, own_redis) as app_and_client:
        yield app_and_client


@pytest.fixture
def api(cache_app: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return cache_app[0]


@pytest.fixture
def client(
    cache_app: tuple[FastAPI, httpx.AsyncClient], redis: Redis
) -> httpx.AsyncClient:
    # Redis was flushed, which the process's own copy does not notice.
    cache_app[0].state.response_cache.local.reset()
    return cache_app[1]


async def entry_keys(redis: Redis) -> list[bytes]:
    return [key async for key in redis.scan_iter(match="pravis:cache:entry:*")]


async def signed_in(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    email = await register(client)
    return email, bearer(await login(client, email))


async def test_cache_catalogue_miss_then_hit(client: httpx.AsyncClient) -> None:
    first = await client.get(PRODUCTS, params={"category": "sarees"})
    second = await client.get(PRODUCTS, params={"category": "sarees"})
    assert first.status_code == 200
    assert second.status_code == 200
    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert "private" not in second.headers.get("cache-control", "")
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


async def test_cache_identical_gets_share_one_key(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    statuses = []
    for _ in range(100):
        response = await client.get(PRODUCTS, params={"color": "red", "page": 1})
        assert response.status_code == 200
        statuses.append(response.headers["x-cache"])
    assert statuses.count("MISS") == 1
    assert statuses.count("HIT") == 99
    assert len(await entry_keys(redis)) == 1


async def test_cache_pages_get_own_entries(client: httpx.AsyncClient) -> None:
    page_one = await client.get(PRODUCTS, params={"page": 1, "page_size": 5})
    page_two = await client.get(PRODUCTS, params={"page": 2, "page_size": 5})
    again_one = await client.get(PRODUCTS, params={"page": 1, "page_size": 5})
    again_two = await client.get(PRODUCTS, params={"page": 2, "page_size": 5})
    assert page_two.headers["x-cache"] == "MISS"
    assert page_one.json()["page"] == 1
    assert page_two.json()["page"] == 2
    assert page_one.json()["items"] != page_two.json()["items"]
    assert again_one.headers["x-cache"] == "HIT"
    assert again_two.headers["x-cache"] == "HIT"
    assert again_one.content == page_one.content
    assert again_two.content == page_two.content


async def test_cache_query_order_does_not_matter(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{PRODUCTS}?page_size=3&category=kurtas")
    second = await client.get(f"{PRODUCTS}?category=kurtas&page_size=3")
    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"


async def test_cache_never_stores_errors(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    for _ in range(2):
        missing = await client.get(f"{PRODUCTS}/no-such-product-{uuid.uuid4().hex}")
        assert missing.status_code == 404
        assert missing.headers["x-cache"] == "MISS"
        invalid = await client.get(PRODUCTS, params={"page_size": 1000})
        assert invalid.status_code == 422
        assert invalid.headers["x-cache"] == "MISS"
    assert await entry_keys(redis) == []


async def test_cache_skips_large_responses(
    api: FastAPI, client: httpx.AsyncClient, redis: Redis
) -> None:
    params = {"page_size": 50}
    first = await client.get(PRODUCTS, params=params)
    cache = api.state.response_cache
    original = cache.max_bytes
    cache.max_bytes = len(first.content) - 1
    try:
        await redis.flushall()
        cache.local.reset()
        responses = [await client.get(PRODUCTS, params=params) for _ in range(2)]
    finally:
        cache.max_bytes = original
    assert [r.headers["x-cache"] for r in responses] == ["MISS", "MISS"]
    assert responses[1].content == first.content
    assert await entry_keys(redis) == []


async def test_cache_product_by_slug(client: httpx.AsyncClient) -> None:
    listing = (await client.get(PRODUCTS, params={"page_size": 1})).json()
    slug = listing["items"][0]["slug"]
    first = await client.get(f"{PRODUCTS}/{slug}")
    second = await client.get(f"{PRODUCTS}/{slug}")
    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert second.json()["slug"] == slug


async def test_cache_policies_cached(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/store/policies")
    second = await client.get("/api/v1/store/policies")
    assert first.status_code == 200
    assert [first.headers["x-cache"], second.headers["x-cache"]] == ["MISS", "HIT"]


async def test_cache_uncached_routes_have_no_header(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert "x-cache" not in response.headers


def product_payload(slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": "Cache Test Dress",
        "category": "dresses",
        "price_minor": 1999,
        "currency": "USD",
        "colors": ["teal"],
        "sizes": [{"size": "S", "stock": 3}],
    }


async def test_cache_product_writes_invalidate(
    api: FastAPI, client: httpx.AsyncClient
) -> None:
    email = await register(client, f"admin-{uuid.uuid4().hex[:8]}@example.com")
    await promote_to_admin(api, email)
    admin = bearer(await login(client, email))
    slug = f"cache-test-dress-{uuid.uuid4().hex[:8]}"
    newest = {"category": "dresses", "sort": "newest", "page_size": 1}

    before = await client.get(PRODUCTS, params=newest)
    assert (await client.get(PRODUCTS, params=newest)).headers["x-cache"] == "HIT"
    assert before.json()["items"][0]["slug"] != slug

    created = await client.post(PRODUCTS, json=product_payload(slug), headers=admin)
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    after_create = await client.get(PRODUCTS, params=newest)
    assert after_create.headers["x-cache"] == "MISS"
    assert after_create.json()["items"][0]["slug"] == slug
    assert (await client.get(f"{PRODUCTS}/{slug}")).status_code == 200

    changed = await client.patch(
        f"{PRODUCTS}/{product_id}", json={"name": "Renamed Dress"}, headers=admin
    )
    assert changed.status_code == 200
    after_update = await client.get(f"{PRODUCTS}/{slug}")
    assert after_update.headers["x-cache"] == "MISS"
    assert after_update.json()["name"] == "Renamed Dress"

    deleted = await client.delete(f"{PRODUCTS}/{product_id}", headers=admin)
    assert deleted.status_code == 204
    after_delete = await client.get(f"{PRODUCTS}/{slug}")
    assert after_delete.status_code == 404


async def test_cache_per_user_entries_stay_private(
    client: httpx.AsyncClient,
) -> None:
    alice_email, alice = await signed_in(client)
    bob_email, bob = await signed_in(client)

    first = await client.get(ME, headers=alice)
    second = await client.get(ME, headers=alice)
    assert [first.headers["x-cache"], second.headers["x-cache"]] == ["MISS", "HIT"]
    assert second.json()["email"] == alice_email
    for response in (first, second):
        assert response.headers["cache-control"] == "private"

    other = await client.get(ME, headers=bob)
    assert other.status_code == 200
    assert other.headers["x-cache"] == "MISS"
    assert other.json()["email"] == bob_email

    anonymous = await client.get(ME)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert alice_email not in anonymous.text

    forged = await client.get(ME, headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401


async def test_cache_me_verifies_token_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = await signed_in(client)
    calls = 0
    original = security.decode_access_token

    def counting_decode(token: str, **options: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(token, **options)

    # The rate limiter verifies the token before routing; the cache's check
    # and the route reuse its claims instead of verifying it again.
    monkeypatch.setattr(bearer_module, "decode_access_token", counting_decode)
    monkeypatch.setattr(tokens_module, "decode_access_token", counting_decode)
    for expected_cache in ("MISS", "HIT"):
        calls = 0
        response = await client.get(ME, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["x-cache"] == expected_cache
        assert calls == 1


async def test_cache_history_per_user(client: httpx.AsyncClient) -> None:
    _, alice = await signed_in(client)
    _, bob = await signed_in(client)
    command = await client.post(
        "/api/v1/voice/command", json={"text": "hello"}, headers=alice
    )
    assert command.status_code == 200

    alice_history = [await client.get(HISTORY, headers=alice) for _ in range(2)]
    bob_history = await client.get(HISTORY, headers=bob)
    assert [r.headers["x-cache"] for r in alice_history] == ["MISS", "HIT"]
    assert alice_history[1].json()["total"] == 1
    assert bob_history.headers["x-cache"] == "MISS"
    assert bob_history.json()["total"] == 0


async def test_cache_revoked_token_gets_no_hit(client: httpx.AsyncClient) -> None:
    email = await register(client)
    tokens = await login(client, email)
    assert (await client.get(ME, headers=bearer(tokens))).status_code == 200
    assert (await client.get(ME, headers=bearer(tokens))).headers["x-cache"] == "HIT"

    logout = await client.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert logout.status_code == 204
    response = await client.get(ME, headers=bearer(tokens))
    assert response.status_code == 401
    assert email not in response.text


async def test_cache_old_token_after_password_change(
    client: httpx.AsyncClient,
) -> None:
    email = await register(client)
    old = await login(client, email)
    other_device = await login(client, email)
    assert (await client.get(ME, headers=bearer(other_device))).status_code == 200
    changed = await client.put(
        f"{ME}/password",
        json={"current_password": "correct horse 42", "new_password": "new pass 12345"},
        headers=bearer(old),
    )
    assert changed.status_code == 200
    new = changed.json()
    assert (await client.get(ME, headers=bearer(new))).status_code == 200
    assert (await client.get(ME, headers=bearer(new))).headers["x-cache"] == "HIT"
    response = await client.get(ME, headers=bearer(other_device))
    assert response.status_code == 401


async def test_cache_deactivated_user_gets_no_hit(
    api: FastAPI, client: httpx.AsyncClient
) -> None:
    admin_email = await register(client, f"admin-{uuid.uuid4().hex[:8]}@example.com")
    await promote_to_admin(api, admin_email)
    admin = bearer(await login(client, admin_email))
    email = await register(client)
    tokens = await login(client, email)
    me = await client.get(ME, headers=bearer(tokens))
    assert (await client.get(ME, headers=bearer(tokens))).headers["x-cache"] == "HIT"

    deactivated = await client.patch(
        f"/api/v1/users/{me.json()['id']}", json={"is_active": False}, headers=admin
    )
    assert deactivated.status_code == 200
    response = await client.get(ME, headers=bearer(tokens))
    assert response.status_code == 401
    assert email not in response.text


async def test_cache_own_writes_invalidate(client: httpx.AsyncClient) -> None:
    _, headers = await signed_in(client)
    await client.get(ME, headers=headers)
    assert (await client.get(ME, headers=headers)).headers["x-cache"] == "HIT"
    changed = await client.patch(ME, json={"full_name": "Renamed"}, headers=headers)
    assert changed.status_code == 200
    response = await client.get(ME, headers=headers)
    assert response.headers["x-cache"] == "MISS"
    assert response.json()["full_name"] == "Renamed"

    empty = await client.get(HISTORY, headers=headers)
    assert empty.json()["total"] == 0
    assert (await client.get(HISTORY, headers=headers)).headers["x-cache"] == "HIT"
    await client.post("/api/v1/voice/command", json={"text": "hi"}, headers=headers)
    after = await client.get(HISTORY, headers=headers)
    assert after.headers["x-cache"] == "MISS"
    assert after.json()["total"] == 1

    deleted = await client.delete(HISTORY, headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(HISTORY, headers=headers)).json()["total"] == 0


async def test_cache_admin_list_only_for_admins(
    api: FastAPI, client: httpx.AsyncClient
) -> None:
    email = await register(client, f"admin-{uuid.uuid4().hex[:8]}@example.com")
    await promote_to_admin(api, email)
    admin = bearer(await login(client, email))
    _, shopper = await signed_in(client)
    first = await client.get("/api/v1/users", headers=admin)
    second = await client.get("/api/v1/users", headers=admin)
    assert [first.headers["x-cache"], second.headers["x-cache"]] == ["MISS", "HIT"]
    assert (await client.get("/api/v1/users", headers=shopper)).status_code == 403


async def test_cache_entry_from_old_version_is_stale(
    api: FastAPI, client: httpx.AsyncClient, redis: Redis
) -> None:
    await client.get(PRODUCTS, params={"fabric": "silk"})
    (key,) = await entry_keys(redis)
    value = await redis.get(key)
    assert value is not None
    head, _, body = value.partition(b"\n")
    status, versions, expires_at, headers = json.loads(head)
    assert status == 200
    assert expires_at > time.time()
    assert json.loads(body)["page"] == 1
    await api.state.response_cache.invalidate("catalogue")
    response = await client.get(PRODUCTS, params={"fabric": "silk"})
    assert response.headers["x-cache"] == "MISS"


async def test_cached_decorator_ttl_only(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    """A route cached with a TTL and no namespace; the entry expires."""
    calls = 0

    @cached(ttl=1)
    async def report() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"calls": calls}

    async with middleware_app(database, azurite, own_redis) as (app, client):
        app.add_api_route("/report", report)
        first = await client.get("/report")
        second = await client.get("/report")
        await asyncio.sleep(1.1)
        expired = await client.get("/report")
    assert [first.headers["x-cache"], second.headers["x-cache"]] == ["MISS", "HIT"]
    assert second.json() == {"calls": 1}
    assert expired.headers["x-cache"] == "MISS"
    assert expired.json() == {"calls": 2}
