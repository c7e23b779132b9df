"""Response cache served before routing, as pure ASGI middleware.

A GET to a route marked with `@cached` is looked up in Redis by a key made
of the method, the path, the query parameters sorted by name, a hash of the
body and, for per-user routes, the user. A hit is sent without routing,
dependencies or validation. A miss runs the route and stores a 2xx response
up to CACHE_MAX_BYTES. Every GET to a cached route gets `X-Cache: HIT` or
`MISS`. When Redis is unavailable, every request is a miss and nothing is
stored.

A per-user entry is looked up under the subject of a validly signed token,
and served only after `TokenService.authenticate` has accepted the token
(deny-list, account, token version), the same check the route makes.
"""

import logging
import re
from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pravis_api.core.config import Settings
from pravis_api.core.errors import AuthenticationError
from pravis_api.middleware.bearer import bearer_token, signed_claims
from pravis_api.resources import Resources
from pravis_api.services.response_cache import (
    CachedResponse,
    CachePolicy,
    ResponseCache,
    entry_digest,
    policy_of,
)
from pravis_api.services.tokens import TokenService

logger = logging.getLogger(__name__)

# GET bodies are unusual; larger ones, and bodies without a declared length,
# bypass the cache instead of being read into memory for the key.
MAX_KEYED_BODY_BYTES = 64 * 1024
# Headers that depend on the request or on the connection, not on the
# response, and so are never stored.
_UNSTORED_HEADERS = frozenset({b"content-length", b"date", b"server", b"x-cache"})
_HIT = (b"x-cache", b"HIT")
_MISS = (b"x-cache", b"MISS")
_PRIVATE = (b"cache-control", b"private")


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :]
    return path


