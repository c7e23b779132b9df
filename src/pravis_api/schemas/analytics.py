"""Requests and responses of the analytics routes."""

import math
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]

EventType = Literal[
    "page_view",
    "product_view",
    "product_click",
    "add_to_cart",
    "remove_from_cart",
    "search",
    "voice_issue",
]
# Types that name a product, and those that name a page.
PRODUCT_EVENTS = frozenset(
    {"product_view", "product_click", "add_to_cart", "remove_from_cart"}
)
MAX_PROPERTIES = 20
MAX_BATCH_SCHEMA = 1000

PropertyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


def _finite(value: object) -> object:
    # Python's json module reads NaN, Infinity and numbers past the float
    # range (1e400) as non-finite floats, which PostgreSQL's JSON types reject.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number, not NaN or Infinity")
    return value


PropertyValue = Annotated[
    Annotated[str, StringConstraints(max_length=256)] | int | float | bool | None,
    AfterValidator(_finite),
]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: EventType
    # When the client saw it; the server keeps its own receive time too.
    occurred_at: datetime | None = None
    # The page's path; a query string or fragment is dropped before storing.
    path: Annotated[str, StringConstraints(pattern=r"^/", max_length=512)] | None = None
    product_id: uuid.UUID | None = None
    properties: dict[PropertyKey, PropertyValue] = Field(
        default_factory=dict, max_length=MAX_PROPERTIES
    )

    @model_validator(mode="after")
    def _required_fields(self) -> "EventIn":
        if self.type == "page_view" and self.path is None:
            raise ValueError("a page_view needs the page's path")
        if self.type in PRODUCT_EVENTS and self.product_id is None:
            raise ValueError(f"a {self.type} needs the product_id")
        return self


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: SessionId
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH_SCHEMA)


ConsentState = Literal["given", "declined", "missing"]


class EventsAccepted(BaseModel):
    # Events stored: all of the batch with consent, else 0.
    accepted: int
    consent: ConsentState


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Required for an anonymous shopper; a signed-in shopper's decision is
    # their account's.
    session_id: SessionId | None = None
    analytics: bool
    # The version of the consent text the shopper was shown.
    policy_version: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ConsentPublic(BaseModel):
    subject: Literal["user", "session"]
    version: int
    analytics: bool
    policy_version: str
    decided_at: datetime


class IntentCount(BaseModel):
    intent: str
    count: int
    successes: int


class QueryCount(BaseModel):
    query: str
    count: int
    unanswered: int


class Percentile(BaseModel):
    # The upper bound of the bucket holding the percentile (its lower bound
    # for the open last bucket): the true value lies in `bucket_ms`.
    ms: float
    bucket_ms: tuple[float, float | None]


class StageLatency(BaseModel):
    stage: str
    count: int
    p50: Percentile
    p95: Percentile
    p99: Percentile


class VoiceDay(BaseModel):
    day: date
    interactions: int
    successes: int


class VoiceInsights(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    since: date = Field(serialization_alias="from")
    until: date = Field(serialization_alias="to")
    interactions: int
    successes: int
    success_rate: float | None
    latency_ms: list[StageLatency]
    percentiles: str
    top_intents: list[IntentCount]
    top_queries: list[QueryCount]
    unanswered_queries: list[QueryCount]
    series: list[VoiceDay]


class ProductCount(BaseModel):
    product_id: uuid.UUID
    name: str | None
    slug: str | None
    views: int
    clicks: int
    add_to_cart: int


class PageCount(BaseModel):
    path: str
    views: int


class UsageDay(BaseModel):
    day: date
    sessions: int
    active_users: int
    page_views: int


class UsageInsights(BaseModel):
    since: date = Field(serialization_alias="from")
    until: date = Field(serialization_alias="to")
    sessions: int
    active_users: int
    page_views: int
    top_pages: list[PageCount]
    top_products: list[ProductCount]
    series: list[UsageDay]
