"""The load-test kit's own logic: target guard, settings profile, reports.

Locust itself is not needed here (it is in the `loadtest` extra): these
modules do not import it.
"""

import csv
import socket
import sys
from pathlib import Path

import pytest
from limits import parse_many

from pravis_api.core.config import Settings
from tests.servers import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "loadtest"))

from guard import RemoteTargetError, check_target  # noqa: E402
from run import parse_wrk  # noqa: E402
from stack import Ports, check_ports_free, memory_growth, read_profile  # noqa: E402


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8133",
        "http://127.8.0.1:8133",
        "http://localhost:8133",
        "http://[::1]:8133",
        "https://LOCALHOST",
    ],
)
def test_guard_accepts_loopback(url: str) -> None:
    assert check_target(url, allow_remote=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:8000",
        "http://169.254.169.254",
        "http://example.com",
        "http://localhost.example.com",
        "http://0.0.0.0:8000",
    ],
)
def test_guard_rejects_remote_hosts(url: str) -> None:
    with pytest.raises(RemoteTargetError, match="not a loopback address"):
        check_target(url, allow_remote=False)
    assert check_target(url, allow_remote=True) == url


@pytest.mark.parametrize("url", [None, "", "127.0.0.1:8000", "ftp://127.0.0.1"])
def test_guard_rejects_missing_or_invalid(url: str | None) -> None:
    with pytest.raises(RemoteTargetError):
        check_target(url, allow_remote=True)


def test_profile_raises_limits_per_client() -> None:
    profile = read_profile()
    settings = Settings(
        **{name.lower(): value for name, value in profile.items()},
        _env_file=None,  # type: ignore[call-arg]
    )
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.rate_limit_enabled
    for group in ("default", "voice", "login", "register"):
        raised = parse_many(getattr(settings, f"rate_limit_{group}"))[0]
        default = parse_many(getattr(defaults, f"rate_limit_{group}"))[0]
        # Per second, so limits over different windows compare.
        raised_rate = raised.amount / raised.get_expiry()
        default_rate = default.amount / default.get_expiry()
        assert raised_rate >= 100 * default_rate, group
    assert settings.web_concurrency == 2


def test_profile_rejects_lines_without_value(tmp_path: Path) -> None:
    profile = tmp_path / "bad.env"
    profile.write_text("# comment\nRATE_LIMIT_ENABLED\n")
    with pytest.raises(ValueError, match="expected NAME=value"):
        read_profile(profile)


WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8133/api/v1/auth/me
  2 threads and 64 connections
  Latency Distribution
     50%   40.12ms
     75%   52.00ms
     90%  801.00us
     99%    1.20s
  16000 requests in 10.01s, 9.01MB read
  Socket errors: connect 0, read 0, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1598.40
Transfer/sec:      0.90MB
"""


def test_parse_wrk_reads_figures() -> None:
    figures = parse_wrk(WRK_OUTPUT)
    assert figures["p50"] == pytest.approx(40.12)
    assert figures["p90"] == pytest.approx(0.801)
    assert figures["p99"] == pytest.approx(1200.0)
    assert figures["rps"] == pytest.approx(1598.4)
    assert figures["requests"] == 16000
    assert figures["non_2xx"] == 7
    assert figures["socket_errors"] == "connect 0, read 0, write 0, timeout 3"


def test_memory_growth_compares_window(tmp_path: Path) -> None:
    path = tmp_path / "memory.csv"
    rows = [
        (0, 10, 1, "api worker", 50_000),
        (60, 10, 1, "api worker", 100_000),
        (300, 10, 1, "api worker", 109_000),
        (360, 10, 1, "api worker", 200_000),
        # Exited before minute 5: no comparison.
        (60, 11, 10, "speech worker", 80_000),
    ]
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["elapsed_s", "pid", "ppid", "role", "rss_kib"])
        writer.writerows(rows)
    report = memory_growth(path, 60, 300)
    assert len(report) == 1
    assert report[0]["pid"] == 10
    assert report[0]["growth_pct"] == pytest.approx(9.0)


def test_stack_rejects_port_in_use() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(SystemExit, match=f"Port {port} for Redis is in use"):
            check_ports_free(Ports(api=free_port(), redis=port, azurite=free_port()))
