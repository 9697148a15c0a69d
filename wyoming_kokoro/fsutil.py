"""Small file-system helpers: the cache directory, atomic writes and hashing."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

_BLOCK = 1 << 20


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/wyoming-kokoro (default ~/.cache/wyoming-kokoro): assembled models and
    built lexicons, all rebuilt when missing."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wyoming-kokoro"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class ChecksumMismatch(ValueError):
    """Written content does not have the expected sha256."""


def write_atomic(path: Path, blocks: Iterable[bytes], expected_sha256: str | None = None,
                 durable: bool = True) -> str:
    """Write ``blocks`` to ``path`` via a temporary file and a rename; return the sha256.

    Readers never see a half-written file, and concurrent writers of the same content are safe:
    each writes its own temporary file and the last rename wins. With ``expected_sha256``, content
    that does not match is discarded and :class:`ChecksumMismatch` raised. ``durable=False`` skips
    the fsync, for files that carry their own checksum (a power cut may leave such a file torn,
    which its reader detects): cheaper, and kinder to SD cards.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for block in blocks:
                digest.update(block)
                f.write(block)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        actual = digest.hexdigest()
        if expected_sha256 is not None and actual != expected_sha256.lower():
            raise ChecksumMismatch(f"{path.name}: sha256 {actual} does not match the expected "
                                   f"{expected_sha256}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return actual
