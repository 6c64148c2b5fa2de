"""The order life cycle: states, actions and the one table of legal transitions.

``withdrawn`` and ``rejected`` are actions, not resting states: the order goes back to the
pool (``posted``) and the event log keeps what happened. Every transition is applied as one
compare-and-set ``UPDATE`` guarded by the expected current state (``repository.transition``).
"""

from __future__ import annotations

import enum

from crowdship.service.errors import Conflict


class OrderStatus(enum.StrEnum):
    POSTED = "posted"  # open: in the pool, waiting for a courier
    OFFERED = "offered"  # one offer is out to one trip
    ACCEPTED = "accepted"  # a courier's trip carries it
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"  # to the receiver, or to the staff of a pickup point
    DISPUTED = "disputed"  # an incident after delivery; held out of settlement
    SETTLED = "settled"  # booked in the ledger, the courier's payout scheduled
    EXPIRED = "expired"  # its latest delivery can no longer be met
    CANCELLED = "cancelled"  # by the sender, before pickup
    FAILED = "failed"  # given up by the operator (incident, locked codes)


class Action(enum.StrEnum):
    POST = "post"
    OFFER = "offer"
    ACCEPT = "accept"
    REJECT = "reject"
    OFFER_EXPIRE = "offer_expire"
    GRAB = "grab"
    WITHDRAW = "withdraw"
    TRIP_CANCEL = "trip_cancel"
    RELEASE = "release"  # the operator puts an accepted order back in the pool
    LATE_RELEASE = "late_release"  # ... after the withdrawal window: counts against the courier
    ASSIGN = "assign"  # the operator puts an open order on a courier's trip
    PICKUP = "pickup"
    DELIVER = "deliver"
    ARRIVE = "arrive"  # handed to the staff of a pickup point
    CANCEL = "cancel"
    EXPIRE = "expire"
    FAIL = "fail"
    INCIDENT = "incident"  # reported before delivery: the order fails
    DISPUTE = "dispute"  # reported after delivery
    RESOLVE_PAY = "resolve_pay"  # the operator upholds the delivery
    RESOLVE_REFUND = "resolve_refund"  # the operator refunds the sender
    SETTLE = "settle"
    # A refunded cash-on-delivery order: the courier still holds the receiver's cash, which
    # settlement books as owed by the courier and takes from their next payout.
    RECLAIM_CASH = "reclaim_cash"


S = OrderStatus
TRANSITIONS: dict[Action, tuple[frozenset[OrderStatus], OrderStatus]] = {
    Action.OFFER: (frozenset({S.POSTED}), S.OFFERED),
    Action.ACCEPT: (frozenset({S.OFFERED}), S.ACCEPTED),
    Action.REJECT: (frozenset({S.OFFERED}), S.POSTED),
    Action.OFFER_EXPIRE: (frozenset({S.OFFERED}), S.POSTED),
    Action.GRAB: (frozenset({S.POSTED}), S.ACCEPTED),
    Action.WITHDRAW: (frozenset({S.ACCEPTED}), S.POSTED),
    Action.TRIP_CANCEL: (frozenset({S.OFFERED, S.ACCEPTED}), S.POSTED),
    Action.RELEASE: (frozenset({S.ACCEPTED}), S.POSTED),
    Action.LATE_RELEASE: (frozenset({S.ACCEPTED}), S.POSTED),
    Action.ASSIGN: (frozenset({S.POSTED}), S.ACCEPTED),
    Action.PICKUP: (frozenset({S.ACCEPTED}), S.PICKED_UP),
    Action.DELIVER: (frozenset({S.PICKED_UP}), S.DELIVERED),
    Action.ARRIVE: (frozenset({S.PICKED_UP}), S.DELIVERED),
    Action.CANCEL: (frozenset({S.POSTED, S.OFFERED, S.ACCEPTED}), S.CANCELLED),
    Action.EXPIRE: (frozenset({S.POSTED, S.OFFERED}), S.EXPIRED),
    Action.FAIL: (frozenset({S.ACCEPTED, S.PICKED_UP}), S.FAILED),
    Action.INCIDENT: (frozenset({S.ACCEPTED, S.PICKED_UP}), S.FAILED),
    Action.DISPUTE: (frozenset({S.DELIVERED}), S.DISPUTED),
    Action.RESOLVE_PAY: (frozenset({S.DISPUTED}), S.DELIVERED),
    Action.RESOLVE_REFUND: (frozenset({S.DISPUTED}), S.FAILED),
    Action.SETTLE: (frozenset({S.DELIVERED}), S.SETTLED),
    Action.RECLAIM_CASH: (frozenset({S.FAILED}), S.FAILED),
}

OPEN_STATES = frozenset({S.POSTED, S.OFFERED})  # still looking for a courier
HANDED_OVER = frozenset({S.DELIVERED, S.DISPUTED, S.SETTLED})  # the courier's part is done
FINAL_STATES = frozenset({S.DELIVERED, S.DISPUTED, S.SETTLED, S.EXPIRED, S.CANCELLED, S.FAILED})


def target(action: Action, current: OrderStatus) -> OrderStatus:
    """The state ``action`` leads to from ``current``; Conflict (409) if it is not allowed."""
    sources, to = TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise Conflict(
            f"cannot {action.value.replace('_', ' ')} an order that is {current.value} "
            f"(allowed from: {allowed})",
            status=current.value,
        )
    return to
