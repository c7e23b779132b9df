"""RFC 9457 problem documents: the one error shape of the API."""

import errno
import json
import logging
import socket
from collections.abc import Callable, Coroutine, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pravis_api.core.errors import AppError, FieldError
from pravis_api.core.logging import request_id_var

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Scope key of the request's body size limit, set by the body limit middleware.
BODY_LIMIT_SCOPE_KEY = "pravis.max_body_size"


# Codes for the statuses Starlette raises itself. Titles follow RFC 9110,
# whose names for 413 and 422 differ from Python 3.11's HTTPStatus phrases.
_HTTP_STATUS_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}

# errno values of a network peer that cannot be reached.
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
}


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
        "title": title or _TITLES.get(status) or HTTPStatus(status).phrase,
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


def server_stopping_response() -> Response:
    return problem_response(
        503,
        "server-stopping",
        "The server stopped before it finished this request. Retry it.",
        headers={"Retry-After": "1"},
    )


async def _app_error(request: Request, exc: AppError) -> Response:
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


def _field_error(error: Mapping[str, Any]) -> FieldError:
    if error.get("type") == "json_invalid":
        # Its location is a character offset, not a field.
        position = error.get("loc", ("body", "?"))[-1]
        return FieldError("body", f"invalid JSON at character {position}")
    message = str(error.get("msg", "invalid"))
    # Pydantic prefixes messages from custom validators.
    message = message.removeprefix("Value error, ")
    if message.startswith("Expected UploadFile"):
        message = "must be a file part with a filename, not a text field"
    return FieldError(_field_name(error.get("loc", ())), message)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [_field_error(error) for error in exc.errors()]
    listed = "; ".join(f"{error.field}: {error.message}" for error in errors[:5])
    return problem_response(
        422,
        "validation-error",
        f"The request has invalid fields ({listed}). Correct them and retry.",
        title="Validation Error",
        errors=errors,
    )


# FastAPI raises a 400 with this detail when a body cannot be decoded (JSON
# that is not UTF-8, say), chaining the original error.
_BODY_PARSE_DETAIL = "There was an error parsing the body"


def _body_parse_error(exc: StarletteHTTPException) -> Response:
    """Render a body the parsers rejected as a 422 that names the body.

    Only FastAPI's body decoding and Starlette's form parser raise a bare
    400 here (the routes raise AppError subclasses), so every such 400 is
    an unparsable body, and the API documents 422 for it.
    """
    if str(exc.detail) == _BODY_PARSE_DETAIL:
        cause = exc.__cause__
        reason = type(cause).__name__ if cause else "unknown error"
    else:
        # Starlette's multipart messages: "Invalid multipart data.",
        # "Missing boundary in multipart.", "Too many files. ...".
        reason = str(exc.detail).rstrip(".")
    return problem_response(
        422,
        "validation-error",
        "The request body cannot be parsed. Send UTF-8 JSON or a well-formed "
        "multipart form, as the route's Content-Type requires.",
        title="Validation Error",
        errors=[FieldError("body", f"cannot be parsed ({reason})")],
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    status = exc.status_code
    detail = str(exc.detail)
    if status == 400:
        return _body_parse_error(exc)
    # Replace Starlette's one-word defaults; keep a detail a route wrote.
    if detail == HTTPStatus(status).phrase:
        if status == 404:
            detail = f"No route matches {request.url.path}. See /docs for the API."
        elif status == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
    if status == 413:
        limit = request.scope.get(BODY_LIMIT_SCOPE_KEY)
        detail = "The request body is too large."
        if isinstance(limit, int):
            detail += f" The maximum for this route is {limit} bytes."
    code = _HTTP_STATUS_CODES.get(status, f"http-{status}")
    return problem_response(status, code, detail, headers=exc.headers)


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


# SQLSTATEs of text the database cannot store: character_not_in_repertoire
# (a NUL byte) and untranslatable_character. asyncpg reports them through
# SQLAlchemy's generic DBAPIError, not DataError.
_UNSTORABLE_TEXT_SQLSTATES = {"22021", "22P05"}
# SQLSTATEs of a server that is restarting or full: admin_shutdown,
# crash_shutdown, cannot_connect_now, too_many_connections. Then those of a
# server that refuses this deployment's settings: invalid_catalog_name (no
# such database), invalid_password and invalid_authorization_specification.
# Then lock_not_available: a lock wait ran out its lock_timeout, as a batch
# of interactions does when another has held their lock too long. Class 08
# (connection exceptions) is matched by its prefix.
_UNAVAILABLE_SQLSTATES = {
    "57P01",
    "57P02",
    "57P03",
    "53300",
    "55P03",
    "3D000",
    "28P01",
    "28000",
}


def _is_database_outage(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate.startswith("08")
    # asyncpg's InternalClientError ("cannot switch to state ...; another
    # operation is in progress") was seen in the PostgreSQL restart drill,
    # on a connection the server dropped in the middle of a query.
    return type(exc.orig).__name__ == "InternalClientError"


async def _database_error(request: Request, exc: DBAPIError) -> Response:
    if getattr(exc.orig, "sqlstate", None) in _UNSTORABLE_TEXT_SQLSTATES:
        return await _value_rejected_by_database(request, exc)
    if _is_database_outage(exc):
        return await _database_unavailable(request, exc)
    logger.error("request.unhandled_error", exc_info=exc)
    return internal_error_response()


def _is_network_error(exc: OSError) -> bool:
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        return True
    return exc.errno in _NETWORK_ERRNOS


async def _os_error(request: Request, exc: OSError) -> Response:
    # asyncpg's connect errors (refused, unreachable, DNS, timeout) reach
    # here as plain OSError, because SQLAlchemy wraps only driver errors.
    # Any other OSError is a bug, not an outage.
    if not _is_network_error(exc):
        logger.error("request.unhandled_error", exc_info=exc)
        return internal_error_response()
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

    Unexpected exceptions are turned into a 500 by the request logging
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
    handlers[DBAPIError] = _database_error
    handlers[OSError] = _os_error
    return handlers
