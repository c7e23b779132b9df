"""Request body size limits that reject in the API's problem shape.

FastAPI's own `max_body_size` runs outside user middleware and rejects a
declared oversize body with a plain-text 413. This middleware rejects such
a request before reading it, and stops a body without Content-Length
(chunked) as soon as it passes the limit.
"""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pravis_api.api.errors import BODY_LIMIT_SCOPE_KEY, problem_response


class RequestBodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail="The request body is too large.")


class BodySizeLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, default_limit: int, limits_by_path: Mapping[str, int]
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits_by_path = dict(limits_by_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        limit = self.limits_by_path.get(_route_path(scope), self.default_limit)
        scope[BODY_LIMIT_SCOPE_KEY] = limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = problem_response(
                413,
                "payload-too-large",
                f"The request body is too large: {declared} bytes, and the "
                f"maximum for this route is {limit} bytes.",
            )
            await response(scope, receive, send)
            return

        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body parsing; the HTTPException
                    # handler turns it into the problem response.
                    raise RequestBodyTooLarge
            return message

        await self.app(scope, receive_with_limit, send)


def _route_path(scope: Scope) -> str:
    """Return the path as routes see it: without root_path or a trailing slash."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return path.rstrip("/") or "/"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
