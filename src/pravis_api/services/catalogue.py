"""Catalogue writes: admin create, update and delete, and the demo seed."""

import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.core.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from pravis_api.models.base import utc_now
from pravis_api.models.policy import StorePolicy
from pravis_api.models.product import Product, ProductCreate, ProductUpdate
from pravis_api.services.demo_catalogue import DEMO_POLICIES, demo_products

logger = logging.getLogger(__name__)


UNIQUE_VIOLATION = "23505"
# The unique index on products.slug (ix_products_slug).
SLUG_INDEX: str = next(
    index.name
    for index in Product.__table__.indexes  # type: ignore[attr-defined]
    if index.unique and list(index.columns.keys()) == ["slug"]
)


def _is_slug_taken(exc: IntegrityError) -> bool:
    """Tell whether the error is a unique violation on the slug index."""
    if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
        return False
    # SQLAlchemy's asyncpg adapter chains the driver's exception, which names
    # the violated constraint or index.
    driver_error = exc.orig.__cause__ if exc.orig is not None else None
    constraint: object = getattr(driver_error, "constraint_name", None)
    return constraint == SLUG_INDEX


def _slug_taken(slug: str) -> ConflictError:
    return ConflictError(
        f"A product with the slug {slug} already exists. Choose another slug.",
        errors=[FieldError("slug", "already in use")],
    )


async def create_product(session: AsyncSession, payload: ProductCreate) -> Product:
    product = Product.model_validate(
        payload.model_dump(exclude={"sizes"})
        | {"sizes": [entry.model_dump() for entry in payload.sizes]}
    )
    product.refresh_derived_fields()
    session.add(product)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        if not _is_slug_taken(exc):
            raise
        raise _slug_taken(payload.slug) from exc
    await session.refresh(product)
    logger.info("catalogue.product_created", extra={"product_id": str(product.id)})
    return product


async def update_product(
    session: AsyncSession, product_id: uuid.UUID, payload: ProductUpdate
) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFoundError(f"No product has the id {product_id}.")

    changes = payload.model_dump(exclude_unset=True)
    if "sizes" in changes and payload.sizes is not None:
        changes["sizes"] = [entry.model_dump() for entry in payload.sizes]
    # ProductUpdate rejects null for the NOT NULL columns.
    for name, value in changes.items():
        setattr(product, name, value)
    if (
        product.original_price_minor is not None
        and product.original_price_minor < product.price_minor
    ):
        raise InvalidInputError(
            "original_price_minor must not be below price_minor.",
            errors=[
                FieldError("original_price_minor", "must not be below price_minor")
            ],
        )
    product.refresh_derived_fields()
    product.updated_at = utc_now()

    # The rollback below expires the product, so read the slug first.
    slug = product.slug
    session.add(product)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        if not _is_slug_taken(exc):
            raise
        raise _slug_taken(slug) from exc
    await session.refresh(product)
    logger.info("catalogue.product_updated", extra={"product_id": str(product.id)})
    return product


async def delete_product(session: AsyncSession, product_id: uuid.UUID) -> None:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFoundError(f"No product has the id {product_id}.")
    await session.delete(product)
    await session.commit()
    logger.info("catalogue.product_deleted", extra={"product_id": str(product_id)})


async def seed_demo_catalogue(
    session: AsyncSession, *, currency: str
) -> tuple[int, int]:
    """Insert or refresh the demo products and the store policies.

    Products are matched by slug, so running it again updates them in
    place; products the shop added itself are left alone. Returns the
    numbers of products created and updated.
    """
    existing = {
        product.slug: product for product in (await session.exec(select(Product))).all()
    }
    created = updated = 0
    for payload in demo_products(currency):
        values = payload.model_dump(exclude={"sizes"})
        values["sizes"] = [entry.model_dump() for entry in payload.sizes]
        product = existing.get(payload.slug)
        if product is None:
            product = Product.model_validate(values)
            created += 1
        else:
            for name, value in values.items():
                setattr(product, name, value)
            product.updated_at = utc_now()
            updated += 1
        product.refresh_derived_fields()
        session.add(product)

    policies = {
        policy.topic: policy
        for policy in (
            await session.exec(
                select(StorePolicy).where(col(StorePolicy.topic).in_(DEMO_POLICIES))
            )
        ).all()
    }
    for topic, (title, summary, body) in DEMO_POLICIES.items():
        policy = policies.get(topic) or StorePolicy(
            topic=topic, title=title, summary="", body=""
        )
        policy.title, policy.summary, policy.body = title, summary, body
        policy.updated_at = utc_now()
        session.add(policy)

    await session.commit()
    logger.info(
        "catalogue.seeded",
        extra={"products_created": created, "products_updated": updated},
    )
    return created, updated
