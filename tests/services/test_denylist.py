"""The access token deny-list against a real Redis, and with Redis gone."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from pravis_api.models.base import utc_now
from pravis_api.services.denylist import DenylistUnavailableError, TokenDenylist
from pravis_api.services.redis_batch import RedisBatcher
from tests.servers import free_port


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1)
    yield client
    await client.aclose()


async def test_denylist_token_expires_with_token(redis: Redis) -> None:
    denylist = TokenDenylist(redis)
    jti, session_id = uuid.uuid4().hex, uuid.uuid4().hex
    await denylist.deny_token(jti, utc_now() + timedelta(seconds=60))
    try:
        assert await denylist.is_denied(jti, session_id) is True
        assert await denylist.is_denied(uuid.uuid4().hex, session_id) is False
        ttl = await redis.ttl(f"pravis:denylist:jti:{jti}")
        # The token's 60 s, plus the 10 s of clock skew tokens are accepted for.
        assert 65 <= ttl <= 71
    finally:
        await redis.delete(f"pravis:denylist:jti:{jti}")


async def test_denylist_session_covers_its_tokens(redis: Redis) -> None:
    denylist = TokenDenylist(redis)
    session_id = uuid.uuid4().hex
    await denylist.deny_session(session_id, utc_now() + timedelta(seconds=60))
    try:
        assert await denylist.is_denied(uuid.uuid4().hex, session_id) is True
        assert await denylist.is_denied(uuid.uuid4().hex, uuid.uuid4().hex) is False
    finally:
        await redis.delete(f"pravis:denylist:sid:{session_id}")


async def test_denylist_skips_expired_token(redis: Redis) -> None:
    denylist = TokenDenylist(redis)
    jti = uuid.uuid4().hex
    await denylist.deny_token(jti, utc_now() - timedelta(minutes=1))
    assert await redis.exists(f"pravis:denylist:jti:{jti}") == 0


async def test_denylist_outage_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1)
    denylist = TokenDenylist(client)
    try:
        with caplog.at_level(logging.WARNING, logger="pravis_api.services.denylist"):
            for _ in range(3):
                with pytest.raises(DenylistUnavailableError):
                    await denylist.is_denied("jti", "sid")
        with pytest.raises(DenylistUnavailableError):
            await denylist.deny_token("jti", utc_now() + timedelta(minutes=1))
    finally:
        await client.aclose()
    warnings = [
        record
        for record in caplog.records
        if record.getMessage() == "auth.denylist_unavailable"
    ]
    assert len(warnings) == 1
    assert getattr(warnings[0], "failures", None) == 1


async def test_denylist_batched_checks_match_direct(redis: Redis) -> None:
    denylist = TokenDenylist(redis)
    batcher = RedisBatcher(redis)
    denylist.attach(batcher)
    jti, session_id = uuid.uuid4().hex, uuid.uuid4().hex
    await denylist.deny_token(jti, utc_now() + timedelta(seconds=60))
    await denylist.deny_session(session_id, utc_now() + timedelta(seconds=60))
    try:
        # Checked together, so they share pipelines.
        results = await asyncio.gather(
            denylist.is_denied(jti, uuid.uuid4().hex),
            denylist.is_denied(uuid.uuid4().hex, session_id),
            denylist.is_denied(uuid.uuid4().hex, uuid.uuid4().hex),
        )
        assert results == [True, True, False]
    finally:
        await batcher.close()
        await redis.delete(
            f"pravis:denylist:jti:{jti}", f"pravis:denylist:sid:{session_id}"
        )


async def test_denylist_batched_outage_raises() -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1)
    denylist = TokenDenylist(client)
    batcher = RedisBatcher(client)
    denylist.attach(batcher)
    try:
        with pytest.raises(DenylistUnavailableError):
            await denylist.is_denied("jti", "sid")
    finally:
        await batcher.close()
        await client.aclose()
