"""Deleting blobs whose rows were deleted, without leaving orphans.

The names are queued in `blob_deletions` in the transaction that deletes
the rows. After the commit the blobs are deleted and their names removed
from the queue. A name whose deletion fails stays queued and is logged;
`pravis-api purge` retries it.
"""

import asyncio
import logging
from collections.abc import Sequence

from azure.core.exceptions import AzureError
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.repositories.blob_deletions import (
    queue_blob_deletions,
    remove_blob_deletions,
)
from pravis_api.services.storage import BlobStore

logger = logging.getLogger(__name__)

# Deletions in flight at once.
_CONCURRENCY = 8


async def delete_blobs(
    blobs: BlobStore, names: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Delete blobs; return the names deleted and the names that failed.

    After the first failure the remaining names are not tried, because
    storage is most likely down and each try would wait for its timeout.
    """
    semaphore = asyncio.Semaphore(_CONCURRENCY)
    errors: list[BaseException] = []

    async def delete_one(name: str) -> bool:
        async with semaphore:
            if errors:
                return False
            try:
                await blobs.delete(name)
            except (AzureError, OSError, TimeoutError) as exc:
                errors.append(exc)
                return False
            return True

    results = await asyncio.gather(*(delete_one(name) for name in names))
    deleted = [name for name, ok in zip(names, results, strict=True) if ok]
    failed = [name for name, ok in zip(names, results, strict=True) if not ok]
    if failed:
        logger.error(
            "storage.blob_delete_failed",
            extra={
                "count": len(failed),
                "blobs": failed,
                "error": repr(errors[0]) if errors else None,
                "retry": "queued in blob_deletions for pravis-api purge",
            },
        )
    return deleted, failed


class BlobCleanup:
    def __init__(self, session: AsyncSession, blobs: BlobStore) -> None:
        self.session = session
        self.blobs = blobs

    async def queue(self, names: Sequence[str]) -> None:
        """Queue blobs for deletion in the caller's transaction."""
        await queue_blob_deletions(self.session, names)

    async def delete_queued(self, names: Sequence[str]) -> list[str]:
        """Delete queued blobs after the commit; return the names that failed."""
        if not names:
            return []
        deleted, failed = await delete_blobs(self.blobs, names)
        await remove_blob_deletions(self.session, deleted)
        await self.session.commit()
        return failed
