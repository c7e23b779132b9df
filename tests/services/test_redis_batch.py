"""The Redis batcher: commands of one loop iteration share a pipeline."""

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError, ResponseError

from pravis_api.services.redis_batch import RedisBatcher
from tests.servers import redis_server


async def test_batch_shares_one_pipeline(redis: Redis) -> None:
    batcher = RedisBatcher(redis)
    pipelines = 0
    original = redis.pipeline

    def counting_pipeline(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal pipelines
        pipelines += 1
        return original(*args, **kwargs)

    redis.pipeline = counting_pipeline  # type: ignore[method-assign]
    results = await asyncio.gather(
        *(batcher.execute("INCR", "counter") for _ in range(20)),
        batcher.execute("MGET", "counter", "missing"),
    )
    await batcher.close()
    assert sorted(results[:20]) == list(range(1, 21))
    assert results[20] == [b"20", None]
    assert pipelines == 1


async def test_batch_command_error_stays_with_its_caller(redis: Redis) -> None:
    batcher = RedisBatcher(redis)
    await redis.set("text", "not a number")
    good, bad = await asyncio.gather(
        batcher.execute("INCR", "number"),
        batcher.execute("INCR", "text"),
        return_exceptions=True,
    )
    assert good == 1
    assert isinstance(bad, ResponseError)


async def test_batch_connection_error_raised() -> None:
    down = redis_server()  # never started: nothing listens on its port
    client = Redis(host="127.0.0.1", port=down.port, socket_connect_timeout=0.5)
    batcher = RedisBatcher(client)
    try:
        with pytest.raises(ConnectionError):
            await batcher.execute("GET", "anything")
    finally:
        await client.aclose()
