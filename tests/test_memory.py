"""Handing freed memory back: once the server has been idle a moment, never while it works."""

from __future__ import annotations

import asyncio

from wyoming_kokoro.memory import IdleTrimmer


def _trims(events: list[tuple[float, bool]], delay: float = 0.1) -> int:
    """Replay (seconds to wait, idle afterwards?) steps; count the trims done."""
    trims: list[int] = []
    state = {"idle": True}

    async def replay() -> None:
        trimmer = IdleTrimmer(delay=delay, trim=lambda: trims.append(1))
        for wait, idle in events:
            await asyncio.sleep(wait)
            state["idle"] = idle
            if idle:
                trimmer.idle(lambda: state["idle"])
        await asyncio.sleep(3 * delay)

    asyncio.run(replay())
    return len(trims)


def test_one_reply_ending_trims_once_after_the_delay():
    assert _trims([(0, True)]) == 1


def test_replies_ending_close_together_trim_once():
    assert _trims([(0, True), (0.02, True), (0.02, True)]) == 1


def test_idle_spells_apart_each_trim():
    # the second reply ends soon after the first trim: it is trimmed too, not skipped
    assert _trims([(0, True), (0.15, False), (0.02, True)]) == 2


def test_no_trim_while_a_reply_runs_again():
    assert _trims([(0, True), (0.02, False)]) == 0
