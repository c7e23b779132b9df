"""A signed-in shopper's voice history and recordings.

Every lookup is by interaction id and user id together, so an id that
belongs to another user gets the same 404 as an id that does not exist.
"""

import logging
import uuid
from datetime import timedelta

from azure.core.exceptions import AzureError, ResourceNotFoundError
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.errors import AppError, NotFoundError, ServiceUnavailableError
from pravis_api.models.base import utc_now
from pravis_api.models.feedback import FeedbackPublic, InteractionFeedback
from pravis_api.models.voice_interaction import (
    VoiceInteraction,
    VoiceInteractionPublic,
    VoiceInteractionsPublic,
)
from pravis_api.repositories.feedback import (
    SavedFeedback,
    get_feedback,
    upsert_feedback,
)
from pravis_api.repositories.history import (
    HistoryFilter,
    delete_user_interaction,
    delete_user_interactions,
    get_user_interaction,
    list_user_interactions,
)
from pravis_api.schemas.recording import RecordingLink
from pravis_api.services.blob_cleanup import BlobCleanup
from pravis_api.services.storage import (
    BlobDownload,
    BlobStore,
    ReadLinkUnavailableError,
)

logger = logging.getLogger(__name__)

RECORDINGS_PATH = "/api/v1/voice/recordings"


class RecordingLinkUnavailableError(AppError):
    status = 501
    code = "recording-link-unavailable"
    title = "Not Implemented"


def interaction_not_found(interaction_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(
        f"No interaction with the id {interaction_id} is in your history."
    )


def to_public(
    interaction: VoiceInteraction, feedback: InteractionFeedback | None
) -> VoiceInteractionPublic:
    recording_url = None
    if interaction.recording_blob is not None:
        recording_url = f"{RECORDINGS_PATH}/{interaction.id}"
    return VoiceInteractionPublic.model_validate(
        interaction,
        update={
            "recording_url": recording_url,
            "feedback": FeedbackPublic.model_validate(feedback) if feedback else None,
        },
    )


class HistoryService:
    def __init__(
        self, session: AsyncSession, blobs: BlobStore, *, link_minutes: int
    ) -> None:
        self.session = session
        self.blobs = blobs
        self.link_minutes = link_minutes

    async def list_page(
        self,
        user_id: uuid.UUID,
        history_filter: HistoryFilter,
        *,
        page: int,
        page_size: int,
    ) -> VoiceInteractionsPublic:
        rows, total = await list_user_interactions(
            self.session,
            user_id,
            history_filter,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
        return VoiceInteractionsPublic(
            items=[to_public(interaction, feedback) for interaction, feedback in rows],
            total=total,
            page=page,
            page_size=page_size,
        )

    async def get(
        self, user_id: uuid.UUID, interaction_id: uuid.UUID
    ) -> VoiceInteractionPublic:
        interaction = await self._own_interaction(user_id, interaction_id)
        feedback = await get_feedback(self.session, interaction_id, user_id)
        return to_public(interaction, feedback)

    async def _own_interaction(
        self, user_id: uuid.UUID, interaction_id: uuid.UUID
    ) -> VoiceInteraction:
        interaction = await get_user_interaction(self.session, user_id, interaction_id)
        if interaction is None:
            raise interaction_not_found(interaction_id)
        return interaction

    async def delete(self, user_id: uuid.UUID, interaction_id: uuid.UUID) -> None:
        """Delete one interaction with its recording and feedback."""
        found, blob_name = await delete_user_interaction(
            self.session, user_id, interaction_id
        )
        if not found:
            await self.session.rollback()
            raise interaction_not_found(interaction_id)
        names = [blob_name] if blob_name else []
        await self._commit_and_delete_blobs(names)
        logger.info(
            "history.interaction_deleted",
            extra={"user_id": str(user_id), "interaction_id": str(interaction_id)},
        )

    async def delete_all(self, user_id: uuid.UUID) -> None:
        """Delete every interaction of the user, with recordings and feedback."""
        names = await delete_user_interactions(self.session, user_id)
        await self._commit_and_delete_blobs(names)
        logger.info(
            "history.cleared",
            extra={"user_id": str(user_id), "recordings": len(names)},
        )

    async def _commit_and_delete_blobs(self, names: list[str]) -> None:
        cleanup = BlobCleanup(self.session, self.blobs)
        await cleanup.queue(names)
        await self.session.commit()
        await cleanup.delete_queued(names)

    async def save_feedback(
        self,
        user_id: uuid.UUID,
        interaction_id: uuid.UUID,
        rating: int,
        comment: str | None,
    ) -> SavedFeedback:
        """Store the user's rating of their interaction, replacing an earlier one."""
        await self._own_interaction(user_id, interaction_id)
        saved = await upsert_feedback(
            self.session, interaction_id, user_id, rating, comment
        )
        await self.session.commit()
        logger.info(
            "history.feedback_saved",
            extra={
                "user_id": str(user_id),
                "interaction_id": str(interaction_id),
                "rating": rating,
                "replaced": not saved.created,
            },
        )
        return saved

    async def read_feedback(
        self, user_id: uuid.UUID, interaction_id: uuid.UUID
    ) -> FeedbackPublic:
        await self._own_interaction(user_id, interaction_id)
        feedback = await get_feedback(self.session, interaction_id, user_id)
        if feedback is None:
            raise NotFoundError(
                f"You have given no feedback on the interaction {interaction_id}."
            )
        return FeedbackPublic.model_validate(feedback)

    async def _recording_blob(
        self, user_id: uuid.UUID, interaction_id: uuid.UUID
    ) -> str:
        interaction = await self._own_interaction(user_id, interaction_id)
        # Release the connection before talking to Blob Storage.
        await self.session.commit()
        if interaction.recording_blob is None:
            raise NotFoundError(
                f"The interaction {interaction_id} has no stored recording: the "
                "shopper did not allow it, it was typed, or it passed retention."
            )
        return interaction.recording_blob

    async def open_recording(
        self, user_id: uuid.UUID, interaction_id: uuid.UUID
    ) -> BlobDownload:
        name = await self._recording_blob(user_id, interaction_id)
        try:
            return await self.blobs.download(name)
        except ResourceNotFoundError as exc:
            logger.warning(
                "history.recording_missing",
                extra={"interaction_id": str(interaction_id), "blob": name},
            )
            raise NotFoundError(
                f"The recording of the interaction {interaction_id} is no longer "
                "stored."
            ) from exc
        except (AzureError, OSError, TimeoutError) as exc:
            logger.error(
                "history.recording_unavailable",
                extra={"interaction_id": str(interaction_id), "error": repr(exc)},
            )
            raise ServiceUnavailableError(
                "Blob Storage, which stores the recordings, is unavailable. Retry "
                "in a few seconds.",
                retry_after_seconds=5,
            ) from exc

    async def recording_link(
        self, user_id: uuid.UUID, interaction_id: uuid.UUID
    ) -> RecordingLink:
        name = await self._recording_blob(user_id, interaction_id)
        expires_at = utc_now().replace(microsecond=0) + timedelta(
            minutes=self.link_minutes
        )
        try:
            url = self.blobs.read_link(name, expires_at)
        except ReadLinkUnavailableError as exc:
            raise RecordingLinkUnavailableError(
                "This deployment cannot sign recording links, because its Blob "
                "Storage connection string has no account key. Download the "
                f"recording from {RECORDINGS_PATH}/{interaction_id} instead."
            ) from exc
        return RecordingLink(url=url, expires_at=expires_at)
