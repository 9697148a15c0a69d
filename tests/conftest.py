from __future__ import annotations

import os
from pathlib import Path

import pytest

from .serverproc import ServerProcess

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Unique per test run: test sessions running side by side on one machine must not collide on
# the mDNS name (zeroconf refuses a name another host process already advertises).
ZEROCONF_NAME = f"kokoro-pytest-{os.getpid()}"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One model cache per test session: the embedded bundle is assembled once, by the server."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="session")
def kokoro_cache(cache_dir) -> Path:
    """The folder a server started with the session's cache uses by default
    (``$XDG_CACHE_HOME/wyoming-kokoro``): in-process tests load from it too, so the embedded
    bundle, the split graphs (~45 s to derive) and the lexicon tries are built once a session."""
    return cache_dir / "wyoming-kokoro"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(cache_dir):
    """What tests build in process (models, lexicon tries) lands in the session's cache, not in
    the user's ~/.cache/wyoming-kokoro."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache_dir))
        yield


@pytest.fixture(scope="session")
def start_server(tmp_path_factory, cache_dir):
    """Start servers with their own flags/config; every one is stopped at the end."""
    started: list[ServerProcess] = []

    def start(*args: str, config: str | None = None, wait: bool = True) -> ServerProcess:
        server = ServerProcess(tmp_path_factory.mktemp("server"), cache_dir, *args,
                               config=config)
        started.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server) -> ServerProcess:
    """The shared server: embedded model, default config, advertised over zeroconf on loopback."""
    return start_server("--zeroconf", ZEROCONF_NAME)


@pytest.fixture(scope="session")
def http_server(start_server) -> ServerProcess:
    """A server with the HTTP API on (token, a mix, max_chars 2000, queue 2); see httpapi.py."""
    from .httpapi import start_http

    return start_http(start_server)


@pytest.fixture(scope="session")
def ingress_server(start_server, tmp_path_factory, cache_dir) -> ServerProcess:
    """A server with the HTTP API and a Home Assistant ingress listener trusting 127.0.0.2, and
    a bundles folder with a good and a damaged bundle (see httpapi.py). Tests may swap its model
    but put the embedded one back."""
    from .httpapi import make_bundles, start_ingress

    return start_ingress(start_server, make_bundles(tmp_path_factory.mktemp("bundles") / "models",
                                                    cache_dir))


@pytest.fixture(scope="session")
def whisper():
    from .asr import Transcriber

    return Transcriber()


@pytest.fixture(scope="session")
def torch_bundle(request, tmp_path_factory, kokoro_cache) -> Path:
    """The embedded ONNX model plus KModel weights converted from it, as one bundle serving both
    backends (tests/support/onnx_to_torch.py). Built once per ONNX sha256 and kept across
    sessions in .pytest_cache (about 25 s to build, 420 MB)."""
    from wyoming_kokoro.model.embedded import embedded_bundle

    from .support.onnx_to_torch import cached_torch_bundle

    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    root = cache.mkdir("wyoming-kokoro") if cache else tmp_path_factory.mktemp("torch-bundle")
    return cached_torch_bundle(embedded_bundle(kokoro_cache), root)
