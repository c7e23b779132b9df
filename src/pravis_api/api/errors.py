"""RFC 9457 problem documents: the one error shape of the API."""

import json
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pravis_api.core.errors import AppError, FieldError
from pravis_api.core.logging import request_id_var

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Scope key of the request's body size limit, set by the body limit middleware.
BODY_LIMIT_SCOPE_KEY = "pravis.max_body_size"


def problem_type(code: str) -> str:
    return f"urn:problem:pravis:{code}"


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id_var.get(),
    }
    if errors:
        body["errors"] = [error.as_dict() for error in errors]
    if extensions:
        body.update(extensions)
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def internal_error_response() -> Response:
    return problem_response(
        500,
        "internal-error",
        "The server failed to handle the request. Try again; if it keeps "
        "failing, report the request id.",
    )


async def _app_error(request: Request, exc: AppError) -> Response:
    if exc.status >= 500:
        logger.warning(
            "request.failed", extra={"status": exc.status, "error": exc.detail}
        )
    return problem_response(
        exc.status,
        exc.code,
        exc.detail,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


def _field_name(location: Sequence[Any]) -> str:
    # FastAPI prefixes the part of the request: body, query, path or header.
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [
        FieldError(_field_name(error.get("loc", ())), error.get("msg", "invalid"))
        for error in exc.errors()
    ]
    listed = "; ".join(f"{error.field}: {error.message}" for error in errors[:5])
    return problem_response(
        422,
        "validation-error",
        f"The request has invalid fields ({listed}). Correct them and retry.",
        title="Validation Error",
        errors=errors,
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    detail = str(exc.detail)
    if exc.status_code == 413:
        limit = request.scope.get(BODY_LIMIT_SCOPE_KEY)
        detail = "The request body is too large."
        if isinstance(limit, int):
            detail += f" The maximum for this route is {limit} bytes."
    elif exc.status_code == 404:
        detail = f"No route matches {request.url.path}. See /docs for the API."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
    return problem_response(exc.status_code, code, detail, headers=exc.headers)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    logger.error("database.unavailable", extra={"error": repr(exc)})
    return problem_response(
        503,
        "database-unavailable",
        "The database is unavailable. Retry in a few seconds.",
        headers={"Retry-After": "5"},
    )


async def _value_rejected_by_database(request: Request, exc: Exception) -> Response:
    # Input checks should catch these first; this is the safety net for a
    # value the database refuses (a NUL byte, an out-of-range number).
    logger.warning(
        "database.value_rejected", extra={"error": repr(exc.__cause__ or exc)}
    )
    return problem_response(
        422,
        "invalid-value",
        "A value in the request cannot be stored: it is out of range or "
        "contains characters such as NUL that are not allowed. Correct it and retry.",
    )


async def _connection_failed(request: Request, exc: Exception) -> Response:
    # asyncpg's connect errors (refused, unreachable, DNS) reach here as
    # plain OSError, because SQLAlchemy wraps only errors of the driver.
    logger.error("dependency.unreachable", extra={"error": repr(exc)})
    return problem_response(
        503,
        "dependency-unavailable",
        "A service the API depends on is unreachable. Retry in a few seconds.",
        headers={"Retry-After": "5"},
    )


def exception_handlers() -> dict[
    int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]
]:
    """Return the handlers that render errors as problem documents.

    Unexpected exceptions are turned into a 500 by the request context
    middleware, which also logs them with their traceback.
    """
    handlers: dict[
        int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]
    ] = {
        AppError: _app_error,
        RequestValidationError: _validation_error,
        StarletteHTTPException: _http_error,
    }
    # Connection failures, not query errors: the pool timed out or the
    # server could not be reached.
    for error_class in (OperationalError, InterfaceError, PoolTimeoutError):
        handlers[error_class] = _database_unavailable
    handlers[DataError] = _value_rejected_by_database
    handlers[OSError] = _connection_failed
    return handlers
