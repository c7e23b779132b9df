"""Token revocation while Redis, which stores the access token deny-list, is
down. Access tokens fail open and refresh fails closed. Logout revokes the
refresh tokens in PostgreSQL and reports that the rest failed. No request
gets a 500."""

from typing import Any

import httpx

from tests.conftest import bearer, login, register, running_app
from tests.servers import LocalServer, azurite_connection_string, redis_server

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


async def refresh(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})


async def test_auth_with_redis_down(database: str, azurite: LocalServer) -> None:
    redis = redis_server().start()
    try:
        async with running_app(
            database_url=database,
            redis_url=f"redis://127.0.0.1:{redis.port}/0",
            azure_storage_connection_string=azurite_connection_string(azurite.port),
        ) as (_, client):
            email = await register(client)
            still_valid = await login(client, email)
            logged_out = await login(client, email)
            redis.stop()

            # Access tokens fail open: signature, expiry, account and token
            # version are still checked in PostgreSQL.
            response = await client.get(ME, headers=bearer(still_valid))
            assert response.status_code == 200

            # Refresh fails closed, and leaves the refresh token unused.
            response = await refresh(client, still_valid)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "Redis" in response.json()["detail"]

            # Logout revokes the refresh token, and its 503 reports that the
            # access token was not revoked.
            response = await client.post(LOGOUT, headers=bearer(logged_out))
            assert response.status_code == 503
            assert "refresh token is revoked" in response.json()["detail"]

            # Login needs no Redis.
            assert (await login(client, email))["access_token"]

            # A password change revokes older tokens through PostgreSQL alone.
            other_email = await register(client)
            other = await login(client, other_email)
            other_device = await login(client, other_email)
            response = await client.put(
                "/api/v1/users/me/password",
                json={
                    "current_password": "correct horse 42",
                    "new_password": "a brand new secret 7",
                },
                headers=bearer(other),
            )
            assert response.status_code == 200
            new_tokens = response.json()
            assert (await client.get(ME, headers=bearer(other))).status_code == 401
            response = await client.get(ME, headers=bearer(other_device))
            assert response.status_code == 401
            response = await client.get(ME, headers=bearer(new_tokens))
            assert response.status_code == 200

            redis.start()
            assert (await refresh(client, logged_out)).status_code == 401
            assert (await refresh(client, still_valid)).status_code == 200
            # A retried logout completes once Redis is back.
            response = await client.post(LOGOUT, headers=bearer(logged_out))
            assert response.status_code == 204
            assert (await client.get(ME, headers=bearer(logged_out))).status_code == 401
    finally:
        redis.stop()
