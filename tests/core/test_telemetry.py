"""Telemetry: spans and metrics on in-memory exporters, and when Azure
Monitor is configured."""

import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from pravis_api.core.telemetry import (
    VOICE_STAGE_METRIC,
    Telemetry,
    configure_azure_monitor_once,
)
from pravis_api.main import create_app
from tests.conftest import client_for, make_settings
from tests.servers import LocalServer, azurite_connection_string

pytestmark = pytest.mark.usefixtures("catalogue")


class Recorded:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.telemetry = Telemetry(
            enabled=True,
            tracer_provider=tracer_provider,
            meter_provider=MeterProvider(metric_readers=[self.metrics]),
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def histogram_points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        points = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture(scope="module")
async def traced_app(
    recorded: Recorded, database: str, azurite: LocalServer
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = make_settings(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
    )
    app = create_app(settings, telemetry=recorded.telemetry)
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield app, client


@pytest.fixture
def client(
    traced_app: tuple[FastAPI, httpx.AsyncClient], recorded: Recorded
) -> httpx.AsyncClient:
    recorded.spans.clear()
    return traced_app[1]


def server_spans(recorded: Recorded) -> list[ReadableSpan]:
    return [span for span in recorded.finished() if span.kind.name == "SERVER"]


async def test_telemetry_request_spans(
    client: httpx.AsyncClient, recorded: Recorded
) -> None:
    response = await client.get("/api/v1/products", params={"page_size": 2})
    assert response.status_code == 200
    (server,) = server_spans(recorded)
    assert server.name == "GET /api/v1/products"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/products"
    assert server.attributes["http.response.status_code"] == 200
    names = [span.name for span in recorded.finished()]
    sql = [span for span in recorded.finished() if span.attributes.get("db.system")]
    assert sql, names
    assert all(span.context.trace_id == server.context.trace_id for span in sql)


async def test_telemetry_redis_and_httpx_spans(
    traced_app: tuple[FastAPI, httpx.AsyncClient], recorded: Recorded
) -> None:
    app, _ = traced_app
    recorded.spans.clear()
    await app.state.resources.redis.ping()
    async with httpx.AsyncClient() as outgoing:
        # Nothing listens on port 9 of this machine; the span records that.
        with pytest.raises(httpx.ConnectError):
            await outgoing.get("http://127.0.0.1:9/")
    names = [span.name for span in recorded.finished()]
    assert "PING" in names
    assert any(name.startswith("GET") for name in names), names


async def test_telemetry_health_not_traced(
    client: httpx.AsyncClient, recorded: Recorded
) -> None:
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/health/ready")).status_code == 200
    assert server_spans(recorded) == []


async def test_telemetry_voice_stages(
    client: httpx.AsyncClient, recorded: Recorded
) -> None:
    response = await client.post(
        "/api/v1/voice/command", json={"text": "show me red dresses"}
    )
    assert response.status_code == 200
    (server,) = server_spans(recorded)
    assert server.attributes is not None
    assert server.attributes["pravis.voice.understand_ms"] >= 0
    assert "pravis.voice.total_ms" in server.attributes
    stages = {
        point.attributes["stage"]
        for point in recorded.histogram_points(VOICE_STAGE_METRIC)
    }
    assert {"understand", "total"} <= stages


async def test_telemetry_exception_recorded(
    traced_app: tuple[FastAPI, httpx.AsyncClient], recorded: Recorded
) -> None:
    app, client = traced_app

    async def fail() -> None:
        raise RuntimeError("broken on purpose")

    app.add_api_route("/telemetry-fail", fail)
    recorded.spans.clear()
    response = await client.get("/telemetry-fail")
    assert response.status_code == 500
    (server,) = server_spans(recorded)
    assert server.status.status_code.name == "ERROR"
    events = [event for event in server.events if event.name == "exception"]
    assert events
    assert events[0].attributes is not None
    assert events[0].attributes["exception.type"] == "RuntimeError"


async def test_telemetry_startup_and_shutdown(
    database: str, azurite: LocalServer
) -> None:
    recorded = Recorded()
    settings = make_settings(
        database_url=database,
        azure_storage_connection_string=azurite_connection_string(azurite.port),
    )
    app = create_app(settings, telemetry=recorded.telemetry)
    async with app.router.lifespan_context(app):
        pass
    names = [span.name for span in recorded.finished()]
    assert "pravis.startup" in names
    assert "pravis.shutdown" in names


def test_azure_monitor_off_in_development() -> None:
    threads = threading.active_count()
    settings = make_settings(
        environment="development",
        applicationinsights_connection_string="InstrumentationKey=00000000-0000-0000-0000-000000000000",
    )
    assert configure_azure_monitor_once(settings) is False
    assert configure_azure_monitor_once(make_settings(environment="staging")) is False
    assert threading.active_count() == threads


def test_monitoring_connection_string_sources() -> None:
    key = "InstrumentationKey=00000000-0000-0000-0000-000000000000"
    legacy = make_settings(environment="production", azure_app_insights_key=key)
    current = make_settings(
        environment="production", applicationinsights_connection_string=key
    )
    development = make_settings(applicationinsights_connection_string=key)
    assert legacy.monitoring_connection_string == key
    assert current.monitoring_connection_string == key
    assert development.monitoring_connection_string is None
