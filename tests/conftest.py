"""Fixtures: a throwaway PostgreSQL database, an Azurite server, and the app.

Every test runs inside a transaction that is rolled back, so tests see only
their own rows. Blobs go to a container made for this test run.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.api.deps import get_read_session, get_session
from pravis_api.core.config import Settings
from pravis_api.main import create_app
from pravis_api.models.user import User
from pravis_api.services.catalogue import seed_demo_catalogue
from tests.fakes.azure_speech import azure_speech_app
from tests.fakes.openai_api import openai_app
from tests.fakes.server import FakeControl, FakeServer
from tests.servers import (
    ApiServer,
    LocalServer,
    SmtpSink,
    azurite_connection_string,
    azurite_server,
    redis_server,
    start_api_server,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"

# A role that may create databases; trust authentication on this machine.
ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def database_url(name: str) -> str:
    url = make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def create_database(name: str) -> str:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return database_url(name)


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


async def migrate(url: str, revision: str = "head") -> None:
    # env.py runs its own event loop, so it cannot run on this one.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "speech_workers": 1,
        "speech_queue_limit": 4,
        "secret_key": "test-secret-key-of-at-least-thirty-two-characters",
        # Off unless a test turns them on: the shared app's tests roll back
        # their rows, which cached responses would outlive, and all of them
        # come from one client address.
        "cache_enabled": False,
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    name = f"pravis_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    await migrate(url)
    yield url
    await drop_database(name)


@pytest.fixture(scope="session")
def azurite() -> Iterator[LocalServer]:
    server = azurite_server().start()
    yield server
    server.stop()


StartApi = Callable[..., ApiServer]


@pytest.fixture
def start_api(
    database: str, azurite: LocalServer, tmp_path: Path
) -> Iterator[StartApi]:
    """Start `pravis-api serve` processes; keyword arguments are settings.

    Each gets the test database, the test Azurite, a container of its own
    and one speech worker, unless a keyword overrides them.
    """
    servers: list[ApiServer] = []

    def start(*args: str, **settings: str) -> ApiServer:
        values = {
            "ENVIRONMENT": "development",
            "SECRET_KEY": "test-secret-key-of-at-least-thirty-two-characters",
            "DATABASE_URL": database,
            "AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string(azurite.port),
            "AZURE_STORAGE_CONTAINER_NAME": f"test-{uuid.uuid4().hex[:12]}",
            "SPEECH_WORKERS": "1",
        }
        values.update(settings)
        server = start_api_server(tmp_path, values, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azure_speech_server() -> Iterator[FakeServer]:
    control = FakeControl(key="azure-test-key-0123456789")
    server = FakeServer(azure_speech_app(control), control).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeServer]:
    control = FakeControl(key="sk-test-0123456789")
    server = FakeServer(openai_app(control), control).start()
    yield server
    server.stop()


@pytest.fixture
def azure_fake(azure_speech_server: FakeServer) -> FakeServer:
    """The fake Azure AI Speech, with no scripted answers or recorded requests."""
    azure_speech_server.control.reset()
    return azure_speech_server


@pytest.fixture
def openai_fake(openai_server: FakeServer) -> FakeServer:
    """The fake OpenAI-compatible server, reset like azure_fake."""
    openai_server.control.reset()
    return openai_server


@pytest.fixture(scope="session")
def settings(database: str, azurite: LocalServer, smtp: SmtpSink) -> Settings:
    return make_settings(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
        azure_storage_container_name=f"test-{uuid.uuid4().hex[:12]}",
        speech_workers=2,
        smtp_port=smtp.port,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def catalogue(app: FastAPI) -> None:
    """The demo catalogue and store policies, committed once for the whole run,
    and the recogniser's boutique model rebuilt from that catalogue."""
    resources = app.state.resources
    async with resources.session_factory() as session:
        await seed_demo_catalogue(session, currency="USD")
    # The app checks the catalogue for changes only once a minute.
    await resources.speech_models.refresh()


