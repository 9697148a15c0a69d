"""Start any server command line (container entrypoint, add-on entry) and stop it afterwards."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from wyoming.info import Info

from wyoming_kokoro.client import describe

VENV_BIN = str(Path(sys.executable).parent)  # wyoming-kokoro and python, as in the image's PATH


class Launched:
    """``cmd`` running with ``env``, its output in ``log_path``; a server expected at ``uri``."""

    def __init__(self, cmd: list[str], env: dict[str, str], log_path: Path, uri: str,
                 cwd: Path | None = None) -> None:
        self.uri = uri
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=cwd)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 180.0) -> Info:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}:\n{self.log}")
            try:
                return asyncio.run(describe(self.uri, timeout=2.0))
            except (TimeoutError, OSError):
                time.sleep(0.2)
        raise TimeoutError(f"not answering after {timeout} s:\n{self.log}")

    def wait(self, timeout: float = 120.0) -> int:
        """For commands expected to exit by themselves."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
