import asyncio
from collections.abc import AsyncIterator

import pytest

from pravis_api.core.errors import ServiceUnavailableError
from pravis_api.services.speech_pool import SpeechTimeoutError, SpeechWorkerPool
from tests.conftest import DATA

RECORDING = (DATA / "goforward.wav").read_bytes()


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
        with pytest.raises(SpeechTimeoutError):
            await pool.transcribe(RECORDING, max_seconds=30)
        assert pool.in_flight == 1
        with pytest.raises(ServiceUnavailableError):
            await pool.transcribe(RECORDING, max_seconds=30)
    finally:
        await pool.close()
    assert pool.in_flight == 0


async def test_pool_reports_audio_errors(pool: SpeechWorkerPool) -> None:
    result = await pool.transcribe(b"definitely not audio" * 20, max_seconds=30)
    assert result.error_code == "undecodable"
    assert result.transcript == ""
