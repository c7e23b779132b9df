"""Insights read from the daily rollups only, never from the raw rows.

Their cost grows with the days and distinct keys in the range, not with the
number of interactions or events.
"""

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.schemas.analytics import (
    IntentCount,
    PageCount,
    Percentile,
    ProductCount,
    QueryCount,
    StageLatency,
    UsageDay,
    UsageInsights,
    VoiceDay,
    VoiceInsights,
)
from pravis_api.services.analytics.buckets import bounds, percentile_bucket

PERCENTILE_NOTE = (
    "Approximate: each percentile is the upper bound of the latency bucket "
    "that holds it, and the true value lies within `bucket_ms`. Buckets start "
    "at 0.5 ms and are about 19% wider each (four per doubling)."
)


def _percentile(counts: list[tuple[int, int]], fraction: float) -> Percentile:
    bucket = percentile_bucket(counts, fraction)
    if bucket is None:  # a stage is listed only with counts
        bucket = 0
    lower, upper = bounds(bucket)
    return Percentile(
        ms=round(upper if upper is not None else lower, 3),
        bucket_ms=(round(lower, 3), None if upper is None else round(upper, 3)),
    )


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def whole_months(since: date, until: date) -> tuple[date, date]:
    """The months wholly inside the range, as [first, end) of their first days."""
    first = (
        since
        if since.day == 1
        else _month_start(since + timedelta(days=31 - since.day + 1))
    )
    end = _month_start(until + timedelta(days=1))
    return first, max(first, end)


# Whole months come from the monthly rollup and the days around them from
# the daily one, so a long range reads few rows; one aggregation serves
# both lists.
_QUERIES = """
WITH picked AS (
  SELECT query, count, unanswered FROM analytics_voice_queries_monthly
  WHERE month >= :months_from AND month < :months_to
  UNION ALL
  -- Two ranges, so each is a tight scan of the primary key.
  SELECT query, count, unanswered FROM analytics_voice_queries
  WHERE day >= :since AND day < :head_end
  UNION ALL
  SELECT query, count, unanswered FROM analytics_voice_queries
  WHERE day >= :tail_from AND day <= :until
), totals AS (
  SELECT query, sum(count) AS n, sum(unanswered) AS missed FROM picked GROUP BY query
)
(SELECT 'top' AS list, query, n, missed FROM totals
 ORDER BY n DESC, query LIMIT :top)
UNION ALL
(SELECT 'unanswered' AS list, query, n, missed FROM totals WHERE missed > 0
 ORDER BY missed DESC, query LIMIT :top)
"""


async def _queries(
    connection: AsyncConnection, since: date, until: date, top: int
) -> tuple[list[QueryCount], list[QueryCount]]:
    months_from, months_to = whole_months(since, until)
    # Without whole months, the head range covers every day.
    head_end = months_from if months_from < months_to else until + timedelta(days=1)
    tail_from = months_to if months_from < months_to else until + timedelta(days=1)
    rows = (
        await connection.execute(
            text(_QUERIES),
            {
                "since": since,
                "until": until,
                "months_from": months_from,
                "months_to": months_to,
                "head_end": head_end,
                "tail_from": tail_from,
                "top": top,
            },
        )
    ).all()
    lists: dict[str, list[QueryCount]] = {"top": [], "unanswered": []}
    for row in rows:
        lists[row.list].append(
            QueryCount(query=row.query, count=int(row.n), unanswered=int(row.missed))
        )
    return lists["top"], lists["unanswered"]


