"""The phrase cache's disk tier: exact round trips across restarts, keys that name everything
that shapes the audio, a size bound with LRU eviction, damaged files dropped, a failing disk
turning the tier off instead of failing replies."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import random
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from wyoming_kokoro.synthesis import disk_cache
from wyoming_kokoro.synthesis.disk_cache import (
    FORMAT,
    HEADER,
    STALE_TEMP,
    CacheKey,
    DiskCache,
    default_directory,
    model_digest,
)

FILES = {"kokoro-v1.0.int8.onnx": "a" * 64, "voices.npz": "b" * 64, "vocab.json": "c" * 64}
KEY = CacheKey(model=model_digest(FILES), backend="onnx/cpu", voice="0f" * 12, speed=1.0,
               volume=1.0, phonemes="həlˈoʊ ðˈɛɹ.", ends_sentence=True, sample_rate=24000,
               rendering="trim=1")
MB = 1 << 20


def key(**changes) -> CacheKey:
    return dataclasses.replace(KEY, **changes)


def pcm_for(k: CacheKey, seconds: float = 0.1) -> bytes:
    """Audio-like bytes that differ per key (so a mix-up shows)."""
    rng = random.Random(k.digest)
    return rng.randbytes(int(seconds * k.sample_rate) * 2)


def entry_path(cache: DiskCache, k: CacheKey) -> Path:
    return cache.directory / f"{k.digest}.pcm"


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if p.name.endswith(".pcm")}


def test_a_stored_piece_comes_back_byte_for_byte_after_a_restart(tmp_path):
    pcm = pcm_for(KEY, 2.0)  # a typical two-second reply: 96 kB
    first = DiskCache(tmp_path / "audio", 200 * MB)
    assert first.get(KEY) is None
    assert first.put(KEY, pcm)
    restarted = DiskCache(tmp_path / "audio", 200 * MB)
    assert restarted.get(KEY) == pcm
    stats = restarted.stats()
    assert (stats.entries, stats.hits, stats.misses) == (1, 1, 0)
    assert stats.bytes == entry_path(restarted, KEY).stat().st_size == HEADER.size + len(pcm)
    assert first.stats().misses == 1


@pytest.mark.parametrize(("field", "other"), [
    ("model", model_digest({**FILES, "voices.npz": "d" * 64})),  # one file of the bundle changed
    ("backend", "torch/cpu"),
    ("voice", "1e" * 12),  # another style pack, or a blend of other weights
    ("speed", 1.1),
    ("volume", 0.9),
    ("phonemes", "həlˈoʊ ðˈɛɹ!"),  # a lexicon or normalization change shows here
    ("ends_sentence", False),
    ("sample_rate", 22050),
    ("rendering", "trim=2"),
])
def test_a_key_differing_in_any_part_misses(tmp_path, field, other):
    cache = DiskCache(tmp_path, MB)
    cache.put(KEY, pcm_for(KEY))
    changed = key(**{field: other})
    assert changed.digest != KEY.digest
    assert changed not in cache and cache.get(changed) is None
    assert cache.get(key()) == pcm_for(KEY)  # an equal key, built anew, hits


def test_the_digest_is_stable_across_processes():
    code = ("from wyoming_kokoro.synthesis.disk_cache import CacheKey\n"
            f"print(CacheKey(**{dataclasses.asdict(KEY)!r}).digest)")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    assert out.stdout.strip() == KEY.digest


def test_speed_is_keyed_to_four_decimals_and_the_model_by_its_files_in_any_order():
    assert key(speed=1.00001).digest == KEY.digest
    assert key(speed=1.0001).digest != KEY.digest
    assert model_digest(dict(reversed(FILES.items()))) == model_digest(FILES)


def test_a_key_from_a_model_and_a_voice_names_their_files_backend_and_style():
    model = SimpleNamespace(bundle=SimpleNamespace(files=FILES), sample_rate=24000,
                            backend=SimpleNamespace(name="onnx", device="cpu"))
    voice = SimpleNamespace(fingerprint="0f" * 12, volume=1.0)
    made = CacheKey.of(model, voice, KEY.phonemes, 1.0, True, rendering="trim=1")
    assert made == KEY and made.digest == KEY.digest
    model.backend.device = "cuda"
    assert CacheKey.of(model, voice, KEY.phonemes, 1.0, True, "trim=1").digest != KEY.digest


def test_the_least_recently_used_go_first_and_the_total_stays_bounded(tmp_path):
    keys = [key(phonemes=f"piece {i}") for i in range(5)]
    size = HEADER.size + len(pcm_for(keys[0]))
    cache = DiskCache(tmp_path, 3 * size)
    for k in keys[:3]:
        cache.put(k, pcm_for(k))
    assert cache.get(keys[0]) is not None  # 0 is now the most recently used
    cache.put(keys[3], pcm_for(keys[3]))  # evicts 1
    assert files_in(tmp_path) == {f"{k.digest}.pcm" for k in (keys[0], keys[2], keys[3])}
    assert cache.bytes == 3 * size and len(cache) == 3
    assert cache.get(keys[1]) is None
    assert cache.get(keys[2]) is not None
    assert cache.get(keys[0]) is not None  # least recent first: 3, 2, 0 (written: 0, 2, 3)
    # recency survives a restart: the reopened cache evicts 3 first
    reopened = DiskCache(tmp_path, 3 * size)
    assert reopened.bytes == 3 * size
    reopened.put(keys[4], pcm_for(keys[4]))
    assert keys[3] not in reopened and keys[0] in reopened and keys[2] in reopened
    reopened.resize(size)  # a lower bound applies at once
    assert files_in(tmp_path) == {f"{keys[4].digest}.pcm"} and reopened.bytes == size


def test_a_cache_reopened_with_a_lower_bound_evicts_at_open(tmp_path):
    keys = [key(phonemes=f"piece {i}") for i in range(4)]
    cache = DiskCache(tmp_path, MB)
    for k in keys:
        cache.put(k, pcm_for(k))
    size = HEADER.size + len(pcm_for(keys[0]))
    smaller = DiskCache(tmp_path, 2 * size)
    assert len(smaller) == 2 and len(files_in(tmp_path)) == 2 and smaller.bytes <= 2 * size


def test_a_piece_larger_than_the_bound_is_not_stored(tmp_path):
    cache = DiskCache(tmp_path, 1000)
    assert not cache.put(KEY, bytes(2000))
    assert cache.get(KEY) is None and not files_in(tmp_path)


def _rewrite_version(data: bytes) -> bytes:
    """The same entry under another format version, its checksum made to match."""
    magic, _, reserved, digest, rate, length, _ = HEADER.unpack(data[:HEADER.size])
    head = struct.pack("<4sHH16sII", magic, FORMAT + 1, reserved, digest, rate, length)
    pcm = data[HEADER.size:]
    return head + struct.pack("<I", zlib.crc32(pcm, zlib.crc32(head))) + pcm


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:]


@pytest.mark.parametrize("damage", [
    pytest.param(lambda d, other: _flip(d, len(d) - 100), id="flipped-payload-byte"),
    pytest.param(lambda d, other: _flip(d, 24), id="flipped-sample-rate"),
    pytest.param(lambda d, other: d[:len(d) // 2], id="truncated"),
    pytest.param(lambda d, other: d[:HEADER.size - 1], id="truncated-header"),
    pytest.param(lambda d, other: d + b"\0", id="trailing-bytes"),
    pytest.param(lambda d, other: b"RIFF" + os.urandom(len(d)), id="foreign-file"),
    pytest.param(lambda d, other: _rewrite_version(d), id="other-format-version"),
    pytest.param(lambda d, other: other, id="another-keys-entry"),
])
def test_a_damaged_entry_is_dropped_never_returned(tmp_path, damage):
    cache = DiskCache(tmp_path, MB)
    other = key(phonemes="something else")
    cache.put(KEY, pcm_for(KEY))
    cache.put(other, pcm_for(other))
    path = entry_path(cache, KEY)
    path.write_bytes(damage(path.read_bytes(), entry_path(cache, other).read_bytes()))
    reopened = DiskCache(tmp_path, MB)  # damage found at a restart ...
    for c in (cache, reopened):  # ... or while running
        assert c.get(KEY) is None
    assert not path.exists() and cache.stats().dropped + reopened.stats().dropped == 1
    assert reopened.get(other) == pcm_for(other)
    assert reopened.put(KEY, pcm_for(KEY)) and reopened.get(KEY) == pcm_for(KEY)


def test_leftovers_of_a_crash_are_cleaned_up_at_open_and_other_files_are_left_alone(tmp_path):
    stale = tmp_path / f".{KEY.digest}.pcm.abc.tmp"  # a write that never finished
    stale.write_bytes(b"half")
    old = time.time() - 2 * STALE_TEMP
    os.utime(stale, (old, old))
    fresh = tmp_path / ".other.pcm.def.tmp"  # perhaps another process writing right now
    fresh.write_bytes(b"busy")
    tiny = tmp_path / f"{'0' * 32}.pcm"
    tiny.write_bytes(b"x")
    readme = tmp_path / "README"
    readme.write_text("mine")
    cache = DiskCache(tmp_path, MB)
    assert not stale.exists() and not tiny.exists()
    assert fresh.exists() and readme.exists() and len(cache) == 0


def test_clear_removes_every_entry(tmp_path):
    cache = DiskCache(tmp_path, MB)
    keys = [key(phonemes=f"piece {i}") for i in range(3)]
    for k in keys:
        cache.put(k, pcm_for(k))
    stray = key(phonemes="written by another process")
    DiskCache(tmp_path, MB).put(stray, pcm_for(stray))
    assert cache.clear() == 4
    assert not files_in(tmp_path) and cache.stats().entries == cache.stats().bytes == 0
    assert all(cache.get(k) is None for k in keys)


def test_a_directory_that_cannot_be_created_turns_the_tier_off_with_one_warning(tmp_path,
                                                                              caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING):
        cache = DiskCache(blocker / "audio", MB)
        assert not cache.put(KEY, pcm_for(KEY)) and cache.get(KEY) is None
    assert not cache.enabled
    assert [r.getMessage() for r in caplog.records if "Disk phrase cache off" in r.getMessage()] \
        == [f"Disk phrase cache off: cannot open {blocker / 'audio'} (Not a directory); replies "
            "are still cached in memory (cache.disk_mb, model.cache_dir)"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_directory_turns_the_tier_off_with_one_warning(tmp_path, caplog):
    directory = tmp_path / "audio"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        cache = DiskCache(directory, MB)
        for k in (KEY, key(phonemes="another")):
            assert not cache.put(k, pcm_for(k))
    finally:
        directory.chmod(0o755)
    assert not cache.enabled
    assert caplog.text.count("Disk phrase cache off") == 1


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES])
def test_a_full_or_read_only_disk_turns_the_tier_off_with_one_warning(tmp_path, monkeypatch,
                                                                     caplog, code):
    cache = DiskCache(tmp_path, MB)
    cache.put(KEY, pcm_for(KEY))

    def failing_write(path, blocks, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(disk_cache, "write_atomic", failing_write)
    with caplog.at_level(logging.WARNING):
        for i in range(3):
            k = key(phonemes=f"new piece {i}")
            assert not cache.put(k, pcm_for(k))
        assert cache.get(KEY) is None  # off altogether, even for what it holds
    assert not cache.enabled and not cache.stats().enabled
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and os.strerror(code) in warnings[0]


def test_threads_putting_and_getting_at_once_never_see_a_wrong_or_partial_piece(tmp_path):
    keys = [key(phonemes=f"piece {i}") for i in range(40)]
    expected = {k.digest: pcm_for(k, 0.05 * (1 + i % 4)) for i, k in enumerate(keys)}
    bound = 10 * (HEADER.size + len(pcm_for(keys[0], 0.2)))
    cache = DiskCache(tmp_path, bound)
    wrong: list[str] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(300):
            k = rng.choice(keys)
            if rng.random() < 0.5:
                cache.put(k, expected[k.digest])
            elif (got := cache.get(k)) is not None and got != expected[k.digest]:
                wrong.append(k.phonemes)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not wrong
    stats = cache.stats()
    assert stats.enabled and stats.hits > 0 and stats.bytes <= bound
    on_disk = files_in(tmp_path)
    assert {name[:-4] for name in on_disk} <= set(cache._index)
    assert sum((tmp_path / n).stat().st_size for n in on_disk) <= bound
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    reopened = DiskCache(tmp_path, bound)
    assert all(reopened.get(k) in (None, expected[k.digest]) for k in keys)


def test_the_tier_lives_in_the_audio_folder_of_the_cache_dir(tmp_path, monkeypatch):
    assert default_directory(tmp_path) == tmp_path / "audio"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_directory() == tmp_path / "xdg" / "wyoming-kokoro" / "audio"


def test_zero_megabytes_is_off_and_touches_nothing(tmp_path):
    cache = DiskCache(tmp_path / "audio", 0)
    assert not cache.enabled and not cache.put(KEY, pcm_for(KEY)) and cache.get(KEY) is None
    assert not (tmp_path / "audio").exists()
