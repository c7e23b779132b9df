"""The `pravis-api` command line, without starting a server."""

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pravis_api import cli
from tests.conftest import ROOT


@pytest.fixture
def signal_handlers(monkeypatch: pytest.MonkeyPatch) -> dict[int, Any]:
    """Record signal handlers instead of installing them in the test process."""
    handlers: dict[int, Any] = {}
    monkeypatch.setattr(
        signal, "signal", lambda signum, handler: handlers.__setitem__(signum, handler)
    )
    return handlers


@pytest.fixture
def uvicorn_calls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, signal_handlers: dict[int, Any]
) -> list[dict[str, Any]]:
    """Record uvicorn.run's arguments instead of serving; no .env is read."""
    calls: list[dict[str, Any]] = []
    monkeypatch.chdir(tmp_path)
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        uvicorn, "run", lambda app, **options: calls.append({"app": app, **options})
    )
    return calls


def test_serve_uses_settings(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", "192.0.2.10")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/16")
    monkeypatch.setenv("GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS", "25")
    cli.main(["serve"])

    (options,) = uvicorn_calls
    assert options["app"] == "pravis_api.main:create_app"
    assert options["factory"] is True
    assert options["host"] == "192.0.2.10"
    assert options["port"] == 8080
    assert options["workers"] == 3
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.0/16"
    assert options["timeout_graceful_shutdown"] == 25


def test_serve_defaults_to_loopback(uvicorn_calls: list[dict[str, Any]]) -> None:
    cli.main(["serve"])
    (options,) = uvicorn_calls
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8000
    assert options["workers"] == 1
    assert options["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert options["timeout_graceful_shutdown"] == 15


def test_serve_flags_override_settings(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    cli.main(["serve", "--host", "192.0.2.10", "--port", "9000", "--workers", "2"])
    (options,) = uvicorn_calls
    assert (options["host"], options["port"], options["workers"]) == (
        "192.0.2.10",
        9000,
        2,
    )


def test_serve_exits_zero_after_sigterm(
    uvicorn_calls: list[dict[str, Any]], signal_handlers: dict[int, Any]
) -> None:
    cli.main(["serve"])
    handler = signal_handlers[signal.SIGTERM]
    # uvicorn raises SIGTERM again once its graceful shutdown is done.
    with pytest.raises(SystemExit) as exit_info:
        handler(signal.SIGTERM, None)
    assert exit_info.value.code == 0


def test_serve_without_trusted_proxies(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")
    cli.main(["serve"])
    assert uvicorn_calls[0]["proxy_headers"] is False


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--workers", "0", "is not a whole number of 1 or more"),
        ("--workers", "two", "is not a whole number of 1 or more"),
        ("--port", "70000", "is not a TCP port"),
    ],
)
def test_serve_rejects_bad_flags(
    uvicorn_calls: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    flag: str,
    value: str,
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", flag, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert uvicorn_calls == []


def test_serve_rejects_invalid_settings(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "proxy.internal")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve"])
    assert "forwarded_allow_ips" in str(exit_info.value.code)
    assert "'proxy.internal' is not an IP address" in str(exit_info.value.code)
    assert uvicorn_calls == []


def test_console_script_imports_little() -> None:
    # Each spawned speech worker imports the console script's module first.
    code = "import sys, pravis_api.launcher; print(sorted(sys.modules))"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = result.stdout
    assert "'pravis_api.launcher'" in modules
    assert "'pydantic'" not in modules
    assert "'pravis_api.cli'" not in modules


def test_alembic_ini_of_checkout_wins_over_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = elsewhere\n")
    monkeypatch.chdir(tmp_path)

    assert cli._alembic_ini() == ROOT / "alembic.ini"
