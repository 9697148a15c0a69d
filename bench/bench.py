"""Latency, speed, fairness, caching and memory of Wyoming TTS servers, measured from a client.

    uv run python bench/bench.py                         # starts wyoming-kokoro on a free port
    uv run python bench/bench.py --uri tcp://127.0.0.1:10200 --pid 1234
    uv run python bench/bench.py --compare piper=tcp://127.0.0.1:10400@5678 \\
                                 --compare main=tcp://127.0.0.1:10500@5679
    uv run python bench/bench.py --only ha fair --repeat 5 --ha 24

bench/compare.py sets up the usual comparison (the previous main and wyoming-piper) and runs
this with all three.

Sections (all by default, except soak):
  latency      first audio, total time and real-time factor for an 8-, 40- and 200-word reply,
               sent whole (synthesize) and word by word (streaming); and a repeated reply (the
               phrase cache)
  ha           first audio for --ha different 8-10-word Home Assistant replies, half of them
               without a comma, some with a soft onset (/h/): median and range, per kind
  long         real-time factor of a long reply (--long-words, about 90 s of audio) whose
               sentences are never repeated, sent whole and streamed
  concurrency  1, 2 and 4 clients sending short replies at once: first audio p50 / p95
  fair         4 medium replies (--fair-words) at once: the worst first audio against a single
               reply's
  describe     describe latency while 4 clients synthesize medium replies: p50 / p99
  llm          an LLM-paced stream (20 words/s): first audio, against the first sentence
               streamed alone at the same pace; tail from synthesize-stop to the end
  cache        (a kokoro server the bench starts itself) first audio of a reply said before a
               restart, of a prerendered phrase, and of an unseen reply while --prerender
               phrases are prerendered, each beside an unseen reply's on the same server
  peak         RSS peak (sampled every 50 ms) with 4 long replies in flight, then with a
               4,000-character run-on sentence (servers with a pid)
  memory       RSS: steady, and peak during a 100,000-character request and a 4,000-character
               run-on (servers with a pid)
  soak         --soak N short requests from 4 clients: RSS before, half-way and once idle
Every section measures all servers in the same run, interleaved (each round sends the same new
text to every server, one server at a time, the order rotating), so ratios compare like with
like. Every measured request carries text no server has seen before (except the rows that
measure a cache), so no cache hides the cost. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servers import Server, machine, seeded_cache_dir  # bench/ is sys.path[0]

from wyoming_kokoro.client import Speech, describe, synthesize
from wyoming_kokoro.fsutil import default_cache_dir

# Every piece a server may synthesize (and cache) on its own, each sentence and each clause
# before a comma, holds a number that changes from request to request, so no phrase cache (the
# server's, or a sentence cache elsewhere) answers a measured request.
SHORT = "Scene {0} is now on in the kitchen."  # 8 words
LLM_REPLY = (
    "I turned on {0} lights in the hallway for you. It is {1} degrees inside right now, and the "
    "heating is set to {2} degrees. Let me know if you want anything else {3}."
)
# Home Assistant's kind of reply, 8-10 words: every other one has no comma at all (nothing to
# cut a first piece at before the sentence ends), and some start with a soft onset (/h/), which
# an amplitude threshold trims.
HA_REPLIES = (
    "Timer {0} is set, it will ring in {1} minutes.",
    "The upstairs bathroom fan will run for {0} minutes.",
    "Scene {0} is active, so {1} lights are dimmed.",
    "Heating is now on in the hallway for {0} minutes.",
    "In {0} minutes, the robot vacuum cleans room {1}.",
    "Your package {0} will arrive between two and five.",
    "Alarm {0} is armed, and door {1} is locked.",
    "Humidity in the basement is now at {0} percent.",
    "Blind {0} is closed, and {1} others stay open.",
    "The porch light will turn off in {0} minutes.",
    "Zone {0} is watered, and sprinkler {1} is off.",
    "Hallway sensor {0} has seen no movement since noon.",
)
# The sentences of a medium or long reply (Texts.reply), one clause each, each used once per
# reply.
SENTENCES = (
    "Here is summary {0} of your day starting with the weather.",
    "The morning stays cool and damp with light rain until {0} past eight.",
    "By noon the clouds break up and it warms to {0} degrees.",
    "Tonight will be clear and cold and drop to {0} degrees by midnight.",
    "You may want to close the bedroom window before {0} past ten.",
    "Your first call with the design team starts at {0} past nine.",
    "Lunch with Sam is booked at table {0} near the window.",
    "The dentist expects you at four and parking costs {0} cents an hour.",
    "The car is charged to {0} percent which covers every trip today.",
    "The front door is locked and the garage door was opened {0} times.",
    "All {0} lights downstairs are off and the porch light is on a timer.",
    "The washing machine will finish its cycle in about {0} minutes.",
    "The thermostat is set to {0} degrees until everyone leaves.",
    "After that the heating switches to eco mode for {0} hours.",
    "Package {0} from the hardware store should arrive between two and five.",
    "The recycling goes out on Thursday and bin {0} is nearly full.",
    "Your sister's birthday is in {0} days so it is time to find a gift.",
    "The dishwasher finished {0} minutes ago and the dishes are still warm.",
    "The robot vacuum cleaned {0} square meters and went back to its dock.",
    "The garden sprinklers will run for {0} minutes after sunset.",
    "The solar panels have produced {0} kilowatt hours so far today.",
    "The freezer door was left open for {0} seconds this morning.",
    "The upstairs hallway sensor counted {0} people walking past since dawn.",
    "Your library books are due back in {0} days.",
    "The train to the city leaves from platform {0} at a quarter past six.",
    "Traffic on the ring road is light with delays of {0} minutes near the bridge.",
    "The air quality outside is good with an index of {0}.",
    "The basement humidity stayed below {0} percent all night.",
    "Remember to water the tomatoes because they had no rain for {0} days.",
    "The cat flap opened {0} times overnight and mostly before four.",
    "Your podcast queue has {0} new episodes waiting for the drive.",
    "That is all for now and I will check back in {0} minutes.",
)
MEDIUM_WORDS, LONG_WORDS = 40, 200  # the latency section's medium and long replies
RUN_ON = "Run on number {0}"  # + "word word ...": 4,000 characters without punctuation
PRERENDERED = r"Prerendered \d+ phrases"  # the server's log line once a prerender run is over


class Texts:
    """Fresh variants of each template: the first slot gets a number that template never had
    before, the others numbers not used in that slot for the last 89 requests, so no cached
    sentence or reply answers a measured request (a soak of thousands included)."""

    def __init__(self) -> None:
        self._uses: Counter[str] = Counter()
        self._ha = itertools.cycle(HA_REPLIES)
        self._sentence = itertools.count()

    def __call__(self, template: str) -> str:
        i = self._uses[template]
        self._uses[template] += 1
        return template.format(10 + i, *(10 + (i + 17 * slot) % 89 for slot in range(1, 16)))

    def ha(self) -> str:
        """The next Home Assistant reply (the templates in turn: with a comma, without)."""
        return self(next(self._ha))

    def reply(self, words: int) -> str:
        """A reply of at least ``words`` words from SENTENCES in turn, none twice in it (until
        the pool runs out: then the numbers still differ)."""
        sentences: list[str] = []
        count = 0
        while count < words:
            sentences.append(self(SENTENCES[next(self._sentence) % len(SENTENCES)]))
            count += len(sentences[-1].split())
        return " ".join(sentences)

    def run_on(self, chars: int = 4000) -> str:
        return (self(RUN_ON) + " " + " ".join(["word"] * (chars // 5)))[:chars]

    def of_chars(self, chars: int) -> str:
        """A reply of about ``chars`` characters (sentences of about 65), cut at a sentence."""
        text = self.reply(chars // 5)
        return text[:text.rfind(".", 0, chars) + 1] if len(text) > chars else text


@dataclass
class Target:
    name: str
    uri: str
    pid: int | None
    voice: str | None = None
    # The flags of a kokoro server the bench starts itself (None: a server it was given); the
    # cache section starts its own servers with them.
    server_args: list[str] | None = None

    def rss_mb(self) -> float | None:
        if self.pid is None:
            return None
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        return int(text.split("VmRSS:")[1].split()[0]) / 1024


class RssPeak:
    """The highest RSS of a target's process while the ``with`` block runs, sampled every
    ``interval`` seconds in a thread (the event loop is busy reading audio)."""

    def __init__(self, target: Target, interval: float = 0.05) -> None:
        self.target, self.interval, self.peak = target, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.peak = max(self.peak, self.target.rss_mb() or 0.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


def span_ms(values: Sequence[float]) -> str:
    return "—" if not values else f"{min(values) * 1000:.0f}–{max(values) * 1000:.0f}"


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(flush=True)


def ratio(value: float | None, base: float | None) -> str:
    """value / base, with a third decimal below 0.1 (a cache hit against an inference)."""
    if value is None or not base:
        return "—"
    r = value / base
    return f"{r:.2f}" if r >= 0.1 else f"{r:.3f}"


def ratio_header(targets: list[Target]) -> list[str]:
    """One column per server ("/ piper": this row's figure divided by piper's), when there is
    more than one."""
    return [f"/ {t.name}" for t in targets] if len(targets) > 1 else []


def ratio_cells(values: dict[str, float | None], name: str, targets: list[Target]) -> list[str]:
    if len(targets) < 2:
        return []
    own = values.get(name)
    cells = []
    for other in targets:
        theirs = values.get(other.name)
        cells.append("—" if other.name == name else ratio(own, theirs))
    return cells


def rotations(targets: list[Target], rounds: int) -> Iterator[list[Target]]:
    """The targets in a different order each round: nobody always goes first."""
    for i in range(rounds):
        k = i % len(targets)
        yield targets[k:] + targets[:k]


def first(speech: Speech) -> float:
    return speech.first_audio if speech.first_audio is not None else speech.total


async def once(target: Target, text: str, stream: bool = False, delay: float = 0.0,
               timeout: float = 600.0) -> Speech:
    speech = await synthesize(target.uri, text, target.voice, stream=stream, chunk_delay=delay,
                              timeout=timeout)
    if speech.error is not None:
        raise SystemExit(f"{target.name}: server error: {speech.error.text}")
    return speech


def speak(target: Target, text: str, stream: bool = False, delay: float = 0.0) -> Speech:
    return asyncio.run(once(target, text, stream, delay))


async def _together(target: Target, texts: list[str]) -> list[Speech]:
    return list(await asyncio.gather(*(once(target, text) for text in texts)))


def together(target: Target, texts: list[str]) -> list[Speech]:
    """``texts`` sent at once, one client each."""
    return asyncio.run(_together(target, texts))


# -- sections ---------------------------------------------------------------------------------

def section_latency(targets: list[Target], args, texts: Texts) -> None:
    print("### Latency and real-time factor (median of", args.repeat, "runs)\n")
    rows = []
    kinds = (("short", lambda: texts(SHORT)), ("medium", lambda: texts.reply(MEDIUM_WORDS)),
             ("long", lambda: texts.reply(LONG_WORDS)))
    for label, make in kinds:
        for stream in (False, True):
            runs: dict[str, list[Speech]] = {t.name: [] for t in targets}
            words = []
            for order in rotations(targets, args.repeat):
                text = make()
                words.append(len(text.split()))
                for target in order:
                    runs[target.name].append(speak(target, text, stream))
            for target in targets:
                done = runs[target.name]
                total = statistics.median(s.total for s in done)
                audio = statistics.median(s.seconds for s in done)
                rows.append([label, str(round(statistics.median(words))),
                             "streaming" if stream else "synthesize", target.name,
                             ms(statistics.median(first(s) for s in done)), f"{total:.2f}",
                             f"{audio:.2f}", f"{total / audio:.2f}"])
    # The same reply again: from the phrase cache, if the server has one.
    text = texts(SHORT)
    again: dict[str, list[Speech]] = {t.name: [] for t in targets}
    for target in targets:
        speak(target, text)
    for order in rotations(targets, args.repeat):
        for target in order:
            again[target.name].append(speak(target, text))
    for target in targets:
        done = again[target.name]
        total = statistics.median(s.total for s in done)
        rows.append(["short, repeated", "8", "synthesize", target.name,
                     ms(statistics.median(first(s) for s in done)), f"{total:.2f}",
                     f"{done[0].seconds:.2f}", f"{total / done[0].seconds:.2f}"])
    table(["text", "words", "mode", "server", "first audio (ms)", "total (s)", "audio (s)",
           "RTF"], rows)


def _kinds(text: str) -> list[str]:
    kinds = ["all", "with comma" if "," in text else "no comma"]
    if text.lower().startswith("h"):
        kinds.append("soft onset (/h/)")
    return kinds


KINDS = ("all", "with comma", "no comma", "soft onset (/h/)")


def section_ha(targets: list[Target], args, texts: Texts) -> None:
    print(f"### Home Assistant replies: first audio ({args.ha} different replies, each new to "
          "every server)\n")
    replies = [texts.ha() for _ in range(args.ha)]
    firsts: dict[str, list[float]] = {t.name: [] for t in targets}
    for text, order in zip(replies, rotations(targets, len(replies)), strict=True):
        for target in order:
            firsts[target.name].append(first(speak(target, text)))
    table(["reply", "words", "kind", *(f"{t.name} (ms)" for t in targets)],
          [[text, str(len(text.split())), ", ".join(_kinds(text)[1:]),
            *(ms(firsts[t.name][i]) for t in targets)] for i, text in enumerate(replies)])
    rows = []
    for kind in KINDS:
        chosen = [i for i, text in enumerate(replies) if kind in _kinds(text)]
        if not chosen:
            continue
        values = {t.name: [firsts[t.name][i] for i in chosen] for t in targets}
        medians = {name: median(v) for name, v in values.items()}
        for target in targets:
            rows.append([target.name, kind, str(len(chosen)), ms(medians[target.name]),
                         span_ms(values[target.name]),
                         *ratio_cells(medians, target.name, targets)])
    table(["server", "kind", "replies", "first audio, median (ms)", "range (ms)",
           *ratio_header(targets)], rows)


def section_long(targets: list[Target], args, texts: Texts) -> None:
    print(f"### Long reply, sentences never repeated ({args.long_words} words, median of "
          f"{args.repeat})\n")
    rows = []
    for stream in (False, True):
        runs: dict[str, list[Speech]] = {t.name: [] for t in targets}
        words = []
        for order in rotations(targets, args.repeat):
            text = texts.reply(args.long_words)
            words.append(len(text.split()))
            for target in order:
                runs[target.name].append(speak(target, text, stream))
        rtf = {name: statistics.median(s.total / s.seconds for s in done)
               for name, done in runs.items()}
        for target in targets:
            done = runs[target.name]
            rows.append(["streamed" if stream else "whole", target.name,
                         str(round(statistics.median(words))),
                         f"{statistics.median(s.seconds for s in done):.1f}",
                         f"{statistics.median(s.total for s in done):.2f}",
                         ms(statistics.median(first(s) for s in done)),
                         f"{rtf[target.name]:.3f}", *ratio_cells(rtf, target.name, targets)])
    table(["mode", "server", "words", "audio (s)", "total (s)", "first audio (ms)", "RTF",
           *(f"RTF {h}" for h in ratio_header(targets))], rows)


def section_concurrency(targets: list[Target], args, texts: Texts) -> None:
    print("### Concurrent short replies (first audio over", args.rounds, "rounds)\n")
    rows = []
    results = {(t.name, n): ([], []) for t in targets for n in (1, 2, 4)}
    for clients in (1, 2, 4):
        for order in rotations(targets, args.rounds):
            batch = [texts(SHORT) for _ in range(clients)]
            for target in order:
                firsts, totals = results[(target.name, clients)]
                for speech in together(target, batch):
                    firsts.append(first(speech))
                    totals.append(speech.total)
    for target in targets:
        single = pct(results[(target.name, 1)][0], 95)
        for clients in (1, 2, 4):
            firsts, totals = results[(target.name, clients)]
            p95 = pct(firsts, 95)
            rows.append([target.name, str(clients), ms(pct(firsts, 50)), ms(p95),
                         f"{p95 / single:.2f}", f"{statistics.mean(totals):.2f}"])
    table(["server", "clients", "first audio p50 (ms)", "first audio p95 (ms)",
           "p95 / 1 client", "mean total (s)"], rows)


def section_fair(targets: list[Target], args, texts: Texts) -> None:
    print(f"### 4 medium replies at once ({args.fair_words} words each, median of "
          f"{args.repeat} rounds)\n")
    single: dict[str, list[float]] = {t.name: [] for t in targets}
    worst: dict[str, list[float]] = {t.name: [] for t in targets}
    best: dict[str, list[float]] = {t.name: [] for t in targets}
    for order in rotations(targets, args.repeat):
        alone = texts.reply(args.fair_words)
        four = [texts.reply(args.fair_words) for _ in range(4)]
        for target in order:
            single[target.name].append(first(speak(target, alone)))
            firsts = [first(s) for s in together(target, four)]
            worst[target.name].append(max(firsts))
            best[target.name].append(min(firsts))
    rows = []
    for target in targets:
        s = statistics.median(single[target.name])
        w = statistics.median(worst[target.name])
        rows.append([target.name, ms(s), ms(statistics.median(best[target.name])), ms(w),
                     f"{w / s:.2f}"])
    table(["server", "single reply: first audio (ms)", "4 at once: best first audio (ms)",
           "4 at once: worst first audio (ms)", "worst / single"], rows)


class Shared:
    """One sequence of new texts that every server is sent in the same order: the i-th text a
    server asks for is the i-th of the sequence, made when the first server asks for it."""

    def __init__(self, make) -> None:
        self._make, self._made = make, []

    def reader(self) -> Iterator[str]:
        for i in itertools.count():
            if i == len(self._made):
                self._made.append(self._make())
            yield self._made[i]


async def _describes_under_load(target: Target, count: int, load: Iterator[str]) -> list[float]:
    stop = asyncio.Event()

    async def client():
        while not stop.is_set():
            await once(target, next(load))

    clients = [asyncio.create_task(client()) for _ in range(4)]
    await asyncio.sleep(1.0)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        await describe(target.uri, timeout=30)
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*clients)  # let the replies end: the next server is measured alone
    return latencies


def section_describe(targets: list[Target], args, texts: Texts) -> None:
    print(f"### describe while 4 clients synthesize ({args.fair_words}-word replies)\n")
    blocks = max(1, min(4, args.describes // 25))  # interleaved in up to 4 blocks
    sizes = [args.describes // blocks + (i < args.describes % blocks) for i in range(blocks)]
    latencies: dict[str, list[float]] = {t.name: [] for t in targets}
    for size, order in zip(sizes, rotations(targets, blocks), strict=True):
        load = Shared(lambda: texts.reply(args.fair_words))  # the same load for every server
        for target in order:
            latencies[target.name] += asyncio.run(
                _describes_under_load(target, size, load.reader()))
    table(["server", "describes", "p50 (ms)", "p99 (ms)", "max (ms)"],
          [[t.name, str(len(v)), ms(pct(v, 50)), ms(pct(v, 99)), ms(max(v))]
           for t in targets for v in [latencies[t.name]]])


def section_llm(targets: list[Target], args, texts: Texts) -> None:
    delay = 1 / args.words_per_second
    print(f"### LLM-paced streaming ({args.words_per_second:g} words/s, median of "
          f"{args.repeat})\n")
    results: dict[str, tuple[list, list, list, list]] = {t.name: ([], [], [], [])
                                                          for t in targets}
    for order in rotations(targets, args.repeat):
        reply = texts(LLM_REPLY)
        # The first sentence of another reply: the same words, another number, so the whole
        # reply's first sentence is not in the cache yet.
        first_sentence = texts(LLM_REPLY).split(". ")[0] + "."
        for target in order:
            full, alone, tails, rest = results[target.name]
            a = speak(target, first_sentence, True, delay)
            b = speak(target, reply, True, delay)
            alone.append(first(a))
            full.append(first(b))
            tails.append(b.total - (b.stop_sent or 0.0))
            played = first(b) + b.seconds  # when a listener's playback ends
            rest.append(max(0.0, b.total - played))
    rows = []
    for target in targets:
        full, alone, tails, rest = results[target.name]
        f, s = statistics.median(full), statistics.median(alone)
        rows.append([target.name, ms(s), ms(f), f"{f / s:.2f}", ms(statistics.median(tails)),
                     ms(statistics.median(rest))])
    table(["server", "first sentence alone: first audio (ms)", "whole reply: first audio (ms)",
           "ratio", "tail after stop (ms)", "done after playback ends (ms)"], rows)


def _prerender_config(server_args: list[str], phrases: list[str], work: Path) -> list[str]:
    """``server_args`` with a config file whose cache.prerender lists ``phrases`` (the user's
    --config, if any, with that key replaced) and a fresh cache dir seeded with the model."""
    args, config = list(server_args), {}
    for flag in ("--config", "--cache-dir"):
        if flag in args:
            i = args.index(flag)
            if flag == "--config":
                config = yaml.safe_load(Path(args[i + 1]).read_text(encoding="utf-8")) or {}
            del args[i:i + 2]
    config.setdefault("cache", {})["prerender"] = phrases
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    cache_dir = seeded_cache_dir(work / "cache", default_cache_dir())
    return [*args, "--config", str(path), "--cache-dir", str(cache_dir)]


def _cache_rows(target: Target, args, texts: Texts, work: Path) -> list[list[str]]:
    """One server on one fresh cache dir, started twice: while it prerenders, once it is idle,
    and after the restart."""
    phrases = [texts.ha() for _ in range(args.prerender)]
    server = Server.kokoro(f"{target.name} (cache)", work / "server.log",
                           _prerender_config(target.server_args or [], phrases, work))
    probe = Target(target.name, server.uri, None, target.voice)
    k = args.repeat
    try:
        server.start()
        speak(probe, texts.ha())  # whatever a fresh process does on its first request
        busy = []
        for _ in range(k):
            if re.search(PRERENDERED, server.log):
                break
            speech = speak(probe, texts.ha())
            if not re.search(PRERENDERED, server.log):  # still prerendering when it ended
                busy.append(first(speech))
        if not server.wait_for_log(PRERENDERED):
            raise SystemExit(f"{server.name}: no {PRERENDERED!r} line in its log "
                             f"({server.log_path})")
        unseen, hits = [], []
        for phrase in phrases[:k]:
            unseen.append(first(speak(probe, texts.ha())))
            hits.append(first(speak(probe, phrase)))
        said = [texts.ha() for _ in range(k)]
        for text in said:
            speak(probe, text)
        time.sleep(1.0)  # the disk tier writes off the event loop, after the reply
        server.stop()
        mark = len(server.log)
        server.start()
        if not server.wait_for_log(PRERENDERED, after=mark):
            raise SystemExit(f"{server.name}: no {PRERENDERED!r} line after the restart")
        speak(probe, texts.ha())
        unseen_after, disk = [], []
        for text in said:
            unseen_after.append(first(speak(probe, texts.ha())))
            disk.append(first(speak(probe, text)))
    finally:
        server.stop()

    def row(label: str, values: list[float], baseline: list[float] | None) -> list[str]:
        m = median(values)
        return [target.name, label, str(len(values)), ms(m), span_ms(values),
                ratio(m, median(baseline or []))]

    return [row("unseen reply, idle", unseen, None),
            row("prerendered phrase", hits, unseen),
            row("unseen reply while prerendering", busy, unseen),
            row("unseen reply, after a restart", unseen_after, None),
            row("repeated reply, after a restart (disk)", disk, unseen_after)]


def section_cache(targets: list[Target], args, texts: Texts) -> None:
    print(f"### Phrase cache: prerendered ({args.prerender} phrases), during prerendering, and "
          "after a restart\n")
    for target in targets:
        if target.server_args is None:
            print(f"- {target.name}: skipped (only a kokoro server the bench starts itself "
                  "can be restarted on its own cache dir)")
    print()
    rows = []
    for target in targets:
        if target.server_args is not None:
            work = Path(tempfile.mkdtemp(prefix="kokoro-bench-cache-"))
            try:
                rows += _cache_rows(target, args, texts, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    if rows:
        table(["server", "request", "n", "first audio, median (ms)", "range (ms)",
               "/ unseen on the same server"], rows)
        print("Ratios: the prerendered phrase and the reply during prerendering against the "
              "idle server's unseen reply; the repeated reply after the restart against an "
              "unseen one after the restart. A reply counts as during prerendering only if "
              "the prerender run was still going when it ended.\n")


def section_peak(targets: list[Target], args, texts: Texts) -> None:
    print(f"### RSS peak (sampled every 50 ms): 4 long replies ({args.long_words} words) in "
          "flight, then a 4,000-character run-on\n")
    rows = []
    # The same texts for every server (new to each).
    before, four, run_on_text = (texts.reply(args.fair_words),
                                 [texts.reply(args.long_words) for _ in range(4)], texts.run_on())
    for target in targets:
        if target.pid is None:
            print(f"- {target.name}: skipped (no pid)\n")
            continue
        speak(target, before)
        steady = target.rss_mb()
        with RssPeak(target) as replies:
            _hang_up_after(target, four, args.memory_seconds)
        with RssPeak(target) as run_on:
            _hang_up_after(target, [run_on_text], args.memory_seconds)
        after = target.rss_mb()
        rows.append([target.name, _mb(steady), _mb(replies.peak), _mb(run_on.peak),
                     _mb(max(replies.peak, run_on.peak)), _mb(after)])
    if rows:
        table(["server", "steady (MB)", "peak, 4 long replies (MB)",
               "peak, 4,000-char run-on (MB)", "peak (MB)", "after (MB)"], rows)


def _hang_up_after(target: Target, batch: list[str], seconds: float) -> None:
    """``batch`` sent at once, hanging up after ``seconds`` (the server drops the rest)."""
    async def run():
        task = asyncio.create_task(_together(target, batch))
        done, _ = await asyncio.wait([task], timeout=seconds)
        if not done:
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())


def section_memory(targets: list[Target], args, texts: Texts) -> None:
    print("### Memory (RSS of the server process)\n")
    rows = []
    before, big = texts.reply(MEDIUM_WORDS), (texts.of_chars(100_000), texts.run_on())
    for target in targets:
        if target.pid is None:
            continue
        speak(target, before)
        steady = target.rss_mb()
        peaks = []
        for text in big:
            with RssPeak(target, 0.1) as peak:
                _hang_up_after(target, [text], args.memory_seconds)
            peaks.append(peak.peak)
        rows.append([target.name, _mb(steady), *(_mb(p) for p in peaks), _mb(target.rss_mb())])
    if rows:
        table(["server", "steady (MB)", f"peak, 100,000 chars, first {args.memory_seconds:g} s "
               "(MB)", "peak, 4,000-char run-on (MB)", "after (MB)"], rows)


def section_soak(targets: list[Target], args, texts: Texts) -> None:
    """RSS before, at the half-way mark (under load: pieces in flight), and once idle after the
    last request (the server hands freed memory back when idle); growth compares idle with
    idle."""
    print(f"### Soak: {args.soak} short requests from 4 clients\n")
    rows = []
    for target in targets:
        speak(target, texts(SHORT))
        before = target.rss_mb()
        started = time.perf_counter()

        async def run(t=target) -> float | None:
            """Runs the soak; returns the RSS when half the requests are done."""
            counter, done = itertools.count(), itertools.count(1)
            middle = None

            async def client():
                nonlocal middle
                while next(counter) < args.soak:
                    await once(t, texts(SHORT))
                    if next(done) == args.soak // 2:
                        middle = t.rss_mb()

            await asyncio.gather(*(client() for _ in range(4)))
            return middle

        middle = asyncio.run(run())
        seconds = time.perf_counter() - started
        time.sleep(SOAK_SETTLE)  # the server hands freed memory back once idle
        after = target.rss_mb()
        rows.append([target.name, str(args.soak), f"{seconds:.0f}", _mb(before), _mb(middle),
                     _mb(after), _growth(before, after)])
    table(["server", "requests", "seconds", "RSS before (MB)", "RSS half-way, busy (MB)",
           "RSS after, idle (MB)", "growth"], rows)


SOAK_SETTLE = 2.0


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _growth(start: float | None, end: float | None) -> str:
    return "—" if not start or end is None else f"{100 * (end - start) / start:+.1f} %"


SECTIONS = {"latency": section_latency, "ha": section_ha, "long": section_long,
            "concurrency": section_concurrency, "fair": section_fair,
            "describe": section_describe, "llm": section_llm, "cache": section_cache,
            "peak": section_peak, "memory": section_memory, "soak": section_soak}


# -- running ----------------------------------------------------------------------------------

def parse_compare(spec: str) -> tuple[str | None, str, int | None]:
    """``[NAME=]URI[@PID]`` -> (name, uri, pid)."""
    name, _, uri = spec.partition("=") if "=" in spec else (None, "", spec)
    pid = None
    head, at, tail = uri.rpartition("@")
    if at and tail.isdigit():
        uri, pid = head, int(tail)
    if not uri.startswith("tcp://"):
        raise SystemExit(f"--compare {spec!r}: expected [NAME=]tcp://HOST:PORT[@PID]")
    return name or None, uri, pid


def compare_targets(args) -> list[Target]:
    """The --compare servers; --compare-name/-pid/-voice, when given, name the i-th one's
    (given once per --compare, in the same order)."""
    specs = args.compare or []
    per = {"--compare-name": args.compare_name, "--compare-pid": args.compare_pid,
           "--compare-voice": args.compare_voice}
    for flag, values in per.items():
        if values and len(values) != len(specs):
            raise SystemExit(f"{flag} given {len(values)} times for {len(specs)} --compare "
                             "servers: give it once per --compare, in the same order (or use "
                             "--compare NAME=URI@PID)")
    targets = []
    for i, spec in enumerate(specs):
        name, uri, pid = parse_compare(spec)
        if args.compare_name and name and args.compare_name[i] != name:
            raise SystemExit(f"--compare {spec!r} is named twice: {name} and "
                             f"--compare-name {args.compare_name[i]}")
        name = (args.compare_name[i] if args.compare_name else name) or (
            "other" if len(specs) == 1 else f"other-{i + 1}")
        if args.compare_pid:
            pid = args.compare_pid[i]
        targets.append(Target(name, uri, pid,
                              args.compare_voice[i] if args.compare_voice else None))
    return targets


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", help="server to measure (default: start wyoming-kokoro)")
    parser.add_argument("--pid", type=int, help="its process id, for memory figures")
    parser.add_argument("--name", default="kokoro")
    parser.add_argument("--voice")
    parser.add_argument("--compare", action="append", metavar="[NAME=]URI[@PID]",
                        help="another Wyoming TTS server to measure alongside (repeatable)")
    parser.add_argument("--compare-pid", type=int, action="append",
                        help="the pid of the i-th --compare server (once per --compare)")
    parser.add_argument("--compare-name", action="append",
                        help="the name of the i-th --compare server (once per --compare)")
    parser.add_argument("--compare-voice", action="append",
                        help="the voice asked of the i-th --compare server (once per --compare)")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS))
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per row (latency, long, fair, llm, cache)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the concurrency rows")
    parser.add_argument("--ha", type=int, default=12, help="Home Assistant replies (ha)")
    parser.add_argument("--long-words", type=int, default=270,
                        help="words of the long reply (long, peak): 270 is about 90 s of audio")
    parser.add_argument("--fair-words", type=int, default=40,
                        help="words of a medium reply (fair, describe, peak's warm-up)")
    parser.add_argument("--prerender", type=int, default=24,
                        help="phrases in the cache section's prerender list")
    parser.add_argument("--describes", type=int, default=100)
    parser.add_argument("--words-per-second", type=float, default=20.0)
    parser.add_argument("--memory-seconds", type=float, default=60.0,
                        help="longest wait for a memory or peak request before hanging up")
    parser.add_argument("--soak", type=int, default=0, help="run the soak with N requests")
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[],
                        help="flags for the started server (must come last)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the started server too
    compared = compare_targets(args)
    sections = args.only or [s for s in SECTIONS if s != "soak" or args.soak]
    if args.soak and "soak" not in sections:
        sections.append("soak")
    names = [args.name, *(t.name for t in compared)]
    if len(set(names)) != len(names):
        raise SystemExit(f"every server needs its own name, got {', '.join(names)}")
    work = Path(tempfile.mkdtemp(prefix="kokoro-bench-"))
    server = None
    try:
        if args.uri is not None:
            main_target = Target(args.name, args.uri, args.pid, args.voice)
        elif sections == ["cache"]:  # the cache section starts servers of its own
            main_target = Target(args.name, "", None, args.voice,
                                 server_args=list(args.server_args))
        else:
            # A cache dir of its own (the model copied in, no phrase audio): nothing a former
            # run said is on disk.
            extra = ([] if "--cache-dir" in args.server_args else
                     ["--cache-dir", str(seeded_cache_dir(work / "cache", default_cache_dir()))])
            server = Server.kokoro(args.name, work / "server.log", [*args.server_args, *extra])
            server.start()
            main_target = Target(args.name, server.uri, server.pid, args.voice,
                                 list(args.server_args))
        targets = [main_target, *compared]
        texts = Texts()
        warm_up = texts(SHORT)
        for target in targets:  # warm up: first requests load what servers load lazily
            if target.uri:
                speak(target, warm_up)
        listed = ", ".join(f"{t.name} {t.uri or '(started by the cache section)'}"
                           for t in targets)
        print(f"Servers: {listed} — {machine()}\n", flush=True)
        for section in sections:
            SECTIONS[section](targets, args, texts)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not stop the cleanup
            signal.signal(sig, signal.SIG_IGN)
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the servers it started are stopped by then
        sys.exit(130)
