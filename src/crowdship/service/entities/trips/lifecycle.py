"""The trip life cycle: one table of legal transitions, applied by ``repository.transition``
as a compare-and-set UPDATE guarded by the source states."""

from __future__ import annotations

import enum

from crowdship.service.entities.trips.models import TripStatus


class TripAction(enum.StrEnum):
    ASSIGN = "assign"  # an order was accepted or grabbed onto it (it may carry others)
    RELEASE = "release"  # its last order left before pickup (withdrawn, cancelled, failed)
    COMPLETE = "complete"  # its last order was handed over (or given up after pickup)
    CANCEL = "cancel"  # the courier will not make the trip


T = TripStatus
TRANSITIONS: dict[TripAction, tuple[frozenset[TripStatus], TripStatus]] = {
    TripAction.ASSIGN: (frozenset({T.OPEN, T.ASSIGNED}), T.ASSIGNED),
    TripAction.RELEASE: (frozenset({T.ASSIGNED}), T.OPEN),
    TripAction.COMPLETE: (frozenset({T.ASSIGNED}), T.COMPLETED),
    TripAction.CANCEL: (frozenset({T.OPEN, T.ASSIGNED}), T.CANCELLED),
}
