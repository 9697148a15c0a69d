# syntax=docker/dockerfile:1
# wyoming-kokoro with Kokoro-82M v1.0 baked in (int8 ONNX, PyTorch weights, 54 voices).
#
#   docker build -t wyoming-kokoro .
#   docker run -d -p 10200:10200 -v ./kokoro-config:/config wyoming-kokoro
#
# Multi-arch (linux/amd64, linux/arm64). Python is a standalone build installed by uv in
# /opt/python, so /opt/python, /opt/venv and /opt/kokoro can be copied into other Debian-based
# images: the Home Assistant add-on (addon/Dockerfile) is built that way.

ARG UV_VERSION=0.13.9
ARG DEBIAN_RELEASE=trixie

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------
# Python and the locked dependencies, with CPU-only torch (see docker/install-python.sh)
FROM debian:${DEBIAN_RELEASE}-slim AS deps
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG PYTHON_VERSION=3.11
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV UV_PYTHON=${PYTHON_VERSION} \
    UV_PYTHON_INSTALL_DIR=/opt/python \
    UV_PYTHON_PREFERENCE=only-managed \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    TORCH_INDEX=${TORCH_INDEX}
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=uv /uv /usr/local/bin/uv
WORKDIR /src
RUN uv python install "${PYTHON_VERSION}"
COPY pyproject.toml uv.lock README.md ./
COPY docker/install-python.sh docker/
RUN docker/install-python.sh deps \
    && /opt/venv/bin/python -c "import torch; assert not torch.cuda.is_available(); print(torch.__version__)"

# ---------------------------------------------------------------------------------------------
# The model bundle: every file fetched and verified against its pinned sha256. Only the fetch
# code is copied, so editing the rest of the source does not download the model again.
FROM deps AS model
COPY wyoming_kokoro/__init__.py wyoming_kokoro/fsutil.py wyoming_kokoro/
COPY wyoming_kokoro/model/__init__.py wyoming_kokoro/model/bundle.py \
     wyoming_kokoro/model/sources.py wyoming_kokoro/model/download.py \
     wyoming_kokoro/model/fetch.py wyoming_kokoro/model/
COPY wyoming_kokoro/model/manifests wyoming_kokoro/model/manifests
RUN /opt/venv/bin/python -m wyoming_kokoro.model.fetch /opt/kokoro/model

# ---------------------------------------------------------------------------------------------
# The project itself, installed as a wheel into the same environment
FROM deps AS build
COPY config.yaml ./
COPY wyoming_kokoro wyoming_kokoro
RUN docker/install-python.sh project

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10200 kokoro \
    && useradd --system --no-log-init --create-home --home-dir /home/kokoro --uid 10200 \
        --gid 10200 --shell /usr/sbin/nologin kokoro \
    && mkdir -p /config \
    && chown 10200:10200 /config
COPY --from=build /opt/python /opt/python
COPY --from=build /opt/venv /opt/venv
COPY --from=model /opt/kokoro/model /opt/kokoro/model
COPY config.yaml /opt/kokoro/config.yaml
COPY docker/entrypoint.sh docker/healthcheck.sh /opt/kokoro/bin/

ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/kokoro \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    KOKORO_BUNDLE=/opt/kokoro/model \
    KOKORO_URI=tcp://0.0.0.0:10200 \
    KOKORO_CONFIG=/config/config.yaml

USER 10200:10200
WORKDIR /home/kokoro
# misaki's English lexicon as compact tries, built once here instead of at the first start
# (wyoming_kokoro/text/english_lexicon.py); the server rebuilds them if they go missing.
RUN python -m wyoming_kokoro.text.english_lexicon
EXPOSE 10200/tcp
HEALTHCHECK --interval=30s --timeout=15s --start-period=5m --retries=3 \
    CMD ["/opt/kokoro/bin/healthcheck.sh"]
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/kokoro/bin/entrypoint.sh"]
