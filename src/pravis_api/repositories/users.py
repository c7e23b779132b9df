import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.text import normalise_email
from pravis_api.models.user import User


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    if "\x00" in email:
        return None  # PostgreSQL text cannot hold NUL, so no account has it
    result = await session.exec(
        select(User).where(User.email == normalise_email(email))
    )
    return result.first()


async def add_user(session: AsyncSession, user: User) -> User:
    """Insert and commit; raises IntegrityError when the e-mail is taken."""
    session.add(user)
    await session.commit()
    return user
