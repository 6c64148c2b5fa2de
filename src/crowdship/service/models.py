"""Every ORM model, imported once so ``Base.metadata`` knows all tables (Alembic, tests)."""

from crowdship.service.accounts.models import Role, User
from crowdship.service.couriers.models import AssessmentAttempt
from crowdship.service.db import Base
from crowdship.service.incidents.models import Incident
from crowdship.service.matching.models import JobLease, MatchingRun, Offer, OfferStatus
from crowdship.service.orders.models import Order, OrderEvent
from crowdship.service.points.models import PickupPoint
from crowdship.service.pricing.models import TariffVersion
from crowdship.service.ratings.models import Rating
from crowdship.service.settlement.models import (
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutRun,
    SettlementRun,
)
from crowdship.service.trips.models import Trip, TripStatus

__all__ = [
    "AssessmentAttempt",
    "Base",
    "Incident",
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
    "Order",
    "OrderEvent",
    "Role",
    "Trip",
    "TripStatus",
    "User",
]
