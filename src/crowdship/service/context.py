"""What every request and job needs: settings, database, clock, SMS, travel, the tariff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crowdship.core import GreatCircleTravel, TravelModel
from crowdship.service.cache import TimedValue
from crowdship.service.clock import Clock, DemoClock, SystemClock
from crowdship.service.db import Database
from crowdship.service.gaps import IdGaps
from crowdship.service.notify import Notifier
from crowdship.service.ratelimit import Limits
from crowdship.service.settings import Settings
from crowdship.service.sms import SmsProvider, provider_named
from crowdship.service.telephony import Telephony, telephony_named


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    clock: Clock
    sms: SmsProvider
    travel: TravelModel
    notifier: Notifier = field(init=False)
    telephony: Telephony | None = field(init=False)
    limits: Limits = field(init=False)
    tariffs: TimedValue[Any] = field(default_factory=TimedValue)  # (version, Tariff) in force
    # Order events the notification feed read past before they committed (PostgreSQL).
    notification_gaps: IdGaps = field(default_factory=IdGaps)

    def __post_init__(self) -> None:
        self.telephony = telephony_named(self.settings.telephony_provider)
        settings = self.settings
        self.limits = Limits(
            sign_in=settings.sign_in_limit,
            sign_in_address=settings.sign_in_address_limit,
            code=settings.code_limit,
            code_address=settings.code_address_limit,
            window_s=settings.rate_window_s,
        )
        self.notifier = Notifier(
            sms=self.sms,
            smtp_host=self.settings.smtp_host,
            smtp_port=self.settings.smtp_port,
            smtp_from=self.settings.smtp_from,
            webhook_url=self.settings.notify_webhook_url,
        )

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock | None = None,
        sms: SmsProvider | None = None,
        db: Database | None = None,
    ) -> ServiceContext:
        return cls(
            settings=settings,
            db=db
            if db is not None
            else Database(settings.resolved_database_url, settings.db_busy_timeout_s),
            clock=clock if clock is not None else clock_for(settings),
            sms=sms
            if sms is not None
            else provider_named(settings.sms_provider, settings.resolved_sms_outbox),
            travel=GreatCircleTravel(
                speed_kmh=settings.speed_kmh, detour_factor=settings.detour_factor
            ),
        )


def clock_for(settings: Settings) -> Clock:
    """Real time, or a demo clock when the settings speed time up or set its start."""
    if settings.clock_speed == 1.0 and settings.clock_start is None:
        return SystemClock()
    start = settings.clock_start or SystemClock().now()
    return DemoClock(start, settings.clock_speed)
