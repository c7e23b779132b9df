"""Request id, one log line per request, and the last-resort 500."""

import asyncio
import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pravis_api.api.errors import internal_error_response, server_stopping_response
from pravis_api.core.logging import request_id_var

logger = logging.getLogger("pravis_api.request")

REQUEST_ID_HEADER = "x-request-id"
# Ids from clients are echoed into headers and logs, so only a safe shape
# is accepted; anything else is replaced by a fresh id.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


class RequestContextMiddleware:
    """Pure ASGI middleware, so streaming bodies and lifespan pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            if response_started:
                # Too late for an error response; the server drops the connection.
                raise
            logger.exception(
                "request.unhandled_error",
                extra={"method": scope["method"], "path": scope["path"]},
            )
            await internal_error_response()(scope, receive, send_with_request_id)
        except asyncio.CancelledError:
            # uvicorn cancels a request only when its graceful shutdown
            # period ends. The route has unwound by now, so the client gets
            # a 503 it can retry instead of uvicorn's plain-text 500.
            if response_started:
                raise
            logger.warning(
                "request.cancelled_at_shutdown",
                extra={"method": scope["method"], "path": scope["path"]},
            )
            await server_stopping_response()(scope, receive, send_with_request_id)
        finally:
            logger.info(
                "request.completed",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": scope["state"].get("user_id"),
                },
            )
            request_id_var.reset(token)
