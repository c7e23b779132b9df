"""Measure catalogue search latency, one request at a time.

Start the API (scripts/dev) and seed it (pravis-api seed-demo), then run:

    .venv/bin/python bench/catalogue_search.py --url http://127.0.0.1:8000
"""

import argparse
import statistics
import time

import httpx

QUERIES = [
    {"q": "banarasi silk"},
    {"category": "dresses", "color": "red", "max_price": 100},
    {"category": "kurtas", "size": "M", "in_stock": "true"},
    {"fabric": "linen", "sort": "price_asc"},
    {"q": "leather", "category": "bags"},
    {"min_price": 50, "max_price": 150, "sort": "rating"},
    {"category": "shoes", "size": "8"},
    {},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="API base URL")
    parser.add_argument(
        "--rounds", type=int, default=50, help="passes over the queries"
    )
    args = parser.parse_args()

    latencies: list[float] = []
    with httpx.Client(base_url=args.url, timeout=10) as client:
        for query in QUERIES:  # warm-up
            client.get("/api/v1/products", params=query).raise_for_status()
        for _ in range(args.rounds):
            for query in QUERIES:
                started = time.perf_counter()
                client.get("/api/v1/products", params=query).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

    latencies.sort()
    print(
        f"catalogue search: n={len(latencies)} "
        f"p50={statistics.median(latencies):.1f} ms "
        f"p90={percentile(latencies, 0.9):.1f} ms "
        f"p99={percentile(latencies, 0.99):.1f} ms max={latencies[-1]:.1f} ms"
    )


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
