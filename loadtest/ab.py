"""Interleaved A/B runs of wrk against two API servers started side by side.

Each variant is a source tree and settings: `NAME=SRC_DIR[,SETTING=value...]`,
where SRC_DIR contains the `pravis_api` package to run (for "before", extract
it with `git archive HEAD src | tar -x -C /tmp/before`) or is `-` for this
checkout. The rounds alternate A, B, A, B, so drift in the machine's load
affects both alike. From the repository root:

    .venv/bin/python loadtest/ab.py --path /api/v1/auth/me --signed-in \
        before=/tmp/before/src now=-
"""

import argparse
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import _sign_in as sign_in  # noqa: E402
from run import new_results_dir, parse_wrk  # noqa: E402
from stack import Ports, api_stack  # noqa: E402


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, spec = text.partition("=")
    source, *settings = spec.split(",")
    overrides = dict(setting.split("=", 1) for setting in settings if setting)
    if source and source != "-":
        overrides["PYTHONPATH"] = str(Path(source).resolve())
    return name, overrides


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs=2, help="NAME=SRC_DIR[,SETTING=value...]")
    parser.add_argument("--path", default="/api/v1/auth/me", help="Path to load.")
    parser.add_argument("--signed-in", action="store_true", help="Send a bearer token.")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=10, help="Seconds per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    results = new_results_dir("ab")
    variants = [parse_variant(text) for text in args.variants]
    figures: dict[str, list[dict[str, float]]] = {name: [] for name, _ in variants}
    with ExitStack() as stacks:
        targets = []
        for index, (name, overrides) in enumerate(variants):
            ports = Ports(8135 + index, 6395 + index, 10135 + index)
            stack = stacks.enter_context(
                api_stack(
                    results / name,
                    workers=args.workers,
                    ports=ports,
                    overrides=overrides,
                )
            )
            headers = []
            if args.signed_in:
                headers = ["-H", f"Authorization: Bearer {sign_in(stack.url)}"]
            targets.append((name, headers, f"{stack.url}{args.path}"))
        for _ in range(args.rounds):
            for name, headers, url in targets:
                base = [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    "--timeout",
                    "5s",
                    *headers,
                ]
                subprocess.run([*base, "-d3s", url], capture_output=True, check=True)
                output = subprocess.run(
                    [*base, f"-d{args.seconds}s", "--latency", url],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                result = parse_wrk(output)
                figures[name].append(result)
                print(
                    f"{name}: {result.get('rps', 0):,.0f} req/s, "
                    f"p50 {result.get('p50', 0):.1f} ms, "
                    f"p99 {result.get('p99', 0):.1f} ms, "
                    f"non-2xx {result['non_2xx']}",
                    flush=True,
                )
                time.sleep(1)
    for name, rounds in figures.items():
        rates = [round(result.get("rps", 0)) for result in rounds]
        p99s = [round(result.get("p99", 0), 1) for result in rounds]
        print(
            f"{name}: median {statistics.median(rates):,} req/s {rates}, p99 {p99s} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
