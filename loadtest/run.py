"""Run a load test against a server this script starts, and write its report.

From the repository root, after `pip install -e '.[dev,loadtest]'`:

    .venv/bin/python loadtest/run.py mixed              # 200 users, 5 minutes
    .venv/bin/python loadtest/run.py sweep              # 16, 64, 256 users
    .venv/bin/python loadtest/run.py auth-me            # wrk on GET /auth/me

Each command starts its own Redis, Azurite and API (`loadtest/stack.py`) on
loopback ports and runs a load bounded in users (or connections) and time.
Then it stops everything by process id. Reports go to
`loadtest/results/<command>-<UTC time>/`, where `summary.md` contains the
Markdown tables for bench/RESULTS.md.
"""

import argparse
import csv
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import ROOT, VENV_BIN, MemorySampler, Ports, api_stack, memory_growth  # noqa: E402

RESULTS_DIR = ROOT / "loadtest" / "results"
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"

# Targets of the mixed load, by Locust request name: (percentile, limit ms).
LATENCY_TARGETS = [
    ("/voice/command", "95%", 100),
    ("/voice/query 3s wav", "95%", 1500),
    ("/voice/speech HIT", "95%", 20),
    ("/health", "99%", 50),
]
MIN_SUCCESS_SHARE = 0.99
MAX_MEMORY_GROWTH_PCT = 10.0


def machine_line() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{cpu}, {len(__import__('os').sched_getaffinity(0))} cores available, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"load average before the run {load}"
    )


def run_locust(
    url: str, prefix: Path, users: int, seconds: int, extra: list[str]
) -> int:
    spawn_rate = max(1, min(users, 50)) / 5  # every user started within ~5 s
    command = [
        str(VENV_BIN / "locust"),
        "-f", str(LOCUSTFILE),
        "--headless",
        "--host", url,
        "--users", str(users),
        "--spawn-rate", f"{spawn_rate:g}",
        "--run-time", f"{seconds}s",
        "--stop-timeout", "30",
        "--csv", str(prefix),
        "--html", f"{prefix}.html",
        "--only-summary",
        "--loglevel", "WARNING",
        *extra,
    ]  # fmt: skip
    log_path = prefix.parent / "logs" / "locust.log"
    with log_path.open("ab") as log:
        exit_code = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, check=False
        ).returncode
    if not Path(f"{prefix}_stats.csv").exists():
        tail = "\n".join(log_path.read_text().splitlines()[-15:])
        raise SystemExit(f"Locust wrote no statistics; the end of {log_path}:\n{tail}")
    return exit_code


def read_stats(prefix: Path) -> dict[str, dict[str, str]]:
    with Path(f"{prefix}_stats.csv").open() as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open() as file:
        return list(csv.DictReader(file))


def count_shed(failures: list[dict[str, str]]) -> int:
    """Return the deliberate 429 and 503 responses with Retry-After."""
    return sum(int(row["Occurrences"]) for row in failures if "shed:" in row["Error"])


def _ms(value: str) -> str:
    return "-" if value in ("", "N/A") else f"{float(value):,.0f} ms"


