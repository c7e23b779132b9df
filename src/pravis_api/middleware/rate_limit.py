"""Rate limits checked before routing, as pure ASGI middleware.

Each request counts against one group: the group of its path, or the
default group. The bucket is the signed-in user (a validly signed access
token's subject) or else the client address. Every limited response
carries slowapi's `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` headers; a rejected one is a 429 problem document with
`Retry-After`.
"""

import ipaddress
import logging
import math
from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pravis_api.api.errors import problem_response
from pravis_api.core.config import Settings
from pravis_api.middleware.bearer import signed_claims
from pravis_api.services.rate_limiter import LimitCheck, RateLimiter

logger = logging.getLogger(__name__)

DEFAULT_GROUP = "default"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def route_path(scope: Scope) -> str:
    """Return the path as routes see it: without root_path or a trailing slash."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return path.rstrip("/") or "/"


def _is_trusted(address: str, networks: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted_proxies: Iterable[IPNetwork]) -> str:
    """Return the client's address.

    X-Forwarded-For is read only when the direct peer is a trusted proxy;
    then the client is the rightmost address in it that is not a trusted
    proxy, because every proxy appends the address it received from and
    anything to the left of a proxy's entry came from the client.
    """
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    networks = list(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded.extend(
                part.strip() for part in value.decode("latin-1").split(",")
            )
    candidates = [part for part in forwarded if part]
    for address in reversed(candidates):
        if not _is_trusted(address, networks):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                # Not an address: a proxy would not write this, so the
                # entry is forged and the peer is the safer bucket.
                return peer
    return candidates[0] if candidates else peer


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        groups_by_path: Mapping[str, str],
        exempt_paths: Iterable[str],
        trusted_proxies: Iterable[IPNetwork],
        settings: Settings,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.groups_by_path = dict(groups_by_path)
        self.exempt_paths = frozenset(exempt_paths)
        self.trusted_proxies = list(trusted_proxies)
        self.settings = settings

    def _identity(self, scope: Scope) -> str:
        claims = signed_claims(scope, self.settings)
        if claims is not None:
            return f"user:{claims.subject}"
        return f"addr:{client_address(scope, self.trusted_proxies)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path in self.exempt_paths:
            await self.app(scope, receive, send)
            return

        group = self.groups_by_path.get(path, DEFAULT_GROUP)
        check = await self.limiter.hit(group, self._identity(scope))
        if not check.allowed:
            await self._reject(scope, receive, send, group, check)
            return

        headers = check.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, group: str, check: LimitCheck
    ) -> None:
        retry_after = max(math.ceil(check.reset_after), 1)
        scope.setdefault("state", {})["rate_limited"] = group
        response = problem_response(
            429,
            "rate-limit-exceeded",
            f"Too many requests: the limit for this kind of request is "
            f"{check.description}. Retry in {retry_after} s.",
            title="Too Many Requests",
            headers={"Retry-After": str(retry_after)},
            extensions={"limit": check.limit, "retry_after": retry_after},
        )
        response.headers.update(
            {name.decode(): value.decode() for name, value in check.headers()}
        )
        await response(scope, receive, send)
