from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.voice_interaction import VoiceInteraction


async def add_interaction(session: AsyncSession, interaction: VoiceInteraction) -> None:
    session.add(interaction)
    await session.commit()
