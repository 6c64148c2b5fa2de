"""Every ORM model, imported once so ``Base.metadata`` knows all tables (Alembic, tests)."""

from crowdship.service.db import Base
from crowdship.service.entities.accounts.attempts import AssessmentAttempt, AssessmentPolicy
from crowdship.service.entities.accounts.models import RevokedToken, Role, User
from crowdship.service.entities.audit.models import AuditEntry
from crowdship.service.entities.idempotency.models import IdempotencyKey
from crowdship.service.entities.incidents.models import Incident
from crowdship.service.entities.ledger.models import (
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutRun,
    SettlementRun,
)
from crowdship.service.entities.messages.models import OrderMessage
from crowdship.service.entities.notifications.models import Notification, OutboxCursor
from crowdship.service.entities.offers.models import MatchingRun, Offer, OfferStatus
from crowdship.service.entities.orders.models import DeliveryPhoto, Order, OrderEvent
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.pricing.models import TariffVersion
from crowdship.service.entities.ratings.models import Rating
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.lock import JobLease

__all__ = [
    "AssessmentAttempt",
    "AssessmentPolicy",
    "AuditEntry",
    "Base",
    "IdempotencyKey",
    "Incident",
    "RevokedToken",
    "LedgerEntry",
    "LedgerTransaction",
    "Payout",
    "PayoutRun",
    "PickupPoint",
    "Rating",
    "SettlementRun",
    "TariffVersion",
    "JobLease",
    "MatchingRun",
    "Offer",
    "OfferStatus",
    "DeliveryPhoto",
    "Order",
    "OrderEvent",
    "OrderMessage",
    "Notification",
    "OutboxCursor",
    "Role",
    "Trip",
    "TripStatus",
    "User",
]