@pytest.fixture
async def db_session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test.

    The app's routes get this session too, and their commits become
    savepoints of the outer transaction.
    """
    engine = app.state.resources.engine
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )

        async def override() -> AsyncIterator[AsyncSession]:
            yield session

        app.dependency_overrides[get_session] = override
        app.dependency_overrides[get_read_session] = override
        try:
            yield session
        finally:
            app.dependency_overrides.pop(get_session, None)
            app.dependency_overrides.pop(get_read_session, None)
            await session.close()
            await transaction.rollback()


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60)


@pytest.fixture
async def client(
    app: FastAPI, db_session: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@asynccontextmanager
async def running_app(
    **overrides: Any,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app of its own, for tests that change settings or stop its servers."""
    app = create_app(make_settings(**overrides))
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield app, client


@pytest.fixture(scope="module")
def own_redis() -> Iterator[LocalServer]:
    """A Redis server for one test module, which its tests may stop."""
    server = redis_server().start()
    yield server
    server.stop()


@pytest.fixture
async def redis(own_redis: LocalServer) -> AsyncIterator[Redis]:
    """A client of the module's own Redis server, emptied first."""
    client = Redis(host="127.0.0.1", port=own_redis.port)
    await client.flushall()
    yield client
    await client.aclose()


@asynccontextmanager
async def middleware_app(
    database: str, azurite: LocalServer, redis: LocalServer, **overrides: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app with the response cache and rate limits on, using `redis`.

    The default rate limit is high enough for a test's own requests.
    """
    values: dict[str, Any] = {
        "database_url": database,
        "azure_storage_connection_string": azurite_connection_string(azurite.port),
        "redis_url": f"redis://127.0.0.1:{redis.port}/0",
        "redis_retry_seconds": 0.2,
        "cache_enabled": True,
        "rate_limit_enabled": True,
        "rate_limit_default": "10000/minute",
        "rate_limit_login": "1000/minute",
        "rate_limit_register": "1000/minute",
        "rate_limit_voice": "1000/minute",
    }
    values.update(overrides)
    async with running_app(**values) as (app, client):
        yield app, client


async def promote_to_admin(app: FastAPI, email: str) -> None:
    """Make an existing account an admin, committed."""
    async with app.state.resources.session_factory() as session:
        user = (await session.exec(select(User).where(User.email == email))).one()
        user.is_admin = True
        session.add(user)
        await session.commit()


async def register(
    client: httpx.AsyncClient,
    email: str | None = None,
    password: str = "correct horse 42",
) -> str:
    """Create an account and return its e-mail."""
    email = email or f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    assert response.status_code == 201, response.text
    return email


async def login(
    client: httpx.AsyncClient, email: str, password: str = "correct horse 42"
) -> dict[str, Any]:
    """Sign in and return the token response."""
    response = await client.post(
        "/api/v1/auth/login", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def register_and_login(
    client: httpx.AsyncClient,
    email: str | None = None,
    password: str = "correct horse 42",
) -> dict[str, str]:
    """Create an account and return its Authorization header."""
    email = await register(client, email, password)
    return bearer(await login(client, email, password))


async def user_id_of(session: AsyncSession, email: str) -> uuid.UUID:
    return (await session.exec(select(User.id).where(User.email == email))).one()


async def make_admin(
    client: httpx.AsyncClient, session: AsyncSession
) -> dict[str, Any]:
    """Create an admin account through the database and return its tokens."""
    email = await register(client, f"admin-{uuid.uuid4().hex[:8]}@example.com")
    user = await session.get(User, await user_id_of(session, email))
    assert user is not None
    user.is_admin = True
    await session.commit()
    return await login(client, email)


async def admin_headers(
    client: httpx.AsyncClient, session: AsyncSession
) -> dict[str, str]:
    """Create an account, make it an admin, and return its Authorization header."""
    return bearer(await make_admin(client, session))
