"""OpenTelemetry traces and metrics, exported to Azure Monitor.

Monitoring is on when an Application Insights connection string is set and
ENVIRONMENT is not development. `configure_azure_monitor` then installs the
global tracer, meter and logger providers once per process. Tests pass
their own providers (with in-memory exporters) instead.

Requests are traced by FastAPI's own OpenTelemetry support (the
`telemetry=` option of `FastAPI`), so the distro's FastAPI instrumentation
is turned off and no request gets two server spans. The asyncpg driver,
Redis and httpx are instrumented while the app runs. (The SQLAlchemy
instrumentation 0.66b1 refuses SQLAlchemy 2.1, so SQL is traced at the
driver.) Health probes are not traced.
"""

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import Histogram, MeterProvider
from opentelemetry.trace import Span, Tracer, TracerProvider
from starlette.types import Scope

from pravis_api import __version__
from pravis_api.core.config import Settings

logger = logging.getLogger(__name__)

HEALTH_PATHS = frozenset({"/health", "/health/ready"})
VOICE_STAGE_METRIC = "pravis.voice.stage.duration"
_SCOPE_NAME = "pravis_api"

_azure_monitor_configured = False


def configure_azure_monitor_once(settings: Settings) -> bool:
    """Install Azure Monitor's providers for this process; False when
    monitoring is off (development, or no connection string)."""
    global _azure_monitor_configured
    connection_string = settings.monitoring_connection_string
    if connection_string is None:
        return False
    if _azure_monitor_configured:
        return True

    # Imported here: it takes about 0.2 s and is unused in development.
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.sdk.resources import Resource

    configure_azure_monitor(
        connection_string=connection_string,
        resource=Resource.create(
            {
                "service.name": "pravis-api",
                "service.version": __version__,
                "deployment.environment.name": settings.environment,
            }
        ),
        # Only the service's own log lines, not those of every library.
        logger_name="pravis_api",
        instrumentation_options={
            "fastapi": {"enabled": False},
            "httpx": {"enabled": False},
        },
    )
    _azure_monitor_configured = True
    logger.info("telemetry.azure_monitor_configured")
    return True


def is_health_probe(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.rstrip("/") in HEALTH_PATHS


@dataclass
class Telemetry:
    """The providers one app reports to; None means the global providers."""

    enabled: bool
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    tracer: Tracer = field(init=False)
    voice_stage_duration: Histogram = field(init=False)
    _instrumented: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        tracer_provider = self.tracer_provider or trace.get_tracer_provider()
        meter_provider = self.meter_provider or metrics.get_meter_provider()
        self.tracer = tracer_provider.get_tracer(_SCOPE_NAME, __version__)
        meter = meter_provider.get_meter(_SCOPE_NAME, __version__)
        self.voice_stage_duration = meter.create_histogram(
            VOICE_STAGE_METRIC,
            unit="ms",
            description="Duration of each stage of a voice request.",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "Telemetry":
        return cls(enabled=configure_azure_monitor_once(settings))

    def fastapi_options(self) -> dict[str, Any]:
        """Return the `telemetry=` option of FastAPI for this app."""
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "tracing": self.enabled,
            "metrics": self.enabled,
            "logs": self.enabled,
            "exclude": is_health_probe,
        }

    @contextmanager
    def lifecycle_span(self, name: str) -> Iterator[None]:
        """Trace start-up or shutdown; exceptions are recorded on the span."""
        if not self.enabled:
            yield
            return
        with self.tracer.start_as_current_span(name):
            yield

    def instrument(self) -> None:
        """Trace SQL statements, Redis commands and httpx requests.

        The instrumentors patch their libraries for the whole process, so
        one app at a time may be instrumented; `uninstrument` undoes it.
        """
        if not self.enabled or self._instrumented:
            return
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        options: dict[str, Any] = {}
        if self.tracer_provider is not None:
            options["tracer_provider"] = self.tracer_provider
        AsyncPGInstrumentor().instrument(**options)  # type: ignore[no-untyped-call]
        RedisInstrumentor().instrument(**options)
        HTTPXClientInstrumentor().instrument(**options)
        self._instrumented = True

    def uninstrument(self) -> None:
        if not self._instrumented:
            return
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        RedisInstrumentor().uninstrument()
        HTTPXClientInstrumentor().uninstrument()
        self._instrumented = False

    def record_voice_timings(
        self, span: Span | None, timings: Mapping[str, float], source: str
    ) -> None:
        """Put a voice request's stage durations (milliseconds) on its server
        span, as `pravis.voice.<stage>_ms`, and in the stage histogram."""
        if not self.enabled:
            return
        span = span or trace.get_current_span()
        for stage, milliseconds in timings.items():
            span.set_attribute(f"pravis.voice.{stage}_ms", milliseconds)
            self.voice_stage_duration.record(
                milliseconds, {"stage": stage, "source": source}
            )
