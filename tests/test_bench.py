"""The benchmark scripts still run against a real server and print the tables they promise.

No timing is asserted (timings belong in the benchmark's output, not in pass/fail tests); this
keeps the scripts from rotting as the code they measure changes, and pins what the tables hold
(one row per server and kind, ratio columns against every server) with tiny counts. Comparing
the shared server with itself under other names keeps it cheap: the same text again is a cache
hit. bench/compare.py (the previous main and wyoming-piper) is too slow to set up here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _import(name: str, file: str):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


@pytest.fixture(scope="module")
def bench():
    return _import("bench_bench", "bench.py")


def _run(*args: str, timeout: float = 300) -> str:
    run = subprocess.run([sys.executable, "bench/bench.py", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _tables(output: str) -> dict[str, list[list[str]]]:
    """Each Markdown table under its section title: its header, then its rows (separator
    left out); a section with two tables gets the second under "<title> (2)"."""
    tables: dict[str, list[list[str]]] = {}
    title, current = None, None
    for line in output.splitlines():
        if line.startswith("### "):
            title, current = line[4:], None
        elif line.startswith("|") and not line.startswith("|---"):
            if current is None:
                key = title if title not in tables else f"{title} (2)"
                current = tables.setdefault(key, [])
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif not line.startswith("|---"):
            current = None
    return tables


def _table(output: str, title_start: str, second: bool = False) -> list[list[str]]:
    found = [t for title, t in _tables(output).items()
             if title.startswith(title_start) and title.endswith(" (2)") == second]
    assert len(found) == 1, output
    return found[0]


def _cells(output: str, name: str) -> list[str]:
    rows = [line for line in output.splitlines() if line.startswith(f"| {name} |")]
    assert len(rows) == 1, output
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_bench_soak_reports_rss_before_and_after(server):
    out = _run("--uri", server.uri, "--pid", str(server.proc.pid), "--only", "soak",
               "--soak", "4")
    _, requests, _, before, half, after, growth = _cells(out, "kokoro")
    assert requests == "4"
    assert all(float(mb) > 100 for mb in (before, half, after))  # MB: the model alone is more
    assert growth.endswith("%")


def test_bench_measures_several_servers_in_one_run_with_ratios_to_each(server):
    pid = server.proc.pid
    out = _run("--uri", server.uri, "--pid", str(pid), "--compare", f"twin={server.uri}@{pid}",
               "--compare", f"third={server.uri}", "--only", "ha", "long", "--ha", "2",
               "--repeat", "1", "--long-words", "8")
    names = ["kokoro", "twin", "third"]
    assert f"Servers: kokoro {server.uri}, twin {server.uri}, third {server.uri}" in out

    per_reply = _table(out, "Home Assistant replies")
    assert per_reply[0] == ["reply", "words", "kind", *(f"{n} (ms)" for n in names)]
    replies = per_reply[1:]
    assert [r[2] for r in replies] == ["with comma", "no comma"]
    assert all(8 <= int(r[1]) <= 10 for r in replies)
    assert all(int(ms) >= 0 for r in replies for ms in r[3:])

    summary = _table(out, "Home Assistant replies", second=True)
    assert summary[0] == ["server", "kind", "replies", "first audio, median (ms)", "range (ms)",
                          *(f"/ {n}" for n in names)]
    rows = summary[1:]
    assert [(r[0], r[1]) for r in rows] == [(n, kind) for kind in ("all", "with comma",
                                                                    "no comma") for n in names]
    for row in rows:
        own = 5 + names.index(row[0])
        assert row[own] == "—"  # no ratio to itself
        assert all(re.fullmatch(r"\d+\.\d\d\d?|—", cell) for cell in row[5:])
        assert row[2] == ("2" if row[1] == "all" else "1")

    long = _table(out, "Long reply")
    assert long[0] == ["mode", "server", "words", "audio (s)", "total (s)", "first audio (ms)",
                       "RTF", *(f"RTF / {n}" for n in names)]
    assert [(r[0], r[1]) for r in long[1:]] == [(mode, n) for mode in ("whole", "streamed")
                                               for n in names]
    for row in long[1:]:
        assert float(row[3]) > 0.5 and float(row[6]) > 0  # seconds of speech; RTF
        assert row[7 + names.index(row[1])] == "—"


def test_bench_new_sections_print_one_row_per_server(server):
    out = _run("--uri", server.uri, "--pid", str(server.proc.pid), "--only", "fair",
               "describe", "peak", "cache", "--repeat", "1", "--long-words", "8",
               "--fair-words", "8", "--describes", "2", "--memory-seconds", "1")

    fair = _table(out, "4 medium replies at once")
    assert [r[0] for r in fair[1:]] == ["kokoro"]
    for _, single, best, worst, ratio in fair[1:]:
        assert 0 <= int(best) <= int(worst) and int(single) >= 0
        assert re.fullmatch(r"\d+\.\d\d", ratio)

    describe = _table(out, "describe while 4 clients synthesize")
    assert [(r[0], r[1]) for r in describe[1:]] == [("kokoro", "2")]

    peak = _table(out, "RSS peak")
    assert peak[0] == ["server", "steady (MB)", "peak, 4 long replies (MB)",
                       "peak, 4,000-char run-on (MB)", "peak (MB)", "after (MB)"]
    assert [r[0] for r in peak[1:]] == ["kokoro"]
    _, steady, replies, run_on, top, _after = peak[1]
    assert float(steady) > 100  # MB: the model alone is more
    assert float(top) == max(float(replies), float(run_on))

    # The cache section restarts servers: one it was only given is skipped, with a line.
    assert "- kokoro: skipped" in out
    assert not any(title.startswith("Phrase cache") for title in _tables(out))


def test_bench_cache_section_restarts_its_own_server(server):
    """bench.py starts the servers itself (seeded with the model the shared server built)."""
    out = _run("--only", "cache", "--repeat", "1", "--prerender", "1")
    table = _table(out, "Phrase cache")
    assert table[0] == ["server", "request", "n", "first audio, median (ms)", "range (ms)",
                        "/ unseen on the same server"]
    assert [r[1] for r in table[1:]] == [
        "unseen reply, idle", "prerendered phrase", "unseen reply while prerendering",
        "unseen reply, after a restart", "repeated reply, after a restart (disk)"]
    measured = {r[1]: r for r in table[1:]}
    for label in ("unseen reply, idle", "prerendered phrase", "unseen reply, after a restart",
                  "repeated reply, after a restart (disk)"):
        assert measured[label][2] == "1" and int(measured[label][3]) >= 0
    assert re.fullmatch(r"\d+\.\d\d\d?", measured["repeated reply, after a restart (disk)"][5])


def test_compare_flags_take_the_old_and_the_repeatable_form(bench):
    def targets(*argv):
        return [(t.name, t.uri, t.pid, t.voice)
                for t in bench.compare_targets(bench.parse_args(list(argv)))]

    assert targets("--compare", "tcp://h:1", "--compare-pid", "5", "--compare-name", "piper",
                   "--compare-voice", "v") == [("piper", "tcp://h:1", 5, "v")]
    assert targets("--compare", "tcp://h:1") == [("other", "tcp://h:1", None, None)]
    assert targets("--compare", "old=tcp://h:2@7", "--compare", "tcp://h:3") == [
        ("old", "tcp://h:2", 7, None), ("other-2", "tcp://h:3", None, None)]
    assert targets("--compare", "a=tcp://h:2", "--compare", "b=tcp://h:3",
                   "--compare-voice", "x", "--compare-voice", "y") == [
        ("a", "tcp://h:2", None, "x"), ("b", "tcp://h:3", None, "y")]
    with pytest.raises(SystemExit, match="--compare-pid given 1 times for 2"):
        targets("--compare", "tcp://h:2", "--compare", "tcp://h:3", "--compare-pid", "4")
    with pytest.raises(SystemExit, match="expected"):
        targets("--compare", "piper=h:2")


def test_bench_texts_never_repeat_a_request(bench):
    texts = bench.Texts()
    made = [texts(bench.SHORT) for _ in range(1000)]
    made += [texts.ha() for _ in range(1000)]
    made += [texts.reply(270) for _ in range(50)]
    assert len(set(made)) == len(made)


def test_bench_texts_put_a_new_number_in_every_piece_a_server_may_cache(bench):
    """A server caches pieces (a sentence, or the clause before a comma) on their own: a clause
    without a number would be answered from the cache the second time."""
    texts = bench.Texts()
    made = [texts(bench.SHORT), texts(bench.LLM_REPLY), texts.reply(270),
            *(texts.ha() for _ in bench.HA_REPLIES)]
    clauses = [c for text in made for c in re.split(r"[,.;:!?]", text) if c.strip()]
    assert all(re.search(r"\d", clause) for clause in clauses), \
        [c for c in clauses if not re.search(r"\d", c)]
    seen = [texts.reply(270) for _ in range(3)]
    sentences = [s for text in seen for s in text.split(". ")]
    assert len(set(sentences)) == len(sentences)


def test_bench_shared_texts_reach_every_server_in_the_same_order(bench):
    texts = bench.Texts()
    shared = bench.Shared(texts.ha)
    first, second = shared.reader(), shared.reader()
    a = [next(first) for _ in range(3)]
    b = [next(second) for _ in range(5)]
    assert b[:3] == a and len(set(b)) == 5


def test_bench_ha_replies_are_8_to_10_words_half_without_a_comma(bench):
    words = [len(t.split()) for t in bench.HA_REPLIES]
    assert all(8 <= n <= 10 for n in words)
    assert sum("," not in t for t in bench.HA_REPLIES) == len(bench.HA_REPLIES) // 2
    assert any(t.lower().startswith("h") for t in bench.HA_REPLIES)  # soft onsets


def test_backends_measure_reports_first_audio_total_and_length(server):
    backends = _import("bench_backends", "backends.py")
    first, total, audio = asyncio.run(backends.measure(
        server.uri, ["Scene 1 is on.", "Scene 2 is on."], None))
    assert 0 < first <= total
    assert 0.5 < audio < 5  # seconds of speech for four words


def test_a_reused_cache_dir_keeps_the_model_but_loses_the_phrase_audio_of_the_last_run(tmp_path):
    # compare.py reuses the previous main's cache dir across runs; the bench's texts repeat from
    # run to run, so audio kept from the last run would answer "new" replies from disk.
    servers = _import("bench_servers", "servers.py")
    seed = tmp_path / "seed"
    (seed / "split").mkdir(parents=True)
    (seed / "split" / "front.onnx").write_bytes(b"graph")
    (seed / "audio").mkdir()
    (seed / "audio" / "seed-phrase.pcm").write_bytes(b"pcm")
    cache = servers.seeded_cache_dir(tmp_path / "run", seed)
    assert (cache / "split" / "front.onnx").read_bytes() == b"graph"
    assert not (cache / "audio").exists()
    (cache / "audio").mkdir()
    (cache / "audio" / "said-last-run.pcm").write_bytes(b"pcm")
    again = servers.seeded_cache_dir(tmp_path / "run", seed)
    assert (again / "split" / "front.onnx").read_bytes() == b"graph"
    assert not (again / "audio").exists()
