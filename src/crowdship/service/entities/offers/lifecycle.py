"""The offer life cycle: one table of legal transitions, applied by ``repository.transition``
(one offer) and ``repository.transition_many`` (all of an order's, a trip's or a courier's)
as compare-and-set UPDATEs guarded by the source state."""

from __future__ import annotations

import enum

from crowdship.service.entities.offers.models import OfferStatus


class OfferAction(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    EXPIRE = "expire"  # not answered in time: counts as a rejection
    TAKE_BACK = "take_back"  # the platform withdraws it (order or trip cancelled, suspension)
    WITHDRAW = "withdraw"  # the courier gives the accepted order back


S = OfferStatus
TRANSITIONS: dict[OfferAction, tuple[OfferStatus, OfferStatus]] = {
    OfferAction.ACCEPT: (S.PENDING, S.ACCEPTED),
    OfferAction.REJECT: (S.PENDING, S.REJECTED),
    OfferAction.EXPIRE: (S.PENDING, S.EXPIRED),
    OfferAction.TAKE_BACK: (S.PENDING, S.WITHDRAWN),
    OfferAction.WITHDRAW: (S.ACCEPTED, S.WITHDRAWN),
}
