"""The benchmark scripts still run against a real server and print numbers.

No timing is asserted (timings belong in the benchmark's output, not in pass/fail tests); this
only keeps the scripts from rotting as the code they measure changes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cells(output: str, name: str) -> list[str]:
    rows = [line for line in output.splitlines() if line.startswith(f"| {name} |")]
    assert len(rows) == 1, output
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_bench_soak_reports_rss_before_and_after(server):
    run = subprocess.run(
        [sys.executable, "bench/bench.py", "--uri", server.uri, "--pid", str(server.proc.pid),
         "--only", "soak", "--soak", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    _, requests, _, before, half, after, growth = _cells(run.stdout, "kokoro")
    assert requests == "4"
    assert all(float(mb) > 100 for mb in (before, half, after))  # MB: the model alone is more
    assert growth.endswith("%")


def test_bench_texts_never_repeat_a_request():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench import SHORT, Texts
    finally:
        sys.path.remove(str(ROOT / "bench"))
    texts = Texts()
    made = [texts(SHORT) for _ in range(1000)]
    assert len(set(made)) == len(made)


def test_backends_measure_reports_first_audio_total_and_length(server):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_backends",
                                                      ROOT / "bench" / "backends.py")
        backends = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(backends)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    first, total, audio = asyncio.run(backends.measure(
        server.uri, ["Scene 1 is on.", "Scene 2 is on."], None))
    assert 0 < first <= total
    assert 0.5 < audio < 5  # seconds of speech for four words
