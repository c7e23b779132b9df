"""Token pairs: issue at login, authenticate, rotate on refresh, revoke.

Revocation state is kept in two places. PostgreSQL stores refresh tokens
and each user's token version. Redis stores the access token deny-list
(see `services.denylist`). When Redis is down,
access tokens are accepted unless PostgreSQL revokes them (fail open), and
refresh is refused (fail closed), so no new access token is issued while
revocations cannot be recorded.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings
from pravis_api.core.errors import AuthenticationError, ServiceUnavailableError
from pravis_api.core.security import (
    InvalidTokenError,
    TokenClaims,
    create_access_token,
    decode_access_token,
    hash_opaque_token,
    new_opaque_token,
)
from pravis_api.models.auth_token import RefreshToken
from pravis_api.models.base import utc_now
from pravis_api.models.user import User
from pravis_api.repositories.auth_tokens import (
    get_refresh_token_for_update,
    revoke_refresh_family,
    revoke_user_refresh_tokens,
)
from pravis_api.repositories.users import get_user
from pravis_api.schemas.auth import Token
from pravis_api.services.denylist import DenylistUnavailableError, TokenDenylist

logger = logging.getLogger(__name__)

_REFRESH_REJECTED = "The refresh token is invalid, revoked or expired. Sign in again."


_NO_ACCOUNT = "The access token's account does not exist or is inactive."
# The account columns that decide whether its access tokens are accepted.
_ACCOUNT_STATE = "SELECT is_active, token_version, is_admin FROM users WHERE id = $1"


@dataclass(frozen=True, slots=True)
class AccountState:
    is_active: bool
    token_version: int


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """The account an accepted access token belongs to."""

    user_id: uuid.UUID
    is_admin: bool


def _check_account(account: AccountState, claims: TokenClaims) -> None:
    """Raise AuthenticationError unless the account accepts the token."""
    if not account.is_active:
        raise AuthenticationError(_NO_ACCOUNT)
    if claims.token_version != account.token_version:
        raise AuthenticationError(
            "The access token was revoked by a password change or a "
            "deactivation of the account. Sign in again."
        )


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The signed-in user and the claims of the access token they sent."""

    user: User
    claims: TokenClaims


