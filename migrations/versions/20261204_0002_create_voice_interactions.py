"""Create voice_interactions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_interactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("transcript", sa.String(), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("entities", postgresql.JSONB(), nullable=False),
        sa.Column("reply", sa.String(), nullable=False),
        sa.Column("action", postgresql.JSONB(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("audio_format", sa.String(length=16), nullable=True),
        sa.Column("audio_duration_s", sa.Float(), nullable=True),
        sa.Column("recording_blob", sa.String(length=255), nullable=True),
        sa.Column("stt_engine", sa.String(length=32), nullable=True),
        sa.Column("timings_ms", postgresql.JSONB(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_voice_interactions_created_at"), "voice_interactions", ["created_at"]
    )
    op.create_index(
        op.f("ix_voice_interactions_intent"), "voice_interactions", ["intent"]
    )
    op.create_index(
        "ix_voice_interactions_session_id_created_at",
        "voice_interactions",
        ["session_id", "created_at"],
    )
    op.create_index(
        "ix_voice_interactions_user_id_created_at",
        "voice_interactions",
        ["user_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("voice_interactions")
