"""Account changes by the user or an admin: profile, password, deletion."""

import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.errors import (
    BadRequestError,
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from pravis_api.core.security import hash_password, verify_password
from pravis_api.models.base import utc_now
from pravis_api.models.export_job import ExportJob
from pravis_api.models.user import User, UserUpdate, UserUpdateMe
from pravis_api.repositories.auth_tokens import use_up_reset_tokens
from pravis_api.repositories.history import delete_user_interactions
from pravis_api.repositories.users import get_user, get_user_by_email, lock_user
from pravis_api.schemas.auth import Token
from pravis_api.services.blob_cleanup import BlobCleanup
from pravis_api.services.storage import BlobStore
from pravis_api.services.tokens import TokenService

logger = logging.getLogger(__name__)


class IncorrectPasswordError(BadRequestError):
    code = "incorrect-password"


def email_taken(email: str) -> ConflictError:
    return ConflictError(
        f"An account with the e-mail {email} already exists. Use another e-mail.",
        errors=[FieldError("email", "already in use")],
    )


def user_not_found(user_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"No user has the id {user_id}.")


async def export_blob_names(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    names = await session.exec(
        select(ExportJob.blob_name).where(col(ExportJob.owner_id) == user_id)
    )
    return [name for name in names.all() if name is not None]


class AccountService:
    def __init__(
        self, session: AsyncSession, tokens: TokenService, blobs: BlobStore
    ) -> None:
        self.session = session
        self.tokens = tokens
        self.blobs = blobs

    async def _check_password(self, user: User, password: str) -> None:
        if not await verify_password(user.hashed_password, password):
            raise IncorrectPasswordError(
                "The current password is incorrect. Send the account's current "
                "password in current_password.",
                errors=[FieldError("current_password", "incorrect")],
            )

    async def _set_email(self, user: User, email: str) -> None:
        """Change the e-mail; reset links sent to the old address stop working."""
        if email == user.email:
            return
        if await get_user_by_email(self.session, email) is not None:
            raise email_taken(email)
        user.email = email
        await use_up_reset_tokens(self.session, user.id, utc_now())

    async def _commit_user(self, user: User) -> User:
        email = user.email
        self.session.add(user)
        try:
            await self.session.commit()
        except IntegrityError as exc:
            # Another account took the e-mail after the check above.
            await self.session.rollback()
            raise email_taken(email) from exc
        return user

    async def update_profile(self, user: User, changes: UserUpdateMe) -> User:
        data = changes.model_dump(exclude_unset=True)
        current_password = data.pop("current_password", None)
        if "email" in data and data["email"] != user.email:
            if current_password is None:
                message = "required to change the e-mail"
                raise InvalidInputError(
                    "Changing the e-mail needs the account's current password "
                    "in current_password.",
                    errors=[FieldError("current_password", message)],
                )
            await self._check_password(user, current_password)
            await self._set_email(user, data["email"])
        if "full_name" in data:
            user.full_name = data["full_name"]
        if "store_recordings" in data:
            user.store_recordings = data["store_recordings"]
        await self._commit_user(user)
        logger.info(
            "users.profile_updated",
            extra={"user_id": str(user.id), "fields": sorted(data)},
        )
        return user

    async def change_password(
        self, user: User, current_password: str, new_password: str
    ) -> Token:
        """Set a new password, revoke every other token of the user and
        return a new token pair for the caller."""
        await self._check_password(user, current_password)
        user.hashed_password = await hash_password(new_password)
        await self.tokens.revoke_all(user)
        await use_up_reset_tokens(self.session, user.id, utc_now())
        token = await self.tokens.start_session(user)
        logger.info("users.password_changed", extra={"user_id": str(user.id)})
        return token

    async def update_user(
        self, admin: User, user_id: uuid.UUID, changes: UserUpdate
    ) -> User:
        """Apply an admin's changes. Deactivation revokes every token at once."""
        user = await get_user(self.session, user_id)
        if user is None:
            raise user_not_found(user_id)
        data = changes.model_dump(exclude_unset=True)
        if user.id == admin.id and (
            data.get("is_active") is False or data.get("is_admin") is False
        ):
            raise PermissionDeniedError(
                "Admins cannot deactivate their own account or remove their own "
                "admin rights. Ask another admin."
            )

        if "email" in data:
            await self._set_email(user, data["email"])
        if "full_name" in data:
            user.full_name = data["full_name"]
        if "is_admin" in data:
            user.is_admin = data["is_admin"]
        if "is_active" in data and data["is_active"] != user.is_active:
            user.is_active = data["is_active"]
            if not user.is_active:
                await self.tokens.revoke_all(user)
        await self._commit_user(user)
        logger.info(
            "admin.user_updated",
            extra={
                "admin_id": str(admin.id),
                "user_id": str(user.id),
                "fields": sorted(data),
            },
        )
        return user

    async def delete_account(self, user_id: uuid.UUID) -> None:
        """Delete the user with their interactions, recordings, feedback and
        tokens. Recordings are deleted after the commit; any that cannot be
        deleted stay queued for `pravis-api purge`."""
        # The lock keeps a voice request from adding an interaction, whose
        # recording would not be listed, before the user is deleted.
        user = await lock_user(self.session, user_id)
        if user is None:
            await self.session.rollback()
            raise user_not_found(user_id)

        cleanup = BlobCleanup(self.session, self.blobs)
        blob_names = await delete_user_interactions(self.session, user_id)
        # The shopper's own export files go with the account too.
        blob_names += await export_blob_names(self.session, user_id)
        await cleanup.queue(blob_names)
        # The remaining rows of the user go with it: the foreign keys cascade.
        await self.session.delete(user)
        await self.session.commit()
        logger.info(
            "users.deleted",
            extra={"user_id": str(user_id), "recordings": len(blob_names)},
        )
        await cleanup.delete_queued(blob_names)
