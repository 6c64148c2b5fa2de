"""Text messages to receivers, through a provider interface.

The default provider writes each message to the log (a laptop has no SMS gateway); a real
deployment plugs in its gateway's client. ``OutboxSms`` appends each message as a JSON line
to a spool file that a gateway process sends from (and that load tests read the codes
from, whichever service process sent them). ``RecordingSms`` keeps messages in memory so
tests and the demo can read them back.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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


class OutboxSms:
    """One JSON line per message (``{"phone", "text", "at"}``) appended to ``path``. Each line
    is written with a single ``write`` on a file opened for appending, so lines from several
    service processes never interleave."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def send(self, phone: str, text: str) -> None:
        line = json.dumps({"phone": phone, "text": text, "at": datetime.now(UTC).isoformat()})
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
        finally:
            os.close(descriptor)
        log.info("SMS to %s queued in %s", phone, self.path)


def provider_named(name: str, outbox: Path | None = None) -> SmsProvider:
    if name == "log":
        return LogSms()
    if name == "record":
        return RecordingSms()
    if name == "outbox":
        if outbox is None:
            raise ValueError("the outbox SMS provider needs a spool file (CROWDSHIP_SMS_OUTBOX)")
        return OutboxSms(outbox)
    raise ValueError(f"unknown SMS provider {name!r}; choose one of log, outbox, record")
