import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.text import normalise_email
from pravis_api.models.user import User


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """Fetch the user and lock the row until the transaction ends.

    The lock conflicts with the key-share lock that inserting a row with a
    foreign key to the user takes, so no such row can be added meanwhile.
    """
    statement = select(User).where(User.id == user_id).with_for_update()
    return (await session.exec(statement)).first()


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
