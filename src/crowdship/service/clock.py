"""Where the service reads the time. Everything time-dependent (offer expiry, the withdrawal
window, which trips have departed, which days are over) asks a clock passed in, so tests and
the demo can move time without sleeping.

Two times: ``now()`` is the service's time, the one every business rule reads; ``wall()``
is real time, for what must not speed up with a demo (how long a login token lasts)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The service's current time, timezone-aware UTC."""
        ...

    def wall(self) -> datetime:
        """Real time (for login tokens), timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wall(self) -> datetime:
        return datetime.now(UTC)


class DemoClock:
    """The service's time runs ``speed`` times faster than real time from ``start``: a demo
    where a 5-minute withdrawal window or a whole day passes while a person watches.
    ``monotonic`` is the real-time source (tests pass one they control)."""

    def __init__(
        self,
        start: datetime,
        speed: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("DemoClock needs a timezone-aware start")
        if not speed > 0:
            raise ValueError(f"DemoClock speed must be > 0, got {speed}")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        elapsed = self._monotonic() - self._origin
        return self.start + timedelta(seconds=elapsed * self.speed)

    def wall(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulations of the service)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def wall(self) -> datetime:
        return self.now()  # tests move token expiry with the clock too

    def advance(self, minutes: float) -> datetime:
        with self._lock:
            self._now += timedelta(minutes=minutes)
            return self._now
