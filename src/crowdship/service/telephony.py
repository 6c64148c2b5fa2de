"""Calls between an order's parties without exposing their numbers.

A telephony provider bridges the caller to the callee through a masked number that works
only for that pair and for a limited time. No provider is configured by default (the order's
message thread is the way to reach each other then); ``log`` pretends to be one for demos,
handing out numbers from a reserved test range and logging each bridge."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger("crowdship.telephony")


@dataclass(frozen=True)
class Bridge:
    masked_number: str  # the caller dials this; the provider connects them to the callee
    expires_at: datetime


class Telephony(Protocol):
    def bridge(self, caller: str, callee: str, now: datetime, minutes: int) -> Bridge:
        """A masked number connecting ``caller`` to ``callee`` until it expires, or raise."""
        ...


class LogTelephony:
    """For demos: numbers from a range reserved for fiction (+358 40 0000 0xx), logged."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def bridge(self, caller: str, callee: str, now: datetime, minutes: int) -> Bridge:
        with self._lock:
            self._next = (self._next + 1) % 100
            number = f"+35840000000{self._next:02d}"
        log.info("call bridge %s: %s -> %s for %d min", number, caller, callee, minutes)
        return Bridge(number, now + timedelta(minutes=minutes))


def telephony_named(name: str) -> Telephony | None:
    if name == "none":
        return None
    if name == "log":
        return LogTelephony()
    raise ValueError(f"unknown telephony provider {name!r}; choose none or log")
