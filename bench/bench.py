"""Latency, speed, fairness and memory of a Wyoming TTS server, measured from a client.

    uv run python bench/bench.py                         # starts wyoming-kokoro on a free port
    uv run python bench/bench.py --uri tcp://127.0.0.1:10200 --pid 1234
    uv run python bench/bench.py --compare tcp://127.0.0.1:10400 --compare-pid 5678   # e.g. piper
    uv run python bench/bench.py --only latency concurrency --repeat 5

Sections (all by default, except soak):
  latency      first audio, total time and real-time factor for an 8-, 40- and 200-word reply,
               sent whole (synthesize) and word by word (streaming); and a repeated reply
  concurrency  1, 2 and 4 clients sending short replies at once: first audio p50 / p95
  describe     describe latency while 4 clients synthesize: p50 / p99
  llm          an LLM-paced stream (20 words/s): first audio, against the first sentence
               streamed alone at the same pace; tail from synthesize-stop to the end
  memory       server RSS: steady, and peak during a 100,000-character request and a
               4,000-character run-on request (needs --pid, or a server started by the bench)
  soak         --soak N short requests from 4 clients: RSS before, half-way and once idle
With --compare, every section runs against both servers in the same run, interleaved, so the
ratios compare like with like. Every request uses text the server has not seen before (except
the "repeat" row), so no cache hides the cost. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wyoming_kokoro.client import describe, synthesize

# Every sentence holds a number that changes from request to request, so no phrase cache (the
# server's, or a sentence cache elsewhere) answers a measured request.
SHORT = "Scene {0} is now on in the kitchen."  # 8 words
MEDIUM = (
    "Good morning number {0}. It is currently {1} degrees outside with light rain, and the "
    "forecast says clouds clear by noon. Your first meeting starts at {2} past nine, and the "
    "dishwasher finished about {3} minutes ago. Have fun today."
)  # 40 words
LONG = (
    "Here is summary {0} of your day. The weather this morning is cool and damp, with light rain "
    "until about {1}. After that the clouds should break up, and the afternoon will be mild "
    "and mostly sunny, with a high of {2} degrees. Tonight it will be clear and cold, so "
    "you may want to close the bedroom window before {3}. On your calendar, you have "
    "a call with the design team at {4}, lunch with Sam at half past twelve, and the "
    "dentist at four in the afternoon. The car is charged to {5} percent, which is enough "
    "for all trips. At home, the front door is locked, the garage door is closed, "
    "and the {6} lights are off. The washing machine will finish in about {7} "
    "minutes. The thermostat is set to {8} degrees, and the heating will switch to eco "
    "mode when everyone has left the house. Package {9} from the hardware store is out for "
    "delivery and should arrive between two and five. Finally, remember that the recycling "
    "goes out at {10}, and that your sister's birthday is on day {11}. Talk to you later at {12}. "
    "Have a really good and calm day {13}, friend."
)  # 200 words
LLM_REPLY = (
    "Sure, I turned on {0} lights in the hallway. It is {1} degrees inside right now, and the "
    "heating is set to {2} degrees. Let me know if you want anything else {3}."
)


class Texts:
    """Fresh variants of each template: the first slot gets a number never used before, the
    others numbers not used in that slot for the last 89 requests, so no cached sentence or
    reply answers a measured request (a soak of thousands included)."""

    def __init__(self) -> None:
        self._seq = itertools.count()

    def __call__(self, template: str) -> str:
        i = next(self._seq)
        return template.format(10 + i, *(10 + (i + 17 * slot) % 89 for slot in range(1, 16)))


@dataclass
class Target:
    name: str
    uri: str
    pid: int | None
    voice: str | None = None

    def rss_mb(self) -> float | None:
        if self.pid is None:
            return None
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        return int(text.split("VmRSS:")[1].split()[0]) / 1024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(flush=True)


async def once(target: Target, text: str, stream: bool = False, delay: float = 0.0):
    speech = await synthesize(target.uri, text, target.voice, stream=stream, chunk_delay=delay)
    if speech.error is not None:
        raise SystemExit(f"{target.name}: server error: {speech.error.text}")
    return speech


# -- sections ---------------------------------------------------------------------------------

def section_latency(targets: list[Target], args, texts: Texts) -> None:
    print("### Latency and real-time factor (median of", args.repeat, "runs)\n")
    rows = []
    for label, template in (("short", SHORT), ("medium", MEDIUM), ("long", LONG)):
        for stream in (False, True):
            mode = "streaming" if stream else "synthesize"
            for target in targets:
                runs = [asyncio.run(once(target, texts(template), stream))
                        for _ in range(args.repeat)]
                first = statistics.median(s.first_audio or s.total for s in runs)
                total = statistics.median(s.total for s in runs)
                audio = statistics.median(s.seconds for s in runs)
                rows.append([label, str(len(texts(template).split())), mode, target.name,
                             ms(first), f"{total:.2f}", f"{audio:.2f}", f"{total / audio:.2f}"])
    for target in targets:  # the same reply again: from the phrase cache, if the server has one
        text = texts(SHORT)
        asyncio.run(once(target, text))
        again = [asyncio.run(once(target, text)) for _ in range(args.repeat)]
        first = statistics.median(s.first_audio or s.total for s in again)
        total = statistics.median(s.total for s in again)
        rows.append(["short, repeated", "8", "synthesize", target.name, ms(first),
                     f"{total:.2f}", f"{again[0].seconds:.2f}", f"{total / again[0].seconds:.2f}"])
    table(["text", "words", "mode", "server", "first audio (ms)", "total (s)", "audio (s)",
           "RTF"], rows)


def section_concurrency(targets: list[Target], args, texts: Texts) -> None:
    print("### Concurrent short replies (first audio over", args.rounds, "rounds)\n")
    rows = []
    for target in targets:
        single = None
        for clients in (1, 2, 4):
            firsts: list[float] = []
            totals: list[float] = []
            for _ in range(args.rounds):
                async def round_(n=clients, t=target):
                    return await asyncio.gather(*(once(t, texts(SHORT))
                                                  for _ in range(n)))
                for speech in asyncio.run(round_()):
                    firsts.append(speech.first_audio or speech.total)
                    totals.append(speech.total)
            p95 = pct(firsts, 95)
            if clients == 1:
                single = p95
            rows.append([target.name, str(clients), ms(pct(firsts, 50)), ms(p95),
                         f"{p95 / single:.2f}", f"{statistics.mean(totals):.2f}"])
    table(["server", "clients", "first audio p50 (ms)", "first audio p95 (ms)",
           "p95 / 1 client", "mean total (s)"], rows)


def section_describe(targets: list[Target], args, texts: Texts) -> None:
    print("### describe while 4 clients synthesize\n")
    rows = []
    for target in targets:
        async def run(t=target):
            stop = asyncio.Event()

            async def client():
                while not stop.is_set():
                    await once(t, texts(MEDIUM))

            clients = [asyncio.create_task(client()) for _ in range(4)]
            await asyncio.sleep(1.0)
            latencies = []
            for _ in range(args.describes):
                started = time.perf_counter()
                await describe(t.uri, timeout=30)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*clients)
            return latencies

        latencies = asyncio.run(run())
        rows.append([target.name, str(len(latencies)), ms(pct(latencies, 50)),
                     ms(pct(latencies, 99)), ms(max(latencies))])
    table(["server", "describes", "p50 (ms)", "p99 (ms)", "max (ms)"], rows)


def section_llm(targets: list[Target], args, texts: Texts) -> None:
    delay = 1 / args.words_per_second
    print(f"### LLM-paced streaming ({args.words_per_second:g} words/s, median of "
          f"{args.repeat})\n")
    rows = []
    for target in targets:
        full, alone, tails, rest = [], [], [], []
        for _ in range(args.repeat):
            reply = texts(LLM_REPLY)
            first_sentence = reply.split(". ")[0] + "."
            a = asyncio.run(once(target, first_sentence, True, delay))
            b = asyncio.run(once(target, reply, True, delay))
            alone.append(a.first_audio)
            full.append(b.first_audio)
            tails.append(b.total - b.stop_sent)
            played = b.first_audio + b.seconds  # when a listener's playback ends
            rest.append(max(0.0, b.total - played))
        f, s = statistics.median(full), statistics.median(alone)
        rows.append([target.name, ms(s), ms(f), f"{f / s:.2f}", ms(statistics.median(tails)),
                     ms(statistics.median(rest))])
    table(["server", "first sentence alone: first audio (ms)", "whole reply: first audio (ms)",
           "ratio", "tail after stop (ms)", "done after playback ends (ms)"], rows)


def section_memory(targets: list[Target], args, texts: Texts) -> None:
    print("### Memory (RSS of the server process)\n")
    rows = []
    for target in targets:
        if target.pid is None:
            continue
        asyncio.run(once(target, texts(MEDIUM)))
        steady = target.rss_mb()
        peaks = {}
        for label, text in (("100,000 characters", ("The quick brown fox jumps over the lazy "
                                                     "dog. " * 2300)[:100_000]),
                            ("4,000 characters, no punctuation", " ".join(["word"] * 800))):
            async def run(t=target, text=text):
                task = asyncio.create_task(synthesize(t.uri, text, t.voice, timeout=600))
                peak = 0.0
                deadline = time.monotonic() + args.memory_seconds
                while not task.done() and time.monotonic() < deadline:
                    peak = max(peak, t.rss_mb() or 0.0)
                    await asyncio.sleep(0.1)
                task.cancel()  # hang up: the server must drop the rest
                await asyncio.gather(task, return_exceptions=True)
                return peak

            peaks[label] = asyncio.run(run())
        after = target.rss_mb()
        rows.append([target.name, f"{steady:.0f}", *(f"{p:.0f}" for p in peaks.values()),
                     f"{after:.0f}"])
    if rows:
        table(["server", "steady (MB)", f"peak, 100,000 chars, first {args.memory_seconds} s "
               "(MB)", "peak, 4,000-char run-on (MB)", "after (MB)"], rows)


def section_soak(targets: list[Target], args, texts: Texts) -> None:
    """RSS before, at the half-way mark (under load: pieces in flight), and once idle after the
    last request (the server hands freed memory back when idle); growth compares idle with
    idle."""
    print(f"### Soak: {args.soak} short requests from 4 clients\n")
    rows = []
    for target in targets:
        asyncio.run(once(target, texts(SHORT)))
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


SECTIONS = {"latency": section_latency, "concurrency": section_concurrency,
            "describe": section_describe, "llm": section_llm, "memory": section_memory,
            "soak": section_soak}


# -- running ----------------------------------------------------------------------------------

def start_server(server_args: list[str]) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"tcp://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "wyoming_kokoro", "--uri", uri, *server_args]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            asyncio.run(describe(uri, timeout=2))
            return proc, uri
        except (TimeoutError, OSError):
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", help="server to measure (default: start wyoming-kokoro)")
    parser.add_argument("--pid", type=int, help="its process id, for memory figures")
    parser.add_argument("--name", default="kokoro")
    parser.add_argument("--voice")
    parser.add_argument("--compare", help="another Wyoming TTS server to measure alongside")
    parser.add_argument("--compare-pid", type=int)
    parser.add_argument("--compare-name", default="other")
    parser.add_argument("--compare-voice")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--describes", type=int, default=100)
    parser.add_argument("--words-per-second", type=float, default=20.0)
    parser.add_argument("--memory-seconds", type=float, default=60.0)
    parser.add_argument("--soak", type=int, default=0, help="run the soak with N requests")
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[],
                        help="flags for the started server (must come last)")
    args = parser.parse_args()

    proc = None
    uri, pid = args.uri, args.pid
    if uri is None:
        proc, uri = start_server(args.server_args)
        pid = proc.pid
    targets = [Target(args.name, uri, pid, args.voice)]
    if args.compare:
        targets.append(Target(args.compare_name, args.compare, args.compare_pid,
                              args.compare_voice))
    sections = args.only or [s for s in SECTIONS if s != "soak" or args.soak]
    if args.soak and "soak" not in sections:
        sections.append("soak")
    texts = Texts()
    try:
        for target in targets:  # warm up: first requests load what servers load lazily
            asyncio.run(once(target, texts(SHORT)))
        print(f"Servers: {', '.join(f'{t.name} {t.uri}' for t in targets)} — {machine()}\n")
        for section in sections:
            SECTIONS[section](targets, args, texts)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
