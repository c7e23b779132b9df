from typing import Literal

from pydantic import BaseModel, Field

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
