"""The bearer token of a request, for middleware that runs before routing.

The rate limiter and the response cache both need the caller's user id
before any route dependency runs. The token's signature and expiry are
checked once per request and the result is kept in the ASGI scope. Only
`TokenService.authenticate` also checks the deny-list and the account, so
middleware that returns data to the caller must call it as well.
"""

from starlette.types import Scope

from pravis_api.core.config import Settings
from pravis_api.core.security import InvalidTokenError, TokenClaims, decode_access_token

_CLAIMS_SCOPE_KEY = "pravis.bearer_claims"


def bearer_token(scope: Scope) -> str | None:
    """Return the token of an `Authorization: Bearer` header, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            header: str = value.decode("latin-1")
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                return token
            return None
    return None


def signed_claims(scope: Scope, settings: Settings) -> TokenClaims | None:
    """Return the claims of a validly signed, unexpired access token, else None.

    The token is checked as `TokenService.authenticate` checks it: the
    settings' key, and no longer a lifetime than the API issues.
    """
    if _CLAIMS_SCOPE_KEY in scope:
        cached: TokenClaims | None = scope[_CLAIMS_SCOPE_KEY]
        return cached
    token = bearer_token(scope)
    claims = None
    if token is not None:
        try:
            claims = decode_access_token(
                token,
                secret_key=settings.secret_key.get_secret_value(),
                max_lifetime=settings.access_token_lifetime,
            )
        except InvalidTokenError:
            claims = None
    scope[_CLAIMS_SCOPE_KEY] = claims
    return claims
