"""Dedicated Redis and Azurite servers on spare loopback ports, for tests
that stop a dependency and watch the API degrade; a local SMTP server that
keeps the messages it receives; and `pravis-api serve` as a real process."""

import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from pravis_api.core.config import AZURITE_CONNECTION_STRING

ROOT = Path(__file__).resolve().parents[1]
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite-blob"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class LocalServer:
    """A child process serving on one loopback port; stop() kills it."""

    def __init__(self, command: list[str], port: int) -> None:
        self.command = command
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "LocalServer":
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def redis_server(port: int | None = None) -> LocalServer:
    port = port or free_port()
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    command = [binary, "--bind", "127.0.0.1", "--port", str(port)]
    command += ["--save", "", "--appendonly", "no"]
    return LocalServer(command, port)


def azurite_server(port: int | None = None) -> LocalServer:
    port = port or free_port()
    if not AZURITE_BIN.exists():
        raise RuntimeError(f"{AZURITE_BIN} is missing; run `npm ci` first")
    command = [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--inMemoryPersistence", "--skipApiVersionCheck", "--silent"]
    command += ["--disableTelemetry"]
    return LocalServer(command, port)


def azurite_connection_string(port: int) -> str:
    return AZURITE_CONNECTION_STRING.replace("127.0.0.1:10000", f"127.0.0.1:{port}")


class SmtpSink:
    """An aiosmtpd server on a spare loopback port that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # aiosmtpd calls the handler's hooks by these names.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class ApiServer:
    """A `pravis-api serve` child process and the file its output goes to."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path):
        self.process = process
        self.port = port
        self.log = log

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, event: str, count: int = 1, timeout: float = 60) -> None:
        """Wait until `event` was logged `count` times; raise if the server exits."""
        deadline = time.monotonic() + timeout
        while self.log_text().count(event) < count:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.log_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{event} was not logged {count} times within {timeout} s:\n"
                    f"{self.log_text()}"
                )
            time.sleep(0.05)

    def wait_until_serving(self, workers: int = 1, timeout: float = 60) -> None:
        """Wait until `workers` apps have started and the port accepts connections.

        uvicorn runs the app's start-up before it binds its socket, so the
        start-up log line alone does not mean requests can connect yet.
        """
        self.wait_for_log("app.started", count=workers, timeout=timeout)
        wait_for_port(self.port, timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_api_server(
    directory: Path, settings: dict[str, str], *args: str
) -> ApiServer:
    """Start `pravis-api serve` in `directory` with only the given settings.

    The process inherits no other variables, and `directory` should contain
    no .env file, so the settings of the developer's shell do not apply.
    """
    port = int(settings.get("PORT") or free_port())
    environment = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "TMPDIR")
    }
    environment.update(settings, PORT=str(port))
    log = directory / f"serve-{port}.log"
    command = [str(Path(sys.executable).with_name("pravis-api")), "serve", *args]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return ApiServer(process, port, log)


POSTGRES_BIN = Path("/usr/lib/postgresql")


def _postgres_tool(name: str) -> str:
    versions = sorted(POSTGRES_BIN.glob(f"*/bin/{name}"))
    if not versions:
        raise RuntimeError(f"{name} not found under {POSTGRES_BIN}")
    return str(versions[-1])


class PostgresCluster:
    """A PostgreSQL cluster of its own in a temporary directory, for drills
    that stop and restart the database.

    initdb and the server refuse to run as root, so they run as the
    `postgres` user when the tests run as root. Trust authentication, on
    127.0.0.1 and a spare port only.
    """

    def __init__(self, port: int | None = None) -> None:
        # Not under pytest's tmp_path: the postgres user cannot enter root's
        # private directories.
        self.directory = Path(tempfile.mkdtemp(prefix="pravis-pg-"))
        self.data = self.directory / "data"
        self.port = port or free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_owner, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def init(self) -> "PostgresCluster":
        if self.as_owner:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            _postgres_tool("initdb"),
            "-D", str(self.data),
            "-U", "postgres",
            "--auth=trust",
            "--no-sync",
        )  # fmt: skip
        return self

    def start(self) -> "PostgresCluster":
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-k {self.directory} -c fsync=off"
        )
        self._run(
            _postgres_tool("pg_ctl"),
            "-D", str(self.data),
            "-o", options,
            "-l", str(self.directory / "postgres.log"),
            "-w", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(
                _postgres_tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"
            )

    def remove(self) -> None:
        """Stop the server if it runs, and delete the cluster's files."""
        self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"
