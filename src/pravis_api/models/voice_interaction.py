"""One turn with the voice assistant: what was heard, understood and replied."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from pravis_api.models.base import timestamp_field
from pravis_api.models.feedback import FeedbackPublic


class VoiceInteraction(SQLModel, table=True):
    __tablename__ = "voice_interactions"
    __table_args__ = (
        Index("ix_voice_interactions_user_id_created_at", "user_id", "created_at"),
        Index(
            "ix_voice_interactions_session_id_created_at", "session_id", "created_at"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = timestamp_field(index=True)

    # Exactly one shopper: a signed-in user, or else an anonymous session.
    # The session id is kept for signed-in shoppers too, to follow a
    # conversation across turns.
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE"
    )
    session_id: str = Field(max_length=64)

    source: str = Field(max_length=16)  # "audio" or "text"
    transcript: str
    intent: str = Field(max_length=32, index=True)
    entities: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    reply: str
    action: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    # Products shown with the reply, in order; the next turn's "the second
    # one" refers to this list.
    product_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Uuid), nullable=False, server_default=text("'{}'")),
    )
    # False when the assistant fell back to asking the shopper to rephrase.
    success: bool

    audio_format: str | None = Field(default=None, max_length=16)
    audio_duration_s: float | None = None
    # None when the recording was not stored (Blob Storage unavailable).
    recording_blob: str | None = Field(default=None, max_length=255)
    stt_engine: str | None = Field(default=None, max_length=32)
    # Milliseconds per pipeline stage, e.g. {"decode": 4, "transcribe": 410}.
    timings_ms: dict[str, float] = Field(default_factory=dict, sa_type=JSONB)


class VoiceInteractionPublic(SQLModel):
    """An interaction as listed in its shopper's history."""

    id: uuid.UUID
    created_at: datetime
    session_id: str
    source: str
    transcript: str
    intent: str
    entities: dict[str, Any]
    reply: str
    action: dict[str, Any] | None
    success: bool
    audio_format: str | None
    audio_duration_s: float | None
    # The API path that streams the stored recording; None when none is stored.
    recording_url: str | None
    feedback: FeedbackPublic | None


class VoiceInteractionsPublic(SQLModel):
    items: list[VoiceInteractionPublic]
    total: int
    page: int
    page_size: int
