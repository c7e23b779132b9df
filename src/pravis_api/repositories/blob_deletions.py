"""The queue of blobs to delete. Callers commit."""

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.blob_deletion import BlobDeletion


async def queue_blob_deletions(session: AsyncSession, names: Sequence[str]) -> None:
    if not names:
        return
    statement = insert(BlobDeletion).values([{"name": name} for name in names])
    await session.exec(statement.on_conflict_do_nothing(index_elements=["name"]))


async def remove_blob_deletions(session: AsyncSession, names: Sequence[str]) -> None:
    if not names:
        return
    await session.exec(delete(BlobDeletion).where(col(BlobDeletion.name).in_(names)))


async def list_blob_deletions(
    session: AsyncSession, *, after: str = "", limit: int = 500
) -> list[str]:
    """Return queued blob names in name order, starting after `after`."""
    statement = (
        select(BlobDeletion.name)
        .where(BlobDeletion.name > after)
        .order_by(col(BlobDeletion.name))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def count_blob_deletions(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(BlobDeletion)
    return (await session.exec(statement)).one()
