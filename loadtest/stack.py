"""A throwaway API stack for one load test, on loopback ports of its own.

Starts Redis and Azurite, migrates and seeds the PostgreSQL database
`pravis_loadtest` on the machine's server, then serves the API with the
settings profile `loadtest/loadtest.env`. Everything started here is
stopped by process id when the `with` block ends.
"""

import csv
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PROFILE = ROOT / "loadtest" / "loadtest.env"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
    "K1SZFPTOtr/KBHBeksoGMGw=="
)  # Azurite's published development key, not a secret.
SERVER_STOP_TIMEOUT_SECONDS = 60.0


@dataclass
class Ports:
    api: int = 8133
    redis: int = 6393
    azurite: int = 10133


def read_profile(path: Path = PROFILE) -> dict[str, str]:
    """Return the NAME=value lines of a settings profile; # starts a comment."""
    settings: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        if not separator:
            raise ValueError(f"{path}: expected NAME=value, got {line!r}")
        settings[name.strip()] = value.strip()
    return settings


def wait_for(
    url: str, timeout_seconds: float, process: subprocess.Popen[bytes]
) -> None:
    """Poll `url` until it returns 200; raise RuntimeError on timeout or exit."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not return 200 within {timeout_seconds:.0f} s")


def check_ports_free(ports: Ports) -> None:
    """Raise SystemExit naming the first port that something listens on.

    Otherwise a Redis already on the port would take the test's traffic
    while the stack's own Redis fails to start.
    """
    for name, port in (
        ("API", ports.api),
        ("Redis", ports.redis),
        ("Azurite", ports.azurite),
    ):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(
                    f"Port {port} for {name} is in use on 127.0.0.1; stop what "
                    "listens there or choose another port (loadtest/run.py --help)."
                )


def _stop(process: subprocess.Popen[bytes], timeout_seconds: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Stack:
    url: str
    server: subprocess.Popen[bytes]
    environment: dict[str, str]
    log_dir: Path


@contextmanager
def api_stack(
    results: Path, *, workers: int, ports: Ports, overrides: dict[str, str]
) -> Iterator[Stack]:
    """Start Redis, Azurite and the API; stop all three on exit."""
    for program in ("redis-server", str(ROOT / "node_modules/.bin/azurite-blob")):
        if shutil.which(program) is None:
            raise SystemExit(
                f"{program} not found: install Redis, and run scripts/dev or "
                "npm ci once for Azurite."
            )
    check_ports_free(ports)
    processes: list[subprocess.Popen[bytes]] = []
    log_dir = results / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        processes.append(
            subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(ports.redis),
                 "--save", "", "--appendonly", "no"],
                stdout=(log_dir / "redis.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [str(ROOT / "node_modules/.bin/azurite-blob"),
                 "--blobHost", "127.0.0.1", "--blobPort", str(ports.azurite),
                 "--inMemoryPersistence",
                 "--skipApiVersionCheck", "--silent", "--disableTelemetry"],
                stdout=(log_dir / "azurite.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )  # fmt: skip

        environment = {
            **os.environ,
            **read_profile(),
            "DB_NAME": "pravis_loadtest",
            "REDIS_URL": f"redis://127.0.0.1:{ports.redis}/0",
            "AZURE_STORAGE_CONNECTION_STRING": (
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                f"AccountKey={AZURITE_ACCOUNT_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{ports.azurite}/devstoreaccount1;"
            ),
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
            "WEB_CONCURRENCY": str(workers),
            **overrides,
        }
        cli = str(VENV_BIN / "pravis-api")
        for step in (["migrate", "--create-database"], ["seed-demo"]):
            subprocess.run(
                [cli, *step],
                env=environment,
                check=True,
                stdout=(log_dir / "setup.log").open("ab"),
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        server = subprocess.Popen(
            [cli, "serve", "--host", "127.0.0.1", "--port", str(ports.api),
             "--workers", str(workers)],
            env=environment,
            stdout=(log_dir / "api.log").open("wb"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )  # fmt: skip
        processes.append(server)
        url = f"http://127.0.0.1:{ports.api}"
        wait_for(f"{url}/health/ready", 120, server)
        yield Stack(url, server, environment, log_dir)
    finally:
        # The server first: it drains requests and stops its speech workers.
        for process in reversed(processes):
            _stop(process, SERVER_STOP_TIMEOUT_SECONDS)


def descendants(pid: int) -> list[int]:
    """Return `pid` and every process below it, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces; the fields after it do not.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found = [pid]
    for current in found:
        found.extend(children.get(current, []))
    return found


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _role(pid: int, server_pid: int) -> str:
    if pid == server_pid:
        return "uvicorn supervisor"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return "exited"
    if b"resource_tracker" in command:
        return "resource tracker"
    if b"spawn_main" in command:
        # uvicorn's workers and the speech workers are both spawned; the
        # speech workers are children of an API worker.
        return "spawned process"
    return command.decode(errors="replace")[:60]


@dataclass
class MemorySampler:
    """Samples the resident memory of the server's processes every interval."""

    server_pid: int
    path: Path
    interval_seconds: float = 60.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        with self.path.open("w", newline="") as file:
            csv.writer(file).writerow(["elapsed_s", "pid", "ppid", "role", "rss_kib"])
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def _run(self) -> None:
        self.sample()
        while not self._stop.wait(self.interval_seconds):
            self.sample()

    def sample(self) -> None:
        elapsed = round(time.monotonic() - self._started)
        rows = []
        for pid in descendants(self.server_pid):
            rss = _rss_kib(pid)
            if rss is None:
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            rows.append([elapsed, pid, parent, self._describe(pid, parent), rss])
        with self.path.open("a", newline="") as file:
            csv.writer(file).writerows(rows)

    def _describe(self, pid: int, parent: int) -> str:
        role = _role(pid, self.server_pid)
        if role != "spawned process":
            return role
        return "api worker" if parent == self.server_pid else "speech worker"


def memory_growth(path: Path, start_s: float, end_s: float) -> list[dict[str, object]]:
    """Compare each process's resident memory at the first sample at or after
    `start_s` with the last sample at or before `end_s`."""
    samples: dict[int, list[tuple[int, str, int]]] = {}
    with path.open() as file:
        for row in csv.DictReader(file):
            samples.setdefault(int(row["pid"]), []).append(
                (int(row["elapsed_s"]), row["role"], int(row["rss_kib"]))
            )
    report = []
    for pid, rows in sorted(samples.items()):
        after = [row for row in rows if row[0] >= start_s]
        before = [row for row in rows if row[0] <= end_s]
        if not after or not before or after[0][0] >= before[-1][0]:
            continue
        first, last = after[0], before[-1]
        report.append(
            {
                "pid": pid,
                "role": first[1],
                "from_s": first[0],
                "to_s": last[0],
                "from_mib": first[2] / 1024,
                "to_mib": last[2] / 1024,
                "growth_pct": 100 * (last[2] - first[2]) / first[2],
            }
        )
    return report
