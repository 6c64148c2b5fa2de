"""The living demo: the demo city's simulated people go about their day on the service.

The day comes from the simulator: ``crowdship.sim.scenarios`` draws the parcels and trips
(over the demo's part of Helsinki, from now until the evening), and couriers answer offers
with the simulator's response model (``crowdship.core.response``, the paper's: reject with
probability detour / window). Simulated senders post each parcel when it is announced,
simulated couriers register each trip, answer offers after a moment's thought, show their
pickup code to the sender, who confirms it, and deliver at the planned time with the code
the receiver got by SMS; the scheduler matches, expires and settles as it always does.

Everything goes through the workflows the API calls, with the same rules. The accounts a
person signs in with in the demo (``PEOPLE``) are never played: their offers, pickups and
hand-overs wait for that person.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from crowdship.core.feasibility import FeasiblePairs
from crowdship.core.model import Requests, Trips
from crowdship.core.response import CourierResponse, PaperResponse
from crowdship.service.context import ServiceContext
from crowdship.service.demo import LAT, LON, STREETS, actor_of_user
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.offers.models import Offer
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.orders.schemas import OrderCreate
from crowdship.service.entities.trips import service as trips
from crowdship.service.entities.trips.schemas import TripCreate
from crowdship.service.errors import DomainError
from crowdship.service.sms import RecordingSms
from crowdship.service.workflows import assignment, delivery, posting
from crowdship.sim.scenarios import ScenarioParams, generate_scenario

log = logging.getLogger("crowdship.demo")

DOMAIN = "@demo.crowdship.dev"
# The sign-ins the README gives to people: the city never plays them.
PEOPLE = frozenset(
    f"{name}{DOMAIN}" for name in ("operator", "shop1", "customer1", "courier1", "staff1")
)
CODE_IN_SMS = re.compile(r"this code on delivery: (\d{6})$")
THINK_MIN = (1.0, 4.0)  # a simulated courier answers an offer after this long (service min)


@dataclass(frozen=True)
class Planned:
    at: datetime  # service time it becomes known
    who: int  # the user who posts or registers it
    what: OrderCreate | TripCreate


@dataclass
class Day:
    """What the simulated people will do, in service-time order."""

    orders: list[Planned] = field(default_factory=list)
    trips: list[Planned] = field(default_factory=list)


@dataclass
class Tally:
    posted: int = 0
    trips: int = 0
    accepted: int = 0
    rejected: int = 0
    picked_up: int = 0
    delivered: int = 0
    refused: int = 0  # actions the service refused (a race with a person, say): logged


def _address(rng: np.random.Generator) -> str:
    return f"{STREETS[int(rng.integers(len(STREETS)))]} {int(rng.integers(1, 80))}, Helsinki"


def plan_day(
    start: datetime,
    senders: list[User],
    couriers: list[User],
    receivers: list[User],
    hours: float = 10.0,
    parcels_per_hour: float = 8.0,
    seed: int = 11,
) -> Day:
    """Draw the rest of a day with the simulator's scenario generator: the parcels and the
    couriers' trips from ``start`` for ``hours``, over the demo's box of Helsinki."""
    rng = np.random.default_rng(seed)
    t0 = start.replace(second=0, microsecond=0)
    span = hours * 60.0
    params = ScenarioParams(
        trips=max(1, int(len(couriers) * 2.5)),
        requests=max(1, int(parcels_per_hour * hours)),
        bbox=(LAT[0], LON[0], LAT[1], LON[1]),
        speed_kmh=30.0,
        detour_factor=1.3,
        trip_minutes=(10.0, 45.0),
        # Half the couriers carry one parcel, the rest two or three (a car boot, a cargo
        # bike): the living demo shows routes with several stops (issue 15).
        trip_capacity=(0.5, 0.3, 0.2),
        trip_km=(2.0, 12.0),
        flexibility=1.0,
        departures=(20.0, span),
        departure_profile="uniform",
        pickup_window=(10.0, max(10.0, span - 60.0)),
        deadline=span + 120.0,
        delivery_window=150.0,
        announcement_lead=(5.0, 60.0),
        trip_announcement_lead=(10.0, 60.0),
    )
    scenario = generate_scenario(params, seed)
    day = Day()

    def at(minutes: float) -> datetime:
        return t0 + timedelta(minutes=float(max(0.0, minutes)))

    requests = scenario.requests
    for i in range(len(requests.ids)):
        sender = senders[i % len(senders)]
        receiver = receivers[int(rng.integers(len(receivers)))]
        (p_lat, p_lon), (d_lat, d_lon) = requests.pickup[i], requests.delivery[i]
        order = OrderCreate(
            pickup_lat=round(float(p_lat), 6),
            pickup_lon=round(float(p_lon), 6),
            pickup_address=_address(rng),
            delivery_lat=round(float(d_lat), 6),
            delivery_lon=round(float(d_lon), 6),
            delivery_address=_address(rng),
            earliest_pickup=at(requests.earliest_pickup[i]),
            latest_delivery=at(requests.latest_delivery[i]),
            size=("small", "medium", "large")[int(rng.integers(3))],
            description=f"live parcel {i + 1}",
            receiver_name=receiver.name,
            receiver_phone=receiver.phone or "",
            payment_method="cash_on_delivery" if i % 5 == 4 else "prepaid",
        )
        day.orders.append(Planned(at(requests.announced_at[i]), sender.id, order))
    trips_drawn = scenario.trips
    announced = scenario.trip_announced_at
    for j in range(len(trips_drawn.ids)):
        courier = couriers[j % len(couriers)]
        (o_lat, o_lon), (d_lat, d_lon) = trips_drawn.origin[j], trips_drawn.destination[j]
        trip = TripCreate(
            origin_lat=round(float(o_lat), 6),
            origin_lon=round(float(o_lon), 6),
            destination_lat=round(float(d_lat), 6),
            destination_lon=round(float(d_lon), 6),
            origin_address=_address(rng),
            destination_address=_address(rng),
            earliest_departure=at(trips_drawn.earliest_departure[j]),
            latest_arrival=at(trips_drawn.latest_arrival[j]),
            capacity=int(trips_drawn.capacity[j]),
        )
        known = announced[j] if announced is not None else 0.0
        day.trips.append(Planned(at(known), courier.id, trip))
    day.orders.sort(key=lambda p: p.at)
    day.trips.sort(key=lambda p: p.at)
    return day


class LiveCity:
    """Plays the demo's simulated people, one ``step`` at a time (a thread calls it)."""

    def __init__(
        self,
        context: ServiceContext,
        sms: RecordingSms,
        response: CourierResponse | None = None,
        seed: int = 11,
        step_seconds: float = 0.5,
    ) -> None:
        self.context = context
        self.sms = sms
        self.response = response or PaperResponse()
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.step_seconds = step_seconds
        self.tally = Tally()
        self.day = Day()
        self.played: set[int] = set()  # simulated people's user ids
        self._answer_at: dict[int, datetime] = {}  # offer id -> when its courier answers
        self.last: Any = None  # what the last action returned
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the cast and the day -------------------------------------------------------------

    def cast(self) -> None:
        with self.context.db.read() as session:
            demo = [u for u in accounts.with_email_domain(session, DOMAIN) if u.active]
        played = [u for u in demo if u.email not in PEOPLE]
        senders = [u for u in played if u.role in (Role.MERCHANT, Role.CUSTOMER)]
        couriers = [
            u
            for u in played
            if u.role == Role.COURIER
            and u.assessment_passed_at is not None
            and u.suspended_at is None
        ]
        receivers = [u for u in demo if u.role == Role.CUSTOMER]  # a person may receive
        if not senders or not couriers or not receivers:
            raise ValueError("the demo city has no simulated senders, couriers or receivers")
        self.played = {u.id for u in senders + couriers}
        self.day = plan_day(self.context.clock.now(), senders, couriers, receivers, seed=self.seed)
        log.info(
            "live demo: %d parcels and %d trips planned for the day, played by %d senders and "
            "%d couriers",
            len(self.day.orders),
            len(self.day.trips),
            len(senders),
            len(couriers),
        )

    # -- the loop -------------------------------------------------------------------------

    def start(self) -> None:
        self.cast()
        self._thread = threading.Thread(target=self._loop, name="crowdship-live-city", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.step_seconds):
            try:
                self.step()
            except Exception:  # keep the city alive; the next step tries again
                log.exception("live demo step failed")

    def step(self) -> Tally:
        now = self.context.clock.now()
        self._post_due(now)
        self._register_due(now)
        self._answer_offers(now)
        self._hand_over(now)
        return self.tally

    # -- what the people do ---------------------------------------------------------------

    def _as(self, user_id: int, action: str, work: Callable[..., Any], *args: Any) -> bool:
        """``work(session, context, actor, *args)`` as this user, in its own transaction
        (every workflow takes these first); a refusal is logged and counted."""
        with self.context.db.write() as session:
            user = accounts.get(session, user_id)
            if user is None:
                return False
            try:
                self.last = work(session, self.context, actor_of_user(user), *args)
                session.commit()
                return True
            except DomainError as error:
                session.rollback()
                self.tally.refused += 1
                log.info("live demo: %s refused: %s", action, error.message)
                return False

    def _post_due(self, now: datetime) -> None:
        while self.day.orders and self.day.orders[0].at <= now:
            planned = self.day.orders.pop(0)
            order = planned.what
            assert isinstance(order, OrderCreate)
            if order.latest_delivery <= now:
                continue  # its moment passed while the service was down
            if self._as(
                planned.who,
                "posting",
                posting.post,
                order,
            ):
                self.tally.posted += 1

    def _register_due(self, now: datetime) -> None:
        while self.day.trips and self.day.trips[0].at <= now:
            planned = self.day.trips.pop(0)
            trip = planned.what
            assert isinstance(trip, TripCreate)
            if trip.earliest_departure <= now:
                continue
            if self._as(
                planned.who,
                "registering a trip",
                trips.create,
                trip,
            ):
                self.tally.trips += 1

    def _accept_probability(self, offer: Offer, order: Order) -> float:
        """The simulator's response model on this one pair."""
        window = (order.latest_delivery - order.earliest_pickup).total_seconds() / 60.0
        one_trip = Trips.from_columns(
            ids=["t"],
            origin=[[0.0, 0.0]],
            destination=[[0.0, 0.0]],
            earliest_departure=[0.0],
            latest_arrival=[window + offer.detour_min],
        )
        one_request = Requests.from_columns(
            ids=["r"],
            pickup=[[0.0, 0.0]],
            delivery=[[0.0, 0.0]],
            earliest_pickup=[0.0],
            latest_delivery=[window],
        )
        pair = FeasiblePairs(
            trip=np.array([0]), request=np.array([0]), detour=np.array([offer.detour_min]),
            candidates=1,
        )  # fmt: skip
        return float(self.response.accept_probability(one_trip, one_request, pair)[0])

    def _answer_offers(self, now: datetime) -> None:
        with self.context.db.read() as session:
            pending = offers.pending_for_couriers(session, self.played)
        for offer, order in pending:
            due = self._answer_at.setdefault(
                offer.id, offer.created_at + timedelta(minutes=float(self.rng.uniform(*THINK_MIN)))
            )
            if due > now:
                continue
            self._answer_at.pop(offer.id, None)
            accepts = self.rng.random() < self._accept_probability(offer, order)
            if accepts and self._as(
                offer.courier_id,
                "accepting an offer",
                assignment.accept,
                offer.id,
            ):
                self.tally.accepted += 1
            elif not accepts and self._as(
                offer.courier_id,
                "rejecting an offer",
                assignment.reject,
                offer.id,
            ):
                self.tally.rejected += 1

    def _hand_over(self, now: datetime) -> None:
        with self.context.db.read() as session:
            carried = offers.carried_by(session, self.played)
        for item in carried:
            order = item.order
            # Grabbed or dispatched orders have no planned times: as soon as allowed, and
            # a quarter of an hour on the road.
            pickup = item.planned_pickup or max(order.earliest_pickup, order.accepted_at or now)
            arrival = item.planned_delivery or (order.picked_up_at or now) + timedelta(minutes=15)
            if order.status == OrderStatus.ACCEPTED and pickup <= now:
                self._pick_up(order)
            elif order.status == OrderStatus.PICKED_UP and arrival <= now:
                self._deliver(order)

    def _pick_up(self, order: Order) -> None:
        """The courier shows a fresh code; a simulated sender types it in. A person's parcel
        (or one waiting at a pickup point) waits for that person."""
        if order.sender_id not in self.played or order.from_point_id is not None:
            return
        courier = order.courier_id or 0
        if not self._as(courier, "showing the pickup code", delivery.reissue_pickup_code, order.id):
            return
        _, code = self.last
        if self._as(
            order.sender_id, "confirming a pickup", delivery.confirm_pickup, order.id, code
        ):
            self.tally.picked_up += 1

    def _deliver(self, order: Order) -> None:
        """At the door the receiver reads out the code from their SMS. A parcel for a pickup
        point is handed to its staff instead, who confirm the arrival themselves."""
        if order.pickup_point_id is not None:
            return
        said = f"(order {order.id}) has been picked up"
        codes = [
            m[1]
            for t in self.sms.to(order.receiver_phone)
            if said in t and (m := CODE_IN_SMS.search(t))
        ]
        if not codes:
            return
        code = codes[-1]  # a fresh code replaces the one before
        cash = order.fee_cents if order.payment_method == "cash_on_delivery" else None
        courier = order.courier_id or 0
        if self._as(courier, "delivering", delivery.deliver, order.id, code, cash):
            self.tally.delivered += 1
