# Shared steps of the bench scripts that serve the API: a Redis and an
# Azurite of their own on spare ports, and the settings that point the API
# at them. Source it from the repository root after `set -euo pipefail`.
#
# It creates $work, a temporary directory for logs, and the array $pids.
# On exit every process whose id is in $pids is killed and $work is removed.

work=$(mktemp -d)
pids=()
bench_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap bench_cleanup EXIT

# Wait until a URL responds with a 2xx status, for up to $2 seconds (30).
wait_for() {
    for _ in $(seq $((${2:-30} * 5))); do
        curl -sf "$1" >/dev/null && return 0
        sleep 0.2
    done
    echo "$1 did not respond" >&2
    return 1
}

# Start Redis and Azurite on the given ports, and export the API's settings
# for them, a SECRET_KEY, and DB_NAME=pravis_bench on the machine's
# PostgreSQL, created, migrated and seeded with the demo catalogue.
bench_services() {
    local redis_port=$1 azurite_port=$2
    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
        >"$work/redis.log" 2>&1 &
    pids+=($!)
    node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$azurite_port" \
        --inMemoryPersistence --skipApiVersionCheck --silent --disableTelemetry \
        >"$work/azurite.log" 2>&1 &
    pids+=($!)

    export DB_NAME=pravis_bench
    export REDIS_URL="redis://127.0.0.1:$redis_port/0"
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;"
    export SECRET_KEY=${SECRET_KEY:-$(python3 -c "import secrets; print(secrets.token_urlsafe(40))")}
    .venv/bin/pravis-api migrate --create-database >/dev/null
    .venv/bin/pravis-api seed-demo >/dev/null
}
