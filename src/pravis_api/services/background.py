"""Background tasks of the API process, cancelled and awaited at shutdown."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], name: str
    ) -> asyncio.Task[Any]:
        if self.closed:
            coroutine.close()
            raise RuntimeError("the API is shutting down")
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "background.task_failed",
                extra={"task": task.get_name(), "error": repr(task.exception())},
            )

    async def wait(self) -> None:
        """Wait for the tasks running now (for tests and tools)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self, timeout_seconds: float) -> None:
        """Cancel every task and wait up to the timeout for them to finish;
        each marks its job failed as it stops."""
        self.closed = True
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout_seconds)
            if pending:
                logger.error(
                    "background.tasks_still_running",
                    extra={"tasks": [task.get_name() for task in pending]},
                )
