#!/usr/bin/env bash
# Compare the throughput of a cached catalogue GET (a hit served by the
# response cache, with rate limiting on) with a bare FastAPI route that
# returns the same JSON. Both run as one uvicorn process with uvloop and
# httptools; wrk loads each in turn on this machine.
#
# Starts its own Redis and Azurite on spare ports and uses PostgreSQL on
# 127.0.0.1:5432 (database pravis_bench, created and seeded if missing).
# Needs wrk (Debian package `wrk`).
#
#   bench/cache_hit.sh [connections] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."

connections=${1:-64}
seconds=${2:-10}
rounds=${3:-2}
api_port=8123
bare_port=8124
redis_port=6391
azurite_port=10123
path="/api/v1/products?page_size=20"

# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_services "$redis_port" "$azurite_port"
export SPEECH_WORKERS=1
export RATE_LIMIT_ENABLED=true
# High enough that wrk is never rejected: the check itself is measured.
export RATE_LIMIT_DEFAULT=100000000/minute

.venv/bin/pravis-api serve --port "$api_port" >"$work/api.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$api_port/health"
curl -sf "http://127.0.0.1:$api_port$path" >"$work/page.json"
cache=$(curl -s -o /dev/null -D - "http://127.0.0.1:$api_port$path" | tr -d '\r' |
    sed -n 's/^x-cache: //ip')
echo "second GET of $path: X-Cache $cache, $(wc -c <"$work/page.json") bytes"

BARE_JSON_FILE="$work/page.json" .venv/bin/uvicorn bench.bare_app:app \
    --host 127.0.0.1 --port "$bare_port" --no-access-log --log-level warning \
    >"$work/bare.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$bare_port$path"
if ! cmp -s "$work/page.json" <(curl -sf "http://127.0.0.1:$bare_port$path"); then
    echo "note: the bare route's JSON differs in formatting from the API's" >&2
fi

rps() {
    wrk -t2 -c"$connections" -d"${seconds}s" "$1" | sed -n 's/^Requests\/sec: *//p'
}
for round in $(seq "$rounds"); do
    wrk -t2 -c"$connections" -d3s "http://127.0.0.1:$api_port$path" >/dev/null
    hit=$(rps "http://127.0.0.1:$api_port$path")
    wrk -t2 -c"$connections" -d3s "http://127.0.0.1:$bare_port$path" >/dev/null
    bare=$(rps "http://127.0.0.1:$bare_port$path")
    echo "round $round: cached hit $hit req/s, bare FastAPI route $bare req/s," \
        "ratio $(echo "$hit $bare" | awk '{printf "%.0f%%", 100 * $1 / $2}')"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# What the middleware adds to a route that is not cached, in process.
.venv/bin/python bench/middleware_overhead.py --rounds "$rounds" 2>>"$work/overhead.log"
