"""Request id, one log line per request, and the last-resort 500."""

import asyncio
import logging
import re
import time
import uuid

from opentelemetry import trace
from opentelemetry.trace import StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pravis_api.api.errors import internal_error_response, server_stopping_response
from pravis_api.core.logging import request_id_var

logger = logging.getLogger("pravis_api.request")

REQUEST_ID_HEADER = b"x-request-id"
# Ids from clients are echoed into headers and logs, so only a safe shape
# is accepted; anything else is replaced by a fresh id.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


class RequestLoggingMiddleware:
    """Sets the request id and writes one log line per request.

    Pure ASGI middleware, so streaming bodies and lifespan pass through. The
    id comes from a valid `X-Request-ID` header or is made here. It is sent
    back in `X-Request-ID` and is on every log line written while the
    request is handled. The request's line has method, path, status,
    duration, the user id once a route or the cache has verified the token,
    and the cache result of cached routes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        request_id_bytes = request_id.encode("latin-1")
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # The server span, when tracing is on; routes add attributes to it.
        state["server_span"] = trace.get_current_span()
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = message.get("headers", [])
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id_bytes)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            # The request's server span, when tracing is on, keeps the error.
            span = trace.get_current_span()
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, exc.__class__.__name__)
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
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": state.get("user_id"),
            }
            if "cache" in state:
                fields["cache"] = state["cache"]
            if "rate_limited" in state:
                fields["rate_limited"] = state["rate_limited"]
            logger.info("request.completed", extra=fields)
            request_id_var.reset(token)
