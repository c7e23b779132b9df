# The Pravis Boutique API. Build from the repository root:
#   docker build -t pravis-api .
# The container serves the API on port 8000 and never migrates the
# database itself. Migrate as a separate step, with the same image and
# the same settings as the API:
#   docker run --rm --env-file api.env pravis-api pravis-api migrate

# Build stage: the project and its runtime dependencies (not the dev
# extra) in a virtual environment. Every dependency, PyAV and pocketsphinx
# included, ships manylinux wheels for x86_64 and aarch64, so no compiler
# is needed. The base image's pip installs into the environment, which
# gets no pip of its own.
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv --without-pip /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --python /opt/venv/bin/python .

# Runtime stage: the virtual environment, the migrations and an
# unprivileged user, without pip or the source tree.
FROM python:3.11-slim-bookworm

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 pravis \
    && useradd --system --uid 10001 --gid pravis --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin pravis
COPY --from=build /opt/venv /opt/venv

# `pravis-api migrate` reads alembic.ini from the working directory.
WORKDIR /app
COPY alembic.ini ./
COPY migrations ./migrations

# Numeric, so platforms that require a non-root user can check it.
USER 10001:10001
EXPOSE 8000

# The image has no curl, so Python fetches the liveness route. PORT is the
# setting `pravis-api serve` listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

# The command handles SIGTERM itself, also as PID 1. Requests in flight get
# GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS to finish. WEB_CONCURRENCY sets the
# worker processes and FORWARDED_ALLOW_IPS the trusted proxies.
CMD ["pravis-api", "serve", "--host", "0.0.0.0"]
