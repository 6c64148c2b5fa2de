"""Notifications leave through one interface, whatever the channel.

``sms`` goes through the SMS provider (the log by default), ``email`` through SMTP when
``CROWDSHIP_SMTP_HOST`` is set (the log otherwise), ``webhook`` as a JSON POST to
``CROWDSHIP_NOTIFY_WEBHOOK_URL`` (a deployment's own messaging or push service). A failed
send raises; the outbox retries it and shows it to the operator."""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from crowdship.service.sms import SmsProvider

log = logging.getLogger("crowdship.notify")

Channel = Literal["sms", "email", "webhook"]
CHANNELS: tuple[Channel, ...] = ("sms", "email", "webhook")


class SendFailed(RuntimeError):
    pass


@dataclass
class Notifier:
    sms: SmsProvider
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "crowdship@localhost"
    webhook_url: str | None = None

    def send(self, channel: str, address: str, subject: str, body: str) -> None:
        """Deliver one notification or raise SendFailed naming why."""
        try:
            if channel == "sms":
                self.sms.send(address, body)
            elif channel == "email":
                self._email(address, subject, body)
            elif channel == "webhook":
                self._webhook(address, subject, body)
            else:
                raise SendFailed(f"unknown channel {channel!r}")
        except SendFailed:
            raise
        except Exception as error:  # a provider's own failure, whatever its type
            raise SendFailed(f"{channel} to {address}: {error}") from error

    def _email(self, address: str, subject: str, body: str) -> None:
        if self.smtp_host is None:
            log.info("email to %s: %s: %s", address, subject, body)
            return
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.smtp_from, address, subject
        message.set_content(body)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

    def _webhook(self, address: str, subject: str, body: str) -> None:
        if self.webhook_url is None:
            raise SendFailed("no CROWDSHIP_NOTIFY_WEBHOOK_URL is set")
        payload = json.dumps({"to": address, "subject": subject, "body": body}).encode()
        request = urllib.request.Request(
            self.webhook_url,
            data=payload,
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (configured URL)
            if not 200 <= answer.status < 300:
                raise SendFailed(f"webhook answered {answer.status}")
