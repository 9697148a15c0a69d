"""A server with the HTTP API on a free loopback port, and small helpers to talk to it."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import time
from pathlib import Path

import av
import httpx
import numpy as np

from .serverproc import ServerProcess, free_port

TOKEN = f"test-token-{secrets.token_hex(8)}"

CONFIG = """
server:
  watch_config: false
mixes:
  narrator: jf_alpha(0.7)+jm_kumo(0.3)
text:
  max_chars: {max_chars}
limits:
  queue: {queue}
http:
  enabled: true
  host: 127.0.0.1
  port: {port}
  token: {token}
  auth: {auth}
"""


def http_config(port: int, token: str = TOKEN, max_chars: int = 2000, queue: int = 2,
                auth: str = "mutating", extra: str = "") -> str:
    return CONFIG.format(port=port, token=token, max_chars=max_chars, queue=queue,
                         auth=auth) + extra


def start_http(start_server, **options) -> ServerProcess:
    """A real server with ``http.enabled``; ``.http`` is its base URL, ``.token`` its token."""
    port = free_port()
    server = start_server(config=http_config(port, **options))
    server.http = f"http://127.0.0.1:{port}"
    server.token = options.get("token", TOKEN)
    wait_http(server.http, server)
    return server


def wait_http(base: str, server=None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"no HTTP API at {base}:\n{server.log if server else ''}")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Any response format (but pcm) -> mono int16 samples and their rate, with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=stream.rate)
        parts = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                 for out in resampler.resample(frame)]
        return np.concatenate(parts).astype(np.int16), stream.rate


def error_of(response: httpx.Response) -> dict:
    """The OpenAI error object of a response, checked for its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    return error


TRUSTED_PROXY = "127.0.0.2"  # the tests' stand-in for Home Assistant's 172.30.32.2
GOOD_BUNDLE = "kokoro-copy"  # in the ingress server's bundles_dir: the embedded model, renamed
DAMAGED_BUNDLE = "kokoro-damaged"  # ... and one whose model file fails its sha256


def make_bundles(folder: Path, cache_dir: Path) -> Path:
    """A bundles folder holding a good copy of the embedded bundle (renamed, so a switch to it
    shows) and a damaged one; the big files are hard links, the manifests are new files."""
    from wyoming_kokoro.model.bundle import MANIFEST, write_manifest
    from wyoming_kokoro.model.embedded import MODEL_FILE, VOCAB_FILE, VOICES_FILE, embedded_bundle

    source = embedded_bundle(cache_dir / "wyoming-kokoro").root
    folder.mkdir(parents=True, exist_ok=True)
    for name in (GOOD_BUNDLE, DAMAGED_BUNDLE):
        (folder / name).mkdir()
        for file in (MODEL_FILE, VOICES_FILE, VOCAB_FILE):
            try:
                os.link(source / file, folder / name / file)
            except OSError:  # another file system: copy
                shutil.copy2(source / file, folder / name / file)
    write_manifest(folder / GOOD_BUNDLE, GOOD_BUNDLE, {
        "onnx": MODEL_FILE, "voices": VOICES_FILE, "vocab": VOCAB_FILE})
    manifest = json.loads((source / MANIFEST).read_text())
    manifest["name"] = DAMAGED_BUNDLE
    manifest["files"][MODEL_FILE] = "0" * 64
    (folder / DAMAGED_BUNDLE / MANIFEST).write_text(json.dumps(manifest))
    return folder


def start_ingress(start_server, bundles: Path) -> ServerProcess:
    """A server with the HTTP API (``.http``, token) and an ingress listener (``.ingress``) that
    trusts only ``TRUSTED_PROXY``; ``bundles`` is its model.bundles_dir."""
    port, ingress_port = free_port(), free_port()
    extra = (f"  trusted_proxies: [{TRUSTED_PROXY}]\n  ingress_port: {ingress_port}\n"
             f"  ingress_host: 127.0.0.1\nmodel:\n  bundles_dir: {bundles}\n")
    server = start_server(config=http_config(port, queue=4, extra=extra))
    server.http = f"http://127.0.0.1:{port}"
    server.ingress = f"http://127.0.0.1:{ingress_port}"
    server.token = TOKEN
    server.bundles = bundles
    wait_http(server.http, server)
    return server


def from_address(address: str, timeout: float = 60) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (any of 127.0.0.0/8 works)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)
