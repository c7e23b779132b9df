"""Each API process's own copy of shared entries, kept current by pub/sub."""

import asyncio
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from pravis_api.services.local_cache import LocalCache
from pravis_api.services.response_cache import CachedResponse
from tests.conftest import bearer, login, middleware_app, promote_to_admin, register
from tests.servers import LocalServer, redis_server

PRODUCTS = "/api/v1/products"

pytestmark = pytest.mark.usefixtures("catalogue")


def count_entry_reads(app: FastAPI) -> list[int]:
    """Count the MGETs (cache reads from Redis) the app sends from now on."""
    batcher = app.state.response_cache._batcher
    original = batcher.execute
    reads = [0]

    async def counting(*command: Any) -> Any:
        if command[0] == "MGET":
            reads[0] += 1
        return await original(*command)

    batcher.execute = counting
    return reads


async def until_subscribed(app: FastAPI) -> None:
    for _ in range(100):
        if app.state.response_cache.local.subscribed:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the cache did not subscribe to invalidations")


async def test_local_hit_needs_no_redis_read(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    async with middleware_app(database, azurite, own_redis) as (app, client):
        await until_subscribed(app)
        first = await client.get(PRODUCTS, params={"category": "stoles"})
        reads = count_entry_reads(app)
        hits = [
            await client.get(PRODUCTS, params={"category": "stoles"}) for _ in range(5)
        ]
    assert first.headers["x-cache"] == "MISS"
    assert {r.headers["x-cache"] for r in hits} == {"HIT"}
    assert {r.content for r in hits} == {first.content}
    assert reads[0] == 0


async def test_local_copy_invalidated_across_processes(
    database: str, azurite: LocalServer, own_redis: LocalServer, redis: Redis
) -> None:
    """A write in one process reaches the other process's copy."""
    async with (
        middleware_app(database, azurite, own_redis) as (writer, writer_client),
        middleware_app(database, azurite, own_redis) as (reader, reader_client),
    ):
        await until_subscribed(writer)
        await until_subscribed(reader)
        email = await register(
            writer_client, f"admin-{uuid.uuid4().hex[:8]}@example.com"
        )
        await promote_to_admin(writer, email)
        admin = bearer(await login(writer_client, email))
        newest = {"category": "dupattas", "sort": "newest", "page_size": 1}
        await reader_client.get(PRODUCTS, params=newest)
        cached = await reader_client.get(PRODUCTS, params=newest)
        assert cached.headers["x-cache"] == "HIT"

        slug = f"local-copy-dupatta-{uuid.uuid4().hex[:8]}"
        created = await writer_client.post(
            PRODUCTS,
            json={
                "slug": slug,
                "name": "Local Copy Dupatta",
                "category": "dupattas",
                "price_minor": 2500,
                "currency": "USD",
                "sizes": [{"size": "One Size", "stock": 1}],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        for _ in range(50):
            response = await reader_client.get(PRODUCTS, params=newest)
            if response.json()["items"][0]["slug"] == slug:
                break
            await asyncio.sleep(0.02)
        assert response.json()["items"][0]["slug"] == slug
        assert response.headers["x-cache"] == "MISS"
        await writer_client.delete(f"{PRODUCTS}/{created.json()['id']}", headers=admin)


async def test_local_copy_dropped_when_redis_stops(
    database: str, azurite: LocalServer
) -> None:
    server = redis_server().start()
    try:
        async with middleware_app(database, azurite, server) as (app, client):
            await until_subscribed(app)
            await client.get(PRODUCTS, params={"category": "shoes"})
            hit = await client.get(PRODUCTS, params={"category": "shoes"})
            server.stop()
            during = await client.get(PRODUCTS, params={"category": "shoes"})
    finally:
        server.stop()
    assert hit.headers["x-cache"] == "HIT"
    assert during.status_code == 200
    assert during.headers["x-cache"] == "MISS"
    assert not app.state.response_cache.local.subscribed


def test_local_copy_bounded() -> None:
    local = LocalCache(max_entries=3, max_bytes=1000)
    local._handle({"type": "subscribe"})
    generation = local.current_generation()
    for number in range(5):
        entry = CachedResponse(200, [], b"x" * 100, (0,), 2e9)
        local.put(f"key-{number}", (0,), 2e9, entry, generation)
    assert local.get("key-0", (0,)) is None
    assert local.get("key-4", (0,)) is not None
    big = CachedResponse(200, [], b"x" * 2000, (0,), 2e9)
    local.put("big", (0,), 2e9, big, generation)
    assert local.get("big", (0,)) is None
    local.put("stale", (0,), 2e9, big, generation - 1)
    assert local.get("stale", (0,)) is None


def test_local_versions_only_grow() -> None:
    local = LocalCache()
    assert local.versions_of(["catalogue"]) is None
    local._handle({"type": "subscribe"})
    local._handle({"type": "message", "data": b"catalogue=5"})
    generation = local.current_generation()
    local.learn(["catalogue"], [3], generation)
    assert local.versions_of(["catalogue"]) == (5,)
    local.learn(["catalogue"], [7], generation - 1)
    assert local.versions_of(["catalogue"]) == (5,)
    local.learn(["catalogue"], [7], generation)
    assert local.versions_of(["catalogue"]) == (7,)
