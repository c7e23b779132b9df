"""Password hashing (argon2id), access tokens (JWT, HS256), and the opaque
tokens used for refresh and password reset."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"
# The `typ` claim of access tokens. Refresh tokens are not JWTs at all, so
# neither kind of token can be used in place of the other.
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value, not a secret)
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "sid", "ver"]
# Tolerated clock difference between API instances: PyJWT rejects a token
# whose `iat` lies in the future, and `iat` has whole seconds.
_CLOCK_SKEW_SECONDS = 10

# argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes)
# take about 140 ms per hash on a 2-core test machine. Hashes run in worker
# threads, because the C code releases the GIL; the limiter caps how many
# run at once so a burst of logins cannot take 64 MiB per request.
_password_hasher = PasswordHasher()
_hashing_limiter = anyio.CapacityLimiter(4)

# Verified against when the e-mail is unknown, so that a failed login takes
# as long whether or not the account exists. It is the hash of a fixed
# string, made with argon2-cffi's default parameters.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$qRw5VHmbs0m1GOb+0qNzKg"
    "$ZQHSCQHQaJer71mAcITvr/o/qcre0wVxivPS4z1uVnw"
)


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(
        _password_hasher.hash, password, limiter=_hashing_limiter
    )


def _verify(hashed_password: str, password: str) -> bool:
    try:
        return _password_hasher.verify(hashed_password, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(hashed_password: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time and return False."""
    if hashed_password is None:
        await anyio.to_thread.run_sync(
            _verify, _DUMMY_HASH, password, limiter=_hashing_limiter
        )
        return False
    return await anyio.to_thread.run_sync(
        _verify, hashed_password, password, limiter=_hashing_limiter
    )


def password_needs_rehash(hashed_password: str) -> bool:
    return _password_hasher.check_needs_rehash(hashed_password)


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int  # seconds
    jti: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    # The login session (refresh token family) the token was issued in.
    session_id: str
    # The user's token version at issue; raising it revokes older tokens.
    token_version: int


class InvalidTokenError(Exception):
    pass


def create_access_token(
    subject: str,
    *,
    secret_key: str,
    expires_minutes: int,
    session_id: str,
    token_version: int,
) -> AccessToken:
    now = datetime.now(UTC)
    jti = uuid.uuid4().hex
    expires_at = now + timedelta(minutes=expires_minutes)
    claims = {
        "sub": subject,
        "iat": now,
        "exp": expires_at,
        "jti": jti,
        "typ": ACCESS_TOKEN_TYPE,
        "sid": session_id,
        "ver": token_version,
    }
    token = jwt.encode(claims, secret_key, algorithm=JWT_ALGORITHM)
    return AccessToken(
        token=token,
        expires_in=expires_minutes * 60,
        jti=jti,
        # JWT timestamps have whole seconds.
        expires_at=expires_at.replace(microsecond=0),
    )


def decode_access_token(
    token: str, *, secret_key: str, max_lifetime: timedelta | None = None
) -> TokenClaims:
    """Verify signature and expiry; raise InvalidTokenError on any failure.

    The accepted algorithm is pinned, so `alg: none` and tokens signed with
    another algorithm are rejected whatever algorithm their header names.
    With `max_lifetime`, a token whose `exp` lies further from its `iat`
    (plus the clock skew) is rejected, so a far-future `exp` cannot make a
    token last longer than the tokens the API issues.
    """
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": _REQUIRED_CLAIMS},
            leeway=_CLOCK_SKEW_SECONDS,
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc

    if claims["typ"] != ACCESS_TOKEN_TYPE:
        raise InvalidTokenError(f"typ must be {ACCESS_TOKEN_TYPE!r}")
    subject, jti, session_id = claims["sub"], claims["jti"], claims["sid"]
    if not all(isinstance(value, str) for value in (subject, jti, session_id)):
        raise InvalidTokenError("sub, jti and sid must be strings")
    token_version = claims["ver"]
    # bool is a subclass of int, and `true` is no version.
    if not isinstance(token_version, int) or isinstance(token_version, bool):
        raise InvalidTokenError("ver must be an integer")
    try:
        issued_at = datetime.fromtimestamp(claims["iat"], UTC)
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    except (OverflowError, OSError, ValueError) as exc:
        # A signed token can still carry a timestamp past year 9999.
        raise InvalidTokenError("iat or exp is out of range") from exc
    skew = timedelta(seconds=_CLOCK_SKEW_SECONDS)
    if max_lifetime is not None and expires_at - issued_at > max_lifetime + skew:
        raise InvalidTokenError("exp is further from iat than the token lifetime")
    return TokenClaims(
        subject=subject,
        jti=jti,
        issued_at=issued_at,
        expires_at=expires_at,
        session_id=session_id,
        token_version=token_version,
    )


def new_opaque_token() -> str:
    """Generate a refresh or password reset token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    """Return the SHA-256 hex digest under which an opaque token is stored.

    A fast hash suffices: the tokens are random, so there is no dictionary
    to try, and a stolen table of digests yields no usable token.
    """
    return hashlib.sha256(token.encode()).hexdigest()
