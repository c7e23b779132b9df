"""Feedback on one of the signed-in shopper's interactions."""

import uuid

from fastapi import APIRouter, Response, status

from pravis_api.api.deps import CacheDep, CurrentUser, HistoryServiceDep
from pravis_api.models.feedback import FeedbackCreate, FeedbackPublic
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.response_cache import USER, cached, user_namespace

router = APIRouter(prefix="/voice/interactions", tags=["history"])


@router.post(
    "/{interaction_id}/feedback",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": FeedbackPublic, "description": "Earlier feedback replaced"},
        **problem_responses(401, 404, 422),
    },
)
async def give_feedback(
    interaction_id: uuid.UUID,
    payload: FeedbackCreate,
    user: CurrentUser,
    history: HistoryServiceDep,
    response: Response,
    cache: CacheDep,
) -> FeedbackPublic:
    """Rate the assistant's reply from 1 to 5, with an optional comment. A
    second rating replaces the first (200 instead of 201)."""
    saved = await history.save_feedback(
        user.id, interaction_id, payload.rating, payload.comment
    )
    await cache.invalidate(user_namespace(user.id))
    if not saved.created:
        response.status_code = status.HTTP_200_OK
    return saved.feedback


@router.get(
    "/{interaction_id}/feedback",
    response_model=FeedbackPublic,
    responses=problem_responses(401, 404, 422),
)
@cached(namespaces=[USER], per_user=True)
async def read_feedback(
    interaction_id: uuid.UUID, user: CurrentUser, history: HistoryServiceDep
) -> FeedbackPublic:
    return await history.read_feedback(user.id, interaction_id)
