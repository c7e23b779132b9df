"""The pool of speech worker processes, with a bounded queue.

The pool accepts at most `workers + queue_limit` jobs at once. Past that it
raises ServiceUnavailableError at once (503 with Retry-After), so a burst
of uploads sheds load instead of queueing without bound. A worker that
dies breaks a ProcessPoolExecutor for good, so the pool replaces the
executor when that happens, backing off while replacements keep failing.
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
from pravis_api.services.speech.language_model import CatalogueVocabulary, ModelFiles
from pravis_api.services.speech_worker import DecodedRecording, Role, Transcription

logger = logging.getLogger(__name__)

T = TypeVar("T")

WorkerState = Literal["up", "down"]

MAX_RESTART_DELAY_SECONDS = 30.0
MODEL_BUILD_TIMEOUT_SECONDS = 120.0


class SpeechJobTimeoutError(Exception):
    """A job did not finish within the pool's timeout, queue wait included."""


class SpeechWorkerPool:
    def __init__(
        self,
        *,
        workers: int,
        queue_limit: int,
        timeout_seconds: float,
        role: Role = "assistant",
    ) -> None:
        self.role = role
        self.workers = workers
        self.capacity = workers + queue_limit
        self.timeout_seconds = timeout_seconds
        self.in_flight = 0
        self._executor: ProcessPoolExecutor | None = None
        self._ready = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._restarting: asyncio.Task[None] | None = None
        self._failed_restarts = 0

    async def start(self) -> None:
        """Start every worker and wait until each has loaded its decoder."""
        started = time.perf_counter()
        self._loop = asyncio.get_running_loop()
        # spawn, not fork: forking a process that runs an event loop and
        # client threads can copy held locks into the child.
        context = multiprocessing.get_context("spawn")
        executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=speech_worker.initialize,
            initargs=(self.role, context.Barrier(self.workers)),
        )
        self._executor = executor
        self._ready = False
        # Python starts workers on demand, one per job that finds none idle,
        # so one ping per worker submitted together starts all of them. The
        # barrier blocks every job until all workers have loaded.
        try:
            pids = await asyncio.gather(
                *(
                    self._loop.run_in_executor(executor, speech_worker.ping)
                    for _ in range(self.workers)
                )
            )
        except BaseException:
            self._executor = None
            await asyncio.to_thread(executor.shutdown, wait=False, cancel_futures=True)
            raise
        self._ready = True
        logger.info(
            "speech_pool.started",
            extra={
                "role": self.role,
                "workers": self.workers,
                "pids": sorted(set(pids)),
                "duration_ms": round((time.perf_counter() - started) * 1000),
            },
        )

    async def close(self, drain_timeout_seconds: float | None = None) -> None:
        """Stop the workers after the jobs already running have finished.

        Jobs still waiting in the queue are cancelled, and their callers
        get ServiceUnavailableError. With a drain timeout, workers still
        running a job after that many seconds are killed, and those callers
        get ServiceUnavailableError too.
        """
        self._closed = True
        if self._restarting is not None:
            self._restarting.cancel()
            await asyncio.gather(self._restarting, return_exceptions=True)
        if self._executor is None:
            return

        executor, self._executor = self._executor, None
        # shutdown() drops its references to the processes, so copy them first.
        processes = _worker_processes(executor)
        stopping = asyncio.ensure_future(
            asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        )
        try:
            await asyncio.wait_for(asyncio.shield(stopping), drain_timeout_seconds)
        except TimeoutError:
            busy = [process.pid for process in processes if process.is_alive()]
            logger.warning(
                "speech_pool.drain_timed_out",
                extra={"timeout_seconds": drain_timeout_seconds, "killed_pids": busy},
            )
            for process in processes:
                process.kill()
            # The executor's management thread detects the dead workers, fails
            # their jobs with BrokenProcessPool and lets shutdown() return.
            await stopping
        logger.info("speech_pool.stopped")

    def worker_pids(self) -> list[int]:
        return [
            process.pid
            for process in _worker_processes(self._executor)
            if process.is_alive() and process.pid is not None
        ]

    def state(self) -> WorkerState:
        """Report whether warm workers are alive; start a restart if the pool broke."""
        executor = self._executor
        if executor is not None and getattr(executor, "_broken", False):
            self._on_broken(executor, "worker process died")
            return "down"
        if executor is None:
            if not self._closed:
                self._schedule_restart()
            return "down"
        return "up" if self._ready and self.worker_pids() else "down"

    async def transcribe(
        self, data: bytes, *, max_seconds: float, model: ModelFiles | None = None
    ) -> Transcription:
        """Transcribe with the given model, or the general model when None."""
        return await self._run(
            speech_worker.transcribe_recording, data, max_seconds, model
        )

    async def decode(self, data: bytes, *, max_seconds: float) -> DecodedRecording:
        """Decode an upload to 16 kHz mono WAV, for a cloud speech recogniser."""
        return await self._run(speech_worker.decode_recording, data, max_seconds)

    async def synthesize(
        self, text: str, *, voice: str, words_per_minute: int, audio_format: str
    ) -> bytes:
        return await self._run(
            speech_worker.synthesize, text, voice, words_per_minute, audio_format
        )

    async def build_language_model(
        self, vocabulary: CatalogueVocabulary, directory: str
    ) -> ModelFiles:
        # A build takes about a second, longer than a short job timeout.
        return await self._run(
            speech_worker.build_language_model,
            vocabulary,
            directory,
            timeout_seconds=max(self.timeout_seconds, MODEL_BUILD_TIMEOUT_SECONDS),
        )

    async def _run(
        self,
        function: Callable[..., T],
        *args: Any,
        timeout_seconds: float | None = None,
    ) -> T:
        if self.in_flight >= self.capacity:
            raise ServiceUnavailableError(
                f"All {self.workers} speech workers are busy and "
                f"{self.capacity - self.workers} requests are waiting. Retry shortly.",
                retry_after_seconds=2,
            )
        executor = self._executor
        if executor is None or self._closed:
            raise _workers_unavailable()

        try:
            future: Future[T] = executor.submit(function, *args)
        except BrokenProcessPool as exc:
            self._on_broken(executor, repr(exc))
            raise _workers_unavailable() from exc
        except RuntimeError as exc:  # the executor is shutting down
            raise _workers_unavailable() from exc

        # The slot is released when the job really ends, not when the caller
        # gives up, so timed-out jobs still count against the bound.
        self.in_flight += 1
        future.add_done_callback(self._release_slot)
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(future),
                timeout=timeout_seconds or self.timeout_seconds,
            )
        except TimeoutError as exc:
            raise SpeechJobTimeoutError from exc
        except BrokenProcessPool as exc:
            self._on_broken(executor, repr(exc))
            raise _workers_unavailable() from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if future.cancelled() and task is not None and not task.cancelling():
                # close() cancelled the queued job, not our caller.
                raise _workers_unavailable() from None
            raise

    def _release_slot(self, _future: Future[Any]) -> None:
        # Runs in the executor's management thread, or on the loop when the
        # job is cancelled, so the counter is changed on the loop either way.
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._decrement)
        except RuntimeError:
            pass  # The loop closed at shutdown, so the count is no longer read.

    def _decrement(self) -> None:
        self.in_flight -= 1

    def _on_broken(self, executor: ProcessPoolExecutor, reason: str) -> None:
        # Every caller of a broken executor reports it; only the first report
        # for the current executor restarts the pool.
        if executor is not self._executor or self._closed:
            return
        self._executor = None
        self._ready = False
        logger.error("speech_pool.broken", extra={"reason": reason})
        executor.shutdown(wait=False, cancel_futures=True)
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        if self._closed or (
            self._restarting is not None and not self._restarting.done()
        ):
            return
        self._restarting = asyncio.get_running_loop().create_task(self._restart())

    async def _restart(self) -> None:
        if self._failed_restarts:
            delay = min(MAX_RESTART_DELAY_SECONDS, 2.0**self._failed_restarts)
            await asyncio.sleep(delay)
        if self._closed:
            return
        logger.warning(
            "speech_pool.restarting",
            extra={"workers": self.workers, "failed_restarts": self._failed_restarts},
        )
        try:
            await self.start()
        except Exception:
            self._failed_restarts += 1
            logger.exception(
                "speech_pool.restart_failed",
                extra={"failed_restarts": self._failed_restarts},
            )
        else:
            self._failed_restarts = 0


def _worker_processes(
    executor: ProcessPoolExecutor | None,
) -> list[multiprocessing.process.BaseProcess]:
    # NOTE: ProcessPoolExecutor has no public view of its processes before
    # Python 3.14; `_processes` has existed since Python 3.2.
    processes = getattr(executor, "_processes", None) or {}
    return list(processes.values())


def _workers_unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The speech workers are restarting. Retry in a few seconds.",
        retry_after_seconds=5,
    )