def mixed_report(prefix: Path, memory_csv: Path, seconds: int) -> tuple[str, bool]:
    """Return the Markdown summary of a mixed run and whether every target holds."""
    stats = read_stats(prefix)
    failures = read_failures(prefix)
    total = int(stats["Aggregated"]["Request Count"])
    shed = count_shed(failures)
    unexpected_5xx = sum(
        int(f["Occurrences"]) for f in failures if "unexpected 5xx" in f["Error"]
    )
    other = sum(int(f["Occurrences"]) for f in failures) - shed - unexpected_5xx
    succeeded = total - shed - unexpected_5xx - other
    share = succeeded / total if total else 0.0

    lines = [
        "| request | count | failures | req/s | p50 | p95 | p99 | max |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in stats.items():
        lines.append(
            f"| {name} | {int(row['Request Count']):,} | {int(row['Failure Count']):,} "
            f"| {float(row['Requests/s']):.1f} | {_ms(row['50%'])} | {_ms(row['95%'])} "
            f"| {_ms(row['99%'])} | {_ms(row['Max Response Time'])} |"
        )

    checks: list[tuple[str, str, bool]] = [
        (
            f"at least {MIN_SUCCESS_SHARE:.0%} of requests succeed",
            f"{share:.3%} ({succeeded:,} of {total:,})",
            share >= MIN_SUCCESS_SHARE,
        ),
        (
            "no 5xx other than 503 with Retry-After",
            f"{unexpected_5xx}",
            unexpected_5xx == 0,
        ),
        ("no other failures (4xx, connection errors)", f"{other}", other == 0),
    ]
    for name, percentile, limit in LATENCY_TARGETS:
        row = stats.get(name)
        value = row[percentile] if row else "N/A"
        met = value not in ("N/A", "") and float(value) < limit
        checks.append((f"{name} p{percentile[:-1]} < {limit} ms", _ms(value), met))

    # Minute 1 to minute 5 of a 5-minute run; a fifth of a shorter run to its
    # end. The sample at the end may come a few seconds late.
    growth = memory_growth(memory_csv, min(60, seconds // 5), min(300, seconds) + 5)
    memory_lines = [
        "| pid | process | from | to | resident memory | growth |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for entry in growth:
        memory_lines.append(
            f"| {entry['pid']} | {entry['role']} "
            f"| {entry['from_s']} s | {entry['to_s']} s "
            f"| {entry['from_mib']:.0f} to {entry['to_mib']:.0f} MiB "
            f"| {entry['growth_pct']:+.1f}% |"
        )
    if growth:
        worst = max(float(str(entry["growth_pct"])) for entry in growth)
        checks.append(
            (
                f"resident memory grows < {MAX_MEMORY_GROWTH_PCT:.0f}%",
                f"at most {worst:+.1f}%",
                worst < MAX_MEMORY_GROWTH_PCT,
            )
        )
    else:
        checks.append(("resident memory growth", "run shorter than 2 samples", False))

    check_lines = ["| target | measured | met |", "| --- | --- | --- |"]
    check_lines += [
        f"| {name} | {value} | {'yes' if met else 'no'} |"
        for name, value, met in checks
    ]
    failure_lines = ["| request | error | count |", "| --- | --- | --- |"]
    failure_lines += [
        f"| {f['Method']} {f['Name']} | {f['Error'][:120]} | {f['Occurrences']} |"
        for f in failures
    ]
    sections = [
        ("Targets", check_lines),
        ("Requests", lines),
        ("Failures", failure_lines),
        ("Resident memory", memory_lines),
    ]
    report = "\n".join(
        "\n".join([f"### {title}", "", *table, ""]) for title, table in sections
    )
    return report, all(met for _, _, met in checks)


def new_results_dir(command: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{command}-{stamp}"
    (path / "logs").mkdir(parents=True)
    return path


def locust_extra(args: argparse.Namespace) -> list[str]:
    return list(args.locust_args or [])


def command_mixed(args: argparse.Namespace) -> int:
    results = new_results_dir("mixed")
    machine = machine_line()
    ports = Ports(args.port, args.redis_port, args.azurite_port)
    overrides = dict(args.settings)
    with api_stack(
        results, workers=args.workers, ports=ports, overrides=overrides
    ) as stack:
        sampler = MemorySampler(
            stack.server.pid, results / "memory.csv", args.memory_interval
        )
        sampler.start()
        try:
            exit_code = run_locust(
                stack.url,
                results / "mixed",
                args.users,
                args.seconds,
                locust_extra(args),
            )
        finally:
            sampler.stop()
    report, met = mixed_report(results / "mixed", results / "memory.csv", args.seconds)
    header = (
        f"## Mixed load: {args.users} users for {args.seconds} s, "
        f"{args.workers} API workers\n\nMachine: {machine}.\n\n"
        f"Command: `{' '.join(sys.argv)}` (Locust exit code {exit_code}).\n\n"
    )
    (results / "summary.md").write_text(header + report)
    print(header + report)
    print(f"Reports: {results}")
    return 0 if met else 1


def command_sweep(args: argparse.Namespace) -> int:
    results = new_results_dir("sweep")
    machine = machine_line()
    ports = Ports(args.port, args.redis_port, args.azurite_port)
    rows = [
        "| users | requests | req/s | shed (429/503) | other failures | p50 | p95 "
        "| p99 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    overrides = dict(args.settings)
    with api_stack(results, workers=args.workers, ports=ports, overrides=overrides):
        url = f"http://127.0.0.1:{args.port}"
        for users in args.users:
            prefix = results / f"users-{users}"
            run_locust(url, prefix, users, args.seconds, locust_extra(args))
            total = read_stats(prefix)["Aggregated"]
            shed = count_shed(read_failures(prefix))
            other = int(total["Failure Count"]) - shed
            rows.append(
                f"| {users} | {int(total['Request Count']):,} "
                f"| {float(total['Requests/s']):.1f} | {shed:,} | {other:,} "
                f"| {_ms(total['50%'])} | {_ms(total['95%'])} | {_ms(total['99%'])} |"
            )
    report = (
        f"## Concurrency sweep: mixed load, {args.seconds} s per step, "
        f"{args.workers} API workers\n\nMachine: {machine}.\n\n"
        f"Command: `{' '.join(sys.argv)}`.\n\n" + "\n".join(rows) + "\n"
    )
    (results / "summary.md").write_text(report)
    print(report)
    print(f"Reports: {results}")
    return 0


def _sign_in(url: str) -> str:
    """Register a new account and return an access token for it."""
    email = f"wrk-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(16)
    register = urllib.request.Request(  # noqa: S310 (loopback URL built here)
        f"{url}/api/v1/auth/register",
        data=(
            f'{{"email": "{email}", "password": "{password}", "full_name": "wrk"}}'
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(register, timeout=10).close()  # noqa: S310
    login = urllib.request.Request(  # noqa: S310
        f"{url}/api/v1/auth/login",
        data=urllib.parse.urlencode({"username": email, "password": password}).encode(),
    )
    with urllib.request.urlopen(login, timeout=10) as response:  # noqa: S310
        body = response.read().decode()
    match = re.search(r'"access_token":"([^"]+)"', body.replace(" ", ""))
    if match is None:
        raise RuntimeError(f"login returned no access token: {body[:200]}")
    return match.group(1)


def parse_wrk(output: str) -> dict[str, Any]:
    """Read requests/s, latency percentiles and errors from `wrk --latency`."""

    def milliseconds(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    result: dict[str, Any] = {"non_2xx": 0, "socket_errors": "none"}
    for line in output.splitlines():
        line = line.strip()
        if match := re.match(r"(50|75|90|99)%\s+(\S+)", line):
            result[f"p{match.group(1)}"] = milliseconds(match.group(2))
        elif line.startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
        elif line.startswith("Non-2xx or 3xx responses:"):
            result["non_2xx"] = int(line.split()[-1])
        elif line.startswith("Socket errors:"):
            result["socket_errors"] = line.split(":", 1)[1].strip()
        elif match := re.match(r"(\d+) requests in", line):
            result["requests"] = int(match.group(1))
    return result


def command_auth_me(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: install it (Debian package `wrk`).")

    results = new_results_dir("auth-me")
    machine = machine_line()
    ports = Ports(args.port, args.redis_port, args.azurite_port)
    rows = [
        "| connections | requests | req/s | p50 | p90 | p99 | non-2xx "
        "| socket errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    overrides = dict(args.settings)

    with api_stack(results, workers=1, ports=ports, overrides=overrides) as stack:
        token = _sign_in(stack.url)
        target = f"{stack.url}/api/v1/auth/me"
        header = f"Authorization: Bearer {token}"
        for connections in args.connections:
            base = ["wrk", "-t2", f"-c{connections}", "-H", header, "--timeout", "5s"]
            # A warm-up that fills the pools and the cache entry, not reported.
            subprocess.run([*base, "-d5s", target], capture_output=True, check=True)

            output = subprocess.run(
                [*base, f"-d{args.seconds}s", "--latency", target],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            (results / f"wrk-{connections}.txt").write_text(output)
            figures = parse_wrk(output)
            rows.append(
                f"| {connections} | {figures.get('requests', 0):,} "
                f"| {figures.get('rps', 0):,.0f} "
                f"| {figures.get('p50', 0):.1f} ms | {figures.get('p90', 0):.1f} ms "
                f"| {figures.get('p99', 0):.1f} ms | {figures['non_2xx']} "
                f"| {figures['socket_errors']} |"
            )
            time.sleep(2)

    report = (
        f"## GET /api/v1/auth/me, one API worker, wrk {args.seconds} s per step\n\n"
        f"Machine: {machine}.\n\nCommand: `{' '.join(sys.argv)}`. Target: at least "
        "1,500 req/s with p99 under 100 ms at 64 connections, and no time-outs "
        "(wrk's 5 s) at 256.\n\n" + "\n".join(rows) + "\n"
    )
    (results / "summary.md").write_text(report)
    print(report)
    print(f"Reports: {results}")
    return 0


def _setting(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _users(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8133, help="API port (loopback).")
    parser.add_argument("--redis-port", type=int, default=6393, help="Redis port.")
    parser.add_argument("--azurite-port", type=int, default=10133, help="Azurite port.")
    commands = parser.add_subparsers(dest="command", required=True)

    mixed = commands.add_parser("mixed", help="The mixed load with its targets.")
    mixed.add_argument("--users", type=int, default=200, help="Simulated users.")
    mixed.add_argument("--seconds", type=int, default=300, help="Run time in seconds.")
    mixed.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes."
    )
    mixed.add_argument(
        "--memory-interval", type=float, default=60.0,
        help="Seconds between resident memory samples.",
    )  # fmt: skip
    mixed.set_defaults(handler=command_mixed)

    sweep = commands.add_parser("sweep", help="The mixed load at several user counts.")
    sweep.add_argument(
        "--users", type=_users, default=[16, 64, 256], help="e.g. 16,64,256"
    )
    sweep.add_argument("--seconds", type=int, default=60, help="Seconds per step.")
    sweep.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes."
    )
    sweep.set_defaults(handler=command_sweep)

    auth_me = commands.add_parser("auth-me", help="wrk on GET /api/v1/auth/me.")
    auth_me.add_argument(
        "--connections", type=_users, default=[64, 256], help="e.g. 64,256"
    )
    auth_me.add_argument("--seconds", type=int, default=30, help="Seconds per step.")
    auth_me.set_defaults(handler=command_auth_me)

    for sub in (mixed, sweep, auth_me):
        sub.add_argument(
            "--set",
            dest="settings",
            action="append",
            type=_setting,
            default=[],
            metavar="NAME=VALUE",
            help="A setting of the server over loadtest/loadtest.env; repeatable.",
        )
    for sub in (mixed, sweep):
        sub.add_argument(
            "locust_args", nargs=argparse.REMAINDER,
            help="Options after -- go to Locust, e.g. -- --weight-speaking 0.",
        )  # fmt: skip
    args = parser.parse_args()
    if getattr(args, "locust_args", None) and args.locust_args[0] == "--":
        args.locust_args = args.locust_args[1:]
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
