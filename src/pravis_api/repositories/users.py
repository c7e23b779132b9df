import uuid

from sqlmodel import col, func, select
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


async def list_users(
    session: AsyncSession,
    *,
    email_contains: str | None,
    is_active: bool | None,
    is_admin: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[User], int]:
    """Return one page of users, newest first, and the number that match."""
    statement = select(User)
    if email_contains:
        # E-mails are stored normalised, so a normalised search is a plain
        # LIKE; autoescape makes % and _ in the search literal.
        search = normalise_email(email_contains)
        statement = statement.where(col(User.email).contains(search, autoescape=True))
    if is_active is not None:
        statement = statement.where(User.is_active == is_active)
    if is_admin is not None:
        statement = statement.where(User.is_admin == is_admin)

    count = select(func.count()).select_from(statement.subquery())
    total = (await session.exec(count)).one()
    page = statement.order_by(col(User.created_at).desc(), col(User.id)).offset(offset)
    users = (await session.exec(page.limit(limit))).all()
    return list(users), total
