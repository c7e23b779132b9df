"""Statements sent straight to asyncpg keep SQLAlchemy's transactions and errors."""

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, ProgrammingError

from pravis_api.db.driver import fetch


async def test_fetch_rows_by_column_name(app: FastAPI) -> None:
    async with app.state.resources.read_session_factory() as session:
        rows = await fetch(session, "SELECT $1::int + 1 AS n, 'x' AS s", (41,))
    assert len(rows) == 1
    assert rows[0]["n"] == 42
    assert rows[0]["s"] == "x"


async def test_fetch_error_is_sqlalchemy_error(app: FastAPI) -> None:
    async with app.state.resources.read_session_factory() as session:
        with pytest.raises(ProgrammingError) as raised:
            await fetch(session, "SELECT * FROM no_such_table")
        assert getattr(raised.value.orig, "sqlstate", None) == "42P01"
        # The connection still serves the next statement.
        rows = await fetch(session, "SELECT 1 AS n")
    assert rows[0]["n"] == 1


async def test_fetch_lost_connection_invalidated(app: FastAPI) -> None:
    resources = app.state.resources
    async with resources.read_session_factory() as session:
        pid = (await fetch(session, "SELECT pg_backend_pid() AS pid"))[0]["pid"]
        async with resources.read_session_factory() as other:
            await fetch(other, "SELECT pg_terminate_backend($1)", (pid,))
        with pytest.raises(DBAPIError) as raised:
            await fetch(session, "SELECT 1 AS n")
    assert raised.value.connection_invalidated
    async with resources.read_session_factory() as session:
        rows = await fetch(session, "SELECT pg_backend_pid() AS pid")
    assert rows[0]["pid"] != pid


async def test_fetch_in_transaction_rolls_back(app: FastAPI) -> None:
    resources = app.state.resources
    async with resources.read_session_factory() as session:
        await fetch(session, "CREATE TABLE driver_probe (n int)")
    try:
        async with resources.session_factory() as session:
            await fetch(session, "INSERT INTO driver_probe VALUES (1) RETURNING n")
            await session.rollback()
        async with resources.read_session_factory() as session:
            rows = await fetch(session, "SELECT count(*) AS n FROM driver_probe")
        assert rows[0]["n"] == 0
    finally:
        async with resources.read_session_factory() as session:
            await fetch(session, "DROP TABLE driver_probe")
