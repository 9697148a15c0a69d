"""Latency and speed of a Wyoming TTS server, measured from a client.

    uv run python bench/bench.py                       # starts wyoming-kokoro on a free port
    uv run python bench/bench.py --uri tcp://127.0.0.1:10200 [--voice jf_alpha]

For a short (8 words), medium (40) and long (200 words) English text, sent whole (`synthesize`) and
word by word (`synthesize-start/chunk/stop`), it reports the median over --repeat runs of: time to
the first audio chunk, total time, seconds of audio, and the real-time factor (total / audio).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wyoming_kokoro.client import describe, synthesize

SHORT = "Turning on the lights in the living room."
MEDIUM = (
    "Good morning. It is currently twelve degrees outside with light rain, and the forecast "
    "says the clouds will clear by noon. Your first meeting starts at nine thirty, and the "
    "dishwasher finished its cycle about ten minutes ago. Have fun."
)
LONG = (
    "Here is a summary of your day. The weather this morning is cool and damp, with light rain "
    "until about eleven. After that the clouds should break up, and the afternoon will be mild "
    "and mostly sunny, with a high of eighteen degrees. Tonight it will be clear and cold, so "
    "you may want to close the bedroom window before you go to sleep. On your calendar, you have "
    "a call with the design team at nine thirty, lunch with Sam at half past twelve, and the "
    "dentist at four in the afternoon. The car is charged to eighty percent, which is enough "
    "for all of today's trips. At home, the front door is locked, the garage door is closed, "
    "and the living room lights are off. The washing machine will finish in about twenty "
    "minutes. The thermostat is set to twenty one degrees, and the heating will switch to eco "
    "mode when everyone has left the house. Your package from the hardware store is out for "
    "delivery and should arrive between two and five. Finally, remember that the recycling "
    "goes out tonight, and that your sister's birthday is on Saturday. Talk to you later. "
    "Have a really good day."
)
TEXTS = {"short": SHORT, "medium": MEDIUM, "long": LONG}


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"tcp://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "wyoming_kokoro", "--uri", uri, *args.server_args]
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


async def measure(uri: str, text: str, voice: str | None, stream: bool, repeat: int):
    rows = []
    for _ in range(repeat):
        speech = await synthesize(uri, text, voice, stream=stream)
        if speech.error is not None:
            raise SystemExit(f"server error: {speech.error.text}")
        rows.append((speech.first_audio or speech.total, speech.total, speech.seconds))
    first = statistics.median(r[0] for r in rows)
    total = statistics.median(r[1] for r in rows)
    audio = statistics.median(r[2] for r in rows)
    return first, total, audio


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
    parser.add_argument("--voice")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server-args", nargs=argparse.REMAINDER, default=[],
                        help="flags for the started server (must come last)")
    args = parser.parse_args()

    proc = None
    uri = args.uri
    if uri is None:
        proc, uri = start_server(args)
    try:
        asyncio.run(synthesize(uri, "Warm up.", args.voice))
        print(f"Server: {uri} — {machine()}\n")
        print("| text | words | mode | first audio (s) | total (s) | audio (s) | RTF |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for name, text in TEXTS.items():
            for stream in (False, True):
                first, total, audio = asyncio.run(
                    measure(uri, text, args.voice, stream, args.repeat))
                mode = "streaming" if stream else "synthesize"
                rtf = total / audio if audio else float("nan")
                print(f"| {name} | {len(text.split())} | {mode} | {first:.3f} | {total:.2f} "
                      f"| {audio:.2f} | {rtf:.2f} |", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
