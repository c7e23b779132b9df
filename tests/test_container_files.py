"""compose.yaml, the Dockerfile and .env.example, read against the settings.

No Docker engine runs where these tests run, so they check what can be
checked without one. CI also validates compose.yaml against the Compose
specification and lints the Dockerfile with hadolint.
"""

import ipaddress
import json
import re
import subprocess
import sys
from typing import Any

import yaml
from azure.storage.blob import BlobServiceClient

from pravis_api import cli
from pravis_api.core.config import AZURITE_CONNECTION_STRING, Settings
from pravis_api.resources import (
    CLIENT_CLOSE_TIMEOUT_SECONDS,
    SPEECH_DRAIN_TIMEOUT_SECONDS,
)
from tests.conftest import ROOT, StartApi

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
SETTING_NAMES = {name.upper() for name in Settings.model_fields}
# ${NAME} and ${NAME:-default}, the only forms compose.yaml uses.
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Resolve ${NAME} and ${NAME:-default} the way Docker Compose does."""

    def resolve(match: re.Match[str]) -> str:
        current = variables.get(match["name"], "")
        if match["default"] is not None and current == "":
            return match["default"]
        return current

    return VARIABLE.sub(resolve, value)


def env_example_values() -> dict[str, str]:
    """Return the variables .env.example sets, as a copy of it to .env would."""
    values = {}
    for line in ENV_EXAMPLE.splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        values[name] = value.strip('"')
    return values


def dockerfile_instruction(name: str) -> str:
    """Return an instruction's arguments, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    (arguments,) = re.findall(rf"^{name} (.+)$", joined, flags=re.MULTILINE)
    return str(arguments)


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"{duration!r} is not in whole seconds"
    return float(match[1])


def test_env_example_documents_every_setting() -> None:
    for name in sorted(SETTING_NAMES):
        assert re.search(rf"^(# )?{name}=", ENV_EXAMPLE, flags=re.MULTILINE), name


def test_compose_sets_only_known_settings() -> None:
    environment = COMPOSE["x-pravis"]["environment"]
    assert set(environment) <= SETTING_NAMES


def test_compose_settings_reach_its_services() -> None:
    variables = env_example_values()
    environment = {
        name: interpolate(value, variables)
        for name, value in COMPOSE["x-pravis"]["environment"].items()
    }
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{name.lower(): value for name, value in (variables | environment).items()},
    )
    postgres = {
        name: interpolate(value, variables)
        for name, value in COMPOSE["services"]["postgres"]["environment"].items()
    }

    assert settings.sqlalchemy_database_url == (
        f"postgresql+asyncpg://{postgres['POSTGRES_USER']}:"
        f"{postgres['POSTGRES_PASSWORD']}@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert postgres["POSTGRES_PASSWORD"] == "pravis"
    assert settings.redis_url.get_secret_value() == "redis://redis:6379/0"
    assert settings.blob_connection_string == AZURITE_CONNECTION_STRING.replace(
        "127.0.0.1:10000", "azurite:10000"
    )
    blobs = BlobServiceClient.from_connection_string(settings.blob_connection_string)
    assert blobs.url == "http://azurite:10000/devstoreaccount1/"
    assert settings.port == 8000


def test_compose_api_waits_for_migrations() -> None:
    services = COMPOSE["services"]
    api, migrate = services["api"], services["migrate"]

    assert "command" not in api, "the API must use the image's command"
    assert api["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert api["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert api["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert "pravis-api migrate" in migrate["command"][-1]
    assert "pravis-api seed-demo" in migrate["command"][-1]
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert api["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_stop_grace_covers_shutdown() -> None:
    grace = seconds(COMPOSE["services"]["api"]["stop_grace_period"])
    longest_stop = (
        Settings.model_fields["graceful_shutdown_timeout_seconds"].default
        + SPEECH_DRAIN_TIMEOUT_SECONDS
        + CLIENT_CLOSE_TIMEOUT_SECONDS
    )
    assert grace > longest_stop


def test_dockerfile_command_serves_on_all_interfaces() -> None:
    command = json.loads(dockerfile_instruction("CMD"))
    assert command[0] == "pravis-api"

    arguments = cli.build_parser().parse_args(command[1:])
    assert arguments.handler is cli.serve
    assert ipaddress.ip_address(arguments.host).is_unspecified
    assert arguments.port is None, "the port comes from the PORT setting"


def test_dockerfile_healthcheck_against_server(start_api: StartApi) -> None:
    instruction = dockerfile_instruction("HEALTHCHECK")
    command = json.loads(instruction[instruction.index("CMD ") + 4 :])
    assert command[0] == "python"
    command[0] = sys.executable

    server = start_api()
    server.wait_until_serving()
    healthy = subprocess.run(
        command, env={"PORT": str(server.port)}, capture_output=True, timeout=30
    )
    server.kill()
    stopped = subprocess.run(
        command, env={"PORT": str(server.port)}, capture_output=True, timeout=30
    )

    assert healthy.returncode == 0, healthy.stderr.decode()
    assert stopped.returncode != 0


def test_dockerignore_sends_only_copied_files() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    copied = set()
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(line.split()[1:-1])

    assert rules[0] == "*"
    assert copied == {"pyproject.toml", "README.md", "src", "alembic.ini", "migrations"}
    for source in copied:
        assert f"!{source}" in rules or f"!{source}/" in rules, source
    assert not any(rule.startswith("!.env") for rule in rules)
