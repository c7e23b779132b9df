"""The catalogue: search and read for everyone; create, update, delete for admins."""

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from pravis_api.api.deps import (
    AdminUser,
    CacheDep,
    ReadSessionDep,
    ResourcesDep,
    SessionDep,
    SettingsDep,
)
from pravis_api.core.errors import FieldError, InvalidInputError, NotFoundError
from pravis_api.core.money import to_minor
from pravis_api.core.text import has_control_characters
from pravis_api.models.product import (
    CATEGORIES,
    ProductCreate,
    ProductPublic,
    ProductsPublic,
    ProductUpdate,
)
from pravis_api.repositories.products import (
    ProductFilters,
    ProductSort,
    get_product,
    search_products,
)
from pravis_api.schemas.problem import problem_responses
from pravis_api.services import catalogue
from pravis_api.services.response_cache import CATALOGUE, cached

router = APIRouter(prefix="/products", tags=["products"])

MAX_PAGE_SIZE = 100
MAX_PRICE = Decimal(1_000_000)


class ProductQuery(BaseModel):
    """Query parameters of the catalogue search. Unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(default=None, max_length=200, description="Full-text search.")
    category: str | None = Field(
        default=None, description=f"One of: {', '.join(CATEGORIES)}."
    )
    color: str | None = Field(default=None, max_length=32)
    size: str | None = Field(
        default=None, max_length=16, description="In stock in this size."
    )
    fabric: str | None = Field(default=None, max_length=64)
    min_price: Decimal | None = Field(
        default=None,
        ge=0,
        le=MAX_PRICE,
        description="Major units of the store currency.",
    )
    max_price: Decimal | None = Field(
        default=None,
        ge=0,
        le=MAX_PRICE,
        description="Major units of the store currency.",
    )
    in_stock: bool = False
    featured: bool | None = None
    sort: ProductSort | None = Field(
        default=None, description="Default: relevance with q, else featured first."
    )
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("q", "color", "size", "fabric")
    @classmethod
    def _reject_control_characters(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL, and no catalogue value has controls.
        if value is not None and has_control_characters(value):
            raise ValueError("must not contain control characters such as NUL")
        return value

    # Field validators, not a model validator, so that each error names its
    # query parameter instead of the whole query.
    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORIES:
            raise ValueError(f"must be one of: {', '.join(CATEGORIES)}")
        return value

    @field_validator("max_price")
    @classmethod
    def _not_below_min_price(
        cls, value: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        # min_price is declared first, so it is in info.data unless invalid.
        min_price = info.data.get("min_price")
        if value is not None and min_price is not None and value < min_price:
            raise ValueError(f"must not be below min_price ({min_price})")
        return value


@router.get("", response_model=ProductsPublic, responses=problem_responses(422))
@cached(namespaces=[CATALOGUE])
async def list_products(
    query: Annotated[ProductQuery, Query()],
    session: ReadSessionDep,
    settings: SettingsDep,
) -> ProductsPublic:
    """Search the catalogue with filters, sorted and paginated."""
    currency = settings.store_currency
    filters = ProductFilters(
        text=query.q.strip() if query.q and query.q.strip() else None,
        category=query.category,
        color=query.color.strip().lower() if query.color else None,
        size=query.size.strip() if query.size else None,
        fabric=query.fabric.strip().lower() if query.fabric else None,
        min_price_minor=to_minor(query.min_price, currency)
        if query.min_price is not None
        else None,
        max_price_minor=to_minor(query.max_price, currency)
        if query.max_price is not None
        else None,
        in_stock=query.in_stock,
        featured=query.featured,
    )
    sort = query.sort or ("relevance" if filters.text else "featured")
    products, total = await search_products(
        session,
        filters,
        sort=sort,
        limit=query.page_size,
        offset=(query.page - 1) * query.page_size,
    )
    return ProductsPublic(
        items=[ProductPublic.model_validate(product) for product in products],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )


@router.get(
    "/{id_or_slug}", response_model=ProductPublic, responses=problem_responses(404, 422)
)
@cached(namespaces=[CATALOGUE])
async def read_product(id_or_slug: str, session: ReadSessionDep) -> ProductPublic:
    """Read one product by its id or its slug."""
    if len(id_or_slug) > 160:
        raise NotFoundError("No product has that id or slug.")
    product = await get_product(session, id_or_slug)
    if product is None:
        raise NotFoundError(f"No product has the id or slug {id_or_slug}.")
    return ProductPublic.model_validate(product)


def _check_currency(currency: str | None, store_currency: str) -> None:
    if currency is not None and currency != store_currency:
        message = f"currency must be the store currency, {store_currency}."
        raise InvalidInputError(message, errors=[FieldError("currency", message)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductPublic,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_product(
    payload: ProductCreate,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    admin: AdminUser,
    cache: CacheDep,
) -> ProductPublic:
    """Add a product to the catalogue (admins only)."""
    _check_currency(payload.currency, settings.store_currency)
    product = await catalogue.create_product(session, payload)
    resources.speech_models.invalidate()
    await cache.invalidate(CATALOGUE)
    return ProductPublic.model_validate(product)


@router.patch(
    "/{product_id}",
    response_model=ProductPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_product(
    product_id: uuid.UUID,
    payload: ProductUpdate,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    admin: AdminUser,
    cache: CacheDep,
) -> ProductPublic:
    """Change some fields of a product (admins only)."""
    _check_currency(payload.currency, settings.store_currency)
    product = await catalogue.update_product(session, product_id, payload)
    resources.speech_models.invalidate()
    await cache.invalidate(CATALOGUE)
    return ProductPublic.model_validate(product)


@router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_product(
    product_id: uuid.UUID,
    session: SessionDep,
    resources: ResourcesDep,
    admin: AdminUser,
    cache: CacheDep,
) -> Response:
    """Remove a product from the catalogue (admins only)."""
    await catalogue.delete_product(session, product_id)
    resources.speech_models.invalidate()
    await cache.invalidate(CATALOGUE)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
