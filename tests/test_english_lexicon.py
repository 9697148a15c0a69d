"""misaki's English lexicon in tries: the same entries, cached, and rebuilt when damaged."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from misaki import en

from wyoming_kokoro.text.english_lexicon import TrieDict, compact_lexicon


@pytest.fixture(scope="module")
def misaki_lexicon() -> en.Lexicon:
    return en.Lexicon(False)


@pytest.fixture(scope="module")
def cached(tmp_path_factory) -> tuple:
    cache = tmp_path_factory.mktemp("lexicon-cache")
    built = compact_lexicon(False, cache)
    return cache, built, compact_lexicon(False, cache)  # the second from the cache files


def test_every_entry_reads_back_the_same(misaki_lexicon, cached):
    _, built, reread = cached
    for compact in (built, reread):
        for name in ("golds", "silvers"):
            original, trie = getattr(misaki_lexicon, name), getattr(compact, name)
            assert isinstance(trie, TrieDict)
            assert len(trie) == len(original)
            assert all(trie[key] == value for key, value in original.items())


def test_lookups_behave_like_a_dict(cached):
    _, _, lexicon = cached
    golds = lexicon.golds
    assert "hello" in golds and golds.get("hello") == golds["hello"]
    assert isinstance(golds["used"], dict) and "DEFAULT" in golds["used"]  # by part of speech
    assert "qwxzvbk" not in golds and golds.get("qwxzvbk") is None
    assert None not in golds and golds.get(None) is None  # misaki asks with whatever it has
    with pytest.raises(KeyError):
        golds["qwxzvbk"]


def test_cached_lexicon_has_every_attribute_misaki_sets(misaki_lexicon, cached):
    """Built without misaki's __init__: a misaki upgrade that adds state must fail here."""
    _, _, reread = cached
    assert set(vars(reread)) == set(vars(misaki_lexicon))
    assert reread.cap_stresses == misaki_lexicon.cap_stresses
    assert reread.british is False


def test_cache_files_are_small_and_named_by_misaki_version(cached):
    cache, _, _ = cached
    files = sorted((cache / "lexicon").iterdir())
    assert [f.name for f in files] == ["misaki-0.9.4-us-gold.marisa",
                                       "misaki-0.9.4-us-silver.marisa"]
    assert sum(f.stat().st_size for f in files) < 8 << 20  # vs 58 MB as Python dicts


def test_damaged_cache_is_rebuilt(tmp_path, caplog):
    compact_lexicon(True, tmp_path)
    gold = tmp_path / "lexicon" / "misaki-0.9.4-gb-gold.marisa"
    gold.write_bytes(b"not a trie")
    with caplog.at_level(logging.WARNING):
        lexicon = compact_lexicon(True, tmp_path)
    assert "Rebuilding the English lexicon cache" in caplog.text
    assert lexicon.british is True and "hello" in lexicon.golds
    assert gold.stat().st_size > 100_000  # written anew


def test_unwritable_cache_still_gives_a_lexicon(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    lexicon = compact_lexicon(False, blocked)
    assert "hello" in lexicon.golds


def test_command_builds_both_variants_ahead(tmp_path):
    """The Docker image runs this at build time (see test_docker)."""
    run = subprocess.run([sys.executable, "-m", "wyoming_kokoro.text.english_lexicon",
                          str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert sorted(f.name for f in (tmp_path / "lexicon").iterdir()) == [
        f"misaki-0.9.4-{variant}-{kind}.marisa"
        for variant in ("gb", "us") for kind in ("gold", "silver")]
