"""Create products and store_policies; record products shown per interaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(search_keywords, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'C')"
)


def _timestamp(name: str) -> sa.Column[sa.DateTime]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("now()"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("subcategory", sa.String(length=64), nullable=True),
        sa.Column("fabric", sa.String(length=64), nullable=True),
        sa.Column("weave", sa.String(length=64), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("care", sa.String(length=1000), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("original_price_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("featured", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("colors", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("sizes", postgresql.JSONB(), nullable=False),
        sa.Column(
            "available_sizes", postgresql.ARRAY(sa.String(length=16)), nullable=False
        ),
        sa.Column("total_stock", sa.Integer(), nullable=False),
        sa.Column("image_urls", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("search_keywords", sa.Text(), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR_SQL, persisted=True),
            nullable=True,
        ),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_products_slug"), "products", ["slug"], unique=True)
    op.create_index(
        "ix_products_category_price", "products", ["category", "price_minor"]
    )
    for column in ("search_vector", "colors", "available_sizes"):
        op.create_index(
            f"ix_products_{column}", "products", [column], postgresql_using="gin"
        )

    op.create_table(
        "store_policies",
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.String(length=600), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("topic"),
    )

    op.add_column(
        "voice_interactions",
        sa.Column(
            "product_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("voice_interactions", "product_ids")
    op.drop_table("store_policies")
    op.drop_table("products")
