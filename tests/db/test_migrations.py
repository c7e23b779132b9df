import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import pravis_api.models  # noqa: F401  (registers the tables)
from tests.conftest import alembic_config, create_database, drop_database, migrate


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    name = f"pravis_migrations_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    yield url
    await drop_database(name)


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, SQLModel.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_up_check_down(empty_database: str) -> None:
    await migrate(empty_database)
    engine = create_async_engine(empty_database)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_differences) == []
            tables = await connection.run_sync(_tables)
            assert {
                "users",
                "voice_interactions",
                "refresh_tokens",
                "password_reset_tokens",
                "blob_deletions",
                "interaction_feedback",
            } <= tables
            column_types = (
                await connection.execute(
                    text(
                        "SELECT table_name, data_type FROM information_schema.columns "
                        "WHERE column_name = 'created_at'"
                    )
                )
            ).all()
            assert {row.data_type for row in column_types} == {
                "timestamp with time zone"
            }

        await asyncio.to_thread(
            command.downgrade, alembic_config(empty_database), "base"
        )
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {"alembic_version"}

        await migrate(empty_database)
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_differences) == []
    finally:
        await engine.dispose()
