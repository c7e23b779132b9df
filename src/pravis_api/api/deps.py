"""Dependencies for routes, as `Annotated` aliases.

Every dependency is `async def`, even those that do not await: FastAPI runs
a plain `def` dependency in a worker thread, a thread hand-off per request.
"""

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.errors import AuthenticationError, PermissionDeniedError
from pravis_api.core.security import InvalidTokenError, decode_access_token
from pravis_api.models.user import User
from pravis_api.repositories.users import get_user
from pravis_api.resources import Resources
from pravis_api.services.assistant import Assistant
from pravis_api.services.speech_pool import SpeechWorkerPool
from pravis_api.services.storage import BlobStore
from pravis_api.services.voice import VoiceService

logger = logging.getLogger(__name__)

TOKEN_URL = "/api/v1/auth/login"  # noqa: S105 (a URL, not a secret)

_bearer_token = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def get_session(
    resources: Annotated[Resources, Depends(get_resources)],
) -> AsyncIterator[AsyncSession]:
    """A session whose statements run in one transaction, until commit."""
    async with resources.session_factory() as session:
        yield session


async def get_read_session(
    resources: Annotated[Resources, Depends(get_resources)],
) -> AsyncIterator[AsyncSession]:
    """An autocommit session: for reads and single-statement writes only."""
    async with resources.read_session_factory() as session:
        yield session


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


RedisDep = Annotated[Redis, Depends(get_redis)]
BlobDep = Annotated[BlobStore, Depends(get_blobs)]
SpeechPoolDep = Annotated[SpeechWorkerPool, Depends(get_speech_pool)]


async def get_voice_service(
    session: ReadSessionDep, resources: ResourcesDep, settings: SettingsDep
) -> VoiceService:
    # Autocommit suffices: the pipeline reads, then writes one row.
    assistant = Assistant(
        session,
        currency=settings.store_currency,
        max_products=settings.assistant_max_products,
    )
    return VoiceService(
        session,
        resources.speech_pool,
        resources.blobs,
        assistant,
        max_audio_seconds=settings.voice_max_audio_seconds,
    )


VoiceServiceDep = Annotated[VoiceService, Depends(get_voice_service)]


async def _user_from_token(
    request: Request, token: str, session: AsyncSession, settings: Settings
) -> User:
    try:
        claims = decode_access_token(
            token, secret_key=settings.secret_key.get_secret_value()
        )
        user_id = uuid.UUID(claims.subject)
    except (InvalidTokenError, ValueError) as exc:
        logger.info("auth.token_rejected", extra={"reason": str(exc)})
        raise AuthenticationError(
            "The access token is invalid or has expired."
        ) from exc

    user = await get_user(session, user_id)
    # End the read's transaction now: a voice request goes on to wait for
    # transcription, and must not hold a pooled connection idle meanwhile.
    await session.commit()
    if user is None or not user.is_active:
        raise AuthenticationError(
            "The access token's account does not exist or is inactive."
        )
    request.scope.setdefault("state", {})["user_id"] = str(user.id)
    return user


async def get_current_user(
    request: Request,
    token: Annotated[str | None, Depends(_bearer_token)],
    session: SessionDep,
    settings: SettingsDep,
) -> User:
    if not token:
        raise AuthenticationError("Sign in first: send an Authorization: Bearer token.")
    return await _user_from_token(request, token, session, settings)


async def get_optional_user(
    request: Request,
    token: Annotated[str | None, Depends(_bearer_token)],
    session: ReadSessionDep,
    settings: SettingsDep,
) -> User | None:
    """Anonymous callers get None; a token that is sent must be valid.

    The user is read in the autocommit session, as routes that accept
    anonymous callers read it and do not change it.
    """
    if not token:
        return None
    return await _user_from_token(request, token, session, settings)


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDeniedError("This action needs an admin account.")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