async def voice_insights(
    session: AsyncSession, since: date, until: date, top: int
) -> VoiceInsights:
    connection = await session.connection()
    params = {"since": since, "until": until, "top": top}
    daily = (
        await connection.execute(
            text(
                "SELECT day, sum(interactions) AS n, sum(successes) AS ok "
                "FROM analytics_voice_daily WHERE day BETWEEN :since AND :until "
                "GROUP BY day"
            ),
            params,
        )
    ).all()
    by_day = {row.day: (int(row.n), int(row.ok)) for row in daily}
    series = [
        VoiceDay(
            day=day,
            interactions=by_day.get(day, (0, 0))[0],
            successes=by_day.get(day, (0, 0))[1],
        )
        for day in _days(since, until)
    ]
    interactions = sum(n for n, _ in by_day.values())
    successes = sum(ok for _, ok in by_day.values())

    intents = (
        await connection.execute(
            text(
                "SELECT intent, sum(interactions) AS n, sum(successes) AS ok "
                "FROM analytics_voice_daily WHERE day BETWEEN :since AND :until "
                "GROUP BY intent ORDER BY n DESC, intent LIMIT :top"
            ),
            params,
        )
    ).all()

    latency_rows = (
        await connection.execute(
            text(
                "SELECT stage, bucket, sum(count) AS n FROM analytics_voice_latency "
                "WHERE day BETWEEN :since AND :until GROUP BY stage, bucket"
            ),
            params,
        )
    ).all()
    per_stage: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in latency_rows:
        per_stage[row.stage].append((int(row.bucket), int(row.n)))
    latency = [
        StageLatency(
            stage=stage,
            count=sum(n for _, n in counts),
            p50=_percentile(counts, 0.50),
            p95=_percentile(counts, 0.95),
            p99=_percentile(counts, 0.99),
        )
        for stage, counts in sorted(per_stage.items())
    ]

    top_queries, unanswered_queries = await _queries(connection, since, until, top)

    return VoiceInsights(
        since=since,
        until=until,
        interactions=interactions,
        successes=successes,
        success_rate=round(successes / interactions, 4) if interactions else None,
        latency_ms=latency,
        percentiles=PERCENTILE_NOTE,
        top_intents=[
            IntentCount(intent=row.intent, count=int(row.n), successes=int(row.ok))
            for row in intents
        ],
        top_queries=top_queries,
        unanswered_queries=unanswered_queries,
        series=series,
    )


async def usage_insights(
    session: AsyncSession, since: date, until: date, top: int
) -> UsageInsights:
    connection = await session.connection()
    params = {"since": since, "until": until, "top": top}
    totals = (
        await connection.execute(
            text(
                "SELECT count(DISTINCT actor) FILTER (WHERE kind = 'session')"
                " AS sessions, "
                "count(DISTINCT actor) FILTER (WHERE kind = 'user') AS users "
                "FROM analytics_usage_actors WHERE day BETWEEN :since AND :until"
            ),
            params,
        )
    ).one()
    actor_days = (
        await connection.execute(
            text(
                "SELECT day, count(*) FILTER (WHERE kind = 'session') AS sessions, "
                "count(*) FILTER (WHERE kind = 'user') AS users "
                "FROM analytics_usage_actors WHERE day BETWEEN :since AND :until "
                "GROUP BY day"
            ),
            params,
        )
    ).all()
    view_days = (
        await connection.execute(
            text(
                "SELECT day, sum(views) AS views FROM analytics_usage_pages "
                "WHERE day BETWEEN :since AND :until GROUP BY day"
            ),
            params,
        )
    ).all()
    actors = {row.day: (int(row.sessions), int(row.users)) for row in actor_days}
    views = {row.day: int(row.views) for row in view_days}
    pages = (
        await connection.execute(
            text(
                "SELECT path, sum(views) AS views FROM analytics_usage_pages "
                "WHERE day BETWEEN :since AND :until GROUP BY path "
                "ORDER BY views DESC, path LIMIT :top"
            ),
            params,
        )
    ).all()
    products = (
        await connection.execute(
            text(
                "SELECT r.product_id, p.name, p.slug, r.views, r.clicks, r.carts FROM ("
                "  SELECT product_id,"
                "   sum(count) FILTER (WHERE event_type = 'product_view') AS views,"
                "   sum(count) FILTER (WHERE event_type = 'product_click') AS clicks,"
                "   sum(count) FILTER (WHERE event_type = 'add_to_cart') AS carts,"
                "   sum(count) AS total"
                "  FROM analytics_usage_products WHERE day BETWEEN :since AND :until"
                "  GROUP BY product_id ORDER BY total DESC, product_id LIMIT :top"
                ") r LEFT JOIN products p ON p.id = r.product_id "
                "ORDER BY r.total DESC, r.product_id"
            ),
            params,
        )
    ).all()
    return UsageInsights(
        since=since,
        until=until,
        sessions=int(totals.sessions),
        active_users=int(totals.users),
        page_views=sum(views.values()),
        top_pages=[PageCount(path=row.path, views=int(row.views)) for row in pages],
        top_products=[
            ProductCount(
                product_id=row.product_id,
                name=row.name,
                slug=row.slug,
                views=int(row.views or 0),
                clicks=int(row.clicks or 0),
                add_to_cart=int(row.carts or 0),
            )
            for row in products
        ],
        series=[
            UsageDay(
                day=day,
                sessions=actors.get(day, (0, 0))[0],
                active_users=actors.get(day, (0, 0))[1],
                page_views=views.get(day, 0),
            )
            for day in _days(since, until)
        ],
    )
