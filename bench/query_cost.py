"""Compare the CPU cost of one catalogue search through each database layer.

Needs the migrated and seeded development database. From the repository root:

    .venv/bin/python bench/query_cost.py

Each variant runs the same search (red dresses under $100, five rows) 2,000
times on one connection and reports process CPU time per query, so the
figures include the driver and the kernel's socket work but not the
database server's. The last two open a new autocommit session for each
search, as a request does, and send it through SQLAlchemy or through
`db.driver`.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import col, select

from pravis_api.core.config import Settings
from pravis_api.db.driver import fetch
from pravis_api.db.engine import create_engine, create_session_factory
from pravis_api.models.product import Product
from pravis_api.repositories.products import ProductFilters, search_products

ROUNDS = 2000
COLUMNS = [c for c in Product.__table__.columns if c.name != "search_vector"]  # type: ignore[attr-defined]
SQL = (
    f"SELECT {', '.join(c.name for c in COLUMNS)}, count(*) OVER () AS total "
    "FROM products WHERE category = $1 AND colors @> $2 AND price_minor <= $3 "
    "ORDER BY featured DESC, rating DESC, id LIMIT 5"
)
PARAMS = ("dresses", ["red"], 10000)


async def cpu_per_call(label: str, call: Callable[[], Awaitable[object]]) -> None:
    for _ in range(100):
        await call()
    started = time.process_time()
    for _ in range(ROUNDS):
        await call()
    per_call = (time.process_time() - started) * 1000 / ROUNDS
    print(f"{label:42} {per_call:.3f} ms CPU per query")


async def main() -> None:
    engine = create_engine(Settings())
    sessions = create_session_factory(engine, autocommit=True)
    async with sessions() as session:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None

        async def orm() -> None:
            statement = (
                select(Product)
                .where(
                    Product.category == "dresses", col(Product.colors).contains(["red"])
                )
                .where(Product.price_minor <= 10000)
                .order_by(col(Product.featured).desc(), col(Product.rating).desc())
                .limit(5)
            )
            (await session.exec(statement)).all()

        async def core() -> None:
            statement = (
                core_select(*COLUMNS, func.count().over().label("total"))
                .where(
                    Product.category == "dresses", col(Product.colors).contains(["red"])
                )
                .where(Product.price_minor <= 10000)
                .order_by(col(Product.featured).desc(), col(Product.rating).desc())
                .limit(5)
            )
            (await connection.execute(statement)).all()

        async def driver_sql() -> None:
            (await connection.exec_driver_sql(SQL, PARAMS)).all()

        async def repository() -> None:
            filters = ProductFilters(
                category="dresses", color="red", max_price_minor=10000
            )
            await search_products(session, filters, sort="featured", limit=5)

        async def raw() -> None:
            await driver.fetch(SQL, *PARAMS)

        await cpu_per_call("ORM select(Product)", orm)
        await cpu_per_call("Core select of columns", core)
        await cpu_per_call("exec_driver_sql (SQL text)", driver_sql)
        await cpu_per_call("repositories.products.search_products", repository)
        await cpu_per_call("asyncpg directly", raw)

    async def session_then_sqlalchemy() -> None:
        async with sessions() as session:
            connection = await session.connection()
            (await connection.exec_driver_sql(SQL, PARAMS)).all()

    async def session_then_driver() -> None:
        async with sessions() as session:
            await fetch(session, SQL, PARAMS)

    await cpu_per_call("new session, exec_driver_sql", session_then_sqlalchemy)
    await cpu_per_call("new session, db.driver.fetch", session_then_driver)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
