import uuid

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.voice_interaction import VoiceInteraction


async def add_interaction(session: AsyncSession, interaction: VoiceInteraction) -> None:
    session.add(interaction)
    await session.commit()


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
