#!/usr/bin/env bash
# Load /api/v1/voice/command with wrk and report throughput, latency and the
# API's CPU time per request. Needs wrk (Debian package `wrk`), a migrated
# database with the demo catalogue (pravis-api seed-demo), and port 8100 free
# (or another one in PORT).
#
#   bench/command_load.sh [workers] [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."

workers=${1:-2}
connections=${2:-64}
seconds=${3:-30}
port=${PORT:-8100}

export SECRET_KEY=${SECRET_KEY:-$(python3 -c "import secrets; print(secrets.token_urlsafe(40))")}
export SPEECH_WORKERS=${SPEECH_WORKERS:-1}
# wrk sends every request from one address, so one bucket: lift the limits
# (the checks still run) unless the caller sets them.
export RATE_LIMIT_VOICE=${RATE_LIMIT_VOICE:-100000000/minute}
export RATE_LIMIT_DEFAULT=${RATE_LIMIT_DEFAULT:-100000000/minute}
.venv/bin/pravis-api serve --port "$port" --workers "$workers" >/tmp/pravis-bench-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.2
done

# Warm up connections, prepared statements and caches.
wrk -t2 -c"$connections" -d5s -s bench/voice_command.lua "http://127.0.0.1:$port" >/dev/null

# uvicorn's worker processes are the children of the server process that
# are not speech workers or the resource tracker.
api_workers=$(pgrep -P "$server" -f "multiprocessing.spawn" | while read -r pid; do
    if ! pgrep -P "$pid" >/dev/null 2>&1 || pgrep -P "$pid" -f spawn_main >/dev/null; then
        echo "$pid"
    fi
done)
cpu_ticks() {
    local total=0
    for pid in $api_workers; do
        read -r -a fields <"/proc/$pid/stat"
        total=$((total + fields[13] + fields[14]))
    done
    echo "$total"
}

before=$(cpu_ticks)
output=$(wrk -t2 -c"$connections" -d"${seconds}s" -s bench/voice_command.lua "http://127.0.0.1:$port")
after=$(cpu_ticks)
echo "$output" | grep -E "Requests/sec|requests:|^p[0-9]+"
requests=$(echo "$output" | sed -n 's/^requests: \([0-9]*\),.*/\1/p')
hz=$(getconf CLK_TCK)
echo "$after $before $hz $requests" | awk '{printf "API CPU per request: %.2f ms\n", ($1 - $2) * 1000 / $3 / $4}'
