"""The purge run by `pravis-api purge`: removes what is past retention.

Past VOICE_RETENTION_DAYS, every recording is deleted from Blob Storage.
A signed-in shopper's interaction keeps its text in their history, while an
anonymous shopper's interaction is deleted. A row keeps naming its
recording until the blob is deleted, so a failed deletion is retried by the
next run and no blob is left without a row. The purge also retries queued
blob deletions and deletes expired refresh and reset tokens.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.base import utc_now
from pravis_api.repositories.auth_tokens import (
    delete_expired_refresh_tokens,
    delete_expired_reset_tokens,
)
from pravis_api.repositories.blob_deletions import (
    count_blob_deletions,
    list_blob_deletions,
    remove_blob_deletions,
)
from pravis_api.repositories.history import (
    count_purgeable,
    delete_anonymous_before,
    list_recordings_before,
    remove_recordings,
)
from pravis_api.services.blob_cleanup import delete_blobs
from pravis_api.services.storage import BlobStore

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass(slots=True)
class PurgeReport:
    cutoff: datetime
    recordings_deleted: int = 0
    anonymous_interactions_deleted: int = 0
    queued_blobs_deleted: int = 0
    # Blobs whose deletion failed; they are retried by the next run.
    blobs_failed: int = 0
    expired_tokens_deleted: int = 0


@dataclass(slots=True)
class PurgePreview:
    cutoff: datetime
    recordings: int
    anonymous_interactions: int
    queued_blobs: int


def retention_cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or utc_now()) - timedelta(days=retention_days)


async def preview_purge(
    session: AsyncSession, retention_days: int, now: datetime | None = None
) -> PurgePreview:
    """Count what a purge would remove, without removing anything."""
    cutoff = retention_cutoff(retention_days, now)
    recordings, anonymous = await count_purgeable(session, cutoff)
    queued = await count_blob_deletions(session)
    await session.commit()
    return PurgePreview(cutoff, recordings, anonymous, queued)


async def purge(
    session: AsyncSession,
    blobs: BlobStore,
    retention_days: int,
    now: datetime | None = None,
) -> PurgeReport:
    now = now or utc_now()
    report = PurgeReport(cutoff=retention_cutoff(retention_days, now))
    storage_up = await _purge_recordings(session, blobs, report)
    await _purge_anonymous_interactions(session, report)
    if storage_up:
        await _retry_queued_deletions(session, blobs, report)

    report.expired_tokens_deleted = await delete_expired_refresh_tokens(
        session, now
    ) + await delete_expired_reset_tokens(session, now)
    await session.commit()
    logger.info("retention.purge_completed", extra=asdict(report))
    return report


async def _purge_recordings(
    session: AsyncSession, blobs: BlobStore, report: PurgeReport
) -> bool:
    """Delete recordings past the cutoff, in batches; return False when a
    deletion failed, which ends this step until the next run."""
    after = None
    while True:
        batch = await list_recordings_before(
            session, report.cutoff, after=after, limit=BATCH_SIZE
        )
        if not batch:
            return True
        deleted, failed = await delete_blobs(
            blobs, [recording.blob_name for recording in batch]
        )
        deleted_names = set(deleted)
        await remove_recordings(
            session,
            [r.interaction_id for r in batch if r.blob_name in deleted_names],
        )
        await session.commit()
        report.recordings_deleted += len(deleted)
        if failed:
            report.blobs_failed += len(failed)
            return False
        after = (batch[-1].created_at, batch[-1].interaction_id)


async def _purge_anonymous_interactions(
    session: AsyncSession, report: PurgeReport
) -> None:
    while True:
        deleted = await delete_anonymous_before(
            session, report.cutoff, limit=BATCH_SIZE
        )
        await session.commit()
        report.anonymous_interactions_deleted += deleted
        if deleted < BATCH_SIZE:
            return


async def _retry_queued_deletions(
    session: AsyncSession, blobs: BlobStore, report: PurgeReport
) -> None:
    after = ""
    while True:
        names = await list_blob_deletions(session, after=after, limit=BATCH_SIZE)
        if not names:
            return
        deleted, failed = await delete_blobs(blobs, names)
        await remove_blob_deletions(session, deleted)
        await session.commit()
        report.queued_blobs_deleted += len(deleted)
        if failed:
            report.blobs_failed += len(failed)
            return
        after = names[-1]
