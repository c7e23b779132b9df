"""The RFC 9457 problem document, for the OpenAPI description of errors."""

from pydantic import BaseModel, Field


class FieldErrorModel(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = Field(examples=["urn:problem:pravis:validation-error"])
    title: str
    status: int
    detail: str
    request_id: str | None
    errors: list[FieldErrorModel] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` entries for the given error statuses."""
    return {
        status: {
            "model": Problem,
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }
