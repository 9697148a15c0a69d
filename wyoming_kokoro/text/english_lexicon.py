"""misaki's English lexicon, its gold and silver dictionaries held in two compact tries.

misaki keeps about 365,000 entries in Python dicts: 58 MB of the server's memory, the largest
part of the English phonemizer after spaCy. The same entries in marisa tries take 2.6 MB and
answer a lookup in about a microsecond. The tries are built from misaki's own JSON once, by a
child process (parsing 25 MB of JSON leaves tens of MB of freed but unreturned memory behind),
kept in the cache directory under misaki's version, and memory-mapped from then on. Where the
cache cannot be written, the tries are built in process at every start.

    uv run python -m wyoming_kokoro.text.english_lexicon [CACHE_DIR]   # build ahead (images)
"""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import marisa_trie

from ..fsutil import default_cache_dir, write_atomic

_LOGGER = logging.getLogger(__name__)

_DICT = b"\0"  # marks a value that is a dict (phonemes by part of speech), stored as JSON


class TrieDict(Mapping[str, Any]):
    """A read-only dict of ``str -> str | dict`` over a marisa ``BytesTrie``."""

    def __init__(self, trie: marisa_trie.BytesTrie) -> None:
        self._trie = trie

    @classmethod
    def build(cls, entries: Mapping[str, Any]) -> TrieDict:
        return cls(marisa_trie.BytesTrie((key, _encode(value)) for key, value in entries.items()))

    def __getitem__(self, key: str) -> Any:
        found = self._trie.get(key) if isinstance(key, str) else None
        if not found:
            raise KeyError(key)
        return _decode(found[0])

    def get(self, key: str, default: Any = None) -> Any:
        found = self._trie.get(key) if isinstance(key, str) else None
        return _decode(found[0]) if found else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._trie

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __len__(self) -> int:
        return len(self._trie)

    def tobytes(self) -> bytes:
        return self._trie.tobytes()


def _encode(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return _DICT + json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _decode(raw: bytes) -> Any:
    if raw.startswith(_DICT):
        return json.loads(raw[1:])
    return raw.decode()


def _paths(cache_dir: Path, british: bool) -> tuple[Path, Path]:
    root = cache_dir / "lexicon"
    stem = f"misaki-{version('misaki')}-{'gb' if british else 'us'}"
    return root / f"{stem}-gold.marisa", root / f"{stem}-silver.marisa"


def compact_lexicon(british: bool, cache_dir: Path | None = None):
    """A ``misaki.en.Lexicon`` whose dictionaries are tries: from the cache, else built now."""
    cache_dir = cache_dir or default_cache_dir()
    gold, silver = _paths(cache_dir, british)
    if not (gold.is_file() and silver.is_file()):
        _build_in_child(british, cache_dir)
    if gold.is_file() and silver.is_file():
        try:
            return _mapped(british, gold, silver)
        except Exception as err:  # a damaged cache file: build anew
            _LOGGER.warning("Rebuilding the English lexicon cache (%s: %s)", gold, err)
    return _build(british, cache_dir)


def _mapped(british: bool, gold: Path, silver: Path):
    from misaki import en

    lexicon = en.Lexicon.__new__(en.Lexicon)  # skips reading misaki's JSON
    lexicon.british = british
    lexicon.cap_stresses = (0.5, 2)  # as misaki's __init__ sets it
    lexicon.golds = TrieDict(marisa_trie.BytesTrie().mmap(str(gold)))
    lexicon.silvers = TrieDict(marisa_trie.BytesTrie().mmap(str(silver)))
    return lexicon


def _build(british: bool, cache_dir: Path):
    from misaki import en

    lexicon = en.Lexicon(british)
    lexicon.golds = TrieDict.build(lexicon.golds)
    lexicon.silvers = TrieDict.build(lexicon.silvers)
    gc.collect()
    gold, silver = _paths(cache_dir, british)
    try:
        write_atomic(gold, [lexicon.golds.tobytes()])
        write_atomic(silver, [lexicon.silvers.tobytes()])
    except OSError as err:
        _LOGGER.info("English lexicon not cached (%s); it is built at every start", err)
    return lexicon


def _build_in_child(british: bool, cache_dir: Path) -> None:
    started = time.perf_counter()
    variant = "gb" if british else "us"
    run = subprocess.run([sys.executable, "-m", __name__, str(cache_dir), variant],
                         capture_output=True, text=True, check=False)
    if run.returncode == 0:
        _LOGGER.info("Built the %s English lexicon cache in %.2f s", variant,
                     time.perf_counter() - started)
    else:
        _LOGGER.info("Could not build the English lexicon cache apart (%s); building it here",
                     (run.stderr.strip().splitlines() or ["no output"])[-1])


def main() -> None:
    """``[CACHE_DIR] [us|gb ...]``: build the tries into the cache (default: both variants)."""
    from ..imports import lean_spacy

    cache_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default_cache_dir()
    variants = sys.argv[2:] or ["us", "gb"]
    with lean_spacy():  # spaCy (imported by misaki) would import torch and its CLI for nothing
        for variant in variants:
            _build(variant == "gb", cache_dir)
    if not all(p.is_file() for v in variants for p in _paths(cache_dir, v == "gb")):
        sys.exit(f"could not write the English lexicon cache in {cache_dir}")
    print(f"English lexicons cached in {cache_dir / 'lexicon'}")


if __name__ == "__main__":
    main()
