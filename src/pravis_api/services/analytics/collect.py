"""Consent decisions and client events, with the usage rollups they feed."""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.errors import FieldError, InvalidInputError
from pravis_api.models.analytics import ConsentDecision
from pravis_api.repositories.interactions import session_actor, user_actor
from pravis_api.schemas.analytics import (
    ConsentIn,
    ConsentPublic,
    ConsentState,
    EventBatch,
    EventsAccepted,
)


def address_hash(settings: Settings, address: str) -> str:
    """HMAC-SHA-256 of the client address under the configured salt."""
    if settings.analytics_address_salt is not None:
        salt = settings.analytics_address_salt.get_secret_value().encode()
    else:
        salt = hashlib.sha256(
            b"pravis-consent-address:" + settings.secret_key.get_secret_value().encode()
        ).digest()
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()


def _subject(user_id: uuid.UUID | None, session_id: str | None) -> str:
    return f"user:{user_id}" if user_id is not None else f"session:{session_id}"


async def latest_decision(
    session: AsyncSession, subject: str
) -> ConsentDecision | None:
    result = await session.exec(
        select(ConsentDecision)
        .where(ConsentDecision.subject == subject)
        .order_by(col(ConsentDecision.version).desc())
        .limit(1)
    )
    return result.first()


def _public(decision: ConsentDecision) -> ConsentPublic:
    return ConsentPublic(
        subject="user" if decision.user_id is not None else "session",
        version=decision.version,
        analytics=decision.analytics,
        policy_version=decision.policy_version,
        decided_at=decision.created_at,
    )


async def record_consent(
    session: AsyncSession,
    settings: Settings,
    payload: ConsentIn,
    user_id: uuid.UUID | None,
    client_address: str | None,
) -> ConsentPublic:
    """Store the decision as the subject's next version and commit."""
    if user_id is None and payload.session_id is None:
        raise InvalidInputError(
            "An anonymous shopper's consent needs the session_id the frontend "
            "sends with its events; or sign in.",
            errors=[FieldError("session_id", "required without a signed-in user")],
        )
    subject = _subject(user_id, payload.session_id)
    # Serialise decisions of one subject, so versions do not collide.
    connection = await session.connection()
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:subject, 7))"),
        {"subject": subject},
    )
    previous = await latest_decision(session, subject)
    decision = ConsentDecision(
        subject=subject,
        user_id=user_id,
        session_id=payload.session_id,
        version=(previous.version + 1) if previous else 1,
        analytics=payload.analytics,
        policy_version=payload.policy_version,
        address_hash=address_hash(settings, client_address) if client_address else None,
    )
    session.add(decision)
    await session.commit()
    return _public(decision)


async def current_consent(
    session: AsyncSession, user_id: uuid.UUID | None, session_id: str | None
) -> ConsentDecision | None:
    """A signed-in shopper's own decision, else the session's."""
    if user_id is not None:
        decision = await latest_decision(session, _subject(user_id, None))
        if decision is not None:
            return decision
    if session_id is not None:
        return await latest_decision(session, _subject(None, session_id))
    return None


async def read_consent(
    session: AsyncSession, user_id: uuid.UUID | None, session_id: str | None
) -> ConsentPublic | None:
    decision = await current_consent(session, user_id, session_id)
    return _public(decision) if decision else None


_STORE_EVENTS = """
WITH inserted AS (
  INSERT INTO analytics_events
    (id, created_at, occurred_at, type, session_id, user_id, path, product_id,
     properties)
  SELECT e.id, $1, e.occurred_at, e.type, $2, $3, e.path, e.product_id,
         e.properties::jsonb
  FROM unnest($4::uuid[], $5::timestamptz[], $6::varchar[], $7::varchar[],
              $8::uuid[], $9::text[])
       AS e(id, occurred_at, type, path, product_id, properties)
  RETURNING type, path, product_id
), pages AS (
  INSERT INTO analytics_usage_pages AS r (day, path, views)
  SELECT $10::date, path, count(*) FROM inserted
  WHERE type = 'page_view' AND path IS NOT NULL GROUP BY path
  ON CONFLICT (day, path) DO UPDATE SET views = r.views + EXCLUDED.views
  RETURNING 1
), products AS (
  INSERT INTO analytics_usage_products AS r (day, product_id, event_type, count)
  SELECT $10::date, product_id, type, count(*) FROM inserted
  WHERE product_id IS NOT NULL GROUP BY product_id, type
  ON CONFLICT (day, product_id, event_type)
  DO UPDATE SET count = r.count + EXCLUDED.count
  RETURNING 1
), actors AS (
  INSERT INTO analytics_usage_actors (day, kind, actor)
  SELECT $10::date, a.kind, a.actor
  FROM unnest($11::varchar[], $12::varchar[]) AS a(kind, actor)
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT count(*) FROM inserted
"""


def _page_path(path: str | None) -> str | None:
    if path is None:
        return None
    return path.split("?", 1)[0].split("#", 1)[0] or "/"


async def store_events(
    session: AsyncSession,
    settings: Settings,
    batch: EventBatch,
    user_id: uuid.UUID | None,
) -> EventsAccepted:
    """Store the batch with its rollup counts when consent was given."""
    if len(batch.events) > settings.analytics_max_batch_events:
        raise InvalidInputError(
            f"A batch holds at most {settings.analytics_max_batch_events} events; "
            f"this one has {len(batch.events)}. Send the rest in another request.",
            errors=[
                FieldError(
                    "events",
                    f"at most {settings.analytics_max_batch_events} events",
                )
            ],
        )
    decision = await current_consent(session, user_id, batch.session_id)
    state: ConsentState
    if decision is None:
        state = "missing"
    elif not decision.analytics:
        state = "declined"
    else:
        state = "given"
    if state != "given":
        await session.rollback()
        return EventsAccepted(accepted=0, consent=state)

    now = datetime.now(UTC)
    kinds = ["session"]
    actors = [session_actor(batch.session_id)]
    if user_id is not None:
        kinds.append("user")
        actors.append(user_actor(user_id))
    events = batch.events
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        _STORE_EVENTS,
        (
            now,
            batch.session_id,
            user_id,
            [uuid.uuid4() for _ in events],
            [event.occurred_at for event in events],
            [event.type for event in events],
            [_page_path(event.path) for event in events],
            [event.product_id for event in events],
            [json.dumps(event.properties) for event in events],
            now.date(),
            kinds,
            actors,
        ),
    )
    stored = int(result.scalar_one())
    await session.commit()
    return EventsAccepted(accepted=stored, consent=state)
