"""The signed-in shopper's own voice history."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import TypeAdapter, ValidationError

from pravis_api.api.deps import (
    CacheDep,
    CurrentUser,
    HistoryServiceDep,
    PaginationDep,
)
from pravis_api.core.errors import FieldError, InvalidInputError
from pravis_api.models.voice_interaction import (
    VoiceInteractionPublic,
    VoiceInteractionsPublic,
)
from pravis_api.repositories.history import HistoryFilter
from pravis_api.schemas.problem import problem_responses
from pravis_api.schemas.voice import Intent
from pravis_api.services.response_cache import HISTORY, USER, cached, user_namespace

router = APIRouter(prefix="/voice/history", tags=["history"])

_DATETIME = TypeAdapter(datetime)
_DATE_FORMS = "a date (2026-12-01) or a date-time (2026-12-01T09:30:00Z)"


def _parse_time(field: str, value: str) -> date | datetime:
    """Parse a date, or a date-time that is taken as UTC without a time zone."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        moment = _DATETIME.validate_python(value)
    except ValidationError as exc:
        raise _invalid_time(field, value, f"must be {_DATE_FORMS}") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        # For example 0001-01-01T00:00:00+14:00, which is before year 1 in UTC.
        raise _invalid_time(field, value, "is out of range in UTC") from exc


def _invalid_time(field: str, value: str, message: str) -> InvalidInputError:
    return InvalidInputError(
        f"The query parameter {field}={value!r} is invalid: it {message}.",
        errors=[FieldError(field, message)],
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def get_history_filter(
    since: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description=f"Oldest time to include: {_DATE_FORMS}",
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            alias="to",
            max_length=40,
            description=f"Newest time to include, {_DATE_FORMS}; a date includes "
            "that whole day",
        ),
    ] = None,
    intent: Annotated[
        list[Intent] | None,
        Query(max_length=12, description="Only these intents; repeat for several"),
    ] = None,
) -> HistoryFilter:
    start = None
    if since:
        first = _parse_time("from", since)
        start = first if isinstance(first, datetime) else _start_of(first)
    # The filter's upper bound is exclusive: a date-time `to` is included,
    # and a date `to` includes its whole day.
    stop = None
    if until:
        last = _parse_time("to", until)
        try:
            if isinstance(last, datetime):
                stop = last + timedelta(microseconds=1)
            else:
                stop = _start_of(last + timedelta(days=1))
        except OverflowError:
            stop = None  # past year 9999: no upper bound
    if start is not None and stop is not None and start >= stop:
        message = "must be earlier than to"
        raise InvalidInputError(
            f"The range from={since} to={until} is empty: from {message}.",
            errors=[FieldError("from", message)],
        )
    return HistoryFilter(since=start, until=stop, intents=tuple(intent or ()))


HistoryFilterDep = Annotated[HistoryFilter, Depends(get_history_filter)]


@router.get(
    "", response_model=VoiceInteractionsPublic, responses=problem_responses(401, 422)
)
@cached(namespaces=[USER, HISTORY], per_user=True)
async def read_history(
    user: CurrentUser,
    history: HistoryServiceDep,
    pagination: PaginationDep,
    history_filter: HistoryFilterDep,
) -> VoiceInteractionsPublic:
    """List the caller's interactions, newest first."""
    return await history.list_page(
        user.id,
        history_filter,
        page=pagination.page,
        page_size=pagination.page_size,
    )


@router.delete(
    "", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401)
)
async def delete_history(
    user: CurrentUser, history: HistoryServiceDep, cache: CacheDep
) -> None:
    """Delete all of the caller's interactions, recordings and feedback."""
    await history.delete_all(user.id)
    await cache.invalidate(user_namespace(user.id))


@router.get(
    "/{interaction_id}",
    response_model=VoiceInteractionPublic,
    responses=problem_responses(401, 404, 422),
)
@cached(namespaces=[USER, HISTORY], per_user=True)
async def read_interaction(
    interaction_id: uuid.UUID, user: CurrentUser, history: HistoryServiceDep
) -> VoiceInteractionPublic:
    return await history.get(user.id, interaction_id)


@router.delete(
    "/{interaction_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 422),
)
async def delete_interaction(
    interaction_id: uuid.UUID,
    user: CurrentUser,
    history: HistoryServiceDep,
    cache: CacheDep,
) -> None:
    """Delete one interaction with its recording and feedback."""
    await history.delete(user.id, interaction_id)
    await cache.invalidate(user_namespace(user.id))
