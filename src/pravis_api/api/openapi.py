"""Error responses that middleware adds to every route, in the OpenAPI document.

The routes list the errors they raise themselves. The body size limit
(413), the rate limits (429) and the outage and shutdown responses (503)
come from middleware and exception handlers that apply to every route, so
they are added here to each operation that can get them.
"""

from typing import Any

from fastapi import FastAPI

from pravis_api.api.errors import PROBLEM_CONTENT_TYPE

_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
_MIDDLEWARE_ERRORS = {
    413: "The request body is larger than the route's limit.",
    429: "A rate limit was reached; Retry-After gives the seconds to wait.",
    503: "A dependency is unavailable or the server is stopping; retry later.",
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_SCHEMA}},
    }


def _add_middleware_errors(
    document: dict[str, Any], rate_limit_exempt: frozenset[str]
) -> None:
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            statuses = [503]
            if "requestBody" in operation:
                statuses.append(413)
            if path not in rate_limit_exempt:
                statuses.append(429)
            for status in statuses:
                responses.setdefault(
                    str(status), _problem_response(_MIDDLEWARE_ERRORS[status])
                )


def add_middleware_errors_to_openapi(
    app: FastAPI, rate_limit_exempt: frozenset[str]
) -> None:
    """Wrap `app.openapi` so the document lists the middleware errors."""
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        complete = app.openapi_schema is not None
        document = build_document()
        if not complete:
            _add_middleware_errors(document, rate_limit_exempt)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
