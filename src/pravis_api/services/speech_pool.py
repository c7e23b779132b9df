"""The pool of speech worker processes, with a bounded queue.

The pool accepts at most `workers + queue_limit` jobs at once. Past that it
raises ServiceUnavailableError at once (503 with Retry-After), so a burst
of uploads sheds load instead of queueing without bound. A worker that
dies breaks a ProcessPoolExecutor for good, so the pool replaces the
executor when that happens.
"""

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, TypeVar

from pravis_api.core.errors import ServiceUnavailableError
from pravis_api.services import speech_worker
from pravis_api.services.speech_worker import Transcription

logger = logging.getLogger(__name__)

T = TypeVar("T")

WorkerState = Literal["up", "down"]


class SpeechTimeoutError(Exception):
    pass


class SpeechWorkerPool:
    def __init__(
        self, *, workers: int, queue_limit: int, timeout_seconds: float
    ) -> None:
        self.workers = workers
        self.capacity = workers + queue_limit
        self.timeout_seconds = timeout_seconds
        self.in_flight = 0
        self._executor: ProcessPoolExecutor | None = None
        self._restarting: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def start(self) -> None:
        """Start every worker and wait until each has loaded its decoder."""
        started = time.perf_counter()
        self._loop = asyncio.get_running_loop()
        # spawn, not fork: forking a process that runs an event loop and
        # client threads can copy held locks into the child.
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=speech_worker.initialize,
            initargs=(context.Barrier(self.workers),),
        )
        # Python starts workers on demand, one per job that finds none idle,
        # so one ping per worker submitted together starts all of them. The
        # barrier blocks every job until all workers have loaded.
        pids = await asyncio.gather(
            *(
                self._loop.run_in_executor(self._executor, speech_worker.ping)
                for _ in range(self.workers)
            )
        )
        logger.info(
            "speech_pool.started",
            extra={
                "workers": self.workers,
                "pids": sorted(set(pids)),
                "duration_ms": round((time.perf_counter() - started) * 1000),
            },
        )

    async def close(self) -> None:
        self._closed = True
        if self._restarting is not None:
            await self._restarting
        if self._executor is not None:
            executor, self._executor = self._executor, None
            # Waits for running jobs, so requests in flight still get their reply.
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
            logger.info("speech_pool.stopped")

    def worker_pids(self) -> list[int]:
        # NOTE: ProcessPoolExecutor has no public view of its processes;
        # `_processes` has existed since Python 3.2 and is read-only here.
        processes = getattr(self._executor, "_processes", None) or {}
        return [pid for pid, process in processes.items() if process.is_alive()]

    def state(self) -> WorkerState:
        """Report whether workers are alive; start a restart if the pool broke."""
        executor = self._executor
        broken = executor is not None and bool(getattr(executor, "_broken", False))
        if broken or (executor is None and not self._closed):
            self._schedule_restart()
            return "down"
        return "up" if executor is not None and self.worker_pids() else "down"

    async def transcribe(self, data: bytes, *, max_seconds: float) -> Transcription:
        return await self._run(speech_worker.transcribe_recording, data, max_seconds)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self.in_flight >= self.capacity:
            raise ServiceUnavailableError(
                f"All {self.workers} speech workers are busy and "
                f"{self.capacity - self.workers} requests are waiting. Retry shortly.",
                retry_after_seconds=2,
            )
        executor = self._executor
        if executor is None:
            raise _workers_unavailable()

        try:
            future: Future[T] = executor.submit(function, *args)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._on_broken(exc)
            raise _workers_unavailable() from exc

        # The slot is released when the job really ends, not when the caller
        # gives up, so timed-out jobs still count against the bound.
        self.in_flight += 1
        future.add_done_callback(self._release_slot)
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(future), timeout=self.timeout_seconds
            )
        except TimeoutError as exc:
            raise SpeechTimeoutError from exc
        except BrokenProcessPool as exc:
            self._on_broken(exc)
            raise _workers_unavailable() from exc

    def _release_slot(self, _future: Future[Any]) -> None:
        # Done callbacks run in the executor's management thread.
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._decrement)
        except RuntimeError:
            pass  # The loop closed at shutdown, so the count is no longer read.

    def _decrement(self) -> None:
        self.in_flight -= 1

    def _on_broken(self, exc: BaseException) -> None:
        logger.error("speech_pool.broken", extra={"error": repr(exc)})
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        if self._closed:
            return
        if self._restarting is None or self._restarting.done():
            self._restarting = asyncio.get_running_loop().create_task(self._restart())

    async def _restart(self) -> None:
        broken = self._executor
        self._executor = None
        if broken is not None:
            await asyncio.to_thread(broken.shutdown, wait=False, cancel_futures=True)
        logger.warning("speech_pool.restarting", extra={"workers": self.workers})
        try:
            await self.start()
        except Exception:
            # The next health check or request schedules another attempt.
            self._executor = None
            logger.exception("speech_pool.restart_failed")


def _workers_unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The speech workers are restarting. Retry in a few seconds.",
        retry_after_seconds=5,
    )
