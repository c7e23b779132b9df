# Shared steps of scripts/dev, scripts/test and .ci/run. Source it from the
# repository root.

PYTHON=${PYTHON:-python3}
AZURITE_PORT=${AZURITE_PORT:-10000}

log() { printf '==> %s\n' "$*" >&2; }

# Create .venv and install the project with its dev tools, again whenever
# pyproject.toml changes.
ensure_venv() {
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        log "Python 3.11 or newer is required; set PYTHON=/path/to/python3.11"
        return 1
    fi
    if [ ! -x .venv/bin/python ]; then
        log "Creating .venv"
        "$PYTHON" -m venv .venv
    fi
    local stamp=.venv/.installed-pyproject
    if [ ! -f "$stamp" ] || ! cmp -s pyproject.toml "$stamp"; then
        log "Installing Python dependencies"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
        cp pyproject.toml "$stamp"
    fi
}

# Install Azurite from package-lock.json.
ensure_node_tools() {
    if [ ! -x node_modules/.bin/azurite-blob ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        log "Installing Node tools (Azurite)"
        npm ci --no-audit --no-fund --loglevel=error
    fi
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Start Azurite in the background unless something already listens on its
# port. It keeps blobs in memory, and .run/azurite.pid contains its process id.
ensure_azurite() {
    if port_open "$AZURITE_PORT"; then
        return 0
    fi
    log "Starting Azurite on 127.0.0.1:$AZURITE_PORT (log: .run/azurite.log)"
    mkdir -p .run
    nohup node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
        --inMemoryPersistence --skipApiVersionCheck --silent --disableTelemetry \
        >.run/azurite.log 2>&1 &
    echo $! >.run/azurite.pid
    for _ in $(seq 100); do
        port_open "$AZURITE_PORT" && return 0
        sleep 0.1
    done
    log "Azurite did not start; see .run/azurite.log"
    return 1
}

# Start the machine's PostgreSQL and Redis when they are down.
ensure_postgres_and_redis() {
    if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
        log "Starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    fi
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        log "Starting Redis"
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
            --appendonly no --dir /tmp --logfile /tmp/redis-ci.log
    fi
    for _ in $(seq 100); do
        if pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    log "PostgreSQL or Redis is not answering on 127.0.0.1"
    return 1
}
