"""One settings object, read from ``CROWDSHIP_*`` environment variables.

Defaults suit a laptop: a SQLite file under ``./crowdship-data``, a secret key generated once
and kept beside it. In production mode (``CROWDSHIP_ENV=production``) there is no default
secret: the service refuses to start without ``CROWDSHIP_SECRET_KEY``.
"""

from __future__ import annotations

import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """A setting is missing or unusable (names the variable)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CROWDSHIP_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("crowdship-data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    secret_key: str | None = Field(default=None, min_length=32)
    token_minutes: int = Field(default=60, gt=0)
    threads: int = Field(default=4, gt=0, description="worker threads for request handlers")
    db_busy_timeout_s: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="how long a request waits for the database (a held SQLite lock, a full "
        "pool) before it is answered 503 with Retry-After",
    )

    # Matching (the paper's rolling horizon).
    planning_interval_min: float = Field(default=40.0, gt=0)
    offer_ttl_min: float = Field(default=10.0, gt=0)
    withdraw_window_min: float = Field(default=5.0, ge=0)
    scheduler: bool = Field(default=True, description="run matching and expiry in the background")
    tick_seconds: float = Field(default=30.0, gt=0)
    horizon_days: int = Field(
        default=30, ge=1, le=366, description="orders and trips end within this many days"
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1_000, description="larger request bodies are refused unread"
    )
    idempotency_hours: float = Field(
        default=24.0, gt=0, le=24 * 366, description="how long an Idempotency-Key is kept"
    )
    clock_speed: float = Field(
        default=1.0,
        gt=0,
        le=100_000,
        description="service time runs this many times faster than real time (demos)",
    )
    clock_start: AwareDatetime | None = Field(
        default=None, description="service time at start-up (demos); default: now"
    )
    # min-cost needs a value per order, which orders do not carry yet.
    policy: Literal["max-matches", "acceptance-aware"] = "max-matches"
    # rolling: every batch offers all it matched (the paper's). jit: every batch plans the
    # whole pool but offers a pair only when waiting longer could lose it: its trip departs
    # within jit_lead_min, or its order has waited jit_max_wait_min (the simulator's
    # just-in-time strategy; run batches often, e.g. CROWDSHIP_PLANNING_INTERVAL_MIN=5).
    matching_strategy: Literal["rolling", "jit"] = "rolling"
    jit_lead_min: float = Field(default=15.0, ge=0, le=24 * 60)
    jit_max_wait_min: float | None = Field(default=60.0, ge=0, le=7 * 24 * 60)
    speed_kmh: float = Field(default=30.0, gt=0)
    detour_factor: float = Field(default=1.3, ge=1)

    # Handover.
    max_code_attempts: int = Field(default=5, gt=0)
    sms_provider: Literal["log", "outbox", "record"] = "log"
    sms_outbox: Path | None = Field(
        default=None,
        description="outbox provider: the spool file of texts (JSON lines); default "
        "data_dir/sms-outbox.jsonl",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="base of links sent to people (tracking)"
    )
    smtp_host: str | None = Field(default=None, description="email notifications; log if unset")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "crowdship@localhost"
    telephony_provider: Literal["none", "log"] = Field(
        default="none", description="masked-number calls between an order's parties"
    )
    tile_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s\"'<>]+$",
        description="raster map tiles for the pages, e.g. "
        "https://tile.example.org/{z}/{x}/{y}.png; default: the bundled road lines",
    )
    notify_webhook_url: str | None = Field(
        default=None, description="webhook notifications are POSTed here as JSON"
    )

    # Rate limits (per worker process): attempts per rate_window_s seconds; 0: no limit.
    rate_window_s: float = Field(default=60.0, gt=0, le=24 * 3600)
    sign_in_limit: int = Field(
        default=10, ge=0, description="sign-ins (/auth/token, /auth/session) per email"
    )
    sign_in_address_limit: int = Field(default=100, ge=0, description="sign-ins per client address")
    code_limit: int = Field(
        default=30, ge=0, description="handover code entries (pickup, deliver, collect) per account"
    )
    code_address_limit: int = Field(
        default=200, ge=0, description="code entries per client address"
    )

    cors_origins: str = Field(
        default="",
        description="comma-separated origins (https://app.example.org) whose pages may call "
        "the API from a browser; default: none",
    )

    # Money. The tariff's starting values; the operator changes them at run time
    # (``PUT /pricing``), and each change is kept as a new version.
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    timezone: str = Field(
        default="UTC", description="IANA zone for peak hours, settlement days, opening hours"
    )
    fee_base_cents: int = Field(default=300, ge=0)
    fee_per_km_cents: int = Field(default=60, ge=0)
    courier_share_pct: float = Field(default=80.0, ge=0, le=100)

    # Settlement: orders delivered on day D are paid out on D + payout_delay_days.
    payout_delay_days: int = Field(default=2, ge=0, le=30)
    business_days: bool = Field(default=False, description="count payout days Mon-Fri only")
    settlement_hour: int = Field(
        default=2, ge=0, le=23, description="local hour after which yesterday is settled"
    )
    payout_dir: Path | None = Field(default=None, description="payout CSVs; default data_dir")

    # Trust.
    rating_prior_mean: float = Field(default=4.0, ge=1, le=5)
    rating_prior_weight: float = Field(default=5.0, ge=0)
    rating_weight: float = Field(
        default=5.0, ge=0, description="matcher cost minutes for a 1-star vs a 5-star courier"
    )
    assessment_required: bool = True
    assessment_file: Path | None = Field(
        default=None, description="TOML with questions and pass mark; default: the bundled one"
    )

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.env == "production" and not self.secret_key:
            raise SettingsError(
                "CROWDSHIP_SECRET_KEY must be set (32+ characters) when CROWDSHIP_ENV=production"
            )
        if self.env == "production" and not self.database_url:
            raise SettingsError("CROWDSHIP_DATABASE_URL must be set when CROWDSHIP_ENV=production")
        return self

    @model_validator(mode="after")
    def _known_timezone(self) -> Settings:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise SettingsError(
                f"CROWDSHIP_TIMEZONE {self.timezone!r} is not an IANA time zone"
            ) from error
        return self

    @model_validator(mode="after")
    def _origins(self) -> Settings:
        for origin in self.cors_origin_list:
            if not re.fullmatch(r"https?://[^/\s?#]+", origin):
                raise SettingsError(
                    f"CROWDSHIP_CORS_ORIGINS: {origin!r} is not an origin "
                    "(scheme://host[:port], no path)"
                )
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_sms_outbox(self) -> Path:
        return (
            self.sms_outbox if self.sms_outbox is not None else self.data_dir / "sms-outbox.jsonl"
        )

    @property
    def resolved_payout_dir(self) -> Path:
        return self.payout_dir if self.payout_dir is not None else self.data_dir / "payouts"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'crowdship.db').resolve()}"

    @cached_property
    def signing_key(self) -> str:
        """The secret for tokens and code hashes; on a laptop, generated once into data_dir."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
