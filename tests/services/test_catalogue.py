"""The demo seed and catalogue writes against the real database."""

import uuid
from collections import Counter

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.policy import StorePolicy
from pravis_api.models.product import CATEGORIES, Product, ProductUpdate
from pravis_api.services.catalogue import (
    create_product,
    seed_demo_catalogue,
    update_product,
)
from pravis_api.services.demo_catalogue import demo_products


def test_demo_collection_shape() -> None:
    products = demo_products()
    categories = Counter(product.category for product in products)
    assert len(products) >= 300
    assert set(categories) == set(CATEGORIES)
    assert len({product.slug for product in products}) == len(products)
    assert len({product.fabric for product in products}) >= 15
    assert len({color for product in products for color in product.colors}) >= 20
    assert any(product.original_price_minor for product in products)
    assert any(all(size.stock == 0 for size in product.sizes) for product in products)
    assert all(product.currency == "USD" for product in products)
    assert demo_products() == products


def test_demo_collection_currency_setting() -> None:
    assert {product.currency for product in demo_products("EUR")} == {"EUR"}


async def test_seed_is_idempotent(db_session: AsyncSession) -> None:
    await seed_demo_catalogue(db_session, currency="USD")
    count = (await db_session.exec(select(func.count()).select_from(Product))).one()
    created, updated = await seed_demo_catalogue(db_session, currency="USD")
    again = (await db_session.exec(select(func.count()).select_from(Product))).one()
    assert created == 0
    assert updated == len(demo_products())
    assert again == count
    topics = (await db_session.exec(select(StorePolicy.topic))).all()
    assert sorted(topics) == ["exchanges", "returns", "shipping", "sizing"]


async def test_seed_derives_search_fields(db_session: AsyncSession) -> None:
    await seed_demo_catalogue(db_session, currency="USD")
    product = (await db_session.exec(select(Product).limit(1))).one()
    assert product.total_stock == sum(entry["stock"] for entry in product.sizes)
    assert product.available_sizes == [
        entry["size"] for entry in product.sizes if entry["stock"] > 0
    ]
    assert product.category in product.search_keywords
    assert product.search_vector


async def test_update_not_null_violation_not_conflict(
    db_session: AsyncSession,
) -> None:
    payload = demo_products()[0].model_copy(
        update={"slug": f"test-{uuid.uuid4().hex[:8]}"}
    )
    product = await create_product(db_session, payload)
    # model_construct skips the check that rejects null, so the database
    # raises a NOT NULL violation, which is no slug conflict.
    changes = ProductUpdate.model_construct(description=None)
    with pytest.raises(IntegrityError) as raised:
        await update_product(db_session, product.id, changes)
    assert getattr(raised.value.orig, "sqlstate", None) == "23502"
