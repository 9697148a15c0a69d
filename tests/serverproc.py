"""Run the real CLI as a subprocess on 127.0.0.1 and stop it afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from wyoming_kokoro.client import describe


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", XDG_CACHE_HOME=str(cache_dir), PYTHONUNBUFFERED="1")
    return env


class ServerProcess:
    """``wyoming-kokoro`` as a user runs it, listening on a free loopback port."""

    def __init__(self, workdir: Path, cache_dir: Path, *args: str, config: str | None = None,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.uri = f"tcp://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log_path = workdir / f"server-{self.port}.log"
        cmd = [sys.executable, "-m", "wyoming_kokoro", "--uri", self.uri, *args]
        if config is not None:
            self.config_path = workdir / f"config-{self.port}.yaml"
            self.config_path.write_text(config, encoding="utf-8")
            cmd += ["--config", str(self.config_path)]
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         env=server_env(cache_dir), cwd=workdir)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log}")
            try:
                asyncio.run(describe(self.uri, timeout=2.0))
                return
            except (TimeoutError, OSError):
                time.sleep(0.2)
        raise TimeoutError(f"server not ready after {timeout} s:\n{self.log}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
