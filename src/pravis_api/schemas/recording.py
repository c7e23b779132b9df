from datetime import datetime

from pydantic import BaseModel


class RecordingLink(BaseModel):
    """A read-only Blob Storage URL for one recording."""

    url: str
    expires_at: datetime
