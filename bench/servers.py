"""Servers the benchmark starts, waits for and stops: wyoming-kokoro from this tree, and (for
bench/compare.py) any other Wyoming server command line.

Each runs with its output in a log file (the cache section waits for a log line), on a free
loopback port, and is stopped with SIGTERM (then killed after 20 s).
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wyoming_kokoro.client import describe

# Where the phrase cache keeps its audio inside a cache dir (config.yaml, cache.disk_mb): left
# out of a seeded cache dir, so no reply a former run said is answered from disk.
AUDIO_FOLDER = "audio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seeded_cache_dir(path: Path, seed: Path | None) -> Path:
    """A cache dir at ``path`` holding a copy of ``seed`` (the assembled model and the built
    lexicon, so the server starts without rebuilding them) but none of its phrase audio.
    A missing seed gives an empty dir: the server builds what it needs (slower start, not
    measured). A dir kept from an earlier run loses its phrase audio: the bench's texts repeat
    from run to run, and a cached reply would be timed as new."""
    shutil.rmtree(path / AUDIO_FOLDER, ignore_errors=True)
    if seed is not None and seed.is_dir():
        shutil.copytree(seed, path, ignore=shutil.ignore_patterns(AUDIO_FOLDER),
                        dirs_exist_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


class Server:
    """``cmd`` running with ``env``, its output in ``log_path``, expected to answer at ``uri``."""

    def __init__(self, name: str, cmd: list[str], uri: str, log_path: Path,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name, self.cmd, self.uri, self.log_path = name, cmd, uri, log_path
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    @classmethod
    def kokoro(cls, name: str, log_path: Path, args: Sequence[str] = (),
               python: str = sys.executable, env: dict[str, str] | None = None) -> Server:
        """``python -m wyoming_kokoro`` (this tree's, with this interpreter) on a free port."""
        uri = f"tcp://127.0.0.1:{free_port()}"
        env = dict(os.environ if env is None else env, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
        return cls(name, [python, "-m", "wyoming_kokoro", "--uri", uri, *args], uri, log_path,
                   env)

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = 600.0) -> Server:
        """Start it (again, after stop) and wait until it answers ``describe``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name}: exited with {self.proc.returncode} before "
                                 f"answering describe; its log ({self.log_path}):\n"
                                 f"{self.log[-4000:]}")
            try:
                asyncio.run(describe(self.uri, timeout=2))
                return self
            except (TimeoutError, OSError):
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{self.name}: not answering describe after {timeout:.0f} s; its log "
                         f"({self.log_path}):\n{self.log[-4000:]}")

    def wait_for_log(self, pattern: str, after: int = 0, timeout: float = 600.0) -> bool:
        """Until ``pattern`` (a regular expression) appears in the log past character ``after``;
        False after ``timeout`` seconds or if the server exits."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if regex.search(self.log, after):
                return True
            if self.proc is None or self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
