"""``wyoming-kokoro-fetch``: download a model bundle from a source manifest, every file verified.

    wyoming-kokoro-fetch /opt/kokoro/model                     # Kokoro-82M v1.0, all voices
    wyoming-kokoro-fetch model --voices 'a*,b*' --no-torch     # English voices, ONNX only
    wyoming-kokoro-fetch model --manifest my-sources.json

Plain files are downloaded into the bundle directory (resumable ``.part`` files, renamed only once
their sha256 matches). Voice packs (``.pt`` tensors, or ``.npy``) are downloaded and verified the
same way, then packed into one ``.npz`` by voice name, so the server never needs torch for voices.
The bundle's ``manifest.json`` is written last and the result checked with :func:`read_bundle`;
while a fetch runs, the directory holds no manifest, so no half-fetched bundle is ever loaded.
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from ..fsutil import write_atomic
from .bundle import (
    MANIFEST,
    STYLE_DIM,
    STYLE_ROWS,
    Bundle,
    BundleError,
    read_bundle,
    write_manifest,
)
from .download import Downloader, DownloadError
from .sources import SourceError, Sources, builtin, load_sources

_LOGGER = logging.getLogger("wyoming_kokoro.fetch")

STAGING = ".download"


class FetchError(RuntimeError):
    """The bundle could not be fetched; the message says what and why."""


def fetch_bundle(sources: Sources, dest: Path, downloader: Downloader | None = None) -> Bundle:
    """Download, verify and assemble ``sources`` into the bundle directory ``dest``."""
    downloader = downloader or Downloader()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).unlink(missing_ok=True)  # not a bundle until everything is verified
    try:
        for remote in sources.files:
            downloader.fetch(remote, dest / remote.name)
        if sources.voices_file and sources.packs:
            staging = dest / STAGING / "voices"
            paths = {p.name: downloader.fetch(p, staging / (p.name + _suffix(p.url)))
                     for p in sources.packs}
            write_atomic(dest / sources.voices_file, [pack_voices(paths)])
            shutil.rmtree(dest / STAGING, ignore_errors=True)
    except DownloadError as err:
        raise FetchError(str(err)) from None
    write_manifest(dest, sources.name, sources.roles, description=sources.description,
                   sample_rate=sources.sample_rate)
    try:
        return read_bundle(dest)
    except BundleError as err:
        (dest / MANIFEST).unlink(missing_ok=True)
        raise FetchError(f"the fetched bundle does not verify: {err}") from None


def pack_voices(paths: dict[str, Path]) -> bytes:
    """An ``.npz`` of float32 [510, 1, 256] style packs keyed by voice name."""
    arrays = {name: _load_pack(path) for name, path in paths.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub misreads **kwds
    return buffer.getvalue()


def _load_pack(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
    else:
        try:  # fetch time only: the server reads the packed .npz without torch
            import torch
        except ImportError:
            raise FetchError(f"{path.name}: reading .pt voice packs needs torch: pip install "
                             f"'wyoming-kokoro[torch]'") from None

        try:
            tensor = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise FetchError(f"{path.name}: not a torch voice pack: {err}") from None
        if not isinstance(tensor, torch.Tensor):
            raise FetchError(f"{path.name}: holds a {type(tensor).__name__}, not a tensor")
        array = tensor.detach().to(torch.float32).numpy()
    if array.size != STYLE_ROWS * STYLE_DIM:
        raise FetchError(f"{path.name}: voice pack has shape {tuple(array.shape)}, "
                         f"expected ({STYLE_ROWS}, 1, {STYLE_DIM})")
    return np.ascontiguousarray(array, dtype=np.float32).reshape(STYLE_ROWS, 1, STYLE_DIM)


def _suffix(url: str) -> str:
    return ".npy" if url.split("?")[0].endswith(".npy") else ".pt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="wyoming-kokoro-fetch",
        description="Download a Kokoro model bundle (every file pinned by sha256) into DEST.")
    parser.add_argument("dest", type=Path, help="bundle directory to create or complete")
    parser.add_argument("--manifest", type=Path,
                        help="source manifest JSON (default: the built-in Kokoro-82M v1.0)")
    parser.add_argument("--voices", help="comma-separated voice names or globs (default: all)")
    parser.add_argument("--no-torch", action="store_true",
                        help="skip the PyTorch weights (the onnx backend does not need them)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per connect/read")
    parser.add_argument("--retries", type=int, default=4, help="retries per file")
    parser.add_argument("--debug", action="store_true", help="verbose logging")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    try:
        sources = load_sources(args.manifest or builtin())
        voices = [v.strip() for v in args.voices.split(",") if v.strip()] if args.voices else None
        sources = sources.select(voices, torch=not args.no_torch)
    except SourceError as err:
        _LOGGER.error("%s", err)
        return 2
    downloader = Downloader(timeout=args.timeout, retries=max(0, args.retries))
    try:
        bundle = fetch_bundle(sources, args.dest, downloader)
    except (FetchError, OSError) as err:
        _LOGGER.error("Cannot fetch the model: %s", err)
        return 1
    _LOGGER.info("Model bundle %s verified in %s (%s; %d voices) after %.1f s", bundle.name,
                 bundle.root, ", ".join(sorted(bundle.roles)), len(sources.packs),
                 time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
