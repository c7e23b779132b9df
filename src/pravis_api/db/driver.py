"""SQL text sent to asyncpg directly, on the connection a session has checked out.

Every assistant turn reads with up to three statements. On the 2-core test
machine one search through SQLAlchemy's `exec_driver_sql` took about
170 µs of API CPU and through asyncpg's own `fetch` about 60 µs
(bench/query_cost.py). SQLAlchemy still owns the pool and the connection.
Only autocommit sessions take this path, because in any other session
SQLAlchemy's adapter must send BEGIN before the first statement.

Errors keep SQLAlchemy's types. A statement that fails here is sent again
through SQLAlchemy, which raises its own wrapped error and, when the
connection is lost, invalidates the pool, as if it had sent the statement
first. That suits reads: sending one again changes nothing, though a
statement that timed out takes twice as long to fail. Writes go through
SQLAlchemy, because a write whose reply was lost could run twice.
"""

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession


async def fetch(
    session: AsyncSession, sql: str, params: Sequence[Any] = ()
) -> Sequence[Mapping[str, Any]]:
    """Run one statement with `$n` parameters and return its rows."""
    connection = await session.connection()
    sync = connection.sync_connection
    if sync is not None and autocommit(session):
        try:
            # The session has just checked the connection out, so this reads
            # an attribute. After an invalidation it raises instead.
            driver: Any = sync.connection.driver_connection
            rows: list[Mapping[str, Any]] = await driver.fetch(sql, *params)
        except Exception:  # noqa: S110 - SQLAlchemy raises it again below
            pass
        else:
            return rows
    result = await connection.exec_driver_sql(sql, tuple(params))
    return cast(Sequence[Mapping[str, Any]], result.mappings().all())


def autocommit(session: AsyncSession) -> bool:
    """Tell whether each statement of the session commits on its own."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine):
        # Bound to a connection, as in tests: its transaction is the caller's.
        return False
    return bool(bind.get_execution_options().get("isolation_level") == "AUTOCOMMIT")
