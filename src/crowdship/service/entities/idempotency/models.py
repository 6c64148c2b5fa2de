from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime


class IdempotencyKey(Base):
    """One key of one account: which request it was first sent with (a hash of method, path
    and body) and the answer that request got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(String(300))  # method and path, for the message
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)  # the answer, JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
