import asyncio
import json
import uuid

import pytest
from fastapi import FastAPI, HTTPException
from starlette.types import Message, Scope

from pravis_api.core.logging import configure_logging
from pravis_api.main import create_app
from tests.conftest import (
    client_for,
    make_settings,
    middleware_app,
    register_and_login,
    running_app,
)
from tests.servers import LocalServer, azurite_connection_string


def app_with_failing_route() -> FastAPI:
    app = create_app(make_settings())

    async def fail() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/fail", fail)
    return app


async def test_unexpected_error_is_problem_500() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.get("/fail")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 500
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


async def test_request_id_echoed_when_valid() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.get(
            "/health", headers={"X-Request-ID": "frontend-42.a"}
        )
    assert response.headers["x-request-id"] == "frontend-42.a"


async def test_request_id_replaced_when_unsafe() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.get(
            "/health", headers={"X-Request-ID": "bad id\twith spaces"}
        )
        unsent = await client.get("/health")
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32
    assert len(unsent.headers["x-request-id"]) == 32


async def test_unknown_route_is_problem_404() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "/api/v1/nothing-here" in response.json()["detail"]


async def test_json_body_over_default_limit_is_413() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.post(
            "/api/v1/auth/register",
            content=b"{" + b" " * (300 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_chunked_body_over_limit_is_413() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 16_384

    async with client_for(app_with_failing_route()) as client:
        response = await client.post(
            "/api/v1/auth/login",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "262144 bytes" in response.json()["detail"]


async def test_cors_allows_frontend_origin() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.options(
            "/api/v1/auth/login",
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "POST",
            },
        )
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in other.headers


def test_openapi_lists_problem_responses() -> None:
    schema = create_app(make_settings()).openapi()
    responses = schema["paths"]["/api/v1/voice/query"]["post"]["responses"]
    assert {"200", "413", "415", "422", "503"} <= set(responses)
    assert "application/problem+json" in responses["415"]["content"]


def test_openapi_errors_are_problem_documents() -> None:
    schema = create_app(make_settings()).openapi()
    # Readiness reports the state of each dependency with its 503.
    readiness = "GET /health/ready 503"
    plain_errors = [
        f"{method.upper()} {path} {status}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith(("4", "5"))
        and "application/problem+json" not in response.get("content", {})
    ]
    assert plain_errors == [readiness]


async def test_error_responses_carry_cors_headers() -> None:
    app = app_with_failing_route()
    origin = {"Origin": "http://localhost:3000"}
    async with client_for(app) as client:
        failed = await client.get("/fail", headers=origin)
        too_large = await client.post(
            "/api/v1/auth/register",
            content=b"{" + b" " * (300 * 1024) + b"}",
            headers={**origin, "Content-Type": "application/json"},
        )
    for response in (failed, too_large):
        assert (
            response.headers["access-control-allow-origin"] == "http://localhost:3000"
        )
        assert "x-request-id" in response.headers


async def test_local_os_error_is_500_not_outage() -> None:
    app = create_app(make_settings())

    async def read_missing_file() -> None:
        with open("/nonexistent/pravis-test-file") as handle:  # noqa: ASYNC230
            handle.read()

    app.add_api_route("/missing-file", read_missing_file)
    async with client_for(app) as client:
        response = await client.get("/missing-file")
    assert response.status_code == 500
    assert "retry-after" not in response.headers


async def test_invalid_json_names_body() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.post(
            "/api/v1/voice/command",
            content=b'{"text": ',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "body"
    assert error["message"].startswith("invalid JSON at character")


async def test_undecodable_json_body_is_422() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.post(
            "/api/v1/voice/command",
            content=b"\x80\x81",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["field"] == "body"
    assert error["message"].startswith("cannot be parsed")


async def test_broken_multipart_body_is_422() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.post(
            "/api/v1/voice/query",
            content=b"--edge\r\nContent-Disposition: form-data\r\n\r\nno end",
            headers={"Content-Type": "multipart/form-data"},
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["field"] == "body"
    assert error["message"].startswith("cannot be parsed")


async def test_health_answers_head() -> None:
    async with client_for(app_with_failing_route()) as client:
        response = await client.head("/health")
    assert response.status_code == 200
    assert response.content == b""


async def test_route_404_detail_kept() -> None:
    app = create_app(make_settings())

    async def missing_thing() -> None:
        raise HTTPException(status_code=404, detail="Product 42 was not found.")

    app.add_api_route("/thing", missing_thing)
    async with client_for(app) as client:
        response = await client.get("/thing")
    assert response.status_code == 404
    assert response.json()["detail"] == "Product 42 was not found."
    assert response.json()["type"] == "urn:problem:pravis:not-found"


async def test_upload_limit_ignores_trailing_slash() -> None:
    """The upload route keeps its larger limit however the path is spelled."""
    async with client_for(app_with_failing_route()) as client:
        response = await client.post(
            "/api/v1/voice/query/",
            content=bytes(300 * 1024),
            headers={"Content-Type": "application/octet-stream"},
        )
    assert response.status_code != 413


async def test_cancelled_request_is_problem_503() -> None:
    """uvicorn cancels requests still running when its grace period ends."""
    app = create_app(make_settings())
    entered = asyncio.Event()

    async def slow() -> None:
        entered.set()
        await asyncio.sleep(60)

    app.add_api_route("/slow", slow)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/slow",
        "raw_path": b"/slow",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    request = asyncio.create_task(app(scope, receive, send))
    await entered.wait()
    request.cancel()
    await request

    start, body = sent
    headers = dict(start["headers"])
    problem = json.loads(body["body"])
    assert start["status"] == 503
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"retry-after"] == b"1"
    assert problem["type"] == "urn:problem:pravis:server-stopping"
    assert problem["request_id"] == headers[b"x-request-id"].decode()


async def test_request_id_on_log_lines(
    database: str, azurite: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside development every line is JSON, and each line written while
    a request is handled carries its id, the route's own lines included."""
    try:
        async with running_app(
            environment="staging",
            database_url=database,
            azure_storage_connection_string=azurite_connection_string(azurite.port),
        ) as (_, client):
            capsys.readouterr()
            response = await client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"logged-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "correct horse 42",
                },
                headers={"X-Request-ID": "register-test-1"},
            )
            other = await client.get("/health")
            lines = capsys.readouterr().err.splitlines()
    finally:
        configure_logging("INFO", json_lines=False)

    assert response.status_code == 201
    assert response.headers["x-request-id"] == "register-test-1"
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    mine = [entry for entry in entries if entry.get("request_id") == "register-test-1"]
    events = [entry["event"] for entry in mine]
    assert "auth.registered" in events
    assert events[-1] == "request.completed"
    completed = mine[-1]
    assert completed["method"] == "POST"
    assert completed["path"] == "/api/v1/auth/register"
    assert completed["status"] == 201
    assert completed["duration_ms"] > 0
    others = [
        e for e in entries if e.get("request_id") == other.headers["x-request-id"]
    ]
    assert [entry["event"] for entry in others] == ["request.completed"]


async def test_request_log_has_user_and_cache(
    database: str,
    azurite: LocalServer,
    own_redis: LocalServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        async with middleware_app(
            database, azurite, own_redis, environment="staging"
        ) as (_, client):
            headers = await register_and_login(client)
            capsys.readouterr()
            for _ in range(2):
                await client.get("/api/v1/users/me", headers=headers)
            lines = capsys.readouterr().err.splitlines()
    finally:
        configure_logging("INFO", json_lines=False)

    completed = [
        entry
        for entry in (json.loads(line) for line in lines if line.startswith("{"))
        if entry["event"] == "request.completed"
    ]
    assert [entry["cache"] for entry in completed] == ["MISS", "HIT"]
    assert completed[0]["user_id"] is not None
    assert completed[1]["user_id"] == completed[0]["user_id"]


async def test_cors_origins_from_frontend_url() -> None:
    app = create_app(
        make_settings(frontend_url="https://shop.example.com, http://localhost:5173/")
    )
    async with client_for(app) as client:
        preflight = await client.options(
            "/api/v1/products",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "GET",
            },
        )
        simple = await client.get(
            "/health", headers={"Origin": "https://shop.example.com"}
        )
        refused = await client.get(
            "/health", headers={"Origin": "http://localhost:3000"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert simple.headers["access-control-allow-origin"] == "https://shop.example.com"
    exposed = simple.headers["access-control-expose-headers"].lower()
    for name in ("x-request-id", "x-cache", "retry-after", "x-ratelimit-remaining"):
        assert name in exposed
    assert "access-control-allow-origin" not in refused.headers
