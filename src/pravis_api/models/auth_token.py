"""Refresh and password reset tokens. Only SHA-256 digests of the tokens are
stored, so a copy of these tables cannot be used to sign in."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from pravis_api.models.base import timestamp_field


class RefreshToken(SQLModel, table=True):
    """One refresh token. Each use replaces it by a new one of the same family."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    # All refresh tokens descended from one login share a family, which is
    # the login session; its access tokens carry the family id as `sid`.
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # The access token issued together with this refresh token. It is put on
    # the deny-list when this refresh token is used.
    access_jti: str = Field(max_length=32)
    access_expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    created_at: datetime = timestamp_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    # Set when the token was exchanged for a new pair; a second use is reuse.
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Set on every token of the family at logout, on reuse and when the
    # password changes.
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class PasswordResetToken(SQLModel, table=True):
    """A single-use token sent by e-mail to set a new password."""

    __tablename__ = "password_reset_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = timestamp_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
