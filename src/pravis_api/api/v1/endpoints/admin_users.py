"""Account administration: list, read, update and delete any user."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from pravis_api.api.deps import (
    AccountServiceDep,
    AdminUser,
    CacheDep,
    PaginationDep,
    SessionDep,
)
from pravis_api.core.errors import PermissionDeniedError
from pravis_api.models.user import User, UserPublic, UsersPublic, UserUpdate
from pravis_api.repositories.users import get_user, list_users
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.accounts import user_not_found
from pravis_api.services.response_cache import USERS, cached, user_namespace

router = APIRouter(prefix="/users", tags=["admin"])


@router.get("", response_model=UsersPublic, responses=problem_responses(401, 403, 422))
@cached(namespaces=[USERS], per_user=True, admin_only=True)
async def read_users(
    admin: AdminUser,
    session: SessionDep,
    pagination: PaginationDep,
    email: Annotated[
        str | None,
        Query(max_length=320, description="Part of the e-mail, in any case"),
    ] = None,
    is_active: bool | None = None,
    is_admin: bool | None = None,
) -> UsersPublic:
    """List users, newest first."""
    users, total = await list_users(
        session,
        email_contains=email,
        is_active=is_active,
        is_admin=is_admin,
        offset=pagination.offset,
        limit=pagination.page_size,
    )
    return UsersPublic(
        items=[UserPublic.model_validate(user) for user in users],
        total=total,
        page=pagination.page,
        page_size=pagination.page_size,
    )


@router.get(
    "/{user_id}",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 422),
)
@cached(namespaces=[USERS], per_user=True, admin_only=True)
async def read_user(user_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> User:
    user = await get_user(session, user_id)
    if user is None:
        raise user_not_found(user_id)
    return user


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_user(
    user_id: uuid.UUID,
    changes: UserUpdate,
    admin: AdminUser,
    accounts: AccountServiceDep,
    cache: CacheDep,
) -> User:
    """Change a user's name, e-mail, active flag or admin flag. A deactivated
    user's tokens stop working at once, and stay revoked after reactivation."""
    updated = await accounts.update_user(admin, user_id, changes)
    await cache.invalidate(user_namespace(user_id), USERS)
    return updated


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_user(
    user_id: uuid.UUID, admin: AdminUser, accounts: AccountServiceDep, cache: CacheDep
) -> None:
    """Delete a user with their voice history, recordings and feedback."""
    if user_id == admin.id:
        raise PermissionDeniedError(
            "Admins cannot delete their own account here; use DELETE /api/v1/users/me."
        )
    await accounts.delete_account(user_id)
    await cache.invalidate(user_namespace(user_id), USERS)
