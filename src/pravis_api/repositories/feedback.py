"""Feedback rows. The upsert commits nothing; callers commit."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.feedback import FeedbackPublic, InteractionFeedback


@dataclass(frozen=True, slots=True)
class SavedFeedback:
    feedback: FeedbackPublic
    created: bool  # False when an earlier rating was replaced


async def upsert_feedback(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    user_id: uuid.UUID,
    rating: int,
    comment: str | None,
) -> SavedFeedback:
    """Insert the user's feedback on an interaction, or replace the earlier one."""
    table = InteractionFeedback.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(
        id=uuid.uuid4(),
        interaction_id=interaction_id,
        user_id=user_id,
        rating=rating,
        comment=comment,
    )
    upsert = statement.on_conflict_do_update(
        constraint="uq_interaction_feedback_interaction_id_user_id",
        set_={
            "rating": statement.excluded.rating,
            "comment": statement.excluded.comment,
            "updated_at": func.now(),
        },
    ).returning(
        *table.c,
        # xmax is 0 on a row version written by an insert, not by an update.
        literal_column("xmax = 0").label("created"),
    )
    row = (await session.exec(upsert)).one()
    feedback = FeedbackPublic.model_validate(dict(row._mapping))
    return SavedFeedback(feedback, created=row.created)


async def get_feedback(
    session: AsyncSession, interaction_id: uuid.UUID, user_id: uuid.UUID
) -> InteractionFeedback | None:
    statement = (
        select(InteractionFeedback)
        .where(InteractionFeedback.interaction_id == interaction_id)
        .where(InteractionFeedback.user_id == user_id)
    )
    return (await session.exec(statement)).first()
