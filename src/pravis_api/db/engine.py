"""The async engine and session factory, one of each per process."""

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.config import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the engine. It connects lazily, so it starts with the database down."""
    return create_async_engine(
        settings.sqlalchemy_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # A connection dropped by a database restart is replaced instead of
        # failing the next request that checks it out.
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "server_settings": {"application_name": "pravis-api"},
        },
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Without expire_on_commit=False, reading an attribute after commit
    # triggers a lazy load that fails under asyncio (MissingGreenlet).
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
