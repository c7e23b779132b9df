"""Analytics: consent, events, the rollups and the insights read from them."""

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.repositories.interactions import NewInteraction, add_interaction
from pravis_api.services.analytics.buckets import bounds, bucket_of
from tests.conftest import admin_headers, register_and_login

ANALYTICS = "/api/v1/analytics"


def session_id() -> str:
    return f"analytics-{uuid.uuid4().hex}"


async def store(
    db_session: AsyncSession,
    day: date,
    *,
    user_id: uuid.UUID | None = None,
    transcript: str = "show me red dresses",
    intent: str = "search",
    success: bool = True,
    timings: dict[str, float] | None = None,
    session: str | None = None,
    hour: int = 12,
) -> NewInteraction:
    interaction = NewInteraction(
        id=uuid.uuid4(),
        created_at=datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
        user_id=user_id,
        session_id=session or session_id(),
        source="text",
        transcript=transcript,
        intent=intent,
        entities={},
        reply="ok",
        action=None,
        product_ids=[],
        success=success,
        timings_ms=timings if timings is not None else {"understand": 1.0},
    )
    await add_interaction(db_session, interaction)
    return interaction


async def count_events(db_session: AsyncSession, session: str) -> int:
    connection = await db_session.connection()
    return int(
        await connection.scalar(
            text("SELECT count(*) FROM analytics_events WHERE session_id = :s"),
            {"s": session},
        )
        or 0
    )


def page_views(*paths: str) -> list[dict[str, Any]]:
    return [{"type": "page_view", "path": path} for path in paths]


async def test_no_consent_means_no_stored_events(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = session_id()
    batch = {"session_id": session, "events": page_views("/", "/sarees")}
    response = await client.post(f"{ANALYTICS}/events", json=batch)
    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "consent": "missing"}
    assert await count_events(db_session, session) == 0

    declined = await client.post(
        f"{ANALYTICS}/consent",
        json={"session_id": session, "analytics": False, "policy_version": "2026-12"},
    )
    assert declined.status_code == 201
    assert declined.json()["version"] == 1
    response = await client.post(f"{ANALYTICS}/events", json=batch)
    assert response.json() == {"accepted": 0, "consent": "declined"}
    assert await count_events(db_session, session) == 0

    given = await client.post(
        f"{ANALYTICS}/consent",
        json={"session_id": session, "analytics": True, "policy_version": "2026-12"},
    )
    assert given.json()["version"] == 2
    response = await client.post(f"{ANALYTICS}/events", json=batch)
    assert response.json() == {"accepted": 2, "consent": "given"}
    assert await count_events(db_session, session) == 2

    # Withdrawn again: nothing more is stored.
    await client.post(
        f"{ANALYTICS}/consent",
        json={"session_id": session, "analytics": False, "policy_version": "2026-12"},
    )
    response = await client.post(f"{ANALYTICS}/events", json=batch)
    assert response.json()["accepted"] == 0
    assert await count_events(db_session, session) == 2
    current = await client.get(f"{ANALYTICS}/consent", params={"session_id": session})
    assert current.json()["version"] == 3
    assert current.json()["analytics"] is False


