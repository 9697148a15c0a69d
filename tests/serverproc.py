"""Run the real CLI as a subprocess on 127.0.0.1 and stop it afterwards."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from .launch import Launched


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", XDG_CACHE_HOME=str(cache_dir), PYTHONUNBUFFERED="1")
    return env


class ServerProcess(Launched):
    """``wyoming-kokoro`` as a user runs it, listening on a free loopback port."""

    def __init__(self, workdir: Path, cache_dir: Path, *args: str, config: str | None = None,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        uri = f"tcp://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "wyoming_kokoro", "--uri", uri, *args]
        if config is not None:
            self.config_path = workdir / f"config-{self.port}.yaml"
            self.config_path.write_text(config, encoding="utf-8")
            cmd += ["--config", str(self.config_path)]
        super().__init__(cmd, server_env(cache_dir), workdir / f"server-{self.port}.log", uri,
                         cwd=workdir)
