"""The voice reply returned by the voice endpoints."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from pravis_api.core.text import has_control_characters, has_words

# Issued ids are 22 characters; a client-chosen id must be as hard to guess.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"

SpeechFormat = Literal["ogg", "mp3", "wav"]

Intent = Literal[
    "greeting",
    "help",
    "navigate",
    "back",
    "search",
    "product_details",
    "availability",
    "price",
    "add_to_cart",
    "checkout",
    "policy",
    "fallback",
]

Page = Literal["home", "products", "cart", "checkout", "profile"]

PAGE_PATHS: dict[str, str] = {
    "home": "/",
    "products": "/products",
    "cart": "/cart",
    "checkout": "/checkout",
    "profile": "/profile",
}


class NavigateAction(BaseModel):
    type: Literal["navigate"] = "navigate"
    page: Page
    path: str


class BackAction(BaseModel):
    type: Literal["back"] = "back"


class SearchAction(BaseModel):
    type: Literal["search"] = "search"
    query: str
    filters: dict[str, Any] = Field(default_factory=dict)


class AddToCartAction(BaseModel):
    type: Literal["addToCart"] = "addToCart"
    product_id: uuid.UUID
    size: str | None = None
    quantity: int = 1


class CheckoutAction(BaseModel):
    type: Literal["checkout"] = "checkout"


Action = Annotated[
    NavigateAction | BackAction | SearchAction | AddToCartAction | CheckoutAction,
    Field(discriminator="type"),
]


class ProductSummary(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    category: str
    colors: list[str]
    price_minor: int
    currency: str
    image_url: str | None


class SpeechInfo(BaseModel):
    url: str
    format: str
    cache: Literal["HIT", "MISS"]


class VoiceReply(BaseModel):
    interaction_id: uuid.UUID
    session_id: str
    transcript: str
    intent: Intent
    entities: dict[str, Any]
    reply: str
    action: Action | None
    products: list[ProductSummary] = Field(default_factory=list)
    speech: SpeechInfo | None = None
    recording_stored: bool | None = Field(
        default=None,
        description="Whether the recording was kept: null when it was not to be "
        "kept, false when Blob Storage failed and the reply went out without it.",
    )
    timings_ms: dict[str, float]


class TextCommand(BaseModel):
    """A typed request. Its length limit is a setting, checked by the route."""

    text: str = Field(min_length=1, description="What the shopper typed or said.")
    session_id: str | None = Field(
        default=None,
        pattern=SESSION_ID_PATTERN,
        description="The anonymous shopper's session; issued when missing.",
    )
    speak: bool = Field(default=False, description="Also return the reply as speech.")
    voice: str | None = Field(
        default=None, description="Voice id from GET /voice/voices."
    )
    format: SpeechFormat = Field(
        default="ogg", description="Audio format of the speech."
    )

    @field_validator("text")
    @classmethod
    def _check_text(cls, value: str) -> str:
        if not has_words(value):
            raise ValueError("must contain words, not only spaces or symbols")
        if has_control_characters(value, allowed="\t\n\r"):
            raise ValueError("must not contain control characters")
        return value


class SpeechRequest(BaseModel):
    """Text to speak. Its length limit is a setting, checked by the route."""

    text: str = Field(min_length=1)
    voice: str | None = Field(
        default=None, description="Voice id from GET /voice/voices."
    )
    format: SpeechFormat = "ogg"

    @field_validator("text")
    @classmethod
    def _check_text(cls, value: str) -> str:
        if not has_words(value):
            raise ValueError("must contain words, not only spaces or symbols")
        if has_control_characters(value, allowed="\t\n\r"):
            raise ValueError("must not contain control characters")
        return value


class VoicePublic(BaseModel):
    id: str
    name: str
    language: str
    gender: str


class TranscriptionReply(BaseModel):
    transcript: str
    duration_s: float
    engine: str
