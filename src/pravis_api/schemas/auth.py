from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from pravis_api.core.text import normalise_email
from pravis_api.models.user import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

# Issued refresh and reset tokens have 43 characters; the limit only stops
# oversized input before it is hashed.
OPAQUE_TOKEN_MAX_LENGTH = 128


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int  # seconds
    refresh_token: str
    refresh_expires_in: int  # seconds


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=OPAQUE_TOKEN_MAX_LENGTH)


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        return normalise_email(value)


class PasswordResetAccepted(BaseModel):
    detail: str = (
        "If an active account has this e-mail, a reset link was sent to it. "
        "The link expires; request a new one if it does."
    )


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=OPAQUE_TOKEN_MAX_LENGTH)
    new_password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH
    )
