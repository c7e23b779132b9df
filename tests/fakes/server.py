"""Serve a fake provider with uvicorn in a thread, and script its answers.

The fakes listen on a spare loopback port, so the API's real HTTP client,
timeouts and retries are exercised. Tests script the next answers (an
error status, a delay) through FakeControl and read the requests it kept.
"""

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from tests.servers import free_port


@dataclass(frozen=True, slots=True)
class Scripted:
    """What the fake does with one request: wait, then answer `status`
    (or handle the request normally when `status` is None)."""

    status: int | None = None
    delay_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    # What the fake understood of the body (SSML text, form fields, JSON).
    parsed: Any = None


@dataclass(slots=True)
class FakeControl:
    """The fake's key, its scripted answers and the requests it received."""

    key: str
    requests: list[RecordedRequest] = field(default_factory=list)
    script: deque[Scripted] = field(default_factory=deque)
    # Scenario data for successful answers, set by tests.
    options: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.requests.clear()
        self.script.clear()
        self.options.clear()

    def answer_next(
        self,
        status: int | None = None,
        *,
        times: int = 1,
        delay_seconds: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        for _ in range(times):
            self.script.append(Scripted(status, delay_seconds, headers or {}))

    async def record(self, request: Request) -> tuple[RecordedRequest, Scripted]:
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={key.lower(): value for key, value in request.headers.items()},
            body=await request.body(),
        )
        self.requests.append(recorded)
        scripted = self.script.popleft() if self.script else Scripted()
        if scripted.delay_seconds:
            await asyncio.sleep(scripted.delay_seconds)
        return recorded, scripted


def scripted_response(scripted: Scripted) -> Response | None:
    if scripted.status is None:
        return None
    return Response(
        b'{"error": {"message": "scripted failure"}}',
        status_code=scripted.status,
        media_type="application/json",
        headers=scripted.headers,
    )


class FakeServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: ASGIApp, control: FakeControl) -> None:
        self.control = control
        self.port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake server on {self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
