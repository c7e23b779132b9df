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
        # No pre-ping: it costs a round trip on every checkout. After a
        # database restart the first query on a dropped connection fails
        # (503 to that request), and SQLAlchemy then replaces every pooled
        # connection older than the failure.
        pool_pre_ping=False,
        # Replace connections before a server or proxy closes idle ones.
        pool_recycle=1800,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "server_settings": {"application_name": "pravis-api"},
        },
    )


def create_session_factory(
    engine: AsyncEngine, *, autocommit: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Create a session factory; with `autocommit`, each statement commits alone.

    Autocommit sessions send no BEGIN and COMMIT, two round trips fewer,
    and suit reads and single-statement writes. A write of several
    statements that must succeed or fail together needs a default session.
    """
    if autocommit:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    # Without expire_on_commit=False, reading an attribute after commit
    # triggers a lazy load that fails under asyncio (MissingGreenlet).
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
