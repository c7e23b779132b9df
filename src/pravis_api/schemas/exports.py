"""Requests and responses of the export and backup routes."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ExportKind = Literal["interactions", "events"]
ExportFormat = Literal["jsonl", "csv"]
JobStatus = Literal["queued", "running", "succeeded", "failed"]


class ExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: ExportKind = "interactions"
    format: ExportFormat = "jsonl"
    # Days in UTC, both included; either may be left out.
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _order(self) -> "ExportCreate":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("from must not be after to")
        return self


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
