"""The voice query end to end: a real recording in, a stored interaction and
recording out; and bad input that leaves nothing behind."""

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.api.uploads import ASSISTANT_UPLOADS
from pravis_api.core.config import Settings
from pravis_api.models.voice_interaction import VoiceInteraction
from tests.conftest import DATA, client_for, register_and_login
from tests.helpers import blob_names, download_blob, noise_wav

QUERY = "/api/v1/voice/query"
GOFORWARD_WAV = (DATA / "goforward.wav").read_bytes()
GOFORWARD_WEBM = (DATA / "goforward.webm").read_bytes()


async def interactions_for(
    session: AsyncSession, session_id: str
) -> list[VoiceInteraction]:
    statement = select(VoiceInteraction).where(
        VoiceInteraction.session_id == session_id
    )
    return list((await session.exec(statement)).all())


async def post_audio(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    filename: str = "clip.wav",
    content_type: str = "audio/wav",
    **form: str,
) -> httpx.Response:
    return await client.post(
        QUERY, files={"audio": (filename, data, content_type)}, data=form
    )


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "audio_format"),
    [
        (GOFORWARD_WAV, "goforward.wav", "audio/wav", "wav"),
        (GOFORWARD_WEBM, "goforward.webm", "audio/webm;codecs=opus", "webm"),
    ],
)
async def test_voice_query_real_recording(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    data: bytes,
    filename: str,
    content_type: str,
    audio_format: str,
) -> None:
    response = await post_audio(
        client,
        data,
        filename=filename,
        content_type=content_type,
        store_recording="true",
    )
    assert response.status_code == 200, response.text
    reply = response.json()

    assert "forward" in reply["transcript"].split()
    assert reply["intent"] == "fallback"
    assert reply["action"] is None
    assert reply["entities"] == {}
    assert reply["products"] == []
    assert reply["speech"] is None
    assert "another way" in reply["reply"]
    for stage in ("decode", "transcribe", "understand", "store_recording", "total"):
        assert reply["timings_ms"][stage] >= 0, stage

    rows = await interactions_for(db_session, reply["session_id"])
    assert len(rows) == 1
    row = rows[0]
    assert str(row.id) == reply["interaction_id"]
    assert row.transcript == reply["transcript"]
    assert row.intent == "fallback"
    assert row.reply == reply["reply"]
    assert row.action is None
    assert row.success is False
    assert row.user_id is None
    assert row.source == "audio"
    assert row.audio_format == audio_format
    assert row.audio_duration_s == pytest.approx(2.79, abs=0.1)
    assert row.stt_engine == "pocketsphinx"
    assert row.timings_ms == reply["timings_ms"]
    assert row.created_at.tzinfo is not None

    assert row.recording_blob is not None
    assert row.recording_blob.endswith(f"{row.id}.{audio_format}")
    assert await download_blob(settings, row.recording_blob) == data


