"""A shopper's rating of one reply of the assistant."""

import uuid
from datetime import datetime

from pydantic import ConfigDict, field_validator
from sqlalchemy import CheckConstraint, SmallInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from pravis_api.core.text import has_control_characters
from pravis_api.models.base import timestamp_field

MIN_RATING = 1
MAX_RATING = 5
COMMENT_MAX_LENGTH = 1000


class InteractionFeedback(SQLModel, table=True):
    """One per user and interaction; giving feedback again replaces it."""

    __tablename__ = "interaction_feedback"
    __table_args__ = (
        UniqueConstraint(
            "interaction_id",
            "user_id",
            name="uq_interaction_feedback_interaction_id_user_id",
        ),
        CheckConstraint(
            f"rating BETWEEN {MIN_RATING} AND {MAX_RATING}",
            name="ck_interaction_feedback_rating",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    interaction_id: uuid.UUID = Field(
        foreign_key="voice_interactions.id", ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    rating: int = Field(sa_type=SmallInteger)
    comment: str | None = Field(default=None, max_length=COMMENT_MAX_LENGTH)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field(onupdate=True)


class FeedbackCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    rating: int = Field(ge=MIN_RATING, le=MAX_RATING, description="1 (bad) to 5 (good)")
    comment: str | None = Field(default=None, max_length=COMMENT_MAX_LENGTH)

    @field_validator("comment")
    @classmethod
    def _clean_comment(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if has_control_characters(value, allowed="\t\n\r"):
            raise ValueError("must not contain control characters")
        return value.strip() or None


class FeedbackPublic(SQLModel):
    interaction_id: uuid.UUID
    rating: int
    comment: str | None
    created_at: datetime
    updated_at: datetime
