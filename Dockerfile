# syntax=docker/dockerfile:1
#
# One image for the whole platform: every service, the gateway and the `crm` command. Which service a
# container runs is chosen at start-up with SERVICE (members, points, campaigns, feedback, gateway);
# the migration init step runs `crm migrate <service>` from the same image, so the schema and the code
# that expects it always come from the same build.
#
#   docker build -t crm-platform:0.1.0 .
#   docker run -e SERVICE=members -e CRM_... crm-platform:0.1.0

# --- build: install the packages into a virtualenv that the runtime stage copies as a whole --------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Third-party packages first, exactly as pinned and hashed in the lock (`./crm lock` writes it; the
# same pins as requirements.lock, without the cli's `local` extra), in a layer of their own that a
# change of the platform's code does not invalidate. The cache mount keeps downloaded wheels
# between builds without baking them into a layer.
COPY requirements-image.lock ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --require-hashes -r requirements-image.lock

# Only the package sources reach the build context (.dockerignore is an allowlist).
COPY shared ./shared
COPY services ./services
COPY cli ./cli

# Non-editable installs: the runtime stage carries no source tree, only site-packages, and the
# migrations travel as package data of each service. Their dependencies are already installed from
# the lock; `pip check` fails the build if a pyproject.toml asks for something the lock lacks.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps ./shared ./services/members ./services/points ./services/campaigns ./services/feedback ./services/gateway ./cli \
 && pip check

# --- runtime -------------------------------------------------------------------------------------
FROM python:3.11-slim

# A fixed numeric uid: Kubernetes can only enforce runAsNonRoot against a numeric USER, and the
# manifests pin the same uid/gid.
RUN groupadd --system --gid 10001 crm \
 && useradd --system --uid 10001 --gid crm --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin crm

COPY --from=build /opt/venv /opt/venv

# The root filesystem is read-only in production: bytecode was compiled at install time, and
# anything that still wants to write (HOME caches, the development data directory, tempfiles)
# lands on the /tmp volume the orchestrator mounts.
# MALLOC_ARENA_MAX: two glibc malloc arenas instead of eight a core, as `crm run` gives its
# services (crm_cli.stack.service_environment says why).
ENV PATH=/opt/venv/bin:$PATH \
    MALLOC_ARENA_MAX=2 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    CRM_DATA_DIR=/tmp/crm-data

WORKDIR /tmp
USER 10001:10001
EXPOSE 8000

# Shell form only to expand SERVICE; `exec` makes uvicorn PID 1 so it receives SIGTERM directly and
# drains in-flight requests, the outbox relay and the consumer before exiting. No HEALTHCHECK here:
# Kubernetes ignores it and the migration one-shots share this image, so the probes live in
# docker-compose.yml and the manifests instead. No access log: its lines carry query strings, and a
# search by phone number is one (each service counts what it answers by route and status instead).
CMD ["sh", "-c", "exec uvicorn \"${SERVICE:?set SERVICE to members, points, campaigns, feedback or gateway}.main:create_app\" --factory --host 0.0.0.0 --port 8000 --no-access-log"]
