from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.schemas import Day


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: Day = Field(description="settlement: the delivery day; payouts: pay what is due by it")


class SettlementRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    day: date
    trigger: str
    started_at: datetime
    orders: int
    held_back: int
    payouts: int
    total_cents: int


class SettleResult(BaseModel):
    run: SettlementRunPublic | None = Field(description="None: nothing was left to settle")
    held_back: int


class PayoutPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    courier_id: int
    settled_day: date
    due_on: date
    amount_cents: int
    order_ids: list[int]
    status: str
    paid_at: datetime | None
    account: str | None


class PayoutRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    day: date
    trigger: str
    started_at: datetime
    payouts: int
    couriers: int
    total_cents: int


class PayoutResult(BaseModel):
    run: PayoutRunPublic | None = Field(description="None: nothing was paid")
    held: dict[int, int] = Field(description="courier -> cents waiting for a bound account")
    carried: dict[int, int] = Field(description="courier -> net cents <= 0, carried forward")


class WalletPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    pending_cents: int = Field(description="delivered, not yet settled (net of cash you hold)")
    cash_collected_cents: int = Field(description="cash-on-delivery fees you hold (pending)")
    cash_owed_cents: int = Field(
        description="cash you collected on orders refunded since: you owe it back; it is "
        "taken from your next payout (already subtracted from pending)"
    )
    held_cents: int = Field(description="disputed, waiting for the operator")
    due_cents: int = Field(description="settled; payout scheduled")
    next_due_on: date | None
    paid_cents: int
    payouts: list[PayoutPublic]
