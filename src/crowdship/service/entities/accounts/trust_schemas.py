from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crowdship.service.schemas import JSON_INT, Filled, Number, Text


class QuestionPublic(BaseModel):
    id: str
    text: str
    options: list[str]


class SectionPublic(BaseModel):
    title: str
    text: str


class PolicyIn(BaseModel):
    """The operator's assessment settings."""

    model_config = ConfigDict(extra="forbid")

    pass_mark: Annotated[int, Field(ge=1, le=100), JSON_INT] = Field(
        description="right answers needed"
    )
    questions_per_attempt: Annotated[int, Field(ge=1, le=100), JSON_INT] = Field(
        description="drawn from the bank"
    )
    retry_after_min: Number = Field(ge=0, le=7 * 24 * 60, description="wait after a failure")


class PolicyPublic(PolicyIn):
    bank_size: int = Field(description="questions in the bank")
    topics: list[str] = Field(description="every paper has a question of each, as far as it can")


class AssessmentPublic(BaseModel):
    tutorial: list[SectionPublic] = Field(description="read this first: the rules")
    attempt: int = Field(description="the number of the paper shown (1 = first attempt)")
    questions: list[QuestionPublic] = Field(
        description="this attempt's paper: drawn from the bank, questions and options shuffled"
    )
    pass_mark: int
    retry_after_min: float
    passed_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None = Field(description="after a failure, when to retry")


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[
        Annotated[Text, Field(max_length=100)], Annotated[int, Field(ge=0, le=100), JSON_INT]
    ] = Field(max_length=100, description="question id -> index of the chosen option")


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    score: int
    out_of: int
    passed: bool


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Filled = Field(max_length=300)


def _iban_ok(value: str) -> bool:
    """ISO 13616 mod-97 check."""
    moved = value[4:] + value[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


class PayoutAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iban: str = Field(
        pattern=r"^ *[A-Za-z] *[A-Za-z] *[0-9] *[0-9]( *[A-Za-z0-9]){11,30} *$",
        description="the bank account payouts go to (IBAN, spaces allowed; its check digits "
        "must be right)",
    )

    @field_validator("iban")
    @classmethod
    def _valid(cls, value: str) -> str:
        compact = re.sub(r"\s+", "", value).upper()
        if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
            raise ValueError("is not an IBAN (two letters, two check digits, 11-30 more)")
        if not _iban_ok(compact):
            raise ValueError("has wrong check digits (mod-97 check failed)")
        return compact


class Reliability(BaseModel):
    """What the operator looks at before trusting a courier with more."""

    courier_id: int
    name: str
    email: str
    assessment_passed_at: datetime | None
    suspended_at: datetime | None
    suspension_reason: str
    payout_account: str | None
    offers: int
    accepted: int
    rejected: int
    expired: int
    acceptance_rate: float | None
    grabs: int
    withdrawals: int  # given back within the window (also by cancelling the trip)
    late_releases: int  # released by the operator after the window: counts against them
    delivered: int
    failed: int
    incidents: int
    rating: float
    ratings: int
