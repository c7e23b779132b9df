"""Dependencies for routes, as `Annotated` aliases.

Every dependency is `async def`, even those that do not await: FastAPI runs
a plain `def` dependency in a worker thread, a thread hand-off per request.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.errors import AuthenticationError, PermissionDeniedError
from pravis_api.core.telemetry import Telemetry
from pravis_api.middleware.bearer import bearer_token, signed_claims
from pravis_api.models.user import User
from pravis_api.resources import Resources
from pravis_api.services.accounts import AccountService
from pravis_api.services.assistant.responder import Assistant
from pravis_api.services.export_jobs import ExportJobService
from pravis_api.services.exports import ExportRunner
from pravis_api.services.history import HistoryService
from pravis_api.services.mail import Mailer
from pravis_api.services.password_reset import PasswordResetService
from pravis_api.services.providers.grounding import WrittenReplyAssistant
from pravis_api.services.rate_limiter import RateLimiter
from pravis_api.services.response_cache import ResponseCache
from pravis_api.services.speech.synthesis import SpeechService
from pravis_api.services.speech_pool import SpeechWorkerPool
from pravis_api.services.storage import BlobStore
from pravis_api.services.tokens import Authenticated, TokenService
from pravis_api.services.voice import VoiceService

TOKEN_URL = "/api/v1/auth/login"  # noqa: S105 (a URL, not a secret)

_bearer_token = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def get_app_settings(request: Request) -> Settings:
    return _settings(request)


async def get_resources(request: Request) -> Resources:
    return _resources(request)


# The sessions, the voice routes and the optional user read the app's
# state themselves instead of depending on get_resources and
# get_app_settings: FastAPI spends about as much CPU on each dependency it
# solves as such a dependency's own work, on every request.


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session whose statements run in one transaction, until commit."""
    async with _resources(request).session_factory() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """An autocommit session: for reads and single-statement writes only."""
    async with _resources(request).read_session_factory() as session:
        yield session


MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class Pagination:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def get_pagination(
    page: Annotated[
        int, Query(ge=1, le=100_000, description="1 for the first page")
    ] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")
    ] = DEFAULT_PAGE_SIZE,
) -> Pagination:
    return Pagination(page=page, page_size=page_size)