class TokenService:
    def __init__(
        self, session: AsyncSession, denylist: TokenDenylist, settings: Settings
    ) -> None:
        self.session = session
        self.denylist = denylist
        self.settings = settings

    def _issue(self, user: User, family_id: uuid.UUID) -> Token:
        """Create an access token and a refresh token row; the caller commits."""
        access = create_access_token(
            str(user.id),
            secret_key=self.settings.secret_key.get_secret_value(),
            expires_minutes=self.settings.access_token_expire_minutes,
            session_id=family_id.hex,
            token_version=user.token_version,
        )
        refresh_token = new_opaque_token()
        refresh_lifetime = timedelta(days=self.settings.refresh_token_expire_days)
        self.session.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_opaque_token(refresh_token),
                access_jti=access.jti,
                access_expires_at=access.expires_at,
                expires_at=utc_now() + refresh_lifetime,
            )
        )
        return Token(
            access_token=access.token,
            expires_in=access.expires_in,
            refresh_token=refresh_token,
            refresh_expires_in=int(refresh_lifetime.total_seconds()),
        )

    async def start_session(self, user: User) -> Token:
        """Issue the first token pair of a new login session and commit."""
        token = self._issue(user, uuid.uuid4())
        await self.session.commit()
        return token

    async def authenticate(
        self, token: str, verified_claims: TokenClaims | None = None
    ) -> Authenticated:
        """Check an access token: signature, expiry, deny-list, account, version.

        `verified_claims` are the claims of this token that middleware has
        already verified for this request (`middleware.bearer.signed_claims`,
        with the same key and lifetime bound). Passing them saves decoding
        and verifying the token a second time.
        """
        claims, user_id = await self._accepted_claims(token, verified_claims)
        user = await get_user(self.session, user_id)
        # End the read's transaction now: a voice request goes on to wait for
        # transcription, and must not hold a pooled connection idle meanwhile.
        await self.session.commit()
        if user is None:
            raise AuthenticationError(_NO_ACCOUNT)
        _check_account(AccountState(user.is_active, user.token_version), claims)
        return Authenticated(user=user, claims=claims)

    async def verify(
        self, token: str, verified_claims: TokenClaims | None = None
    ) -> TokenHolder:
        """Make the checks of `authenticate` without loading the whole user.

        A cached response needs only the holder's id and role, and one row
        of three columns read as SQL text costs a third of the CPU of the
        ORM's `User` (the same comparison for products is in bench/RESULTS.md).
        """
        claims, user_id = await self._accepted_claims(token, verified_claims)
        connection = await self.session.connection()
        row = (await connection.exec_driver_sql(_ACCOUNT_STATE, (user_id,))).first()
        await self.session.commit()
        if row is None:
            raise AuthenticationError(_NO_ACCOUNT)
        _check_account(AccountState(row.is_active, row.token_version), claims)
        return TokenHolder(user_id=user_id, is_admin=bool(row.is_admin))

    async def _accepted_claims(
        self, token: str, verified_claims: TokenClaims | None
    ) -> tuple[TokenClaims, uuid.UUID]:
        """Return the token's claims and user id unless it is invalid or revoked."""
        try:
            claims = verified_claims or decode_access_token(
                token,
                secret_key=self.settings.secret_key.get_secret_value(),
                max_lifetime=self.settings.access_token_lifetime,
            )
            user_id = uuid.UUID(claims.subject)
        except (InvalidTokenError, ValueError) as exc:
            logger.info("auth.token_rejected", extra={"reason": str(exc)})
            raise AuthenticationError(
                "The access token is invalid or has expired."
            ) from exc

        try:
            denied = await self.denylist.is_denied(claims.jti, claims.session_id)
        except DenylistUnavailableError:
            # Fail open: the account checks still apply, and the token expires
            # within ACCESS_TOKEN_EXPIRE_MINUTES.
            denied = False
        if denied:
            raise AuthenticationError("The access token was revoked. Sign in again.")
        return claims, user_id

    async def refresh(self, refresh_token: str) -> Token:
        """Exchange a refresh token for a new pair, once.

        A second use of a refresh token revokes its whole login session,
        because the token may have been copied by someone else.
        """
        now = utc_now()
        row = await get_refresh_token_for_update(
            self.session, hash_opaque_token(refresh_token)
        )
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            await self.session.rollback()
            raise AuthenticationError(_REFRESH_REJECTED)
        if row.used_at is not None:
            await self._revoke_reused_family(row)
            raise AuthenticationError(
                "The refresh token was already used, so its session is now "
                "revoked on every device. Sign in again."
            )

        user = await get_user(self.session, row.user_id)
        if user is None or not user.is_active:
            await self.session.rollback()
            raise AuthenticationError(_REFRESH_REJECTED)

        # The access token issued with this refresh token is replaced too.
        # Without Redis it could not be revoked, so nothing changes.
        try:
            await self.denylist.deny_token(row.access_jti, row.access_expires_at)
        except DenylistUnavailableError as exc:
            await self.session.rollback()
            logger.warning("auth.refresh_unavailable", extra={"error": str(exc)})
            raise ServiceUnavailableError(
                "Tokens cannot be refreshed now because the token deny-list "
                "(Redis) is unavailable. The refresh token is still valid: "
                "retry in a few seconds.",
                retry_after_seconds=5,
            ) from exc

        row.used_at = now
        self.session.add(row)
        token = self._issue(user, row.family_id)
        await self.session.commit()
        logger.info(
            "auth.refreshed",
            extra={"user_id": str(user.id), "session_id": row.family_id.hex},
        )
        return token

    async def _revoke_reused_family(self, row: RefreshToken) -> None:
        last_access_expiry = await revoke_refresh_family(
            self.session, row.family_id, utc_now()
        )
        await self.session.commit()
        logger.warning(
            "auth.refresh_token_reused",
            extra={"user_id": str(row.user_id), "session_id": row.family_id.hex},
        )
        try:
            await self.denylist.deny_session(
                row.family_id.hex, last_access_expiry or row.access_expires_at
            )
        except DenylistUnavailableError as exc:
            # NOTE: the session's access tokens stay valid until they expire.
            logger.error(
                "auth.session_not_denied",
                extra={"session_id": row.family_id.hex, "error": str(exc)},
            )

    async def end_session(self, claims: TokenClaims) -> None:
        """Revoke the login session of an access token: its refresh tokens in
        PostgreSQL, and its access tokens on the deny-list.

        Raises ServiceUnavailableError when Redis is down; the refresh tokens
        are revoked all the same, so a retry only has the deny-list to do.
        """
        try:
            family_id = uuid.UUID(claims.session_id)
        except ValueError:
            family_id = None
        last_access_expiry = None
        if family_id is not None:
            last_access_expiry = await revoke_refresh_family(
                self.session, family_id, utc_now()
            )
            await self.session.commit()

        expires_at = claims.expires_at
        if last_access_expiry is not None:
            expires_at = max(expires_at, last_access_expiry)
        try:
            await self.denylist.deny_session(claims.session_id, expires_at)
        except DenylistUnavailableError as exc:
            logger.warning(
                "auth.logout_incomplete",
                extra={"session_id": claims.session_id, "error": str(exc)},
            )
            raise ServiceUnavailableError(
                "The session's refresh token is revoked, but its access token "
                "could not be revoked because the token deny-list (Redis) is "
                "unavailable. Retry the logout in a few seconds; until then the "
                "access token stays valid for at most "
                f"{self.settings.access_token_expire_minutes} minutes.",
                retry_after_seconds=5,
            ) from exc

    async def revoke_all(self, user: User) -> None:
        """Revoke every token of the user, in PostgreSQL only; the caller commits.

        Raising the token version rejects the user's access tokens on their
        next use, so this works without Redis.
        """
        user.token_version += 1
        self.session.add(user)
        await revoke_user_refresh_tokens(self.session, user.id, utc_now())
