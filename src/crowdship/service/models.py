"""Every ORM model, imported once so ``Base.metadata`` knows all tables (Alembic, tests)."""

from crowdship.service.accounts.models import Role, User
from crowdship.service.db import Base
from crowdship.service.matching.models import JobLease, MatchingRun, Offer, OfferStatus
from crowdship.service.orders.models import Order, OrderEvent
from crowdship.service.trips.models import Trip, TripStatus

__all__ = [
    "Base",
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
