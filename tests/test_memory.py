"""Handing freed memory back: at most once per interval, however often a reply ends."""

from __future__ import annotations

import time

from wyoming_kokoro.memory import Trimmer


def test_trimmer_is_due_once_per_interval():
    trimmer = Trimmer(interval=0.2)
    assert trimmer.due()
    assert not trimmer.due() and not trimmer.due()
    time.sleep(0.25)
    assert trimmer.due()
    assert not trimmer.due()
