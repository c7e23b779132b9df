"""Voice interactions: the insert of each turn and the recent turns of a session.

Both run on every assistant turn, as SQL text for the reason given in
`repositories.products`. The read goes through `db.driver`; the inserts go
through SQLAlchemy, one row at a time or in batches from
`services.interaction_writer`.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.db.driver import fetch
from pravis_api.models.voice_interaction import VoiceInteraction

_TABLE = VoiceInteraction.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(column.name for column in _TABLE.columns)
# The driver takes JSONB parameters as JSON text.
_JSON_COLUMNS = frozenset(
    column.name for column in _TABLE.columns if isinstance(column.type, JSONB)
)
_N = len(_COLUMNS)


def _param(column: str) -> str:
    return f"${_COLUMNS.index(column) + 1}"


# The row and its share of the daily rollups, in one statement: one round
# trip, and the counts commit or roll back with the row. Extra parameters
# after the columns: the UTC day, the stage names and their milliseconds,
# the cap of distinct queries per day, and the actor kinds and digests.
_DAY, _STAGES, _MS, _CAP, _KINDS, _ACTORS = (f"${_N + n}" for n in range(1, 7))
# A month keeps up to this many times the daily cap of distinct queries.
MONTHLY_CAP_FACTOR = 4
_INSERT = f"""
WITH inserted AS (
  INSERT INTO voice_interactions ({", ".join(_COLUMNS)})
  VALUES ({", ".join(f"${n}" for n in range(1, _N + 1))})
  RETURNING 1
), daily AS (
  INSERT INTO analytics_voice_daily AS r (day, intent, interactions, successes)
  VALUES ({_DAY}::date, {_param("intent")}, 1,
          CASE WHEN {_param("success")} THEN 1 ELSE 0 END)
  ON CONFLICT (day, intent) DO UPDATE
  SET interactions = r.interactions + 1, successes = r.successes + EXCLUDED.successes
  RETURNING 1
), latency AS (
  INSERT INTO analytics_voice_latency AS r (day, stage, bucket, count)
  SELECT {_DAY}::date, s.stage, pravis_latency_bucket(s.ms), 1
  FROM unnest({_STAGES}::varchar[], {_MS}::float8[]) AS s(stage, ms)
  ON CONFLICT (day, stage, bucket) DO UPDATE SET count = r.count + 1
  RETURNING 1
), queries AS (
  INSERT INTO analytics_voice_queries AS r (day, query, count, unanswered)
  SELECT {_DAY}::date, n.query, 1, CASE WHEN {_param("success")} THEN 0 ELSE 1 END
  FROM (SELECT pravis_normalise_query({_param("transcript")}) AS query) AS n
  WHERE n.query <> '' AND (
    EXISTS (SELECT 1 FROM analytics_voice_queries
            WHERE day = {_DAY}::date AND query = n.query)
    OR (SELECT count(*) FROM analytics_voice_queries WHERE day = {_DAY}::date)
       < {_CAP}::int)
  ON CONFLICT (day, query) DO UPDATE
  SET count = r.count + 1, unanswered = r.unanswered + EXCLUDED.unanswered
  RETURNING 1
), monthly AS (
  INSERT INTO analytics_voice_queries_monthly AS r (month, query, count, unanswered)
  SELECT m.month, n.query, 1, CASE WHEN {_param("success")} THEN 0 ELSE 1 END
  FROM (SELECT pravis_normalise_query({_param("transcript")}) AS query) AS n,
       (SELECT date_trunc('month', {_DAY}::date)::date AS month) AS m
  WHERE n.query <> '' AND (
    EXISTS (SELECT 1 FROM analytics_voice_queries_monthly
            WHERE month = m.month AND query = n.query)
    OR (SELECT count(*) FROM analytics_voice_queries_monthly WHERE month = m.month)
       < {MONTHLY_CAP_FACTOR} * {_CAP}::int)
  ON CONFLICT (month, query) DO UPDATE
  SET count = r.count + 1, unanswered = r.unanswered + EXCLUDED.unanswered
  RETURNING 1
), actors AS (
  INSERT INTO analytics_usage_actors (day, kind, actor)
  SELECT {_DAY}::date, a.kind, a.actor
  FROM unnest({_KINDS}::varchar[], {_ACTORS}::varchar[]) AS a(kind, actor)
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT 1
"""
# Key of the transaction-level advisory lock that batches of rows take
# first: the first 8 bytes of SHA-256("pravis-api interaction batches") as
# a signed integer.
BATCH_LOCK_KEY = -0x137C0BFE610D7F32
BATCH_LOCK_TIMEOUT_MS = 5000
_LOCK_BATCHES = (
    "SELECT pg_advisory_xact_lock($2)"
    " FROM (SELECT set_config('lock_timeout', $1, true)) AS timeout"
)
# Distinct queries kept per day when the caller does not say.
DEFAULT_QUERY_CAP = 1000
# A session id is chosen by the client, so the turns are also matched on the
# speaker: another shopper who sends the same id starts a conversation of
# their own, and anonymous turns never mix with a signed-in shopper's.
_RECENT_TURNS = (
    "SELECT intent, entities, action, product_ids FROM voice_interactions "
    "WHERE session_id = $1 AND user_id IS NOT DISTINCT FROM $2::uuid "
    "ORDER BY created_at DESC LIMIT $3"
)


@dataclass(slots=True)
class NewInteraction:
    """The values of a voice_interactions row to insert, one per column.

    A plain dataclass, because building a SQLModel table instance costs
    about 0.25 ms of CPU per turn for a row this code only writes.
    """

    id: uuid.UUID
    created_at: datetime
    user_id: uuid.UUID | None
    session_id: str
    source: str
    transcript: str
    intent: str
    entities: dict[str, Any]
    reply: str
    action: dict[str, Any] | None
    product_ids: list[uuid.UUID]
    success: bool
    audio_format: str | None = None
    audio_duration_s: float | None = None
    recording_blob: str | None = None
    stt_engine: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Turn:
    """What one earlier turn of a conversation asked and showed."""

    intent: str
    entities: dict[str, Any]
    action: dict[str, Any] | None
    product_ids: list[uuid.UUID]


def session_actor(session_id: str) -> str:
    """The digest that stands for an anonymous session in the usage rollups."""
    return hashlib.sha256(f"s:{session_id}".encode()).hexdigest()


def user_actor(user_id: uuid.UUID) -> str:
    """The digest that stands for a user in the usage rollups."""
    return hashlib.sha256(f"u:{user_id}".encode()).hexdigest()


async def add_interaction(
    session: AsyncSession,
    interaction: NewInteraction,
    *,
    query_cap: int = DEFAULT_QUERY_CAP,
) -> None:
    """Insert the row with its rollup counts and commit; IntegrityError if
    its user was deleted."""
    # Through SQLAlchemy, not db.driver, which sends a failed statement
    # again and so could insert the row twice.
    connection = await session.connection()
    await connection.exec_driver_sql(_INSERT, _insert_arguments(interaction, query_cap))
    await session.commit()


async def add_interactions(
    session: AsyncSession,
    interactions: Sequence[NewInteraction],
    *,
    query_cap: int = DEFAULT_QUERY_CAP,
) -> None:
    """Insert the rows with their rollup counts in one transaction and commit.

    The session must not be in autocommit. The rows go to the server in one
    round trip (asyncpg's executemany), and all are committed or none.
    """
    connection = await session.connection()
    # Every batch updates the same rollup rows, in the order of its own
    # rows. Two batches that took them in opposite orders would deadlock,
    # so batches take this lock first and run one at a time. A batch that
    # cannot get the lock within the timeout fails with lock_not_available.
    await connection.exec_driver_sql(
        _LOCK_BATCHES, (f"{BATCH_LOCK_TIMEOUT_MS}ms", BATCH_LOCK_KEY)
    )
    await connection.exec_driver_sql(
        _INSERT,
        [_insert_arguments(interaction, query_cap) for interaction in interactions],
    )
    await session.commit()


def _insert_arguments(interaction: NewInteraction, query_cap: int) -> tuple[Any, ...]:
    values = tuple(
        json.dumps(value) if name in _JSON_COLUMNS and value is not None else value
        for name in _COLUMNS
        for value in [getattr(interaction, name)]
    )
    stages = [
        (name[:32], float(ms))
        for name, ms in interaction.timings_ms.items()
        if isinstance(ms, int | float) and not isinstance(ms, bool)
    ]
    kinds = ["session"]
    actors = [session_actor(interaction.session_id)]
    if interaction.user_id is not None:
        kinds.append("user")
        actors.append(user_actor(interaction.user_id))
    extra = (
        interaction.created_at.astimezone(UTC).date(),
        [name for name, _ in stages],
        [ms for _, ms in stages],
        query_cap,
        kinds,
        actors,
    )
    return values + extra


async def recent_turns(
    session: AsyncSession, session_id: str, user_id: uuid.UUID | None, limit: int
) -> list[Turn]:
    """Return the speaker's latest turns in the session, newest first
    (user_id None for an anonymous shopper)."""
    rows = await fetch(session, _RECENT_TURNS, (session_id, user_id, limit))
    return [Turn(**row) for row in rows]
