"""Automatic pipelining of the Redis commands on the request path.

Every request makes a rate limit check and, on a cached route, a cache
lookup. Sent one by one, each command costs a socket write, a read and
redis-py's per-command work on the event loop. That measured 40 to 75 us
of CPU per command with 50 commands in flight (bench/RESULTS.md), more
than the rest of a cached response. The batcher sends the
commands issued during one event loop iteration as one pipeline, so under
load many requests share a round trip. One request alone waits one loop
iteration longer than with a direct call.
"""

import asyncio
from typing import Any

from redis.asyncio import Redis


class RedisBatcher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def execute(self, *command: Any) -> Any:
        """Run one command (`"MGET", key, ...`) in the next pipeline.

        Raises what the command or the connection raised.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((command, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._send(batch))
        # Keep a reference until the task ends, as asyncio requires.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(
        self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]
    ) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for command, _ in batch:
                    pipe.execute_command(*command)
                results = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue  # the request was cancelled meanwhile
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def close(self) -> None:
        """Wait for the pipelines already sent."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
