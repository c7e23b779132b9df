import asyncio
import io
import logging
import os
import signal
import sys
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pravis_api.core.errors import ServiceUnavailableError
from pravis_api.services.speech_pool import SpeechJobTimeoutError, SpeechWorkerPool
from pravis_api.services.speech_worker import PARENT_CHECK_SECONDS
from tests.conftest import DATA

RECORDING = (DATA / "goforward.wav").read_bytes()


def repeated_recording(times: int) -> bytes:
    """Return the recording repeated `times` times, for a job that takes seconds."""
    with wave.open(str(DATA / "goforward.wav"), "rb") as reader:
        params = reader.getparams()
        frames = reader.readframes(reader.getnframes())
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames * times)
    return buffer.getvalue()


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
async def pool() -> AsyncIterator[SpeechWorkerPool]:
    pool = SpeechWorkerPool(workers=1, queue_limit=1, timeout_seconds=30)
    await pool.start()
    yield pool
    await pool.close()


async def test_pool_transcribes(pool: SpeechWorkerPool) -> None:
    result = await pool.transcribe(RECORDING, max_seconds=30)
    assert result.error_code is None
    assert result.transcript == "go forward ten meters"
    assert pool.in_flight == 0


async def test_pool_sheds_load_when_full(pool: SpeechWorkerPool) -> None:
    running = [
        asyncio.create_task(pool.transcribe(RECORDING, max_seconds=30))
        for _ in range(2)
    ]
    await asyncio.sleep(0)
    assert pool.in_flight == 2

    with pytest.raises(ServiceUnavailableError) as error:
        await pool.transcribe(RECORDING, max_seconds=30)
    assert error.value.status == 503
    assert error.value.headers["Retry-After"] == "2"

    results = await asyncio.gather(*running)
    assert all(result.transcript for result in results)
    await asyncio.sleep(0.05)  # slots are released on the loop, after the job
    assert pool.in_flight == 0


async def test_pool_timeout_keeps_slot_until_job_ends() -> None:
    pool = SpeechWorkerPool(workers=1, queue_limit=0, timeout_seconds=0.05)
    await pool.start()
    try:
        with pytest.raises(SpeechJobTimeoutError):
            await pool.transcribe(RECORDING, max_seconds=30)
        assert pool.in_flight == 1
        with pytest.raises(ServiceUnavailableError):
            await pool.transcribe(RECORDING, max_seconds=30)
    finally:
        await pool.close()
    assert pool.in_flight == 0


async def test_pool_reports_audio_errors(pool: SpeechWorkerPool) -> None:
    result = await pool.transcribe(b"definitely not audio" * 20, max_seconds=30)
    assert result.error_code == "unsupported-format"
    assert result.transcript == ""


async def test_pool_close_fails_queued_jobs_cleanly() -> None:
    pool = SpeechWorkerPool(workers=1, queue_limit=2, timeout_seconds=30)
    await pool.start()
    jobs = [
        asyncio.create_task(pool.transcribe(RECORDING, max_seconds=30))
        for _ in range(3)
    ]
    await asyncio.sleep(0.1)
    await pool.close()
    results = await asyncio.gather(*jobs, return_exceptions=True)

    finished = [result for result in results if not isinstance(result, BaseException)]
    refused = [
        result for result in results if isinstance(result, ServiceUnavailableError)
    ]
    assert len(finished) >= 1
    assert len(finished) + len(refused) == 3
    assert pool.state() == "down"


async def test_pool_restarts_once_after_worker_dies(
    pool: SpeechWorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pravis_api.services.speech_pool")
    jobs = [
        asyncio.create_task(pool.transcribe(RECORDING, max_seconds=30))
        for _ in range(2)
    ]
    await asyncio.sleep(0.1)
    for pid in pool.worker_pids():
        os.kill(pid, signal.SIGKILL)
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert all(isinstance(result, ServiceUnavailableError) for result in results)

    deadline = time.monotonic() + 30
    while pool.state() != "up" and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    assert pool.state() == "up"
    result = await pool.transcribe(RECORDING, max_seconds=30)
    assert result.transcript == "go forward ten meters"

    events = [record.getMessage() for record in caplog.records]
    assert events.count("speech_pool.broken") == 1
    assert events.count("speech_pool.restarting") == 1


async def test_pool_close_waits_for_running_job() -> None:
    pool = SpeechWorkerPool(workers=1, queue_limit=0, timeout_seconds=30)
    await pool.start()
    job = asyncio.create_task(pool.transcribe(RECORDING, max_seconds=30))
    await asyncio.sleep(0.1)
    await pool.close(drain_timeout_seconds=30)

    result = await job
    assert result.transcript == "go forward ten meters"
    assert pool.worker_pids() == []


async def test_pool_close_kills_jobs_past_drain_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pravis_api.services.speech_pool")
    pool = SpeechWorkerPool(workers=1, queue_limit=0, timeout_seconds=60)
    await pool.start()
    pids = pool.worker_pids()
    # 28 s of speech, which takes seconds to transcribe.
    job = asyncio.create_task(pool.transcribe(repeated_recording(10), max_seconds=60))
    await asyncio.sleep(0.3)

    started = time.monotonic()
    await pool.close(drain_timeout_seconds=0.2)
    assert time.monotonic() - started < 3

    with pytest.raises(ServiceUnavailableError):
        await job
    assert pids
    assert not any(process_exists(pid) for pid in pids)
    events = [record.getMessage() for record in caplog.records]
    assert "speech_pool.drain_timed_out" in events
    assert "speech_pool.stopped" in events


_POOL_IN_CHILD = """
import asyncio, pathlib, sys
from pravis_api.services.speech_pool import SpeechWorkerPool

async def main():
    pool = SpeechWorkerPool(workers=2, queue_limit=0, timeout_seconds=30)
    await pool.start()
    pathlib.Path(sys.argv[1]).write_text(" ".join(map(str, pool.worker_pids())))
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_workers_exit_when_the_api_process_is_killed(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    # No pipes: orphaned workers would hold them open, and wait() with them.
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _POOL_IN_CHILD, str(pids_file)
    )
    try:
        for _ in range(600):
            if pids_file.exists() and pids_file.read_text():
                break
            await asyncio.sleep(0.1)
        workers = [int(pid) for pid in pids_file.read_text().split()]
        assert len(workers) == 2
        assert all(process_exists(pid) for pid in workers)
    finally:
        parent.kill()
        await parent.wait()

    # Each worker notices within one check interval; allow ten.
    for _ in range(round(10 * PARENT_CHECK_SECONDS / 0.1)):
        if not any(process_exists(pid) for pid in workers):
            break
        await asyncio.sleep(0.1)
    alive = [pid for pid in workers if process_exists(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive
