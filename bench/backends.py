"""The onnx and torch backends side by side, each in its own real server, one after the other.

    uv run python bench/backends.py                          # converts the torch weights if needed
    uv run python bench/backends.py --torch-bundle PATH [--device cuda] [--repeat 3]

Without --torch-bundle, the torch server gets the bundle the tests use: the embedded ONNX model
plus KModel weights converted from it (tests/support/onnx_to_torch.py, cached in .pytest_cache).
For each backend it reports the time from starting the server until it answers `describe` (model
load and warm-up), the server's RSS then, and the median first-audio time, total time and
real-time factor for the short (8 words) and long (200 words) text of bench/bench.py. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ itself is sys.path[0]

from servers import Server, machine

from bench import LONG_WORDS, SHORT, Texts
from wyoming_kokoro.client import synthesize

ROOT = Path(__file__).resolve().parent.parent


def converted_torch_bundle() -> Path:
    from tests.support.onnx_to_torch import cached_torch_bundle
    from wyoming_kokoro.model.embedded import embedded_bundle

    # The directory pytest's torch_bundle fixture uses (config.cache.mkdir("wyoming-kokoro")).
    return cached_torch_bundle(embedded_bundle(), ROOT / ".pytest_cache" / "d" / "wyoming-kokoro")


async def measure(uri: str, texts: list[str], voice: str | None) -> tuple[float, float, float]:
    """Median first audio, total time and audio length of ``texts``, one after the other."""
    runs = []
    for text in texts:
        speech = await synthesize(uri, text, voice)
        if speech.error is not None:
            raise SystemExit(f"server error: {speech.error.text}")
        runs.append(speech)
    return (statistics.median(s.first_audio or s.total for s in runs),
            statistics.median(s.total for s in runs),
            statistics.median(s.seconds for s in runs))


def run_backend(server_args: list[str], voice: str | None, repeat: int) -> list[str]:
    work = tempfile.TemporaryDirectory(prefix="kokoro-backends-")
    started = time.perf_counter()
    server = Server.kokoro("kokoro", Path(work.name) / "server.log", server_args).start()
    ready = time.perf_counter() - started
    uri = server.uri
    try:
        rss = psutil.Process(server.pid).memory_info().rss / 2**20
        asyncio.run(synthesize(uri, "Warm up.", voice))
        cells = [f"{ready:.1f}", f"{rss:.0f}"]
        texts = Texts()  # the same fresh texts for every backend: no cache answers them
        for make in (lambda: texts(SHORT), lambda: texts.reply(LONG_WORDS)):
            first, total, audio = asyncio.run(measure(uri, [make() for _ in range(repeat)],
                                                      voice))
            cells += [f"{first:.2f}", f"{total:.2f}", f"{total / audio:.2f}"]
        return cells
    finally:
        server.stop()
        work.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-bundle", type=Path, help="bundle with torch weights "
                        "(default: convert the embedded ONNX model's weights)")
    parser.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, mps")
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from wyoming_kokoro.engine.torch import resolve_device

    device = resolve_device(args.device)
    bundle = args.torch_bundle or converted_torch_bundle()
    servers = {
        "onnx (int8, embedded)": [],
        f"torch (float32, {device})": ["--backend", "torch", "--device", device,
                                       "--bundle", str(bundle)],
    }
    print(f"{machine()}; voice {args.voice}; median of {args.repeat}\n")
    print("| backend | load + warm-up (s) | RSS after load (MiB) | short: first audio (s) "
          "| short: total (s) | short: RTF | long: first audio (s) | long: total (s) "
          "| long: RTF |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, server_args in servers.items():
        cells = run_backend(server_args, args.voice, args.repeat)
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