class CachedRoutes:
    """Finds the cache policy of a GET path the way routing finds its route:
    the first route in declaration order whose pattern matches."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._static: dict[str, tuple[int, CachePolicy | None]] = {}
        self._dynamic: list[tuple[int, re.Pattern[str], CachePolicy | None]] = []
        # FastAPI keeps included routers nested; this walks them in order.
        for index, route in enumerate(iter_route_contexts(routes)):
            path, endpoint = route.path, route.endpoint
            if path is None or endpoint is None or "GET" not in (route.methods or ()):
                continue
            policy = policy_of(endpoint)
            if "{" in path:
                self._dynamic.append((index, route.path_regex, policy))
            else:
                self._static.setdefault(path, (index, policy))

    def policy_for(self, path: str) -> CachePolicy | None:
        static = self._static.get(path)
        for index, pattern, policy in self._dynamic:
            if static is not None and index > static[0]:
                break
            if pattern.match(path):
                return policy
        return static[1] if static is not None else None


def _canonical_query(scope: Scope) -> bytes:
    """Return the query string with its parameters sorted by name.

    The parameters are compared as sent, without decoding, so two spellings
    of one value (`+` and `%20`) get separate entries; that costs a miss,
    never a wrong hit. A stable sort keeps the order of a repeated
    parameter's values, which routes may depend on.
    """
    raw: bytes = scope.get("query_string", b"")
    if b"&" not in raw:
        return raw
    pairs = [pair for pair in raw.split(b"&") if pair]
    ordered = sorted(pairs, key=_parameter_name)
    return b"&".join(ordered)


def _parameter_name(pair: bytes) -> bytes:
    return pair.partition(b"=")[0]


def _declared_body_length(scope: Scope) -> int | None:
    """Return the declared length; None when the body has none (chunked)."""
    length = 0
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None
        elif name == b"transfer-encoding":
            return None
    return length


class CacheMiddleware:
    def __init__(
        self, app: ASGIApp, *, cache: ResponseCache, settings: Settings
    ) -> None:
        self.app = app
        self.cache = cache
        self.settings = settings
        self._routes: CachedRoutes | None = None

    def _policy(self, scope: Scope) -> CachePolicy | None:
        if self._routes is None:
            self._routes = CachedRoutes(scope["app"].routes)
        return self._routes.policy_for(_route_path(scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        policy = self._policy(scope)
        if policy is None:
            await self.app(scope, receive, send)
            return

        user_id = None
        if policy.per_user:
            claims = signed_claims(scope, self.settings)
            if claims is None:
                # The route rejects the request; nothing to look up or store.
                await self._run(scope, receive, send, policy, None)
                return
            user_id = claims.subject

        body_length = _declared_body_length(scope)
        if body_length is None or body_length > MAX_KEYED_BODY_BYTES:
            await self._run(scope, receive, send, policy, None)
            return
        body = b""
        if body_length:
            body = await _read_body(receive)
            receive = _replay(body, receive)

        digest = entry_digest(
            [
                b"GET",
                _route_path(scope).encode(),
                _canonical_query(scope),
                entry_digest([body]).encode() if body else b"",
                (user_id or "").encode(),
            ]
        )
        lookup = await self.cache.lookup(
            policy.namespaces_for(user_id), digest, shared=not policy.per_user
        )
        hit = lookup.hit
        if hit is not None and (
            not policy.per_user or await self._verified(scope, policy, user_id)
        ):
            await self._send_hit(scope, send, hit, policy)
            return

        response = await self._run(scope, receive, send, policy, lookup.versions)
        if response is None or hit is not None:
            # A hit refused to this token is not replaced by its response.
            return
        if policy.per_user and scope.get("state", {}).get("user_id") != user_id:
            return
        await self.cache.store(lookup, response, policy.ttl)

    async def _verified(
        self, scope: Scope, policy: CachePolicy, user_id: str | None
    ) -> bool:
        token = bearer_token(scope)
        if token is None:
            return False
        resources: Resources = scope["app"].state.resources
        try:
            async with resources.read_session_factory() as session:
                tokens = TokenService(session, resources.denylist, self.settings)
                claims = signed_claims(scope, self.settings)
                holder = await tokens.verify(token, claims)
        except AuthenticationError:
            return False
        except Exception as exc:
            # The route makes the same check and reports the failure itself.
            logger.warning("cache.verification_failed", extra={"error": repr(exc)})
            return False
        if str(holder.user_id) != user_id or (
            policy.admin_only and not holder.is_admin
        ):
            return False
        scope.setdefault("state", {})["user_id"] = user_id
        return True

    async def _send_hit(
        self, scope: Scope, send: Send, hit: CachedResponse, policy: CachePolicy
    ) -> None:
        scope.setdefault("state", {})["cache"] = "HIT"
        headers = [
            *hit.headers,
            (b"content-length", str(len(hit.body)).encode()),
            _HIT,
        ]
        if policy.per_user:
            headers.append(_PRIVATE)
        await send(
            {"type": "http.response.start", "status": hit.status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": hit.body})

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        policy: CachePolicy,
        versions: tuple[int, ...] | None,
    ) -> CachedResponse | None:
        """Run the route, marking its response a miss, and return the response
        when it may be stored."""
        scope.setdefault("state", {})["cache"] = "MISS"
        status = 0
        stored_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0
        storable = versions is not None
        complete = False
        max_bytes = self.cache.max_bytes

        async def send_and_capture(message: Message) -> None:
            nonlocal status, stored_headers, size, storable, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                # 206 is part of a body, and a cookie belongs to one client.
                storable = (
                    storable
                    and 200 <= status < 300
                    and status != 206
                    and b"set-cookie" not in names
                )
                if policy.per_user:
                    # Replaced by Cache-Control: private below.
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                stored_headers = [
                    (name, value)
                    for name, value in headers
                    if name.lower() not in _UNSTORED_HEADERS
                ]
                extra = [_MISS, _PRIVATE] if policy.per_user else [_MISS]
                message["headers"] = [*headers, *extra]
            elif message["type"] == "http.response.body":
                if storable:
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > max_bytes:
                        storable = False
                        chunks.clear()
                    else:
                        chunks.append(chunk)
                if not message.get("more_body", False):
                    complete = True
            await send(message)

        await self.app(scope, receive, send_and_capture)
        if not (storable and complete and versions is not None):
            return None
        return CachedResponse(
            status=status,
            headers=stored_headers,
            body=b"".join(chunks),
            versions=versions,
            expires_at=self.cache.expiry(policy.ttl),
        )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a receive that yields the body read for the key, then defers."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
