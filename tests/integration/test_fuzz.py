"""Schema fuzzing: Schemathesis against one real `pravis-api serve` process.

Every operation of the OpenAPI document gets at least 100 generated
requests, anonymous and signed in (a shopper's bearer token, and an
admin's on admin routes). Each response must not be a 5xx, must match its
documented schema and content type, and must have a status the document
lists for that operation. The server has its own database and raised rate
limits, so the limits never respond 429 to the fuzzer.
"""

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pravis_api.main import create_app
from tests.conftest import create_database, drop_database, make_settings, migrate
from tests.servers import (
    ApiServer,
    LocalServer,
    azurite_connection_string,
    start_api_server,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Generated requests per operation and mode. Voice routes decode audio in a
# speech worker, but random bytes fail at the first header check, so they
# keep the same count.
EXAMPLES = 100
PASSWORD = "fuzz-password-1234"
RAISED_LIMIT = "100000/minute"
# Operations that end the caller's session or account: each example of
# these gets a fresh account, so the shared token keeps working.
SESSION_ENDING = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/users/me")}


@dataclass
class FuzzServer:
    api: ApiServer
    database_url: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api.port}"


async def admin_url_from(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="module")
async def fuzz_server(
    azurite: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzServer]:
    name = f"pravis_fuzz_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    await migrate(url)
    directory: Path = tmp_path_factory.mktemp("fuzz")
    limits = {
        "RATE_LIMIT_DEFAULT": RAISED_LIMIT,
        "RATE_LIMIT_LOGIN": RAISED_LIMIT,
        "RATE_LIMIT_REGISTER": RAISED_LIMIT,
        "RATE_LIMIT_VOICE": RAISED_LIMIT,
    }
    api = start_api_server(
        directory,
        {
            "ENVIRONMENT": "development",
            "SECRET_KEY": "fuzz-secret-key-of-at-least-thirty-two-characters",
            "DATABASE_URL": url,
            "AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string(azurite.port),
            "AZURE_STORAGE_CONTAINER_NAME": f"fuzz-{uuid.uuid4().hex[:12]}",
            "SPEECH_WORKERS": "1",
            **limits,
        },
    )
    try:
        api.wait_until_serving()
        yield FuzzServer(api, url)
    finally:
        api.kill()
        await drop_database(name)


def register(base_url: str, email: str | None = None) -> str:
    """Register an account, sign it in and return its bearer token."""
    email = email or f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        created = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        signed_in = client.post(
            "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
    return str(signed_in.json()["access_token"])


@dataclass
class Tokens:
    shopper: str
    admin: str


@pytest.fixture(scope="module")
async def tokens(fuzz_server: FuzzServer) -> Tokens:
    shopper = register(fuzz_server.base_url)
    admin_email = f"fuzz-admin-{uuid.uuid4().hex[:12]}@example.com"
    admin = register(fuzz_server.base_url, admin_email)
    connection = await asyncpg.connect(await admin_url_from(fuzz_server.database_url))
    try:
        await connection.execute(
            "UPDATE users SET is_admin = true WHERE email = $1", admin_email
        )
    finally:
        await connection.close()
    return Tokens(shopper=shopper, admin=admin)


@pytest.fixture(scope="module")
def live_schema(fuzz_server: FuzzServer) -> BaseSchema:
    """The OpenAPI document as the fuzzed server serves it."""
    return schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")


def operation_labels() -> list[str]:
    """Label every operation ("GET /api/v1/products") for parametrization.

    Schemathesis' own pytest plugin (4.32) fails on pytest 9 (it reads
    `request.node._nodeid`), so the tests drive its strategies directly.
    """
    document = create_app(make_settings()).openapi()
    return [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    ]


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    # CI (CI=true) replays the same examples on every run, so a red build
    # means a change broke something; local runs draw new examples.
    derandomize=os.environ.get("CI") == "true",
    print_blob=True,
)


def bearer_for(operation: APIOperation, tokens: Tokens, base_url: str) -> str:
    method = operation.method.upper()
    path = operation.path
    if (method, path) in SESSION_ENDING:
        return register(base_url)
    if path.startswith("/api/v1/users") and not path.startswith("/api/v1/users/me"):
        return tokens.admin
    if method != "GET" and path.startswith("/api/v1/products"):
        return tokens.admin
    return tokens.shopper


def fuzz_operation(
    schema: BaseSchema, label: str, base_url: str, token: Callable[[], str] | None
) -> None:
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served OpenAPI document"
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @FUZZ_SETTINGS
    @given(case=strategy)
    def run(case: Case) -> None:
        headers = dict(case.headers or {})
        headers.pop("Authorization", None)
        case.headers = headers
        extra = {"Authorization": f"Bearer {token()}"} if token else None
        case.call_and_validate(
            base_url=base_url, headers=extra, checks=CHECKS, timeout=30
        )

    run()


