"""Requests and responses of the export and backup routes."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

ExportKind = Literal["interactions", "events"]
ExportFormat = Literal["jsonl", "csv"]
JobStatus = Literal["queued", "running", "succeeded", "failed"]


# The days a date range of the API (exports, analytics) may name. Rows
# carry the time the API stored them, so none is older than the first. The
# last leaves any real range open, and keeps the day after it a valid date.
FIRST_RANGE_DAY = date(2000, 1, 1)
LAST_RANGE_DAY = date(2999, 12, 31)
RANGE_DAY_RULE = f"must be a day from {FIRST_RANGE_DAY} to {LAST_RANGE_DAY}"


def is_range_day(day: date) -> bool:
    """Tell whether a date range may name the day."""
    return FIRST_RANGE_DAY <= day <= LAST_RANGE_DAY


class ExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: ExportKind = "interactions"
    format: ExportFormat = "jsonl"
    # Days in UTC, both included. Either may be left out for an open range.
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")

    @field_validator("date_from", "date_to")
    @classmethod
    def _within_bounds(cls, value: date | None) -> date | None:
        # Bounded days also keep the range arithmetic finite: asyncpg stores
        # date.min and date.max as -infinity and infinity, and the day after
        # date.max raises OverflowError.
        if value is None:
            return value
        if not is_range_day(value):
            raise ValueError(f"{RANGE_DAY_RULE}, or left out for an open range")
        return value

    @field_validator("date_to")
    @classmethod
    def _not_before_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        # date_from is missing from info.data when it failed its own check.
        date_from = info.data.get("date_from")
        if value is not None and date_from is not None and value < date_from:
            raise ValueError(f"must not be before from ({date_from})")
        return value


class ExportPublic(BaseModel):
    id: uuid.UUID
    kind: str
    format: str
    date_from: date | None = Field(serialization_alias="from")
    date_to: date | None = Field(serialization_alias="to")
    status: JobStatus
    attempts: int
    row_count: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # A read-only link to the file, valid until download_expires_at; only
    # when the job succeeded.
    download_url: str | None = None
    download_expires_at: datetime | None = None
    # Backups only: the id to give `pravis-api restore`.
    backup_id: str | None = None


class ExportsPublic(BaseModel):
    items: list[ExportPublic]
    total: int
    page: int
    page_size: int
