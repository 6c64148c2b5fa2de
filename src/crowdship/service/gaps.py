"""Ids a reader skipped because their rows were not committed yet.

A feed read by position (every order event after the last one read) misses a row on
PostgreSQL when two transactions commit out of id order: the reader sees id 11, moves past
it, and id 10 commits a moment later. ``IdGaps`` remembers the ids missing below what a
read returned, so the next reads ask for them again, until they turn up or are old enough
to be ids of transactions that rolled back (a sequence never gives an id back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

# Longer than any transaction the service runs (a matching batch takes seconds).
GIVE_UP_S = 120.0


class IdGaps:
    def __init__(self, give_up_s: float = GIVE_UP_S) -> None:
        self.give_up_s = give_up_s
        self._missing: dict[int, float] = {}  # id -> when first missed (monotonic)
        self._lock = threading.Lock()

    def pending(self) -> list[int]:
        """The ids still missing, the too-old ones forgotten."""
        now = time.monotonic()
        with self._lock:
            for gap in [g for g, since in self._missing.items() if now - since > self.give_up_s]:
                del self._missing[gap]
            return sorted(self._missing)

    def saw(self, after: int, ids: Iterable[int], found_late: Iterable[int] = ()) -> None:
        """A read past ``after`` returned ``ids`` (ascending), and an ask for the pending
        ones returned ``found_late``: remember the holes, forget what turned up."""
        now = time.monotonic()
        seen = sorted(ids)
        with self._lock:
            for late in found_late:
                self._missing.pop(late, None)
            expected = after + 1
            for current in seen:
                for hole in range(expected, min(current, expected + 10_000)):
                    self._missing.setdefault(hole, now)
                expected = current + 1
