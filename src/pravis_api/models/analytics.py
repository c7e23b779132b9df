"""Analytics: consent decisions, client events and the daily rollups.

The rollups hold counts and histograms only, no user id, so they keep their
figures when an account and its rows are erased. They are written in the
same transaction as the interaction or events they count.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, SmallInteger, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pravis_api.models.base import timestamp_field


class ConsentDecision(SQLModel, table=True):
    """One decision of a shopper about analytics; the latest one counts.

    The subject is `user:<id>` for a signed-in shopper, else
    `session:<session id>`. Each new decision of a subject gets the next
    version. The client address is kept only as a salted hash.
    """

    __tablename__ = "consent_decisions"
    __table_args__ = (
        UniqueConstraint(
            "subject", "version", name="uq_consent_decisions_subject_version"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = timestamp_field()
    subject: str = Field(max_length=80)
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )
    session_id: str | None = Field(default=None, max_length=64)
    version: int
    analytics: bool
    policy_version: str = Field(max_length=32)
    address_hash: str | None = Field(default=None, max_length=64)


class AnalyticsEvent(SQLModel, table=True):
    __tablename__ = "analytics_events"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = timestamp_field(index=True)
    occurred_at: datetime | None = Field(default=None)
    type: str = Field(max_length=32)
    session_id: str = Field(max_length=64)
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )
    path: str | None = Field(default=None, max_length=512)
    product_id: uuid.UUID | None = None
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)


class VoiceDailyRollup(SQLModel, table=True):
    __tablename__ = "analytics_voice_daily"

    day: date = Field(primary_key=True)
    intent: str = Field(primary_key=True, max_length=32)
    interactions: int = Field(sa_type=BigInteger)
    successes: int = Field(sa_type=BigInteger)


class VoiceLatencyRollup(SQLModel, table=True):
    """Interactions per day, stage and latency bucket.

    The buckets are described in services.analytics.buckets.
    """

    __tablename__ = "analytics_voice_latency"

    day: date = Field(primary_key=True)
    stage: str = Field(primary_key=True, max_length=32)
    bucket: int = Field(primary_key=True, sa_type=SmallInteger)
    count: int = Field(sa_type=BigInteger)


class VoiceQueryRollup(SQLModel, table=True):
    """Normalised transcripts per day, capped at ANALYTICS_QUERY_CAP_PER_DAY."""

    __tablename__ = "analytics_voice_queries"

    day: date = Field(primary_key=True)
    query: str = Field(primary_key=True, max_length=200)
    count: int = Field(sa_type=BigInteger)
    unanswered: int = Field(sa_type=BigInteger)


class VoiceQueryMonthlyRollup(SQLModel, table=True):
    """The same per month (the first day names it), capped at four times
    ANALYTICS_QUERY_CAP_PER_DAY, so a long range reads few rows."""

    __tablename__ = "analytics_voice_queries_monthly"

    month: date = Field(primary_key=True)
    query: str = Field(primary_key=True, max_length=200)
    count: int = Field(sa_type=BigInteger)
    unanswered: int = Field(sa_type=BigInteger)


class UsagePageRollup(SQLModel, table=True):
    __tablename__ = "analytics_usage_pages"

    day: date = Field(primary_key=True)
    path: str = Field(primary_key=True, max_length=512)
    views: int = Field(sa_type=BigInteger)


class UsageProductRollup(SQLModel, table=True):
    __tablename__ = "analytics_usage_products"

    day: date = Field(primary_key=True)
    product_id: uuid.UUID = Field(primary_key=True)
    event_type: str = Field(primary_key=True, max_length=32)
    count: int = Field(sa_type=BigInteger)


class UsageActorRollup(SQLModel, table=True):
    """Who was active on a day: SHA-256 digests of session and user ids."""

    __tablename__ = "analytics_usage_actors"
    __table_args__ = (Index("ix_analytics_usage_actors_kind_day", "kind", "day"),)

    day: date = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=8)
    actor: str = Field(primary_key=True, max_length=64)
