"""The interaction writer commits concurrent turns in batches, rollups included."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from pravis_api.repositories import interactions as repository
from pravis_api.repositories.interactions import NewInteraction
from pravis_api.services.interaction_writer import InteractionWriter


class CountingWriter(InteractionWriter):
    """A writer that records the number of rows of each insert it sends."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app.state.resources.session_factory, query_cap=1000)
        self.inserts: list[int] = []

    async def _insert(self, interactions: list[NewInteraction]) -> None:
        self.inserts.append(len(interactions))
        await super()._insert(interactions)


def turn(intent: str, user_id: uuid.UUID | None = None) -> NewInteraction:
    return NewInteraction(
        id=uuid.uuid4(),
        created_at=datetime.now(UTC),
        user_id=user_id,
        session_id=f"writer-test-{uuid.uuid4().hex[:12]}",
        source="text",
        transcript=f"writer test {intent}",
        intent=intent,
        entities={},
        reply="A reply.",
        action=None,
        product_ids=[],
        success=True,
        timings_ms={"understand": 0.2, "total": 1.5},
    )


async def stored(app: FastAPI, interactions: list[NewInteraction]) -> int:
    async with app.state.resources.read_session_factory() as session:
        result = await session.exec(
            text("SELECT count(*) FROM voice_interactions WHERE id = ANY(:ids)"),
            params={"ids": [interaction.id for interaction in interactions]},
        )
        return int(result.one()[0])


async def daily_count(app: FastAPI, intent: str) -> int:
    async with app.state.resources.read_session_factory() as session:
        result = await session.exec(
            text(
                "SELECT coalesce(sum(interactions), 0) FROM analytics_voice_daily "
                "WHERE intent = :intent"
            ),
            params={"intent": intent},
        )
        return int(result.one()[0])


async def test_writer_batches_concurrent_turns(app: FastAPI) -> None:
    intent = f"writer-{uuid.uuid4().hex[:8]}"
    writer = CountingWriter(app)
    turns = [turn(intent) for _ in range(40)]

    await asyncio.gather(*(writer.add(interaction) for interaction in turns))

    assert await stored(app, turns) == 40
    assert await daily_count(app, intent) == 40
    assert sum(writer.inserts) == 40
    assert len(writer.inserts) < 40


async def test_writer_bad_row_fails_alone(app: FastAPI) -> None:
    intent = f"writer-{uuid.uuid4().hex[:8]}"
    writer = CountingWriter(app)
    good = [turn(intent) for _ in range(5)]
    # No such user: the foreign key rejects the row.
    bad = turn(intent, user_id=uuid.uuid4())

    results = await asyncio.gather(
        *(writer.add(interaction) for interaction in [*good, bad]),
        return_exceptions=True,
    )

    assert results[:5] == [None] * 5
    assert isinstance(results[5], IntegrityError)
    assert await stored(app, good) == 5
    assert await stored(app, [bad]) == 0
    assert await daily_count(app, intent) == 5


async def test_two_writers_opposite_orders(app: FastAPI) -> None:
    """Batches of two processes that update the same rollup rows in
    opposite orders all commit, with exact counts.

    NOTE: on the test machine this interleaving did not deadlock even
    without the batch lock, so the test does not show that the lock is
    needed, only that the batches stay correct with it.
    """
    intents = [f"writer-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    first, second = CountingWriter(app), CountingWriter(app)
    first_turns = [turn(intent) for _ in range(10) for intent in intents]
    second_turns = [turn(intent) for _ in range(10) for intent in reversed(intents)]

    await asyncio.wait_for(
        asyncio.gather(
            *(first.add(interaction) for interaction in first_turns),
            *(second.add(interaction) for interaction in second_turns),
        ),
        timeout=30,
    )

    assert await stored(app, first_turns + second_turns) == 80
    for intent in intents:
        assert await daily_count(app, intent) == 20
    # A deadlock would have failed a batch and sent its rows one at a time.
    assert 1 not in first.inserts
    assert 1 not in second.inserts


async def test_writer_cancelled_before_batch(app: FastAPI) -> None:
    writer = CountingWriter(app)
    first, second = turn("writer-cancel"), turn("writer-cancel")
    written = asyncio.create_task(writer.add(first))
    # The second row waits while the first one's batch is in flight.
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(writer.add(second))
    await asyncio.sleep(0)
    cancelled.cancel()

    await written
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await writer.close()

    assert await stored(app, [first]) == 1
    assert await stored(app, [second]) == 0


async def test_writer_lock_timeout_fails_batch(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure that is not about the rows fails the whole batch at once."""
    monkeypatch.setattr(repository, "BATCH_LOCK_TIMEOUT_MS", 200)
    writer = CountingWriter(app)
    turns = [turn("writer-lock") for _ in range(3)]
    engine = app.state.resources.engine
    async with engine.connect() as holder:
        await holder.execute(
            text("SELECT pg_advisory_lock(:key)"),
            {"key": repository.BATCH_LOCK_KEY},
        )
        try:
            results = await asyncio.gather(
                *(writer.add(interaction) for interaction in turns),
                return_exceptions=True,
            )
        finally:
            await holder.execute(
                text("SELECT pg_advisory_unlock(:key)"),
                {"key": repository.BATCH_LOCK_KEY},
            )

    for result in results:
        assert isinstance(result, DBAPIError)
        assert getattr(result.orig, "sqlstate", None) == "55P03"
    assert writer.inserts == [3]
    assert await stored(app, turns) == 0
