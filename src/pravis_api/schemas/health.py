from typing import Literal

from pydantic import BaseModel


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    environment: str


class DependencyCheck(BaseModel):
    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    # ready: all up; degraded: Redis or Blob Storage down, the API still
    # serves; unavailable: PostgreSQL or the speech workers down (HTTP 503).
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, DependencyCheck]
