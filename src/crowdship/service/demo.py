"""A demo city (central Helsinki): couriers with trips, merchants, customers, open orders.

Everything goes through the same service functions the API calls, so the demo exercises the
real rules. Seeding is idempotent: a database that already has the demo operator is reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.accounts.service import create_user
from crowdship.service.entities.orders.schemas import OrderCreate
from crowdship.service.entities.points import repository as points
from crowdship.service.entities.points.hours import DAYS
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.trips import service as trips
from crowdship.service.entities.trips.schemas import TripCreate
from crowdship.service.errors import Invalid
from crowdship.service.workflows import posting as orders

PASSWORD = "demo-pass-1"
OPERATOR_EMAIL = "operator@demo.crowdship.dev"
# Central Helsinki, as the bundled road extract and examples/.
LAT = (60.155, 60.200)
LON = (24.900, 24.980)
STREETS = [
    "Mannerheimintie",
    "Aleksanterinkatu",
    "Bulevardi",
    "Hämeentie",
    "Fredrikinkatu",
    "Runeberginkatu",
    "Töölönkatu",
    "Unioninkatu",
    "Lönnrotinkatu",
    "Sturenkatu",
]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    couriers: int
    merchants: int
    customers: int
    trips: int
    orders: int


STATION_PARCELS = 5  # waiting at the campus station for the short leg


def actor_of_user(user: User) -> Actor:
    return Actor(
        id=user.id, role=user.role, name=user.name, phone=user.phone, point_id=user.point_id
    )


def _place(rng: np.random.Generator) -> tuple[float, float, str]:
    lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
    address = f"{STREETS[int(rng.integers(len(STREETS)))]} {int(rng.integers(1, 80))}, Helsinki"
    return round(float(lat), 6), round(float(lon), 6), address


def seed(
    context: ServiceContext,
    couriers: int = 25,
    merchants: int = 3,
    customers: int = 6,
    orders_count: int = 30,
    seed: int = 7,
) -> DemoSummary:
    with context.db.write() as session:
        if accounts.by_email(session, OPERATOR_EMAIL) is not None:
            return DemoSummary(False, couriers, merchants, customers, 0, 0)
        summary = _seed(session, context, couriers, merchants, customers, orders_count, seed)
        session.commit()
        return summary


def _seed(
    session: Session,
    context: ServiceContext,
    couriers: int,
    merchants: int,
    customers: int,
    orders_count: int,
    seed: int,
) -> DemoSummary:
    rng = np.random.default_rng(seed)
    now = context.clock.now().replace(second=0, microsecond=0)

    def soon(minutes: int) -> datetime:
        # From the clock at this moment, not at the start: a fast demo clock moves on while
        # the city is seeded (at 120x, 8 s of seeding is 16 service minutes).
        return context.clock.now().replace(second=0, microsecond=0) + timedelta(minutes=minutes)

    def user(email: str, role: Role, name: str, phone: str) -> User:
        return create_user(session, email, PASSWORD, role, name, phone, now)

    create_user(session, OPERATOR_EMAIL, PASSWORD, Role.OPERATOR, "Demo Operator", None, now)
    shops = [
        user(f"shop{i}@demo.crowdship.dev", Role.MERCHANT, f"Shop {i}", f"+35840100{i:04d}")
        for i in range(1, merchants + 1)
    ]
    people = [
        user(f"customer{i}@demo.crowdship.dev", Role.CUSTOMER, f"Customer {i}", f"+35840200{i:04d}")
        for i in range(1, customers + 1)
    ]
    riders = [
        user(f"courier{i}@demo.crowdship.dev", Role.COURIER, f"Courier {i}", f"+35840300{i:04d}")
        for i in range(1, couriers + 1)
    ]
    for i, rider in enumerate(riders, start=1):
        # Demo couriers have done the onboarding and bound a bank account; the last one
        # has not, to show what a new courier sees.
        if i < len(riders):
            rider.assessment_passed_at = now
            rider.payout_account = finnish_iban(f"{i:014d}")
    campus = points.add(
        session,
        PickupPoint(
            name="Kumpula Campus Station",
            lat=60.2050,
            lon=24.9620,
            address="Gustaf Hällströmin katu 2, Helsinki",
            opening_hours={day: [["06:00", "22:00"]] for day in DAYS},
            active=True,
            created_at=now,
        ),
    )
    desk = create_user(
        session,
        "staff1@demo.crowdship.dev",
        PASSWORD,
        Role.STAFF,
        "Campus Desk",
        "+358403990001",
        now,
        point_id=campus.id,
    )
    trip_count = 0
    for rider in riders:
        for _ in range(int(rng.integers(1, 3))):
            o_lat, o_lon, o_address = _place(rng)
            d_lat, d_lon, d_address = _place(rng)
            depart = soon(int(rng.integers(15, 180)))
            trips.create(
                session,
                context,
                actor_of_user(rider),
                TripCreate(
                    origin_lat=o_lat,
                    origin_lon=o_lon,
                    destination_lat=d_lat,
                    destination_lon=d_lon,
                    origin_address=o_address,
                    destination_address=d_address,
                    earliest_departure=depart,
                    latest_arrival=depart + timedelta(minutes=int(rng.integers(40, 90))),
                    # Every third trip has room for two parcels (drawn from nothing, so
                    # the rest of the city stays as it was).
                    capacity=2 if trip_count % 3 == 2 else 1,
                ),
            )
            trip_count += 1
    senders = shops + people
    for k in range(orders_count):
        sender = senders[k % len(senders)]
        receiver = people[int(rng.integers(len(people)))]
        p_lat, p_lon, p_address = _place(rng)
        q_lat, q_lon, q_address = _place(rng)
        start = soon(int(rng.integers(0, 90)))
        common = dict(
            pickup_lat=p_lat,
            pickup_lon=p_lon,
            pickup_address=p_address,
            earliest_pickup=start,
            latest_delivery=start + timedelta(minutes=int(rng.integers(120, 300))),
            size=("small", "medium", "large")[int(rng.integers(3))],
            description=f"parcel {k + 1}",
            receiver_name=receiver.name,
            receiver_phone=receiver.phone or "",
        )
        to_address = OrderCreate(
            **common,  # type: ignore[arg-type]
            delivery_lat=q_lat,
            delivery_lon=q_lon,
            delivery_address=q_address,
            # Some private senders let the receiver pay the courier in cash.
            payment_method="cash_on_delivery" if k % 5 == 4 else "prepaid",
        )
        if k % 6 == 5:  # B2C to the campus station, when it is open for the whole window
            try:
                with session.begin_nested():
                    orders.post(
                        session,
                        context,
                        actor_of_user(sender),
                        OrderCreate(**common, pickup_point_id=campus.id),  # type: ignore[arg-type]
                    )
                continue
            except Invalid:
                pass
        orders.post(session, context, actor_of_user(sender), to_address)
    # The campus short leg: parcels waiting at the station for students who have no time to
    # fetch them; the desk posts "bring it from the station to me" for each.
    for k in range(STATION_PARCELS):
        receiver = people[k % len(people)]
        q_lat, q_lon, q_address = _place(rng)
        offset = int(rng.integers(0, 60))
        # The station keeps opening hours: at night the short leg starts when it opens.
        for hours_later in range(25):
            start = soon(offset + 60 * hours_later)
            try:
                with session.begin_nested():
                    orders.post(
                        session,
                        context,
                        actor_of_user(desk),
                        OrderCreate(
                            from_point_id=campus.id,
                            delivery_lat=q_lat,
                            delivery_lon=q_lon,
                            delivery_address=q_address,
                            earliest_pickup=start,
                            latest_delivery=start + timedelta(minutes=150),
                            size="small",
                            description=f"campus parcel {k + 1}",
                            receiver_name=receiver.name,
                            receiver_phone=receiver.phone or "",
                        ),
                    )
                break
            except Invalid:
                continue
    total = orders_count + STATION_PARCELS
    return DemoSummary(True, couriers, merchants, customers, trip_count, total)


def finnish_iban(account: str) -> str:
    """A syntactically valid Finnish IBAN for a 14-digit account number (demo data)."""
    check = 98 - int(account + "151800") % 97  # "FI00" moved to the end, F=15, I=18
    return f"FI{check:02d}{account}"
