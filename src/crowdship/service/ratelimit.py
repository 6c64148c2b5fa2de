"""Rate limits: at most so many attempts per key in a sliding window of seconds.

Kept in this process's memory: each service worker process counts on its own, so with
``n`` workers a client may get up to ``n`` times the limit (the limits are a brake on
guessing, not a quota). Time is the machine's monotonic clock, not the service clock: a
demo clock running fast must not shorten the windows.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from crowdship.service.errors import TooManyRequests


class SlidingWindow:
    """Attempts per key in the last ``window_s`` seconds; ``limit`` 0 means no limit."""

    MAX_KEYS = 100_000

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        if self.limit <= 0:
            return 0.0
        hits = self._hits.get(key)
        if hits is None:
            return 0.0
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) < self.limit:
            return 0.0
        return hits[0] + self.window_s - now

    def record(self, key: str, now: float) -> None:
        if self.limit <= 0:
            return
        if key not in self._hits and len(self._hits) >= self.MAX_KEYS:
            self._forget(now)
        self._hits.setdefault(key, deque(maxlen=self.limit)).append(now)

    def _forget(self, now: float) -> None:
        """Drop keys with no attempt in the window (all of them if that is not enough)."""
        stale = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window_s]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= self.MAX_KEYS:
            self._hits.clear()


class Limits:
    """The service's limits: signing in (per email and per client address) and entering
    handover codes (per account and per client address)."""

    def __init__(
        self,
        sign_in: int,
        sign_in_address: int,
        code: int,
        code_address: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sign_in_account = SlidingWindow(sign_in, window_s)
        self.sign_in_address = SlidingWindow(sign_in_address, window_s)
        self.code_account = SlidingWindow(code, window_s)
        self.code_address = SlidingWindow(code_address, window_s)
        self._clock = clock
        self._lock = threading.Lock()

    def sign_in(self, email: str, address: str) -> None:
        """Count a sign-in attempt; TooManyRequests when over either limit."""
        self._attempt(
            "sign-in attempts",
            (self.sign_in_account, email.strip().lower()),
            (self.sign_in_address, address),
        )

    def code_entry(self, account_id: int, address: str) -> None:
        """Count a handover code entry; TooManyRequests when over either limit."""
        self._attempt(
            "code entries",
            (self.code_account, str(account_id)),
            (self.code_address, address),
        )

    def _attempt(self, what: str, *counts: tuple[SlidingWindow, str]) -> None:
        with self._lock:
            now = self._clock()
            wait = max(window.wait(key, now) for window, key in counts)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise TooManyRequests(
                    f"too many {what}; try again in {seconds} s", retry_after=seconds
                )
            for window, key in counts:
                window.record(key, now)
