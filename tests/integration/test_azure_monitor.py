"""Azure Monitor as production configures it, exporting to a local fake of
the Application Insights ingestion endpoint.

The app runs in a child process, because `configure_azure_monitor` installs
process-wide providers. Statsbeat, the control plane and the Azure resource
detectors (which query the VM metadata endpoint) are turned off, so nothing
leaves this machine.
"""

import gzip
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.servers import LocalServer, azurite_connection_string, free_port

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio

import httpx
from opentelemetry import metrics, trace

from pravis_api.main import create_app


async def main() -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/api/v1/store/policies")).status_code == 200
        reply = await client.post("/api/v1/voice/command", json={"text": "hello"})
        assert reply.status_code == 200, reply.text
    trace.get_tracer_provider().force_flush()
    metrics.get_meter_provider().force_flush()


if __name__ == "__main__":
    asyncio.run(main())
"""


class Ingestion(BaseHTTPRequestHandler):
    envelopes: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        items = json.loads(body)
        self.envelopes.extend(items if isinstance(items, list) else [items])
        answer = json.dumps(
            {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def ingestion() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    Ingestion.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Ingestion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], Ingestion.envelopes
    server.shutdown()
    server.server_close()


def base_data(envelope: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = envelope["data"]["baseData"]
    return data


@pytest.mark.usefixtures("catalogue")
def test_azure_monitor_exports_requests(
    ingestion: tuple[int, list[dict[str, Any]]],
    database: str,
    azurite: LocalServer,
    own_redis: LocalServer,
    tmp_path: Path,
) -> None:
    port, envelopes = ingestion
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    environment = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "DATABASE_URL": database.replace("postgresql+asyncpg", "postgresql"),
        "REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0",
        "AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string(azurite.port),
        "AZURE_STORAGE_CONTAINER_NAME": f"monitor-{uuid.uuid4().hex[:8]}",
        "SPEECH_WORKERS": "1",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint=http://127.0.0.1:{port}/"
        ),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel",
        # The distro samples 5 traces per second by default.
        "OTEL_TRACES_SAMPLER": "always_on",
        "PYTHONPATH": str(ROOT / "src"),
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    requests = [e for e in envelopes if e["data"]["baseType"] == "RequestData"]
    names = [base_data(e)["name"] for e in requests]
    assert "GET /api/v1/store/policies" in names
    assert "POST /api/v1/voice/command" in names
    assert not [name for name in names if "/health" in name]

    (voice,) = [e for e in requests if base_data(e)["name"].endswith("command")]
    assert "pravis.voice.understand_ms" in base_data(voice)["properties"]

    dependencies = [
        base_data(e)
        for e in envelopes
        if e["data"]["baseType"] == "RemoteDependencyData"
    ]
    types = {dependency.get("type", "").lower() for dependency in dependencies}
    assert "postgresql" in types or any("sql" in t for t in types), types
    assert "redis" in types, types

    metric_names = {
        metric["name"]
        for e in envelopes
        if e["data"]["baseType"] == "MetricData"
        for metric in base_data(e)["metrics"]
    }
    assert "pravis.voice.stage.duration" in metric_names
    startup = [
        base_data(e)
        for e in envelopes
        if e["data"]["baseType"] == "RemoteDependencyData"
        and base_data(e).get("name") == "pravis.startup"
    ]
    assert startup
