"""The disk tier of the phrase cache: synthesized pieces of speech that survive a restart.

Under the memory tier (``SizedLRU``), one file per piece in a directory of its own (the
``audio/`` folder of ``model.cache_dir``). What it must never do is play stale or damaged audio,
so:

- an entry is keyed by everything that determines its audio (:class:`CacheKey`: the model's file
  hashes, backend, voice style, speed, volume, phonemes, sample rate and the caller's rendering
  settings), hashed to a stable digest that names the file;
- every file carries a magic, a format version, that digest, the payload's length and a CRC-32
  over header and payload; anything that does not check out is deleted and reported as a miss;
- files are written to a temporary name and renamed (a reader sees a whole entry or none), without
  an fsync: a power cut can tear a renamed file, and the checksum catches that.

The size bound is kept by an index in memory (digest -> size, least recently used first), built
by one directory scan at open and updated on every put and eviction. Recency survives a restart
through the files' mtime, touched on every hit.

The API is synchronous and thread-safe: it is called from worker threads and, via
``asyncio.to_thread`` or an executor, from the event loop, never on the loop itself (a scan or a
read may wait on the disk). A full, read-only or missing disk logs one warning and turns the
cache off for the life of this object: the memory tier keeps serving.

Several processes may share a directory safely (an entry is whole or ignored), but each keeps its
own index, so the bound holds per process.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import re
import stat
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from hashlib import blake2b
from pathlib import Path
from typing import Any

from ..fsutil import default_cache_dir, write_atomic

_LOGGER = logging.getLogger(__name__)

FORMAT = 1
"""Version of the entry layout and of the key's encoding; a change makes every old entry miss."""
MAGIC = b"WKPC"  # wyoming-kokoro PCM cache
SUFFIX = ".pcm"
SUBDIR = "audio"
DIGEST_BYTES = 16
# magic, format, reserved (0), key digest, sample rate, payload length, CRC-32 of the header
# before the CRC and of the payload
HEADER = struct.Struct("<4sHH16sIII")
_CHECKED = HEADER.size - 4  # header bytes the CRC covers
_ENTRY = re.compile(rf"[0-9a-f]{{{2 * DIGEST_BYTES}}}{re.escape(SUFFIX)}")
STALE_TEMP = 600.0
"""Seconds after which a temporary file is a write that never finished (not another process's)."""


def default_directory(cache_dir: Path | None = None) -> Path:
    """Where the disk tier lives: ``<model.cache_dir>/audio``."""
    return (cache_dir or default_cache_dir()) / SUBDIR


def model_digest(files: Mapping[str, str]) -> str:
    """A short digest of a model bundle's files (name -> sha256), independent of their order."""
    canonical = "\n".join(f"{name}={sha.lower()}" for name, sha in sorted(files.items()))
    return blake2b(canonical.encode(), digest_size=DIGEST_BYTES).hexdigest()


@dataclass(frozen=True)
class CacheKey:
    """Everything that determines a piece's audio; two keys are equal exactly when their
    :attr:`digest` is. ``rendering`` is the caller's: its trimming, fading and windowing settings
    and its own format version, so a change in how audio is made never serves old audio."""

    model: str  # model_digest(bundle.files)
    backend: str  # backend name and variant, e.g. "onnx/cpu", "torch/cuda"
    voice: str  # Voice.fingerprint: the style pack's content (blends included)
    speed: float
    volume: float
    phonemes: str
    ends_sentence: bool
    sample_rate: int
    rendering: str = ""

    @classmethod
    def of(cls, model: Any, voice: Any, phonemes: str, speed: float, ends_sentence: bool,
           rendering: str = "") -> CacheKey:
        """The key of one piece, from a loaded ``KokoroModel`` and a ``Voice``."""
        backend = model.backend
        return cls(model=model_digest(model.bundle.files),
                   backend=f"{backend.name}/{backend.device}", voice=voice.fingerprint,
                   speed=speed, volume=voice.volume, phonemes=phonemes,
                   ends_sentence=ends_sentence, sample_rate=model.sample_rate,
                   rendering=rendering)

    @cached_property
    def digest(self) -> str:
        """blake2b of a canonical encoding: stable across processes, unlike ``hash()``."""
        canonical = json.dumps(
            [FORMAT, self.model, self.backend, self.voice, f"{self.speed:.4f}",
             repr(float(self.volume)), self.phonemes, bool(self.ends_sentence),
             int(self.sample_rate), self.rendering],
            ensure_ascii=False, separators=(",", ":"))
        return blake2b(canonical.encode(), digest_size=DIGEST_BYTES).hexdigest()


