"""Create consent decisions, analytics events and the daily rollups.

The voice rollups are filled from the interactions already stored. The
usage rollups start empty: there were no events before this revision.

Revision ID: 0201
Revises: 0104
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0201"
down_revision: str | None = "0104"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Latency buckets: 0 below 0.5 ms, then four per doubling (each about 19%
# wider than the one before), and 72 from about 110 s up. Mirrored by
# pravis_api.services.analytics.buckets.
LATENCY_BUCKET_FUNCTION = """
CREATE FUNCTION pravis_latency_bucket(ms double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE WHEN ms IS NULL OR ms < 0.5 THEN 0
               ELSE LEAST(72, floor(4 * ln(ms / 0.5) / ln(2.0)) + 1) END)::smallint
$$
"""

# A transcript as a top query: lower case, runs of anything but letters,
# digits and apostrophes as one space, at most 200 characters.
NORMALISE_QUERY_FUNCTION = """
CREATE FUNCTION pravis_normalise_query(query text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT left(btrim(regexp_replace(lower(query), '[^[:alnum:]'']+', ' ', 'g')), 200)
$$
"""

BACKFILL = [
    """
    INSERT INTO analytics_voice_daily (day, intent, interactions, successes)
    SELECT (created_at AT TIME ZONE 'UTC')::date, intent, count(*),
           count(*) FILTER (WHERE success)
    FROM voice_interactions GROUP BY 1, 2
    """,
    """
    INSERT INTO analytics_voice_latency (day, stage, bucket, count)
    SELECT (v.created_at AT TIME ZONE 'UTC')::date, left(t.key, 32),
           pravis_latency_bucket(t.value::double precision), count(*)
    FROM voice_interactions v, jsonb_each_text(v.timings_ms) t
    WHERE jsonb_typeof(v.timings_ms -> t.key) = 'number'
    GROUP BY 1, 2, 3
    """,
    """
    INSERT INTO analytics_voice_queries (day, query, count, unanswered)
    SELECT day, query, count, unanswered FROM (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
             pravis_normalise_query(transcript) AS query, count(*) AS count,
             count(*) FILTER (WHERE NOT success) AS unanswered,
             row_number() OVER (PARTITION BY (created_at AT TIME ZONE 'UTC')::date
                                ORDER BY count(*) DESC) AS rank
      FROM voice_interactions WHERE pravis_normalise_query(transcript) <> ''
      GROUP BY 1, 2
    ) ranked WHERE rank <= 1000
    """,
    """
    INSERT INTO analytics_voice_queries_monthly (month, query, count, unanswered)
    SELECT month, query, count, unanswered FROM (
      SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month,
             pravis_normalise_query(transcript) AS query, count(*) AS count,
             count(*) FILTER (WHERE NOT success) AS unanswered,
             row_number() OVER (
               PARTITION BY date_trunc('month', created_at AT TIME ZONE 'UTC')::date
               ORDER BY count(*) DESC) AS rank
      FROM voice_interactions WHERE pravis_normalise_query(transcript) <> ''
      GROUP BY 1, 2
    ) ranked WHERE rank <= 4000
    """,
    """
    INSERT INTO analytics_usage_actors (day, kind, actor)
    SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, 'session',
           encode(sha256(convert_to('s:' || session_id, 'UTF8')), 'hex')
    FROM voice_interactions
    UNION
    SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, 'user',
           encode(sha256(convert_to('u:' || user_id::text, 'UTF8')), 'hex')
    FROM voice_interactions WHERE user_id IS NOT NULL
    """,
]


def _day_rollup(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(name, sa.Column("day", sa.Date(), nullable=False), *columns)


def upgrade() -> None:
    op.execute(LATENCY_BUCKET_FUNCTION)
    op.execute(NORMALISE_QUERY_FUNCTION)
    op.create_table(
        "consent_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("analytics", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "subject", "version", name="uq_consent_decisions_subject_version"
        ),
    )
    op.create_index(
        op.f("ix_consent_decisions_user_id"), "consent_decisions", ["user_id"]
    )
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("properties", postgresql.JSONB(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_analytics_events_created_at"), "analytics_events", ["created_at"]
    )
    op.create_index(
        op.f("ix_analytics_events_user_id"), "analytics_events", ["user_id"]
    )
    _day_rollup(
        "analytics_voice_daily",
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("interactions", sa.BigInteger(), nullable=False),
        sa.Column("successes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "intent"),
    )
    _day_rollup(
        "analytics_voice_latency",
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "stage", "bucket"),
    )
    _day_rollup(
        "analytics_voice_queries",
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("unanswered", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "query"),
    )
    op.create_table(
        "analytics_voice_queries_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("unanswered", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "query"),
    )
    _day_rollup(
        "analytics_usage_pages",
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "path"),
    )
    _day_rollup(
        "analytics_usage_products",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "product_id", "event_type"),
    )
    _day_rollup(
        "analytics_usage_actors",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "actor"),
    )
    op.create_index(
        "ix_analytics_usage_actors_kind_day", "analytics_usage_actors", ["kind", "day"]
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "analytics_usage_actors",
        "analytics_usage_products",
        "analytics_usage_pages",
        "analytics_voice_queries_monthly",
        "analytics_voice_queries",
        "analytics_voice_latency",
        "analytics_voice_daily",
        "analytics_events",
        "consent_decisions",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION pravis_normalise_query(text)")
    op.execute("DROP FUNCTION pravis_latency_bucket(double precision)")
