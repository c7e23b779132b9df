"""Store policies the assistant answers from: returns, exchanges, shipping, sizing."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from pravis_api.models.base import timestamp_field

POLICY_TOPICS = ("returns", "exchanges", "shipping", "sizing")


class StorePolicyBase(SQLModel):
    topic: str = Field(max_length=32)
    title: str = Field(max_length=120)
    # One or two sentences, short enough to be spoken as a reply.
    summary: str = Field(max_length=600)
    body: str


class StorePolicy(StorePolicyBase, table=True):
    __tablename__ = "store_policies"

    topic: str = Field(max_length=32, primary_key=True)
    updated_at: datetime = timestamp_field(onupdate=True)


class StorePolicyPublic(StorePolicyBase):
    updated_at: datetime
