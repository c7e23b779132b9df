"""Password reset by e-mail: a single-use token that expires, sent to the
account's address, exchanged once for a new password."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.errors import BadRequestError, FieldError
from pravis_api.core.security import hash_opaque_token, hash_password, new_opaque_token
from pravis_api.models.auth_token import PasswordResetToken
from pravis_api.models.base import utc_now
from pravis_api.repositories.auth_tokens import (
    count_recent_reset_tokens,
    get_reset_token_for_update,
    use_up_reset_tokens,
)
from pravis_api.repositories.users import get_user, get_user_by_email
from pravis_api.services.mail import MailDeliveryError, Mailer
from pravis_api.services.tokens import TokenService

logger = logging.getLogger(__name__)

# Max reset e-mails sent to one account per hour. Further requests get the
# same response but send nothing, so the endpoint cannot flood a mailbox.
MAX_RESET_MAILS_PER_HOUR = 5


class InvalidResetTokenError(BadRequestError):
    code = "invalid-reset-token"


@dataclass(frozen=True, slots=True)
class ResetMail:
    user_id: uuid.UUID
    message: EmailMessage


def _reset_message(settings: Settings, email: str, token: str) -> EmailMessage:
    link = f"{settings.password_reset_url}?{urlencode({'token': token})}"
    minutes = settings.password_reset_token_expire_minutes
    message = EmailMessage()
    message["To"] = email
    message["Subject"] = "Reset your Pravis Boutique password"
    message.set_content(
        f"Someone asked to reset the password of the Pravis Boutique account "
        f"{email}.\n\n"
        f"To choose a new password, open this link within {minutes} minutes. "
        f"It works once:\n\n{link}\n\n"
        "If you did not ask for this, ignore this e-mail: your password stays "
        "as it is.\n"
    )
    return message


class PasswordResetService:
    def __init__(
        self, session: AsyncSession, tokens: TokenService, settings: Settings
    ) -> None:
        self.session = session
        self.tokens = tokens
        self.settings = settings

    async def create_reset_mail(self, email: str) -> ResetMail | None:
        """Store a reset token for an active account and return its e-mail.

        Returns None for an unknown or inactive address, and once the hourly
        limit is reached. Callers return the same response in every case.
        """
        user = await get_user_by_email(self.session, email)
        if user is None or not user.is_active:
            await self.session.rollback()
            logger.info("auth.password_reset_skipped", extra={"reason": "no account"})
            return None

        now = utc_now()
        recent = await count_recent_reset_tokens(
            self.session, user.id, now, timedelta(hours=1)
        )
        if recent >= MAX_RESET_MAILS_PER_HOUR:
            logger.warning(
                "auth.password_reset_limited",
                extra={"user_id": str(user.id), "mails_last_hour": recent},
            )
            await self.session.rollback()
            return None

        token = new_opaque_token()
        lifetime = timedelta(minutes=self.settings.password_reset_token_expire_minutes)
        self.session.add(
            PasswordResetToken(
                user_id=user.id,
                token_hash=hash_opaque_token(token),
                expires_at=now + lifetime,
            )
        )
        await self.session.commit()
        logger.info("auth.password_reset_requested", extra={"user_id": str(user.id)})
        return ResetMail(user.id, _reset_message(self.settings, user.email, token))

    async def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a reset token, and revoke every token of
        the account: its sessions and its other reset links."""
        row = await get_reset_token_for_update(self.session, hash_opaque_token(token))
        now = utc_now()
        if row is None or row.used_at is not None or row.expires_at <= now:
            await self.session.rollback()
            raise _invalid_token()
        user = await get_user(self.session, row.user_id)
        if user is None or not user.is_active:
            await self.session.rollback()
            raise _invalid_token()

        user.hashed_password = await hash_password(new_password)
        await self.tokens.revoke_all(user)
        await use_up_reset_tokens(self.session, user.id, now)
        await self.session.commit()
        logger.info("auth.password_reset", extra={"user_id": str(user.id)})


def _invalid_token() -> InvalidResetTokenError:
    message = "invalid, already used or expired"
    return InvalidResetTokenError(
        f"The reset token is {message}. Request a new reset e-mail.",
        errors=[FieldError("token", message)],
    )


async def send_reset_mail(mailer: Mailer, mail: ResetMail) -> None:
    """Send a reset e-mail, logging a failure instead of raising it.

    This runs after the response is sent, so that its outcome and duration
    do not reveal whether the address has an account.
    """
    try:
        await mailer.send(mail.message)
    except MailDeliveryError as exc:
        logger.error(
            "auth.password_reset_mail_failed",
            extra={"user_id": str(mail.user_id), "error": str(exc)},
        )
        return
    logger.info("auth.password_reset_mail_sent", extra={"user_id": str(mail.user_id)})
