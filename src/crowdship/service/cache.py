"""A value re-read at most every ``ttl_s`` seconds, for per-process caches of rarely changed
rows (the tariff in force). Another process's change is seen within ``ttl_s``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TimedValue(Generic[T]):
    def __init__(self, ttl_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entry: tuple[float, T] | None = None

    def get(self, load: Callable[[], T]) -> T:
        entry = self._entry
        if entry is not None and time.monotonic() - entry[0] < self.ttl_s:
            return entry[1]
        value = load()
        with self._lock:
            self._entry = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        """After a change commits, this process sees it at once."""
        self._entry = None
