"""Text messages to receivers, through a provider interface.

The default provider writes each message to the log (a laptop has no SMS gateway); a real
deployment plugs in its gateway's client. ``RecordingSms`` keeps messages in memory so tests
and the demo can read them back.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

log = logging.getLogger("crowdship.sms")


class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone`` (E.164) or raise."""
        ...


class LogSms:
    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    at: datetime


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)
        with self._lock:
            self.sent.append(SentSms(phone, text, datetime.now(UTC)))

    def to(self, phone: str) -> list[str]:
        with self._lock:
            return [m.text for m in self.sent if m.phone == phone]


def provider_named(name: str) -> SmsProvider:
    providers: dict[str, type[LogSms] | type[RecordingSms]] = {
        "log": LogSms,
        "record": RecordingSms,
    }
    if name not in providers:
        raise ValueError(f"unknown SMS provider {name!r}; choose one of {sorted(providers)}")
    return providers[name]()
