"""Analytics: consent, client events, and the admin insights."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from pravis_api.api.deps import (
    AdminUser,
    OptionalUser,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
)
from pravis_api.core.errors import FieldError, InvalidInputError, NotFoundError
from pravis_api.middleware.rate_limit import client_address
from pravis_api.schemas.analytics import (
    ConsentIn,
    ConsentPublic,
    EventBatch,
    EventsAccepted,
    SessionId,
    UsageInsights,
    VoiceInsights,
)
from pravis_api.schemas.exports import RANGE_DAY_RULE, is_range_day
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.analytics import collect, insights
from pravis_api.services.response_cache import cached

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Insights are cached for a minute per admin: fresh enough for a dashboard,
# and a write of each interaction does not have to invalidate them.
INSIGHTS_TTL_SECONDS = 60
MAX_RANGE_DAYS = 731
DEFAULT_RANGE_DAYS = 30


@router.post(
    "/consent",
    response_model=ConsentPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 422),
)
async def record_consent(
    payload: ConsentIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
) -> ConsentPublic:
    """Record a shopper's analytics decision as its next version."""
    address = client_address(request.scope, settings.trusted_proxy_networks)
    return await collect.record_consent(
        session, settings, payload, user.id if user else None, address
    )


@router.get(
    "/consent", response_model=ConsentPublic, responses=problem_responses(401, 404, 422)
)
async def read_consent(
    session: ReadSessionDep,
    user: OptionalUser,
    session_id: Annotated[SessionId | None, Query()] = None,
) -> ConsentPublic:
    """The decision that applies: the account's, else the session's."""
    decision = await collect.read_consent(
        session, user.id if user else None, session_id
    )
    if decision is None:
        raise NotFoundError("No consent decision was recorded for this shopper.")
    return decision


@router.post(
    "/events",
    response_model=EventsAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 413, 422),
)
async def post_events(
    batch: EventBatch, session: SessionDep, settings: SettingsDep, user: OptionalUser
) -> EventsAccepted:
    """Store a batch of events if the shopper consented; else store nothing.

    Always 202 for a valid batch: `accepted` is the number stored (0
    without consent) and `consent` says why (`given`, `declined`,
    `missing`).
    """
    return await collect.store_events(
        session, settings, batch, user.id if user else None
    )


def _range(since: date | None, until: date | None) -> tuple[date, date]:
    for name, day in (("from", since), ("to", until)):
        if day is not None and not is_range_day(day):
            raise InvalidInputError(
                f"{name} ({day}) is outside the days the API reads.",
                errors=[FieldError(name, RANGE_DAY_RULE)],
            )
    until = until or datetime.now(UTC).date()
    since = since or until - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if since > until:
        raise InvalidInputError(
            f"from ({since}) is after to ({until}).",
            errors=[FieldError("from", "must not be after to")],
        )
    if (until - since).days >= MAX_RANGE_DAYS:
        raise InvalidInputError(
            f"The range spans more than {MAX_RANGE_DAYS} days; ask for a shorter one.",
            errors=[FieldError("from", f"at most {MAX_RANGE_DAYS} days before to")],
        )
    return since, until


FromQuery = Annotated[
    date | None,
    Query(alias="from", description="First day (UTC), default 29 days before `to`"),
]
ToQuery = Annotated[
    date | None, Query(alias="to", description="Last day (UTC), default today")
]
TopQuery = Annotated[int, Query(ge=1, le=100, description="Length of the top lists")]


@router.get(
    "/voice", response_model=VoiceInsights, responses=problem_responses(401, 403, 422)
)
@cached(ttl=INSIGHTS_TTL_SECONDS, per_user=True, admin_only=True)
async def voice_insights(
    admin: AdminUser,
    session: ReadSessionDep,
    since: FromQuery = None,
    until: ToQuery = None,
    top: TopQuery = 10,
) -> VoiceInsights:
    """Voice volume, success rate, latency percentiles per stage, top intents
    and queries, unanswered queries and the series by day."""
    first, last = _range(since, until)
    return await insights.voice_insights(session, first, last, top)


@router.get(
    "/usage", response_model=UsageInsights, responses=problem_responses(401, 403, 422)
)
@cached(ttl=INSIGHTS_TTL_SECONDS, per_user=True, admin_only=True)
async def usage_insights(
    admin: AdminUser,
    session: ReadSessionDep,
    since: FromQuery = None,
    until: ToQuery = None,
    top: TopQuery = 10,
) -> UsageInsights:
    """Sessions, active users, page views, top pages and products, by day."""
    first, last = _range(since, until)
    return await insights.usage_insights(session, first, last, top)
