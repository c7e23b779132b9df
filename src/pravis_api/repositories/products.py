"""Catalogue queries: filtered full-text search, lookups and writes."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.policy import StorePolicy
from pravis_api.models.product import Product

ProductSort = Literal[
    "relevance", "featured", "price_asc", "price_desc", "rating", "newest"
]


@dataclass(frozen=True, slots=True)
class ProductFilters:
    """Catalogue filters. Prices are in minor units of the store currency."""

    text: str | None = None
    category: str | None = None
    color: str | None = None
    size: str | None = None
    fabric: str | None = None
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    in_stock: bool = False
    featured: bool | None = None
    # Words that must all match the text search, as the assistant sends them.
    keywords: tuple[str, ...] = field(default_factory=tuple)

    def without(self, *names: str) -> "ProductFilters":
        changes: dict[str, Any] = {
            name: () if name == "keywords" else (False if name == "in_stock" else None)
            for name in names
        }
        return replace(self, **changes)


def _text_query(filters: ProductFilters) -> ColumnElement[Any] | None:
    parts = []
    if filters.text:
        parts.append(func.websearch_to_tsquery("english", filters.text))
    if filters.keywords:
        parts.append(func.plainto_tsquery("english", " ".join(filters.keywords)))
    if not parts:
        return None
    query: ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        query = query.op("&&")(part)
    return query


def _conditions(
    filters: ProductFilters, text_query: ColumnElement[Any] | None
) -> list[Any]:
    conditions: list[Any] = []
    if text_query is not None:
        conditions.append(col(Product.search_vector).op("@@")(text_query))
    if filters.category:
        conditions.append(col(Product.category) == filters.category)
    if filters.color:
        conditions.append(col(Product.colors).contains([filters.color]))
    if filters.size:
        # A size filter asks for sizes that can be bought, so stock counts.
        conditions.append(col(Product.available_sizes).contains([filters.size]))
    if filters.fabric:
        conditions.append(func.lower(col(Product.fabric)) == filters.fabric.lower())
    if filters.min_price_minor is not None:
        conditions.append(col(Product.price_minor) >= filters.min_price_minor)
    if filters.max_price_minor is not None:
        conditions.append(col(Product.price_minor) <= filters.max_price_minor)
    if filters.in_stock:
        conditions.append(col(Product.total_stock) > 0)
    if filters.featured is not None:
        conditions.append(col(Product.featured) == filters.featured)
    return conditions


def _order_by(sort: ProductSort, text_query: ColumnElement[Any] | None) -> list[Any]:
    tie_breakers = [col(Product.rating).desc(), col(Product.id)]
    if sort == "relevance" and text_query is not None:
        rank = func.ts_rank(col(Product.search_vector), text_query)
        return [rank.desc(), col(Product.featured).desc(), *tie_breakers]
    if sort == "price_asc":
        return [col(Product.price_minor).asc(), *tie_breakers]
    if sort == "price_desc":
        return [col(Product.price_minor).desc(), *tie_breakers]
    if sort == "rating":
        return [
            col(Product.rating).desc(),
            col(Product.review_count).desc(),
            col(Product.id),
        ]
    if sort == "newest":
        return [col(Product.created_at).desc(), col(Product.id)]
    return [col(Product.featured).desc(), *tie_breakers]


async def search_products(
    session: AsyncSession,
    filters: ProductFilters,
    *,
    sort: ProductSort = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Product], int]:
    """Return one page of matching products and the total number of matches."""
    text_query = _text_query(filters)
    total = func.count().over().label("total")
    statement = (
        select(Product, total)
        .where(*_conditions(filters, text_query))
        .order_by(*_order_by(sort, text_query))
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.exec(statement)).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][1])
    if offset == 0:
        return [], 0
    # Past the last page the window count is lost with the rows.
    return [], await count_products(session, filters)


async def count_products(session: AsyncSession, filters: ProductFilters) -> int:
    statement = select(func.count()).select_from(Product)
    statement = statement.where(*_conditions(filters, _text_query(filters)))
    return int((await session.exec(statement)).one())


async def min_price_minor(session: AsyncSession, filters: ProductFilters) -> int | None:
    """The lowest price among matching products, or None when none match."""
    statement = select(func.min(Product.price_minor))
    statement = statement.where(*_conditions(filters, _text_query(filters)))
    value = (await session.exec(statement)).one()
    return int(value) if value is not None else None


async def get_product(session: AsyncSession, id_or_slug: str) -> Product | None:
    try:
        product_id = uuid.UUID(id_or_slug)
    except ValueError:
        result = await session.exec(select(Product).where(Product.slug == id_or_slug))
        return result.first()
    return await session.get(Product, product_id)


async def get_products_in_order(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> list[Product]:
    """Fetch products by id, in the given order, skipping any since deleted."""
    if not product_ids:
        return []
    result = await session.exec(select(Product).where(col(Product.id).in_(product_ids)))
    by_id = {product.id: product for product in result.all()}
    return [by_id[product_id] for product_id in product_ids if product_id in by_id]


async def list_policies(session: AsyncSession) -> list[StorePolicy]:
    result = await session.exec(select(StorePolicy).order_by(col(StorePolicy.topic)))
    return list(result.all())


async def get_policy(session: AsyncSession, topic: str) -> StorePolicy | None:
    return await session.get(StorePolicy, topic)