PaginationDep = Annotated[Pagination, Depends(get_pagination)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


async def get_redis(resources: ResourcesDep) -> Redis:
    return resources.redis


async def get_blobs(resources: ResourcesDep) -> BlobStore:
    return resources.blobs


async def get_speech_pool(resources: ResourcesDep) -> SpeechWorkerPool:
    return resources.speech_pool


async def get_response_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.response_cache
    return cache


RedisDep = Annotated[Redis, Depends(get_redis)]
CacheDep = Annotated[ResponseCache, Depends(get_response_cache)]


async def get_telemetry(request: Request) -> Telemetry:
    telemetry: Telemetry = request.app.state.telemetry
    return telemetry


TelemetryDep = Annotated[Telemetry, Depends(get_telemetry)]


async def get_rate_limiter(request: Request) -> RateLimiter | None:
    """Return the app's rate limiter, or None when rate limits are off."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter | None, Depends(get_rate_limiter)]
BlobDep = Annotated[BlobStore, Depends(get_blobs)]
SpeechPoolDep = Annotated[SpeechWorkerPool, Depends(get_speech_pool)]


def speech_service(resources: Resources, settings: Settings) -> SpeechService:
    return SpeechService(
        resources.providers.text_to_speech,
        resources.speech_cache,
        default_voice=settings.tts_default_voice,
    )


async def get_speech_service(
    resources: ResourcesDep, settings: SettingsDep
) -> SpeechService:
    return speech_service(resources, settings)


SpeechServiceDep = Annotated[SpeechService, Depends(get_speech_service)]


@dataclass(frozen=True, slots=True)
class VoiceRoute:
    """The service, settings, cache and telemetry of a voice route, as one
    dependency."""

    service: VoiceService
    settings: Settings
    cache: ResponseCache
    telemetry: Telemetry


async def get_voice_route(request: Request, session: ReadSessionDep) -> VoiceRoute:
    # Autocommit suffices: the pipeline reads, then writes one row.
    settings = _settings(request)
    state = request.app.state
    return VoiceRoute(
        voice_service(session, _resources(request), settings),
        settings,
        state.response_cache,
        state.telemetry,
    )


def voice_service(
    session: AsyncSession, resources: Resources, settings: Settings
) -> VoiceService:
    writer = resources.providers.reply_writer
    assistant: Assistant
    if writer is None:
        assistant = Assistant(
            session,
            currency=settings.store_currency,
            max_products=settings.assistant_max_products,
        )
    else:
        assistant = WrittenReplyAssistant(
            session,
            currency=settings.store_currency,
            max_products=settings.assistant_max_products,
            writer=writer,
        )
    return VoiceService(
        session,
        resources.providers.speech_to_text,
        resources.blobs,
        assistant,
        speech=speech_service(resources, settings),
        max_audio_seconds=settings.voice_max_audio_seconds,
        min_word_confidence=settings.speech_min_word_confidence,
        max_unknown_word_share=settings.speech_max_unknown_word_share,
        query_cap=settings.analytics_query_cap_per_day,
        interactions=resources.interactions,
    )


VoiceRouteDep = Annotated[VoiceRoute, Depends(get_voice_route)]


async def get_token_service(
    session: SessionDep, resources: ResourcesDep, settings: SettingsDep
) -> TokenService:
    return TokenService(session, resources.denylist, settings)


TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]


async def get_mailer(settings: SettingsDep) -> Mailer:
    return Mailer(settings)


async def get_password_reset_service(
    session: SessionDep, tokens: TokenServiceDep, settings: SettingsDep
) -> PasswordResetService:
    return PasswordResetService(session, tokens, settings)


async def get_account_service(
    session: SessionDep, tokens: TokenServiceDep, resources: ResourcesDep
) -> AccountService:
    return AccountService(session, tokens, resources.blobs)


AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]


async def get_history_service(
    session: SessionDep, resources: ResourcesDep, settings: SettingsDep
) -> HistoryService:
    return HistoryService(
        session, resources.blobs, link_minutes=settings.recording_link_expire_minutes
    )


HistoryServiceDep = Annotated[HistoryService, Depends(get_history_service)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
PasswordResetServiceDep = Annotated[
    PasswordResetService, Depends(get_password_reset_service)
]


async def _authenticate(
    request: Request, token: str, tokens: TokenService
) -> Authenticated:
    # The rate limiter has usually verified this token already; reuse its claims.
    claims = None
    if bearer_token(request.scope) == token:
        claims = signed_claims(request.scope, tokens.settings)
    authenticated = await tokens.authenticate(token, claims)
    request.scope.setdefault("state", {})["user_id"] = str(authenticated.user.id)
    return authenticated


async def get_authenticated(
    request: Request,
    token: Annotated[str | None, Depends(_bearer_token)],
    tokens: TokenServiceDep,
) -> Authenticated:
    if not token:
        raise AuthenticationError("Sign in first: send an Authorization: Bearer token.")
    return await _authenticate(request, token, tokens)


AuthenticatedDep = Annotated[Authenticated, Depends(get_authenticated)]


async def get_current_user(authenticated: AuthenticatedDep) -> User:
    return authenticated.user


async def get_optional_user(
    request: Request,
    token: Annotated[str | None, Depends(_bearer_token)],
    session: ReadSessionDep,
) -> User | None:
    """Anonymous callers get None; a token that is sent must be valid.

    The user is read in the autocommit session, because routes that accept
    anonymous callers read it and do not change it.
    """
    if not token:
        return None
    tokens = TokenService(session, _resources(request).denylist, _settings(request))
    return (await _authenticate(request, token, tokens)).user


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDeniedError(
            "This route is for admins only, and the signed-in account is not an admin."
        )
    return user


AdminUser = Annotated[User, Depends(get_current_admin)]


async def get_export_jobs(
    session: SessionDep, resources: ResourcesDep, settings: SettingsDep
) -> ExportJobService:
    runner = ExportRunner(resources.engine, resources.blobs, settings, resources.tasks)
    return ExportJobService(session, runner, resources.blobs, settings)


ExportJobsDep = Annotated[ExportJobService, Depends(get_export_jobs)]
