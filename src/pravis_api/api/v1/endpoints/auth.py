"""Registration, login, token refresh and logout, and the signed-in user."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.exc import IntegrityError

from pravis_api.api.deps import (
    AuthenticatedDep,
    CacheDep,
    CurrentUser,
    RateLimiterDep,
    SessionDep,
    TokenServiceDep,
)
from pravis_api.core.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
)
from pravis_api.core.security import (
    hash_password,
    password_needs_rehash,
    verify_password,
)
from pravis_api.models.user import User, UserCreate, UserPublic
from pravis_api.repositories.users import add_user, get_user_by_email
from pravis_api.schemas.auth import RefreshRequest, Token
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.response_cache import USER, USERS, cached

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=problem_responses(409, 422),
)
async def register(payload: UserCreate, session: SessionDep, cache: CacheDep) -> User:
    """Create a shopper account. New accounts are active and never admin."""
    if await get_user_by_email(session, payload.email) is not None:
        raise _email_taken(payload.email)

    user = User(
        email=payload.email,
        full_name=payload.full_name,
        hashed_password=await hash_password(payload.password),
        store_recordings=payload.store_recordings,
    )
    try:
        await add_user(session, user)
    except IntegrityError as exc:
        # Two registrations for one e-mail raced past the check above.
        await session.rollback()
        raise _email_taken(payload.email) from exc
    logger.info("auth.registered", extra={"user_id": str(user.id)})
    await cache.invalidate(USERS)
    return user


def _email_taken(email: str) -> ConflictError:
    return ConflictError(
        f"An account with the e-mail {email} already exists. Sign in instead."
    )


@router.post("/login", response_model=Token, responses=problem_responses(401, 403, 422))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    tokens: TokenServiceDep,
    limiter: RateLimiterDep,
) -> Token:
    """Exchange e-mail (as `username`) and password for an access token and a
    refresh token."""
    if limiter is not None:
        await limiter.limit_login_attempts(form.username)
    user = await get_user_by_email(session, form.username)
    # The password is verified even for an unknown e-mail (against a dummy
    # hash), so response times do not reveal which e-mails have accounts.
    valid = await verify_password(user.hashed_password if user else None, form.password)
    if user is None or not valid:
        raise AuthenticationError("The e-mail or password is incorrect.")
    if not user.is_active:
        raise PermissionDeniedError(
            "This account is deactivated. Contact the boutique."
        )

    # The hash is upgraded when the argon2 parameters in use differ from
    # the ones it was made with; it is committed with the new session.
    if password_needs_rehash(user.hashed_password):
        user.hashed_password = await hash_password(form.password)
        session.add(user)
        logger.info("auth.password_rehashed", extra={"user_id": str(user.id)})

    token = await tokens.start_session(user)
    logger.info("auth.logged_in", extra={"user_id": str(user.id)})
    return token


@router.post(
    "/refresh", response_model=Token, responses=problem_responses(401, 422, 503)
)
async def refresh(payload: RefreshRequest, tokens: TokenServiceDep) -> Token:
    """Exchange a refresh token for a new pair. Each refresh token works once:
    the access token issued with it is revoked, and a second use revokes
    every token of the login session."""
    return await tokens.refresh(payload.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 503),
)
async def logout(authenticated: AuthenticatedDep, tokens: TokenServiceDep) -> None:
    """Revoke the access token sent and every token of its login session."""
    await tokens.end_session(authenticated.claims)
    logger.info("auth.logged_out", extra={"user_id": str(authenticated.user.id)})


@router.get("/me", response_model=UserPublic, responses=problem_responses(401))
@cached(namespaces=[USER], per_user=True)
async def read_me(user: CurrentUser) -> User:
    return user