@pytest.mark.parametrize("label", operation_labels())
def test_fuzz_anonymous(
    label: str, live_schema: BaseSchema, fuzz_server: FuzzServer
) -> None:
    fuzz_operation(live_schema, label, fuzz_server.base_url, None)


@pytest.mark.parametrize("label", operation_labels())
def test_fuzz_signed_in(
    label: str, live_schema: BaseSchema, fuzz_server: FuzzServer, tokens: Tokens
) -> None:
    operation = live_schema.find_operation_by_label(label)
    assert operation is not None

    def token() -> str:
        return bearer_for(operation, tokens, fuzz_server.base_url)

    fuzz_operation(live_schema, label, fuzz_server.base_url, token)


HUGE = "9" * 40
DEEP_JSON = "[" * 100_000 + "]" * 100_000
MANY_PARTS = (
    b"".join(
        b"--edge\r\nContent-Disposition: form-data; name=f%d\r\n\r\nx\r\n" % index
        for index in range(2000)
    )
    + b"--edge--\r\n"
)
HOSTILE_REQUESTS: dict[str, tuple[str, str, dict[str, object]]] = {
    "NUL in search text": ("GET", "/api/v1/products?q=red%00dress", {}),
    "control characters in filters": (
        "GET",
        "/api/v1/products?color=%01%02%1b&category=%7f",
        {},
    ),
    "huge page number": ("GET", f"/api/v1/products?page={HUGE}", {}),
    "huge page size": ("GET", f"/api/v1/products?page_size={HUGE}", {}),
    "huge price": ("GET", f"/api/v1/products?min_price={HUGE}", {}),
    "huge integer as product id": ("GET", f"/api/v1/products/{HUGE}", {}),
    "huge integer as user id": ("GET", f"/api/v1/users/{HUGE}", {}),
    "huge integer as interaction id": ("GET", f"/api/v1/voice/history/{HUGE}", {}),
    "NUL in command text": (
        "POST",
        "/api/v1/voice/command",
        {"json": {"text": "open\x00 my cart\x07", "session_id": "a" * 20}},
    ),
    "NUL in registration e-mail": (
        "POST",
        "/api/v1/auth/register",
        {"json": {"email": "nul\x00@example.com", "password": PASSWORD}},
    ),
    "NUL in admin e-mail filter": ("GET", "/api/v1/users?email=ann%00", {}),
    "NUL in full name": (
        "POST",
        "/api/v1/auth/register",
        {
            "json": {
                "email": "nul-name@example.com",
                "password": PASSWORD,
                "full_name": "Ann\x00\x1b[31m",
            }
        },
    ),
    "NUL in login form": (
        "POST",
        "/api/v1/auth/login",
        {"data": {"username": "a\x00@example.com", "password": "\x00"}},
    ),
    "deep JSON": (
        "POST",
        "/api/v1/voice/command",
        {"content": DEEP_JSON, "headers": {"Content-Type": "application/json"}},
    ),
    "JSON over the body limit": (
        "POST",
        "/api/v1/auth/register",
        {"json": {"email": "big@example.com", "password": "p" * 2_000_000}},
    ),
    "multipart with thousands of parts": (
        "POST",
        "/api/v1/voice/query",
        {
            "content": MANY_PARTS,
            "headers": {"Content-Type": "multipart/form-data; boundary=edge"},
        },
    ),
    "multipart with two audio files": (
        "POST",
        "/api/v1/voice/query",
        {"files": [("audio", ("a.wav", b"RIFF", "audio/wav"))] * 2},
    ),
    "multipart without boundary": (
        "POST",
        "/api/v1/voice/transcribe",
        {"content": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}},
    ),
}


def documented_statuses(schema: BaseSchema, method: str, path: str) -> set[str]:
    """Return the statuses the served document lists for a concrete path."""
    for result in schema.get_all_operations():
        operation = result.ok()
        pattern = re.sub(r"\{[^/]+\}", "[^/]+", operation.path)
        if operation.method.upper() == method and re.fullmatch(pattern, path):
            return set(operation.definition.raw["responses"])
    raise AssertionError(f"no documented operation matches {method} {path}")


@pytest.mark.parametrize("name", list(HOSTILE_REQUESTS))
def test_hostile_request_documented_4xx(
    name: str, fuzz_server: FuzzServer, live_schema: BaseSchema, tokens: Tokens
) -> None:
    method, url, options = HOSTILE_REQUESTS[name]
    options = dict(options)
    headers = {"Authorization": f"Bearer {tokens.admin}"}
    headers.update(options.pop("headers", {}))  # type: ignore[call-overload]
    with httpx.Client(base_url=fuzz_server.base_url, timeout=30) as client:
        response = client.request(method, url, headers=headers, **options)  # type: ignore[arg-type]

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"]
    documented = documented_statuses(live_schema, method, url.split("?")[0])
    assert str(response.status_code) in documented
