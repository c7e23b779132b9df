"""Refresh and password reset token rows. Callers commit."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.auth_token import PasswordResetToken, RefreshToken


async def get_refresh_token_for_update(
    session: AsyncSession, token_hash: str
) -> RefreshToken | None:
    """Fetch and lock the row, so two uses of one token are seen one by one."""
    statement = (
        select(RefreshToken)
        .where(RefreshToken.token_hash == token_hash)
        .with_for_update()
    )
    return (await session.exec(statement)).first()


async def revoke_refresh_family(
    session: AsyncSession, family_id: uuid.UUID, now: datetime
) -> datetime | None:
    """Revoke every token of a login session.

    Returns the latest expiry of an access token issued in the session, or
    None when the session has no tokens.
    """
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id)
        .where(col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    statement = select(func.max(RefreshToken.access_expires_at)).where(
        RefreshToken.family_id == family_id
    )
    return (await session.exec(statement)).one()


async def revoke_user_refresh_tokens(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id)
        .where(col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def delete_expired_refresh_tokens(session: AsyncSession, now: datetime) -> int:
    result = await session.exec(
        delete(RefreshToken).where(col(RefreshToken.expires_at) <= now)
    )
    return result.rowcount


async def get_reset_token_for_update(
    session: AsyncSession, token_hash: str
) -> PasswordResetToken | None:
    statement = (
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == token_hash)
        .with_for_update()
    )
    return (await session.exec(statement)).first()


async def count_recent_reset_tokens(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, window: timedelta
) -> int:
    statement = (
        select(func.count())
        .select_from(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id)
        .where(PasswordResetToken.created_at > now - window)
    )
    return (await session.exec(statement)).one()


async def use_up_reset_tokens(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    """Mark every unused reset token of the user as used."""
    await session.exec(
        update(PasswordResetToken)
        .where(col(PasswordResetToken.user_id) == user_id)
        .where(col(PasswordResetToken.used_at).is_(None))
        .values(used_at=now)
    )


async def delete_expired_reset_tokens(session: AsyncSession, now: datetime) -> int:
    result = await session.exec(
        delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) <= now)
    )
    return result.rowcount
