"""The signed-in user's own account."""

from fastapi import APIRouter, status

from pravis_api.api.deps import AccountServiceDep, CacheDep, CurrentUser
from pravis_api.models.user import UpdatePassword, User, UserPublic, UserUpdateMe
from pravis_api.schemas.auth import Token
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.response_cache import USER, USERS, cached, user_namespace

router = APIRouter(prefix="/users/me", tags=["users"])


@router.get("", response_model=UserPublic, responses=problem_responses(401))
@cached(namespaces=[USER], per_user=True)
async def read_me(user: CurrentUser) -> User:
    return user


@router.patch(
    "", response_model=UserPublic, responses=problem_responses(400, 401, 409, 422)
)
async def update_me(
    changes: UserUpdateMe,
    user: CurrentUser,
    accounts: AccountServiceDep,
    cache: CacheDep,
) -> User:
    """Change the name, the e-mail or the recording preference. A new e-mail
    needs `current_password`."""
    updated = await accounts.update_profile(user, changes)
    await cache.invalidate(user_namespace(user.id), USERS)
    return updated


@router.put(
    "/password", response_model=Token, responses=problem_responses(400, 401, 422)
)
async def change_password(
    payload: UpdatePassword,
    user: CurrentUser,
    accounts: AccountServiceDep,
    cache: CacheDep,
) -> Token:
    """Change the password. Every token issued before is revoked, so other
    devices are signed out; the response is a new token pair for this one."""
    token = await accounts.change_password(
        user, payload.current_password, payload.new_password
    )
    await cache.invalidate(user_namespace(user.id))
    return token


@router.delete(
    "", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401)
)
async def delete_me(
    user: CurrentUser, accounts: AccountServiceDep, cache: CacheDep
) -> None:
    """Delete the account with its voice history, recordings and feedback."""
    await accounts.delete_account(user.id)
    await cache.invalidate(user_namespace(user.id), USERS)
