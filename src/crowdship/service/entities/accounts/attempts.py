from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime


class AssessmentAttempt(Base):
    __tablename__ = "assessment_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    score: Mapped[int] = mapped_column(Integer)
    out_of: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)


class AssessmentPolicy(Base):
    """The operator's settings for the assessment; the newest row is in force (none: the
    assessment file's defaults)."""

    __tablename__ = "assessment_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pass_mark: Mapped[int] = mapped_column(Integer)
    questions_per_attempt: Mapped[int] = mapped_column(Integer)
    retry_after_min: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
