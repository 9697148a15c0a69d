"""A server with the HTTP API on a free loopback port, and small helpers to talk to it."""

from __future__ import annotations

import io
import secrets
import time

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
