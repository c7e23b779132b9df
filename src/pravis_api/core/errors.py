"""Typed errors raised by services and routes.

One handler turns each into an RFC 9457 problem document, so the class
chooses the status, the `type` and the `title`, and the raiser writes the
`detail`: what was wrong, on which value, and what to send instead.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class FieldError:
    """One invalid input field, as listed in a problem's `errors`."""

    __slots__ = ("field", "message")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class AppError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


class BadRequestError(AppError):
    status = 400
    code = "bad-request"
    title = "Bad Request"


class AuthenticationError(AppError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str = "Could not validate credentials.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class PermissionDeniedError(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFoundError(AppError):
    status = 404
    code = "not-found"
    title = "Not Found"


class ConflictError(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLargeError(AppError):
    status = 413
    code = "payload-too-large"
    title = "Content Too Large"


class UnsupportedMediaTypeError(AppError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported Media Type"


class InvalidInputError(AppError):
    """Input that is well-formed for the schema but cannot be used."""

    status = 422
    code = "invalid-input"
    title = "Unprocessable Content"


class RateLimitedError(AppError):
    status = 429
    code = "rate-limit-exceeded"
    title = "Too Many Requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(
            detail,
            headers={"Retry-After": str(retry_after_seconds)},
            extensions={"retry_after": retry_after_seconds},
        )


class ServiceUnavailableError(AppError):
    status = 503
    code = "service-unavailable"
    title = "Service Unavailable"

    def __init__(self, detail: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})
