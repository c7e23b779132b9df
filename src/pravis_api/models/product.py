"""The boutique's catalogue: products with their sizes, stock and prices."""

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import Column, Computed, Index, String, Text, inspect
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlmodel import Field, SQLModel

from pravis_api.core.text import has_control_characters
from pravis_api.models.base import timestamp_field

CATEGORIES = (
    "sarees",
    "kurtas",
    "suits",
    "dupattas",
    "stoles",
    "dresses",
    "tops",
    "shirts",
    "trousers",
    "skirts",
    "jackets",
    "knitwear",
    "shoes",
    "bags",
    "scarves",
    "jewellery",
)
APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
ONE_SIZE = "One Size"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SIZE_PATTERN = r"^[A-Za-z0-9 .]{1,16}$"
# Image URLs are links, never data: URIs, so this leaves ample room.
MAX_IMAGE_URL_LENGTH = 2048

# Weighted text search: the name counts most, then the attributes a shopper
# names (category, colours, fabric, weave, origin, tags), then the
# description. Every part is a text column, so the expression is immutable
# and PostgreSQL can store it as a generated column.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(search_keywords, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'C')"
)


class SizeStock(SQLModel):
    """Units in stock of one size."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    size: str = Field(schema_extra={"pattern": SIZE_PATTERN})
    stock: int = Field(ge=0, le=1_000_000)


class ProductBase(SQLModel):
    name: str = Field(min_length=2, max_length=200)
    slug: str = Field(
        min_length=2, max_length=160, schema_extra={"pattern": SLUG_PATTERN}
    )
    description: str = Field(default="", max_length=5000)
    category: str = Field(max_length=32)
    subcategory: str | None = Field(default=None, max_length=64)
    fabric: str | None = Field(default=None, max_length=64)
    weave: str | None = Field(default=None, max_length=64)
    origin: str | None = Field(default=None, max_length=120)
    care: str = Field(default="", max_length=1000)
    price_minor: int = Field(ge=0, le=100_000_000)
    original_price_minor: int | None = Field(default=None, ge=0, le=100_000_000)
    currency: str = Field(min_length=3, max_length=3)
    rating: float = Field(default=0.0, ge=0, le=5)
    review_count: int = Field(default=0, ge=0)
    featured: bool = False


class Product(ProductBase, table=True):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_products_colors", "colors", postgresql_using="gin"),
        Index("ix_products_available_sizes", "available_sizes", postgresql_using="gin"),
        Index("ix_products_category_price", "category", "price_minor"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Field(max_length=160, unique=True, index=True)
    colors: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False)
    )
    # [{"size": "M", "stock": 4}, ...] in display order; the source of truth.
    sizes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)
    # Derived from `sizes` on every write: sizes with stock, and their sum.
    available_sizes: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(16)), nullable=False)
    )
    total_stock: int = 0
    image_urls: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False)
    )
    tags: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(40)), nullable=False)
    )
    # Category, colours, fabric, weave, origin and tags as one text, kept in
    # step with them by `refresh_derived_fields`, for the search vector.
    search_keywords: str = Field(default="", sa_column=Column(Text, nullable=False))
    search_vector: str | None = Field(
        default=None,
        sa_column=Column(TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True)),
    )
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field(onupdate=True)

    def refresh_derived_fields(self) -> None:
        """Recompute the columns derived from sizes and attributes."""
        self.available_sizes = [
            entry["size"] for entry in self.sizes if entry["stock"] > 0
        ]
        self.total_stock = sum(entry["stock"] for entry in self.sizes)
        parts = [self.category, self.subcategory, self.fabric, self.weave, self.origin]
        self.search_keywords = " ".join(
            [part for part in parts if part] + list(self.colors) + list(self.tags)
        )

    @property
    def in_stock(self) -> bool:
        return self.total_stock > 0

    def stock_of(self, size: str) -> int | None:
        """Units in stock of `size`, or None when the product has no such size."""
        for entry in self.sizes:
            if entry["size"].lower() == size.lower():
                return int(entry["stock"])
        return None


# Columns that are NOT NULL: an update may leave them out but not set them
# to null.
NOT_NULL_COLUMNS = frozenset(
    name for name, column in inspect(Product).columns.items() if not column.nullable
)


def _check_text(value: str | None) -> str | None:
    if value is not None and has_control_characters(value, allowed="\n\t"):
        raise ValueError("must not contain control characters")
    return value


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
_IMAGE_URL_FORMS = "an absolute http or https URL, or a path starting with a single /"


def _check_image_url(value: str) -> str:
    """Accept an absolute http or https URL, or a path on the shop's own site.

    Other schemes (javascript:, data:, file:) and scheme-relative URLs
    (//host, or /\\host, which browsers read the same way) are rejected,
    because API responses and voice replies hand these URLs to browsers.
    The value is stored as sent, not normalised.
    """
    if has_control_characters(value) or any(
        char.isspace() or char == "\\" for char in value
    ):
        raise ValueError(
            "must not contain spaces, backslashes or control characters. "
            "Percent-encode them."
        )
    if value.startswith("/"):
        if value.startswith("//"):
            raise ValueError(f"must be {_IMAGE_URL_FORMS}, not //host")
        return value
    _check_absolute_url(value)
    return value


def _check_absolute_url(value: str) -> None:
    # HttpUrl parses by the WHATWG URL Standard, as browsers do, and checks the
    # scheme, host and port. It also accepts https:///host and http:host, so
    # the text as sent, which is what gets stored, must have a //host part.
    try:
        _HTTP_URL.validate_python(value)
        parts = urlsplit(value)
    except ValueError:  # pydantic's ValidationError included
        raise ValueError(f"must be {_IMAGE_URL_FORMS}") from None
    if not parts.netloc:
        raise ValueError(f"must be {_IMAGE_URL_FORMS}")
    if parts.username is not None:
        raise ValueError("must not contain a user name or password")


ImageUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_IMAGE_URL_LENGTH),
    AfterValidator(_check_image_url),
]
IMAGE_URLS_DESCRIPTION = (
    "Absolute http or https URLs, or paths on the shop's site starting with /, "
    f"each at most {MAX_IMAGE_URL_LENGTH} characters."
)


class ProductWrite(SQLModel):
    """Fields shared by create and update payloads, with their checks."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("category", check_fields=False)
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORIES:
            raise ValueError(f"must be one of: {', '.join(CATEGORIES)}")
        return value

    @field_validator("currency", check_fields=False)
    @classmethod
    def _upper_currency(cls, value: str | None) -> str | None:
        if value is not None and not value.isalpha():
            raise ValueError("must be a three-letter ISO 4217 code such as USD")
        return value.upper() if value is not None else None

    @field_validator("colors", "tags", check_fields=False)
    @classmethod
    def _lower_words(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        words = [word.strip().lower() for word in value]
        if any(
            not word or len(word) > 32 or has_control_characters(word) for word in words
        ):
            raise ValueError("each entry must be 1 to 32 characters of plain text")
        return list(dict.fromkeys(words))

    @field_validator("sizes", check_fields=False)
    @classmethod
    def _unique_sizes(cls, value: list[SizeStock] | None) -> list[SizeStock] | None:
        if value is not None:
            names = [entry.size.lower() for entry in value]
            if len(set(names)) != len(names):
                raise ValueError("each size may appear once")
        return value

    @field_validator(
        "name", "description", "subcategory", "fabric", "weave", "origin", "care",
        check_fields=False,
    )  # fmt: skip
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        return _check_text(value)


class ProductCreate(ProductWrite, ProductBase):
    colors: list[str] = Field(default_factory=list, max_length=20)
    sizes: list[SizeStock] = Field(min_length=1, max_length=30)
    image_urls: list[ImageUrl] = Field(
        default_factory=list, max_length=20, description=IMAGE_URLS_DESCRIPTION
    )
    tags: list[str] = Field(default_factory=list, max_length=30)

    @field_validator("original_price_minor")
    @classmethod
    def _original_not_below_price(
        cls, value: int | None, info: ValidationInfo
    ) -> int | None:
        # price_minor is declared first, so it is in info.data unless invalid.
        price_minor = info.data.get("price_minor")
        if value is not None and price_minor is not None and value < price_minor:
            raise ValueError("must not be below price_minor")
        return value


def _drop_null_from_schema(schema: dict[str, Any]) -> None:
    """Remove the null option that `X | None` gives each NOT NULL field."""
    for name, field_schema in schema.get("properties", {}).items():
        if name not in NOT_NULL_COLUMNS or "anyOf" not in field_schema:
            continue
        options = [
            option for option in field_schema.pop("anyOf") if option != {"type": "null"}
        ]
        if len(options) == 1:
            field_schema.update(options[0])
        else:
            field_schema["anyOf"] = options
        field_schema.pop("default", None)


class ProductUpdate(ProductWrite):
    """Partial update: only the fields sent are changed.

    Fields are optional so that they can be left out. Sending null clears a
    nullable field (fabric, say) and is rejected for a NOT NULL one.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_null_from_schema)

    name: str | None = Field(default=None, min_length=2, max_length=200)
    slug: str | None = Field(
        default=None,
        min_length=2,
        max_length=160,
        schema_extra={"pattern": SLUG_PATTERN},
    )
    description: str | None = Field(default=None, max_length=5000)
    category: str | None = None
    subcategory: str | None = Field(default=None, max_length=64)
    fabric: str | None = Field(default=None, max_length=64)
    weave: str | None = Field(default=None, max_length=64)
    origin: str | None = Field(default=None, max_length=120)
    care: str | None = Field(default=None, max_length=1000)
    price_minor: int | None = Field(default=None, ge=0, le=100_000_000)
    original_price_minor: int | None = Field(default=None, ge=0, le=100_000_000)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    rating: float | None = Field(default=None, ge=0, le=5)
    review_count: int | None = Field(default=None, ge=0)
    featured: bool | None = None
    colors: list[str] | None = Field(default=None, max_length=20)
    sizes: list[SizeStock] | None = Field(default=None, min_length=1, max_length=30)
    image_urls: list[ImageUrl] | None = Field(
        default=None, max_length=20, description=IMAGE_URLS_DESCRIPTION
    )
    tags: list[str] | None = Field(default=None, max_length=30)

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for fields the request sent: defaults are not validated.
        if value is None and info.field_name in NOT_NULL_COLUMNS:
            raise ValueError(
                "must not be null. Leave the field out to keep the current value."
            )
        return value


class ProductPublic(ProductBase):
    id: uuid.UUID
    colors: list[str]
    sizes: list[SizeStock]
    available_sizes: list[str]
    total_stock: int
    in_stock: bool
    image_urls: list[str]
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class ProductsPublic(BaseModel):
    items: list[ProductPublic]
    total: int
    page: int
    page_size: int
