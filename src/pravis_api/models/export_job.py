"""Background jobs that write exports and backups to Blob Storage."""

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, DateTime
from sqlmodel import Field, SQLModel

from pravis_api.models.base import timestamp_field

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"


class ExportJob(SQLModel, table=True):
    """An export of interactions or events, or a backup.

    `owner_id` is set for a shopper's export of their own data, and the job
    goes with the account. Admin exports and backups have no owner.
    """

    __tablename__ = "export_jobs"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = timestamp_field(index=True)
    updated_at: datetime = timestamp_field(onupdate=True)
    kind: str = Field(max_length=16)  # interactions, events or backup
    format: str = Field(max_length=8)  # jsonl or csv; jsonl for backups
    date_from: date | None = None
    date_to: date | None = None
    owner_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )
    requested_by: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    status: str = Field(default=QUEUED, max_length=16, index=True)
    attempts: int = 0
    row_count: int = Field(default=0, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=1000)
    blob_name: str | None = Field(default=None, max_length=255)
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
