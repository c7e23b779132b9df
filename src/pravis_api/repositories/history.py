"""A shopper's stored interactions: history reads, deletions and retention."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, tuple_, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.feedback import InteractionFeedback
from pravis_api.models.voice_interaction import VoiceInteraction


async def delete_user_interactions(
    session: AsyncSession, user_id: uuid.UUID
) -> list[str]:
    """Delete every interaction of a user; return their recordings' blob names."""
    statement = (
        delete(VoiceInteraction)
        .where(col(VoiceInteraction.user_id) == user_id)
        .returning(col(VoiceInteraction.recording_blob))
    )
    result = await session.exec(statement)
    return [name for (name,) in result.all() if name is not None]


async def delete_user_interaction(
    session: AsyncSession, user_id: uuid.UUID, interaction_id: uuid.UUID
) -> tuple[bool, str | None]:
    """Delete one interaction of a user; return whether it existed and its
    recording's blob name."""
    statement = (
        delete(VoiceInteraction)
        .where(col(VoiceInteraction.id) == interaction_id)
        .where(col(VoiceInteraction.user_id) == user_id)
        .returning(col(VoiceInteraction.recording_blob))
    )
    row = (await session.exec(statement)).first()
    if row is None:
        return False, None
    return True, row[0]


async def get_user_interaction(
    session: AsyncSession, user_id: uuid.UUID, interaction_id: uuid.UUID
) -> VoiceInteraction | None:
    """Return the interaction if it belongs to the user, else None."""
    statement = (
        select(VoiceInteraction)
        .where(VoiceInteraction.id == interaction_id)
        .where(VoiceInteraction.user_id == user_id)
    )
    return (await session.exec(statement)).first()


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    # created_at >= since and created_at < until; None leaves a side open.
    since: datetime | None = None
    until: datetime | None = None
    intents: Sequence[str] = ()


async def list_user_interactions(
    session: AsyncSession,
    user_id: uuid.UUID,
    history_filter: HistoryFilter,
    *,
    offset: int,
    limit: int,
) -> tuple[list[tuple[VoiceInteraction, InteractionFeedback | None]], int]:
    """Return one page of a user's interactions, newest first, each with the
    user's feedback on it, and the number that match."""
    conditions = [col(VoiceInteraction.user_id) == user_id]
    if history_filter.since is not None:
        conditions.append(col(VoiceInteraction.created_at) >= history_filter.since)
    if history_filter.until is not None:
        conditions.append(col(VoiceInteraction.created_at) < history_filter.until)
    if history_filter.intents:
        conditions.append(col(VoiceInteraction.intent).in_(history_filter.intents))

    count = select(func.count()).select_from(VoiceInteraction).where(*conditions)
    total = (await session.exec(count)).one()
    statement = (
        select(VoiceInteraction, InteractionFeedback)
        .outerjoin(
            InteractionFeedback,
            and_(
                col(InteractionFeedback.interaction_id) == VoiceInteraction.id,
                col(InteractionFeedback.user_id) == user_id,
            ),
        )
        .where(*conditions)
        .order_by(col(VoiceInteraction.created_at).desc(), col(VoiceInteraction.id))
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.exec(statement)).all()
    return [(interaction, feedback) for interaction, feedback in rows], total


@dataclass(frozen=True, slots=True)
class StoredRecording:
    interaction_id: uuid.UUID
    created_at: datetime
    blob_name: str


async def list_recordings_before(
    session: AsyncSession,
    cutoff: datetime,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[StoredRecording]:
    """Return recordings made before `cutoff`, oldest first, starting after
    the (created_at, id) key `after`."""
    statement = select(
        VoiceInteraction.id,
        VoiceInteraction.created_at,
        VoiceInteraction.recording_blob,
    ).where(
        col(VoiceInteraction.recording_blob).is_not(None),
        col(VoiceInteraction.created_at) < cutoff,
    )
    if after is not None:
        statement = statement.where(
            tuple_(col(VoiceInteraction.created_at), col(VoiceInteraction.id))
            > tuple_(*after)
        )
    statement = statement.order_by(
        col(VoiceInteraction.created_at), col(VoiceInteraction.id)
    ).limit(limit)
    rows = (await session.exec(statement)).all()
    return [
        StoredRecording(interaction_id, created_at, blob_name)
        for interaction_id, created_at, blob_name in rows
        if blob_name is not None
    ]


async def remove_recordings(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> None:
    """Remove deleted recordings from their interactions: anonymous
    interactions are deleted, a signed-in shopper's keep their text."""
    if not interaction_ids:
        return
    in_batch = col(VoiceInteraction.id).in_(interaction_ids)
    await session.exec(
        delete(VoiceInteraction).where(
            in_batch, col(VoiceInteraction.user_id).is_(None)
        )
    )
    await session.exec(
        update(VoiceInteraction)
        .where(in_batch, col(VoiceInteraction.user_id).is_not(None))
        .values(recording_blob=None)
    )


def _anonymous_before(cutoff: datetime) -> list[Any]:
    return [
        col(VoiceInteraction.user_id).is_(None),
        col(VoiceInteraction.recording_blob).is_(None),
        col(VoiceInteraction.created_at) < cutoff,
    ]


async def delete_anonymous_before(
    session: AsyncSession, cutoff: datetime, *, limit: int
) -> int:
    """Delete up to `limit` anonymous interactions without a recording made
    before `cutoff`; return how many were deleted."""
    batch = select(VoiceInteraction.id).where(*_anonymous_before(cutoff)).limit(limit)
    result = await session.exec(
        delete(VoiceInteraction).where(col(VoiceInteraction.id).in_(batch))
    )
    return result.rowcount


async def count_purgeable(session: AsyncSession, cutoff: datetime) -> tuple[int, int]:
    """Count recordings, and anonymous interactions, made before `cutoff`."""
    recordings = select(func.count()).where(
        col(VoiceInteraction.recording_blob).is_not(None),
        col(VoiceInteraction.created_at) < cutoff,
    )
    anonymous = select(func.count()).where(
        col(VoiceInteraction.user_id).is_(None),
        col(VoiceInteraction.created_at) < cutoff,
    )
    return (
        (await session.exec(recordings.select_from(VoiceInteraction))).one(),
        (await session.exec(anonymous.select_from(VoiceInteraction))).one(),
    )
