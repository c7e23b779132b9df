"""The purge removes exactly what is past retention, and retries what it
could not delete."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.models.auth_token import RefreshToken
from pravis_api.models.base import utc_now
from pravis_api.models.user import User
from pravis_api.models.voice_interaction import VoiceInteraction
from pravis_api.repositories.blob_deletions import queue_blob_deletions
from pravis_api.services.retention import preview_purge, purge
from pravis_api.services.storage import BlobStore, create_blob_service
from tests.conftest import make_settings
from tests.helpers import add_interaction, blob_names, upload_blob
from tests.servers import azurite_connection_string, free_port

RETENTION_DAYS = 90


async def new_user(session: AsyncSession) -> uuid.UUID:
    user = User(
        email=f"retention-{uuid.uuid4().hex[:8]}@example.com", hashed_password="x"
    )
    session.add(user)
    await session.commit()
    return user.id


async def add_recorded(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID | None,
    created_at: datetime,
) -> VoiceInteraction:
    name = f"recordings/test/{uuid.uuid4()}.wav"
    await upload_blob(settings, name, b"RIFF")
    return await add_interaction(
        session, user_id, created_at=created_at, recording_blob=name
    )


def blobs_of(app: FastAPI) -> BlobStore:
    blobs: BlobStore = app.state.resources.blobs
    return blobs


async def reload(session: AsyncSession, row: VoiceInteraction) -> Any:
    result = await session.exec(
        text("SELECT recording_blob FROM voice_interactions WHERE id = :id"),
        params={"id": row.id},
    )
    return result.first()


async def test_purge_removes_exactly_past_retention(
    app: FastAPI, db_session: AsyncSession, settings: Settings
) -> None:
    now = utc_now()
    cutoff = now - timedelta(days=RETENTION_DAYS)
    before, after = cutoff - timedelta(seconds=1), cutoff + timedelta(seconds=1)
    user_id = await new_user(db_session)

    user_old_recorded = await add_recorded(db_session, settings, user_id, before)
    user_new_recorded = await add_recorded(db_session, settings, user_id, after)
    user_old_typed = await add_interaction(db_session, user_id, created_at=before)
    anonymous_old_recorded = await add_recorded(db_session, settings, None, before)
    anonymous_old_typed = await add_interaction(db_session, None, created_at=before)
    anonymous_new_recorded = await add_recorded(db_session, settings, None, after)
    anonymous_new_typed = await add_interaction(db_session, None, created_at=after)
    queued = f"recordings/test/{uuid.uuid4()}.wav"
    await upload_blob(settings, queued, b"RIFF")
    await queue_blob_deletions(db_session, [queued])
    db_session.add(
        RefreshToken(
            user_id=user_id,
            family_id=uuid.uuid4(),
            token_hash=uuid.uuid4().hex,
            access_jti=uuid.uuid4().hex,
            access_expires_at=now,
            expires_at=now - timedelta(seconds=1),
        )
    )
    await db_session.commit()

    report = await purge(db_session, blobs_of(app), RETENTION_DAYS, now=now)

    assert report.recordings_deleted == 2
    assert report.anonymous_interactions_deleted == 1
    assert report.blobs_failed == 0
    assert report.expired_tokens_deleted >= 1
    remaining = await blob_names(settings)
    # A signed-in shopper's old interaction stays, without its recording.
    assert tuple(await reload(db_session, user_old_recorded)) == (None,)
    assert user_old_recorded.recording_blob not in remaining
    assert tuple(await reload(db_session, user_old_typed)) == (None,)
    # An anonymous shopper's old interactions go, with the recording.
    assert await reload(db_session, anonymous_old_recorded) is None
    assert anonymous_old_recorded.recording_blob not in remaining
    assert await reload(db_session, anonymous_old_typed) is None
    # Anything inside the retention period stays as it was.
    for row in (user_new_recorded, anonymous_new_recorded):
        assert tuple(await reload(db_session, row)) == (row.recording_blob,)
        assert row.recording_blob in remaining
    assert await reload(db_session, anonymous_new_typed) is not None
    # The queued blob is deleted and leaves the queue.
    assert queued not in remaining
    queue = await db_session.exec(
        text("SELECT count(*) FROM blob_deletions WHERE name = :name"),
        params={"name": queued},
    )
    assert queue.one()[0] == 0


async def test_purge_keeps_rows_when_storage_down(
    app: FastAPI, db_session: AsyncSession, settings: Settings
) -> None:
    now = utc_now()
    old = now - timedelta(days=RETENTION_DAYS + 1)
    anonymous = await add_recorded(db_session, settings, None, old)
    user_row = await add_recorded(db_session, settings, await new_user(db_session), old)
    unreachable = make_settings(
        azure_storage_connection_string=azurite_connection_string(free_port()),
        blob_timeout_seconds=1,
    )
    dead_store = BlobStore(
        create_blob_service(unreachable), settings.azure_storage_container_name, 1
    )
    try:
        failed = await purge(db_session, dead_store, RETENTION_DAYS, now=now)
    finally:
        await dead_store.close()

    assert failed.blobs_failed >= 1
    assert failed.recordings_deleted == 0
    # Every row still names its blob, so nothing is orphaned.
    for row in (anonymous, user_row):
        assert tuple(await reload(db_session, row)) == (row.recording_blob,)

    retried = await purge(db_session, blobs_of(app), RETENTION_DAYS, now=now)

    assert retried.blobs_failed == 0
    assert await reload(db_session, anonymous) is None
    assert tuple(await reload(db_session, user_row)) == (None,)
    remaining = await blob_names(settings)
    assert anonymous.recording_blob not in remaining
    assert user_row.recording_blob not in remaining


async def test_purge_preview_changes_nothing(
    db_session: AsyncSession, settings: Settings
) -> None:
    now = utc_now()
    old = now - timedelta(days=RETENTION_DAYS + 1)
    recorded = await add_recorded(db_session, settings, None, old)
    await add_interaction(db_session, None, created_at=old)

    preview = await preview_purge(db_session, RETENTION_DAYS, now=now)

    assert preview.cutoff == now - timedelta(days=RETENTION_DAYS)
    assert preview.recordings >= 1
    assert preview.anonymous_interactions >= 2
    assert tuple(await reload(db_session, recorded)) == (recorded.recording_blob,)
    assert recorded.recording_blob in await blob_names(settings)
