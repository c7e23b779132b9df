"""Blobs to delete whose rows are already gone."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from pravis_api.models.base import timestamp_field


class BlobDeletion(SQLModel, table=True):
    """A blob that must be deleted from Blob Storage.

    A row is written in the same transaction that deletes the blob's
    interaction, and removed once the blob is deleted. Rows left by a
    failed deletion are retried by `pravis-api purge`.
    """

    __tablename__ = "blob_deletions"

    name: str = Field(primary_key=True, max_length=255)
    requested_at: datetime = timestamp_field()
