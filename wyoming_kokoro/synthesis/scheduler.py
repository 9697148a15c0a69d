"""Inference scheduling: a worker pool that always runs the most urgent piece first.

Each request submits one piece of work at a time, with a *deadline*: the moment its listener
would run out of audio. A request's first piece is due at once; a later piece is due when the
audio already sent has played. Workers take the earliest deadline first (EDF), so a new request's
first words jump ahead of a long reply's tenth sentence, and concurrent replies interleave
sentence by sentence instead of request after request. Cancelled work is skipped.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_LOGGER = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, workers: int, name: str = "kokoro") -> None:
        self._name = name
        self._heap: list[tuple[float, int, Future, Callable[..., Any], tuple]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._retire = 0
        self._closed = False
        self.busy = 0
        self.resize(workers)

    @property
    def pending(self) -> int:
        """Pieces waiting for a worker."""
        return len(self._heap)

    def overdue(self, now: float) -> int:
        """Pieces waiting whose deadline has passed: listeners already waiting for audio."""
        with self._cond:
            return sum(1 for deadline, *_ in self._heap if deadline <= now)

    def submit(self, deadline: float, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the scheduler is closed")
            heapq.heappush(self._heap, (deadline, next(self._order), future, fn, args))
            self._cond.notify()
        return future

    def resize(self, workers: int) -> None:
        """Grow at once; shrink as surplus workers finish their current piece."""
        with self._cond:
            alive = len(self._threads) - self._retire
            if workers > alive:
                reuse = min(self._retire, workers - alive)
                self._retire -= reuse
                for _ in range(workers - alive - reuse):
                    thread = threading.Thread(target=self._work, daemon=True,
                                              name=f"{self._name}-{len(self._threads)}")
                    self._threads.append(thread)
                    thread.start()
            elif workers < alive:
                self._retire += alive - workers
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for _, _, future, _, _ in self._heap:
                future.cancel()
            self._heap.clear()
            self._cond.notify_all()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while not self._heap and not self._closed and not self._retire:
                    self._cond.wait()
                if self._closed or self._retire:
                    if self._retire:
                        self._retire -= 1
                    self._threads.remove(me)
                    return
                _, _, future, fn, args = heapq.heappop(self._heap)
                self.busy += 1
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as err:  # delivered to the awaiting request
                        future.set_exception(err)
            finally:
                with self._cond:
                    self.busy -= 1
