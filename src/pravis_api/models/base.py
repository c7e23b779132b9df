"""Column helpers shared by the tables."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, func
from sqlmodel import Field


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp_field(*, index: bool = False, onupdate: bool = False) -> Any:
    """Define a `timestamp with time zone` column with app and server defaults."""
    column_kwargs: dict[str, Any] = {"server_default": func.now()}
    if onupdate:
        column_kwargs["onupdate"] = utc_now
    return Field(
        default_factory=utc_now,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs=column_kwargs,
        nullable=False,
        index=index,
    )