async def test_voice_query_issues_and_keeps_session(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    first = (await post_audio(client, GOFORWARD_WAV)).json()
    session_id = first["session_id"]
    assert 8 <= len(session_id) <= 64

    second = await post_audio(client, GOFORWARD_WAV, session_id=session_id)
    assert second.status_code == 200
    assert second.json()["session_id"] == session_id
    assert len(await interactions_for(db_session, session_id)) == 2


async def test_voice_query_signed_in_user(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await register_and_login(client)
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    response = await client.post(
        QUERY,
        files={
            "audio": ("cards.wav", (DATA / "cards-001.wav").read_bytes(), "audio/wav")
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert "clubs" in reply["transcript"]
    assert reply["intent"] == "fallback"
    rows = await interactions_for(db_session, reply["session_id"])
    assert [str(row.user_id) for row in rows] == [me["id"]]


async def test_voice_query_invalid_token_unauthorized(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        QUERY,
        files={"audio": ("clip.wav", GOFORWARD_WAV, "audio/wav")},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401


async def test_voice_query_keeps_event_loop_free(app: FastAPI) -> None:
    """Transcription runs in worker processes: a ticker on the loop keeps ticking.

    The two requests run at once, so each needs a database session of its
    own: the rolled-back test session allows one operation at a time.
    """
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    async with client_for(app) as client:
        responses = await asyncio.gather(
            *(post_audio(client, GOFORWARD_WAV) for _ in range(2))
        )
    stop.set()
    await ticking

    assert [response.status_code for response in responses] == [200, 200]
    # Decoding 2.8 s of speech takes about 0.5 s of CPU; on the loop it
    # would show up as a gap at least that long.
    assert max(gaps) < 0.25


def _problem(
    response: httpx.Response, status: int, field: str | None = "audio"
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["request_id"] == response.headers["x-request-id"]
    assert problem["detail"]
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]]
    return problem


BAD_UPLOADS: dict[str, tuple[dict[str, Any], int, str]] = {
    "no file": ({"data": {}}, 422, "multipart/form-data"),
    "empty file": ({"files": {"audio": ("clip.wav", b"", "audio/wav")}}, 422, "empty"),
    "text file": (
        {"files": {"audio": ("notes.wav", b"show me red dresses\n" * 50, "audio/wav")}},
        415,
        "not in a supported audio format",
    ),
    "random bytes": (
        {
            "files": {
                "audio": ("clip.webm", random.Random(3).randbytes(4096), "audio/webm")
            }
        },
        415,
        "not in a supported audio format",
    ),
    "truncated wav header": (
        {"files": {"audio": ("clip.wav", GOFORWARD_WAV[:30], "audio/wav")}},
        422,
        "could not be decoded as audio",
    ),
    "playlist that opens a file": (
        {
            "files": {
                "audio": ("list.ogg", b"ffconcat version 1.0\nfile pyproject.toml\n")
            }
        },
        415,
        "not in a supported audio format",
    ),
    "session description that opens a socket": (
        {
            "files": {
                "audio": (
                    "stream.wav",
                    b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\n"
                    b"t=0 0\r\nm=audio 47654 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
                    "application/octet-stream",
                )
            }
        },
        415,
        "not in a supported audio format",
    ),
    "image": (
        {
            "files": {
                "audio": ("clip.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "audio/wav")
            }
        },
        415,
        "not in a supported audio format",
    ),
    "unsupported content type": (
        {"files": {"audio": ("clip.txt", GOFORWARD_WAV, "text/plain")}},
        415,
        "text/plain",
    ),
    "too long": (
        {"files": {"audio": ("long.wav", noise_wav(31), "audio/wav")}},
        422,
        "30 s",
    ),
    "over size limit": (
        {"files": {"audio": ("big.wav", bytes(10 * 1024 * 1024 + 1), "audio/wav")}},
        413,
        "10485760 bytes",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
async def test_voice_query_bad_input_leaves_nothing(
    client: httpx.AsyncClient, db_session: AsyncSession, settings: Settings, case: str
) -> None:
    request, status, detail_part = BAD_UPLOADS[case]
    session_id = f"bad-{uuid.uuid4().hex}"
    request = {**request, "data": {**request.get("data", {}), "session_id": session_id}}
    blobs_before = await blob_names(settings)

    response = await client.post(QUERY, **request)

    problem = _problem(response, status)
    assert detail_part in problem["detail"]
    assert "Traceback" not in response.text
    assert await interactions_for(db_session, session_id) == []
    assert await blob_names(settings) == blobs_before


async def test_voice_query_body_over_route_limit(client: httpx.AsyncClient) -> None:
    """A body far past the limit is cut off while streaming, in the same shape."""
    response = await post_audio(client, bytes(12 * 1024 * 1024))
    problem = _problem(response, 413, field=None)
    assert "too large" in problem["detail"]


async def test_voice_query_invalid_session_id(client: httpx.AsyncClient) -> None:
    response = await post_audio(client, GOFORWARD_WAV, session_id="bad id!")
    _problem(response, 422, field="session_id")


async def test_voice_query_audio_sent_as_text_field(client: httpx.AsyncClient) -> None:
    response = await client.post(QUERY, data={"audio": "not a file"})
    _problem(response, 422)


async def test_voice_query_full_gate_sheds_upload(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    gate = app.state.upload_gates[ASSISTANT_UPLOADS]
    gate.in_use = gate.limit
    try:
        response = await post_audio(client, GOFORWARD_WAV)
    finally:
        gate.in_use = 0

    problem = _problem(response, 503, field=None)
    assert response.headers["retry-after"] == "2"
    assert "busy" in problem["detail"]


async def test_voice_query_releases_gate(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    gate = app.state.upload_gates[ASSISTANT_UPLOADS]
    rejected = await post_audio(client, b"not audio at all")
    answered = await post_audio(client, GOFORWARD_WAV)
    assert rejected.status_code == 415
    assert answered.status_code == 200
    assert gate.in_use == 0