@dataclass(frozen=True)
class DiskCacheStats:
    enabled: bool
    entries: int
    bytes: int  # on disk, headers included
    max_bytes: int
    hits: int
    misses: int
    dropped: int  # damaged or foreign entries deleted


class DiskCache:
    """Pieces of 16-bit mono PCM on disk, bounded by ``max_bytes``, least recently used out first.

    Construct it off the event loop: it scans ``directory`` once. ``max_bytes`` 0 turns it off.
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max(0, int(max_bytes))
        self.enabled = self.max_bytes > 0
        self.hits = 0
        self.misses = 0
        self.dropped = 0
        self._index: OrderedDict[str, int] = OrderedDict()  # digest -> file size, oldest first
        self._bytes = 0
        self._lock = threading.Lock()
        if self.enabled:
            self._open()

    # -- reading and writing ---------------------------------------------------------------

    def get(self, key: CacheKey) -> bytes | None:
        """The PCM stored for ``key``, or None (a miss, a damaged entry, or the cache is off)."""
        if not self.enabled:
            return None
        digest = key.digest
        with self._lock:
            known = digest in self._index
            if not known:
                self.misses += 1
        if not known:
            return None
        path = self._path(digest)
        try:
            pcm = self._read(path, key)
        except FileNotFoundError:  # evicted meanwhile, or removed by hand
            self._forget(digest)
            self._miss()
            return None
        except OSError as err:
            self._fail("read", path, err)
            return None
        if pcm is None:
            self._drop(digest, path)
            self._miss()
            return None
        try:
            _touch(path)
        except FileNotFoundError:
            pass
        except OSError as err:
            self._fail("update", path, err)
        with self._lock:
            if digest in self._index:
                self._index.move_to_end(digest)
            self.hits += 1
        return pcm

    def __contains__(self, key: CacheKey) -> bool:
        """Whether an entry is indexed for ``key`` (no read, no recency update, not counted)."""
        with self._lock:
            return self.enabled and key.digest in self._index

    def put(self, key: CacheKey, pcm: bytes) -> bool:
        """Store ``pcm`` for ``key``, evicting the least recently used to stay within the bound;
        False when not stored (too large, or the cache is off)."""
        size = HEADER.size + len(pcm)
        if not self.enabled or size > self.max_bytes:
            return False
        digest = key.digest
        with self._lock:
            if digest in self._index:  # the same key makes the same audio: keep the file
                self._index.move_to_end(digest)
                return True
        head = struct.pack("<4sHH16sII", MAGIC, FORMAT, 0, bytes.fromhex(digest),
                           key.sample_rate, len(pcm))
        crc = zlib.crc32(pcm, zlib.crc32(head))
        path = self._path(digest)
        try:
            write_atomic(path, [head, struct.pack("<I", crc), pcm], durable=False)
        except OSError as err:
            self._fail("write", path, err)
            return False
        try:
            _touch(path)
        except FileNotFoundError:  # evicted by another thread already
            pass
        except OSError as err:
            self._fail("update", path, err)
        with self._lock:
            old = self._index.pop(digest, None)
            self._bytes += size - (old or 0)
            self._index[digest] = size
            victims = self._shrink()
        self._remove(victims)
        return True

    # -- management --------------------------------------------------------------------------

    def resize(self, max_bytes: int) -> None:
        """A new bound (a config reload): evicts at once if the cache is over it."""
        with self._lock:
            self.max_bytes = max(0, int(max_bytes))
            victims = self._shrink()
        self._remove(victims)

    def clear(self) -> int:
        """Delete every entry (POST /cache/clear); the number deleted. Counters keep counting."""
        with self._lock:
            victims = list(self._index)
            self._index.clear()
            self._bytes = 0
        removed = self._remove(victims)
        if self.enabled:  # entries another process wrote meanwhile
            try:
                with os.scandir(self.directory) as entries:
                    strays = [e.name[:-len(SUFFIX)] for e in entries if _ENTRY.fullmatch(e.name)]
            except OSError:
                strays = []
            removed += self._remove(strays)
        return removed

    def stats(self) -> DiskCacheStats:
        with self._lock:
            return DiskCacheStats(enabled=self.enabled, entries=len(self._index),
                                  bytes=self._bytes, max_bytes=self.max_bytes, hits=self.hits,
                                  misses=self.misses, dropped=self.dropped)

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._index)

    # -- internals ---------------------------------------------------------------------------

    def _path(self, digest: str) -> Path:
        return self.directory / f"{digest}{SUFFIX}"

    def _open(self) -> None:
        """Index the entries already on disk, least recently used first; remove dead temp files."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            found: list[tuple[int, str, int]] = []
            stale = time.time() - STALE_TEMP
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    name = entry.name
                    if _ENTRY.fullmatch(name):
                        st = entry.stat(follow_symlinks=False)
                        if not stat.S_ISREG(st.st_mode):
                            continue
                        if st.st_size < HEADER.size:  # cannot even hold a header
                            Path(entry.path).unlink(missing_ok=True)
                            self.dropped += 1
                            continue
                        found.append((st.st_mtime_ns, name[:-len(SUFFIX)], st.st_size))
                    elif name.startswith(".") and name.endswith(".tmp") \
                            and entry.stat(follow_symlinks=False).st_mtime < stale:
                        Path(entry.path).unlink(missing_ok=True)
        except OSError as err:
            self._fail("open", self.directory, err)
            return
        found.sort()
        for _, digest, size in found:
            self._index[digest] = size
            self._bytes += size
        self._remove(self._shrink())  # the bound may have been lowered since
        _LOGGER.debug("Disk phrase cache %s: %d entries, %.1f MB", self.directory,
                      len(self._index), self._bytes / 1e6)

    @staticmethod
    def _read(path: Path, key: CacheKey) -> builtins.bytes | None:
        """The payload of the entry at ``path`` if it is whole and belongs to ``key``."""
        with open(path, "rb") as f:
            head = f.read(HEADER.size)
            if len(head) < HEADER.size:
                return None
            magic, version, _, digest, rate, length, crc = HEADER.unpack(head)
            if magic != MAGIC or version != FORMAT or digest.hex() != key.digest \
                    or rate != key.sample_rate or os.fstat(f.fileno()).st_size != HEADER.size \
                    + length:
                return None
            pcm = f.read(length)
        if len(pcm) != length or zlib.crc32(pcm, zlib.crc32(head[:_CHECKED])) != crc:
            return None
        return pcm

    def _miss(self) -> None:
        with self._lock:
            self.misses += 1

    def _forget(self, digest: str) -> None:
        with self._lock:
            size = self._index.pop(digest, None)
            if size is not None:
                self._bytes -= size

    def _drop(self, digest: str, path: Path) -> None:
        _LOGGER.info("Disk phrase cache: %s is damaged or not an entry of this version; "
                     "deleted", path.name)
        self._forget(digest)
        with self._lock:
            self.dropped += 1
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            self._fail("delete", path, err)

    def _shrink(self) -> list[str]:
        """Pop the least recently used until within the bound (hold the lock); their digests."""
        victims = []
        while self._bytes > self.max_bytes and self._index:
            digest, size = self._index.popitem(last=False)
            self._bytes -= size
            victims.append(digest)
        return victims

    def _remove(self, digests: list[str]) -> int:
        removed = 0
        for digest in digests:
            try:
                self._path(digest).unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as err:
                self._fail("delete", self._path(digest), err)
                break
        return removed

    def _fail(self, action: str, path: Path, err: OSError) -> None:
        """Turn the cache off, saying so once: the memory tier keeps serving."""
        with self._lock:
            if not self.enabled:
                return
            self.enabled = False
        _LOGGER.warning("Disk phrase cache off: cannot %s %s (%s); replies are still cached in "
                        "memory (cache.disk_mb, model.cache_dir)", action, path,
                        err.strerror or err)


def _touch(path: Path) -> None:
    """Stamp ``path`` as used now: its mtime is the recency read at open. From the precise clock,
    not the kernel's coarse file time, so uses a millisecond apart keep their order."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))
