"""Redis stops in the middle of a test: cached and rate-limited routes keep
answering without a 5xx, the probes tell the truth, and caching and shared
counting resume once Redis is back."""

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import bearer, login, middleware_app, register
from tests.servers import LocalServer, redis_server

PRODUCTS = "/api/v1/products"
ME = "/api/v1/users/me"

pytestmark = pytest.mark.usefixtures("catalogue")


async def until_cached(client: httpx.AsyncClient, url: str, **kwargs: object) -> None:
    """Wait for the cache to work again, after the retry interval."""
    for _ in range(50):
        await client.get(url, **kwargs)  # type: ignore[arg-type]
        response = await client.get(url, **kwargs)  # type: ignore[arg-type]
        if response.headers["x-cache"] == "HIT":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} is not served from the cache after Redis restarted")


def assert_no_server_error(responses: list[httpx.Response]) -> None:
    for response in responses:
        assert response.status_code < 500, (response.request.url, response.text)


async def test_redis_outage_degrades_and_recovers(
    database: str, azurite: LocalServer
) -> None:
    redis = redis_server().start()
    try:
        async with middleware_app(
            database, azurite, redis, rate_limit_login="3/minute"
        ) as (_, client):
            email = await register(client)
            headers = bearer(await login(client, email))
            await until_cached(client, PRODUCTS)
            await until_cached(client, ME, headers=headers)

            redis.stop()
            during = []
            for _ in range(3):
                during.append(await client.get(PRODUCTS))
                during.append(await client.get(ME, headers=headers))
                during.append(
                    await client.post("/api/v1/voice/command", json={"text": "hi"})
                )
            logins = [
                await client.post(
                    "/api/v1/auth/login",
                    data={"username": email, "password": "wrong password"},
                )
                for _ in range(5)
            ]
            health = await client.get("/health")
            ready = await client.get("/health/ready")

            assert_no_server_error(during + logins)
            assert {r.status_code for r in during} == {200}
            assert {r.headers.get("x-cache") for r in during[:2]} == {"MISS"}
            # Counted in memory meanwhile, from zero: the limit still holds.
            assert [r.status_code for r in logins] == [401, 401, 401, 429, 429]
            assert health.status_code == 200
            assert ready.status_code == 200
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["redis"]["status"] == "down"

            redis.start()
            await until_cached(client, PRODUCTS)
            await until_cached(client, ME, headers=headers)
            ready = await client.get("/health/ready")
            assert ready.json()["checks"]["redis"]["status"] == "up"

            probe = Redis(host="127.0.0.1", port=redis.port)
            try:
                keys = [k async for k in probe.scan_iter(match="pravis:ratelimit:*")]
            finally:
                await probe.aclose()
            assert keys, "rate limits are counted in Redis again"
    finally:
        redis.stop()


async def test_redis_outage_write_flushes_cache(
    database: str, azurite: LocalServer
) -> None:
    """A change made while Redis is down is not hidden by older entries
    once Redis returns with its data."""
    redis = redis_server().start()
    paused = False
    try:
        async with middleware_app(database, azurite, redis) as (app, client):
            email = await register(client)
            headers = bearer(await login(client, email))
            await until_cached(client, ME, headers=headers)

            # Keep the data: pause Redis instead of stopping it.
            assert redis.process is not None
            redis.process.send_signal(19)  # SIGSTOP
            paused = True
            changed = await client.patch(
                ME, json={"full_name": "Changed During Outage"}, headers=headers
            )
            assert changed.status_code == 200
            redis.process.send_signal(18)  # SIGCONT
            paused = False

            await asyncio.sleep(app.state.settings.redis_retry_seconds + 0.1)
            response = await client.get(ME, headers=headers)
            assert response.status_code == 200
            assert response.json()["full_name"] == "Changed During Outage"
    finally:
        if paused and redis.process is not None:
            redis.process.send_signal(18)
        redis.stop()
