# whsync for scheduled jobs (Kubernetes CronJob, systemd, any container runner).
#
#   docker build -t whsync:0.3.0 .
#   docker run --rm -v whsync-data:/data whsync:0.3.0 demo
#   docker run --rm -v whsync-data:/data --env-file whsync.env whsync:0.3.0 sync --source all
#
# The build stage installs the runtime dependencies exactly as uv.lock pins them (no dev or dagster group)
# and then the wheel built from this checkout, without re-resolving anything. tests/packaging/ builds and
# installs the wheel the same way (from the files .dockerignore lets in; `uv sync` from a folder holding
# only pyproject.toml and uv.lock) on machines without a container engine. The runtime image holds only
# that virtualenv, runs as an unprivileged user, and keeps the warehouse (and a --duckdb file's lock and
# journal) under the /data volume.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/whsync
WORKDIR /src
# 1. the locked runtime dependencies: a layer that changes only when pyproject.toml or uv.lock does
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --no-install-project --no-editable
# 2. the wheel (the package, its simulators, the dbt project and the report's queries), built and installed
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv build --wheel --out-dir /dist \
    && uv pip install --python /opt/whsync/bin/python --no-deps /dist/whsync-*.whl \
    && /opt/whsync/bin/whsync --version

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 whsync \
    && useradd --system --uid 10001 --gid whsync --home-dir /home/whsync --create-home --shell /usr/sbin/nologin whsync \
    && mkdir /data && chown whsync:whsync /data
COPY --from=build /opt/whsync /opt/whsync
# Nothing phones home; dbt's work files go to the user's cache (mount an emptyDir there for a read-only root).
ENV PATH=/opt/whsync/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RUNTIME__DLTHUB_TELEMETRY=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DO_NOT_TRACK=1 \
    WHSYNC_CACHE_DIR=/home/whsync/.cache/whsync
USER whsync
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["whsync"]
CMD ["--help"]
