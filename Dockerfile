# syntax=docker/dockerfile:1
#
# OKE Burst Scaler image: `burst-scaler serve` by default; the same image runs the reference consumer
# (`command: ["burst-load"]`, `args: ["consume"]`) in the example Deployments under deploy/.
#
# Two stages. The build stage turns the source tree into one wheel; the runtime stage installs that wheel (and its
# dependencies, all published as binary wheels) into a slim image with no compiler, no source tree and no pip
# cache, and runs as an unprivileged numeric user so `runAsNonRoot` can verify it.
#
# Reproducibility: pin the base by digest in CI, e.g.
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> .
# and pass SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) so the wheel's timestamps do not vary between builds.
# tests/deploy/test_packaging.py runs the same wheel build + clean install as this file (no Docker needed).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from (see .dockerignore): a change to tests or docs does not bust this layer.
COPY pyproject.toml README.md ./
COPY scaler/ scaler/
COPY load/ load/
COPY oci_emulator/ oci_emulator/
COPY onebox/ onebox/
RUN python -m pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The wheel is bind-mounted from the build stage, so it never becomes a layer of this image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir /wheels/*.whl \
    && groupadd --system --gid 10001 burst \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin burst
USER 10001:10001
WORKDIR /tmp
# 6000: gRPC (externalscaler.ExternalScaler, grpc.health.v1.Health, reflection); 8080: Prometheus /metrics.
EXPOSE 6000 8080
ENTRYPOINT ["burst-scaler"]
CMD ["serve"]
