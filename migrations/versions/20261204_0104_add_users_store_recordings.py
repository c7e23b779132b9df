"""Add users.store_recordings.

Revision ID: 0104
Revises: 0103
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0104"
down_revision: str | None = "0103"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing users have not chosen: NULL, so the configured default applies.
    op.add_column("users", sa.Column("store_recordings", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "store_recordings")
