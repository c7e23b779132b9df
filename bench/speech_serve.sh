#!/usr/bin/env bash
# Measure the speech side of a running `pravis-api serve`: /voice/query
# latency for a 3-second recording, speech cache hits, /health while every
# speech worker is busy, and the resident memory of each speech worker.
#
# Starts its own Redis and Azurite on spare ports and uses PostgreSQL on
# 127.0.0.1:5432 (database pravis_bench, created and seeded if missing).
# The API runs as one uvicorn process with its default speech workers (one
# per CPU) and one dictation worker.
#
#   bench/speech_serve.sh [sequential requests] [load seconds] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${1:-30}
seconds=${2:-20}
concurrency=${3:-4}
api_port=8147
redis_port=6417
azurite_port=10147
url="http://127.0.0.1:$api_port"

# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_services "$redis_port" "$azurite_port"
export SPEECH_MODEL_DIR="$work/models"
export RATE_LIMIT_VOICE=100000000/minute
export RATE_LIMIT_DEFAULT=100000000/minute

.venv/bin/pravis-api serve --port "$api_port" >"$work/api.log" 2>&1 &
server=$!
pids+=("$server")
wait_for "$url/health/ready" 120 || { cat "$work/api.log" >&2; exit 1; }

echo "== /voice/query, goforward.wav padded to 3.0 s (out of domain)"
.venv/bin/python bench/voice_query.py --url "$url" --requests "$requests" \
    --concurrency "$concurrency" --seconds "$seconds"
echo "== /voice/query, red-dresses.wav (3.4 s, a boutique search), one at a time"
.venv/bin/python bench/voice_query.py --url "$url" --requests "$requests" \
    --concurrency 1 --seconds 1 --clip tests/data/red-dresses.wav | grep sequential
echo "== speech cache"
.venv/bin/python bench/speech_cache.py --url "$url" --requests 200

echo "== speech worker processes (children of the API process)"
for pid in $(pgrep -P "$server"); do
    if grep -q spawn_main "/proc/$pid/cmdline" 2>/dev/null; then
        awk -v pid="$pid" '/^VmRSS|^VmHWM/ {values[$1] = $2}
            END {printf "pid %s: resident %.0f MB, peak %.0f MB\n", pid,
                 values["VmRSS:"] / 1024, values["VmHWM:"] / 1024}' "/proc/$pid/status"
    fi
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
