"""Shopper and admin accounts."""

import uuid
from datetime import datetime

from pydantic import ConfigDict, EmailStr, field_validator
from sqlmodel import Field, SQLModel

from pravis_api.core.text import has_control_characters, normalise_email
from pravis_api.models.base import timestamp_field

PASSWORD_MIN_LENGTH = 8
# argon2 accepts any length, but hashing megabytes of "password" per
# request would be a cheap way to burn CPU.
PASSWORD_MAX_LENGTH = 128


class UserBase(SQLModel):
    email: EmailStr = Field(max_length=320)
    full_name: str | None = Field(default=None, max_length=255)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    hashed_password: str = Field(max_length=255)
    is_active: bool = True
    is_admin: bool = False
    # Raised when the password changes or the account is deactivated. Access
    # tokens carry the version they were issued under; older ones are rejected.
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Whether the shopper allows their voice recordings to be kept; None
    # until they choose, and then VOICE_STORE_RECORDINGS_DEFAULT applies.
    store_recordings: bool | None = None
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field(onupdate=True)


def _clean_full_name(value: str | None) -> str | None:
    if value is None:
        return None
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value.strip() or None


def _clean_email(value: str | None) -> str:
    # Only reached when a field is sent: PATCH may omit it, but not clear it.
    if value is None:
        raise ValueError("must not be null; omit the field to keep the e-mail")
    return normalise_email(value)


def _reject_null(value: bool | None) -> bool:
    if value is None:
        raise ValueError("must be true or false; omit the field to keep it")
    return value


class UserCreate(UserBase):
    """Registration payload. Flags such as admin are not accepted here."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH
    )
    store_recordings: bool | None = None

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("full_name")
    @classmethod
    def _strip_full_name(cls, value: str | None) -> str | None:
        return _clean_full_name(value)


class UserUpdateMe(SQLModel):
    """Changes a user makes to their own account; omitted fields are kept.

    Changing the e-mail requires the current password, because the e-mail
    is where password reset links go.
    """

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    email: EmailStr | None = Field(default=None, max_length=320)
    full_name: str | None = Field(default=None, max_length=255)
    # null returns to the boutique's default.
    store_recordings: bool | None = None
    current_password: str | None = Field(
        default=None, min_length=1, max_length=PASSWORD_MAX_LENGTH
    )

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str | None) -> str:
        return _clean_email(value)

    @field_validator("full_name")
    @classmethod
    def _strip_full_name(cls, value: str | None) -> str | None:
        return _clean_full_name(value)


class UpdatePassword(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    new_password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH
    )


class UserUpdate(SQLModel):
    """Changes an admin makes to an account; omitted fields are kept."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    email: EmailStr | None = Field(default=None, max_length=320)
    full_name: str | None = Field(default=None, max_length=255)
    is_active: bool | None = None
    is_admin: bool | None = None

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str | None) -> str:
        return _clean_email(value)

    @field_validator("full_name")
    @classmethod
    def _strip_full_name(cls, value: str | None) -> str | None:
        return _clean_full_name(value)

    @field_validator("is_active", "is_admin")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        return _reject_null(value)


class UserPublic(UserBase):
    id: uuid.UUID
    is_active: bool
    is_admin: bool
    # null: the shopper has not chosen, so the boutique's default applies.
    store_recordings: bool | None
    created_at: datetime


class UsersPublic(SQLModel):
    items: list[UserPublic]
    total: int
    page: int
    page_size: int
