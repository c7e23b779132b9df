"""Alembic environment: async engine, SQLModel metadata, URL from settings."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import pravis_api.models  # noqa: F401  (registers the tables on the metadata)
from pravis_api.core.config import Settings

config = context.config

# `pravis-api migrate` configures logging itself and sets this to False.
if config.config_file_name is not None and config.attributes.get(
    "configure_logger", True
):
    fileConfig(config.config_file_name)

target_metadata = SQLModel.metadata


def database_url() -> str:
    # The CLI and the tests pass the URL in; `alembic` on the command line
    # reads it from the environment and `.env` like the service does.
    url = config.attributes.get("database_url")
    return str(url) if url else Settings().sqlalchemy_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