async def test_consent_keeps_only_a_salted_address_hash(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = session_id()
    await client.post(
        f"{ANALYTICS}/consent",
        json={"session_id": session, "analytics": True, "policy_version": "v1"},
    )
    connection = await db_session.connection()
    row = (
        await connection.execute(
            text("SELECT * FROM consent_decisions WHERE session_id = :s"),
            {"s": session},
        )
    ).one()
    assert row.address_hash
    assert len(row.address_hash) == 64
    assert "127.0.0.1" not in str(tuple(row))
    # Not a plain hash of the address: it is keyed by the salt.
    import hashlib

    assert row.address_hash != hashlib.sha256(b"127.0.0.1").hexdigest()


async def test_signed_in_consent_is_the_accounts(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await register_and_login(client)
    anonymous = await client.post(
        f"{ANALYTICS}/consent", json={"analytics": True, "policy_version": "v1"}
    )
    assert anonymous.status_code == 422
    response = await client.post(
        f"{ANALYTICS}/consent",
        json={"analytics": True, "policy_version": "v1"},
        headers=headers,
    )
    assert response.status_code == 201
    assert response.json()["subject"] == "user"
    session = session_id()
    stored = await client.post(
        f"{ANALYTICS}/events",
        json={"session_id": session, "events": page_views("/account")},
        headers=headers,
    )
    assert stored.json() == {"accepted": 1, "consent": "given"}


async def test_event_validation(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    session = session_id()
    cases: list[dict[str, Any]] = [
        {"session_id": session, "events": []},
        {"session_id": session, "events": [{"type": "keylogger", "path": "/"}]},
        {"session_id": session, "events": [{"type": "page_view"}]},
        {"session_id": session, "events": [{"type": "add_to_cart"}]},
        {
            "session_id": session,
            "events": [{"type": "page_view", "path": "/" + "a" * 600}],
        },
        {
            "session_id": session,
            "events": [
                {"type": "search", "properties": {f"k{i}": i for i in range(21)}}
            ],
        },
        {
            "session_id": session,
            "events": [{"type": "search", "properties": {"q": "x" * 300}}],
        },
        {"session_id": "short", "events": page_views("/")},
        {"session_id": session, "events": page_views(*["/"] * 51)},
    ]
    for body in cases:
        response = await client.post(f"{ANALYTICS}/events", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_event_rejects_non_finite_number(
    client: httpx.AsyncClient, db_session: AsyncSession, number: str
) -> None:
    """Python's json module reads the literals NaN and Infinity, and 1e400 as
    infinity, but PostgreSQL's JSON types have no such numbers."""
    session = session_id()
    consent = await client.post(
        f"{ANALYTICS}/consent",
        json={"session_id": session, "analytics": True, "policy_version": "v1"},
    )
    assert consent.status_code == 201
    events = (
        '[{"type": "search", "properties": {"q": "saree", "rank": 1.5}},'
        f' {{"type": "search", "properties": {{"a": {number}}}}}]'
    )

    response = await client.post(
        f"{ANALYTICS}/events",
        content=f'{{"session_id": "{session}", "events": {events}}}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["events.1.properties.a"]
    assert "finite" in errors[0]["message"]
    assert await count_events(db_session, session) == 0


async def test_insights_are_admin_only(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    headers = await register_and_login(client)
    for path in ("voice", "usage"):
        assert (
            await client.get(f"{ANALYTICS}/{path}", headers=headers)
        ).status_code == 403
        assert (await client.get(f"{ANALYTICS}/{path}")).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "9999-12-01", "to": "9999-12-31"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ],
)
async def test_insights_reject_days_out_of_range(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    params: dict[str, str],
    field: str,
) -> None:
    headers = await admin_headers(client, db_session)
    for path in ("voice", "usage"):
        response = await client.get(
            f"{ANALYTICS}/{path}", params=params, headers=headers
        )

        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field


def true_percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


async def test_voice_insights_on_known_data(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await admin_headers(client, db_session)
    first = date(2031, 3, 1)
    transcribe = [float(ms) for ms in range(100, 1100, 10)]  # 100 values
    for n, ms in enumerate(transcribe):
        await store(
            db_session,
            first + timedelta(days=n % 3),
            intent="search" if n % 4 else "fallback",
            success=bool(n % 4),
            transcript="Show me RED dresses!" if n % 4 else "sing me a song",
            timings={"transcribe": ms, "understand": 0.2},
        )
    # Outside the range: not counted.
    await store(db_session, first - timedelta(days=1), intent="greeting")

    response = await client.get(
        f"{ANALYTICS}/voice",
        params={"from": "2031-03-01", "to": "2031-03-04"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == "2031-03-01"
    assert body["to"] == "2031-03-04"
    assert body["interactions"] == 100
    assert body["successes"] == 75
    assert body["success_rate"] == 0.75
    assert body["top_intents"] == [
        {"intent": "search", "count": 75, "successes": 75},
        {"intent": "fallback", "count": 25, "successes": 0},
    ]
    assert body["top_queries"][0] == {
        "query": "show me red dresses",
        "count": 75,
        "unanswered": 0,
    }
    assert body["unanswered_queries"] == [
        {"query": "sing me a song", "count": 25, "unanswered": 25}
    ]
    assert [day["interactions"] for day in body["series"]] == [34, 33, 33, 0]
    assert "Approximate" in body["percentiles"]
    stages = {stage["stage"]: stage for stage in body["latency_ms"]}
    assert stages["transcribe"]["count"] == 100
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        truth = true_percentile(transcribe, fraction)
        low, high = stages["transcribe"][name]["bucket_ms"]
        assert low <= truth < high, (name, truth, low, high)
        assert stages["transcribe"][name]["ms"] == high
        assert high / low < 1.2  # within one bucket of about 19%
    assert stages["understand"]["p99"]["bucket_ms"] == [0.0, 0.5]

    # The whole month reads the monthly query rollup, plus the day before
    # from the daily one: the same lists, and the extra day's query.
    month = await client.get(
        f"{ANALYTICS}/voice",
        params={"from": "2031-02-28", "to": "2031-03-31", "top": 3},
        headers=admin,
    )
    body = month.json()
    assert body["interactions"] == 101
    assert body["top_queries"] == [
        {"query": "show me red dresses", "count": 76, "unanswered": 0},
        {"query": "sing me a song", "count": 25, "unanswered": 25},
    ]
    assert body["unanswered_queries"] == [
        {"query": "sing me a song", "count": 25, "unanswered": 25}
    ]
    # And a day after the month, from the daily rollup again.
    await store(db_session, date(2031, 4, 1), transcript="sing me a song")
    tail = await client.get(
        f"{ANALYTICS}/voice",
        params={"from": "2031-02-28", "to": "2031-04-01", "top": 3},
        headers=admin,
    )
    assert tail.json()["top_queries"][1] == {
        "query": "sing me a song",
        "count": 26,
        "unanswered": 25,
    }


async def test_rollups_match_recomputation(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    import random

    generator = random.Random(3)
    first = date(2032, 5, 1)
    sessions = [session_id() for _ in range(7)]
    users = []
    for _ in range(3):
        headers = await register_and_login(client)
        me = await client.get("/api/v1/users/me", headers=headers)
        users.append(uuid.UUID(me.json()["id"]))
    texts = ["red dress", "Red  dress?", "open my cart", "", "what's new", "blue kurta"]
    for _ in range(150):
        await store(
            db_session,
            first + timedelta(days=generator.randrange(5)),
            hour=generator.randrange(24),
            user_id=generator.choice([None, *users]),
            session=generator.choice(sessions),
            transcript=generator.choice(texts),
            intent=generator.choice(["search", "cart", "fallback"]),
            success=generator.random() < 0.7,
            timings={
                "decode": generator.uniform(0, 20),
                "transcribe": generator.lognormvariate(6, 1),
                "total": generator.lognormvariate(6.2, 1),
            },
        )
    connection = await db_session.connection()
    params = {"first": first, "last": first + timedelta(days=4)}
    day = "(created_at AT TIME ZONE 'UTC')::date"
    raw = f"FROM voice_interactions WHERE {day} BETWEEN :first AND :last"
    pairs = [
        (
            "SELECT day, intent, interactions, successes FROM analytics_voice_daily "
            "WHERE day BETWEEN :first AND :last ORDER BY 1, 2",
            f"SELECT {day}, intent, count(*), count(*) FILTER (WHERE success) {raw} "
            "GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "SELECT day, stage, bucket, count FROM analytics_voice_latency "
            "WHERE day BETWEEN :first AND :last ORDER BY 1, 2, 3",
            f"SELECT {day}, t.key, pravis_latency_bucket(t.value::float8), count(*) "
            f"FROM voice_interactions, jsonb_each_text(timings_ms) t WHERE {day} "
            "BETWEEN :first AND :last GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
        (
            "SELECT day, query, count, unanswered FROM analytics_voice_queries "
            "WHERE day BETWEEN :first AND :last ORDER BY 1, 2",
            f"SELECT {day}, pravis_normalise_query(transcript), count(*), "
            f"count(*) FILTER (WHERE NOT success) {raw} "
            "AND pravis_normalise_query(transcript) <> '' GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "SELECT month, query, count, unanswered "
            "FROM analytics_voice_queries_monthly "
            "WHERE month = :first ORDER BY 1, 2",
            "SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date, "
            "pravis_normalise_query(transcript), count(*), "
            "count(*) FILTER (WHERE NOT success) FROM voice_interactions "
            "WHERE date_trunc('month', created_at AT TIME ZONE 'UTC')::date = :first "
            "AND pravis_normalise_query(transcript) <> '' GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "SELECT day, kind, actor FROM analytics_usage_actors "
            "WHERE day BETWEEN :first AND :last ORDER BY 1, 2, 3",
            f"SELECT * FROM (SELECT DISTINCT {day}, 'session', "
            "encode(sha256(convert_to('s:' || session_id, 'UTF8')), 'hex') "
            f"{raw} UNION SELECT DISTINCT {day}, 'user', "
            "encode(sha256(convert_to('u:' || user_id::text, 'UTF8')), 'hex') "
            f"{raw} AND user_id IS NOT NULL) x ORDER BY 1, 2, 3",
        ),
    ]
    for rollup, recomputed in pairs:
        kept = [
            tuple(row) for row in (await connection.execute(text(rollup), params)).all()
        ]
        again = [
            tuple(row)
            for row in (await connection.execute(text(recomputed), params)).all()
        ]
        assert kept, rollup
        assert kept == again, rollup
    # The SQL bucket function and its Python twin agree.
    for ms in (0.0, 0.49, 0.5, 0.7, 1.0, 3.3, 99.9, 1234.5, 10**6):
        sql = await connection.scalar(
            text("SELECT pravis_latency_bucket(:ms)"), {"ms": ms}
        )
        assert sql == bucket_of(ms), ms
        low, high = bounds(bucket_of(ms))
        assert low <= ms
        assert high is None or ms < high


async def test_rollups_keep_counts_when_an_account_is_erased(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    admin = await admin_headers(client, db_session)
    headers = await register_and_login(client)
    me = (await client.get("/api/v1/users/me", headers=headers)).json()
    day = date(2033, 7, 7)
    for _ in range(3):
        await store(db_session, day, user_id=uuid.UUID(me["id"]))
    params = {"from": day.isoformat(), "to": day.isoformat()}
    before = (
        await client.get(f"{ANALYTICS}/voice", params=params, headers=admin)
    ).json()
    usage_before = (
        await client.get(f"{ANALYTICS}/usage", params=params, headers=admin)
    ).json()
    assert before["interactions"] == 3
    assert usage_before["active_users"] == 1
    assert (await client.delete("/api/v1/users/me", headers=headers)).status_code == 204
    connection = await db_session.connection()
    left = await connection.scalar(
        text("SELECT count(*) FROM voice_interactions WHERE user_id = :u"),
        {"u": me["id"]},
    )
    assert left == 0
    after = (
        await client.get(f"{ANALYTICS}/voice", params=params, headers=admin)
    ).json()
    usage_after = (
        await client.get(f"{ANALYTICS}/usage", params=params, headers=admin)
    ).json()
    assert after == before
    assert usage_after == usage_before


async def test_usage_insights_count_events(
    client: httpx.AsyncClient, db_session: AsyncSession, catalogue: None
) -> None:
    admin = await admin_headers(client, db_session)
    products = (await client.get("/api/v1/products", params={"page_size": 2})).json()
    first, second = (item["id"] for item in products["items"])
    marker = uuid.uuid4().hex[:8]
    today = datetime.now(UTC).date().isoformat()
    params = {"from": today, "to": today, "top": 100}
    before = (
        await client.get(f"{ANALYTICS}/usage", params=params, headers=admin)
    ).json()
    for n in range(3):
        session = session_id()
        await client.post(
            f"{ANALYTICS}/consent",
            json={"session_id": session, "analytics": True, "policy_version": "v1"},
        )
        events: list[dict[str, Any]] = page_views(
            f"/{marker}/home?utm=x", f"/{marker}/sarees"
        )[: n + 1]
        events += [
            {"type": "product_view", "product_id": first},
            {"type": "add_to_cart", "product_id": first, "properties": {"size": "M"}},
        ]
        if n == 0:
            events.append({"type": "product_click", "product_id": second})
        response = await client.post(
            f"{ANALYTICS}/events", json={"session_id": session, "events": events}
        )
        assert response.json()["accepted"] == len(events)
    body = (await client.get(f"{ANALYTICS}/usage", params=params, headers=admin)).json()
    assert body["sessions"] == before["sessions"] + 3
    assert body["page_views"] == before["page_views"] + 5
    pages = {page["path"]: page["views"] for page in body["top_pages"]}
    assert pages[f"/{marker}/home"] == 3
    assert pages[f"/{marker}/sarees"] == 2
    top = {item["product_id"]: item for item in body["top_products"]}
    assert top[first]["views"] >= 3
    assert top[first]["add_to_cart"] >= 3
    assert top[first]["name"] == products["items"][0]["name"]
    assert top[second]["clicks"] >= 1
    assert body["series"][-1]["day"] == today
