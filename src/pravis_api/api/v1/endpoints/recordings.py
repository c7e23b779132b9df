"""The signed-in shopper's own recordings, streamed or as a short-lived link."""

import uuid

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from pravis_api.api.deps import CurrentUser, HistoryServiceDep
from pravis_api.schemas.problem import problem_responses
from pravis_api.schemas.recording import RecordingLink

router = APIRouter(prefix="/voice/recordings", tags=["history"])


@router.get(
    "/{interaction_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"audio/*": {}},
            "description": "The recording as it was uploaded",
        },
        **problem_responses(401, 404, 422, 503),
    },
)
async def download_recording(
    interaction_id: uuid.UUID, user: CurrentUser, history: HistoryServiceDep
) -> StreamingResponse:
    """Stream the recording of one of the caller's interactions."""
    download = await history.open_recording(user.id, interaction_id)
    return StreamingResponse(
        download.chunks,
        media_type=download.content_type or "application/octet-stream",
        headers={
            "Content-Length": str(download.size),
            "Content-Disposition": f'inline; filename="{interaction_id}"',
            # Personal data: no shared cache may keep it.
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/{interaction_id}/link",
    response_model=RecordingLink,
    responses=problem_responses(401, 404, 422, 501),
)
async def recording_link(
    interaction_id: uuid.UUID, user: CurrentUser, history: HistoryServiceDep
) -> RecordingLink:
    """Return a read-only Blob Storage URL for the recording, valid for
    RECORDING_LINK_EXPIRE_MINUTES. Anyone with the URL can read the
    recording until then, so it suits an `<audio src>` element, not sharing."""
    return await history.recording_link(user.id, interaction_id)
