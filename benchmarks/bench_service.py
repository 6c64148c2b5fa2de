"""The order service under load, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/bench_service.py                    # both parts, both databases
    .venv/bin/python benchmarks/bench_service.py --databases sqlite --seconds 5

1. **Posting orders**: a real `crowdship serve` process on loopback. Concurrent clients (a
   separate process) post orders for a while. The table gives orders per second and the p50
   and p99 latency. In the same run and the same way, the clients call `GET /health` (an
   HTTP round trip with one trivial query), and the table prints posting's cost as a ratio to
   that floor.
2. **One matching batch**: 5000 open orders and 10000 free trips in a 20 km city (Helsinki,
   great-circle travel). The whole job (load rows, match with the core, write offers and
   events) is timed against the core matcher alone on the same instance, so the ratio is what
   the service adds.
3. **A batch with trips that carry orders** (issue 15): 2000 open orders and 5000 trips, a
   third of them assigned (capacity 2 to 4) and carrying one or two accepted or picked-up
   orders on a route that fits. ``plan_batch`` is timed in one warm process (the median of
   ``--runs``), by phase: the pairs, re-planning the loaded trips' routes, the policy. The
   re-planning is timed both ways, interleaved: batched (``routing.extras``, one compiled
   call per trip) and per candidate (the whole route planned again for each pair, as
   ``routing.additions`` does); both must choose the same pairs.

Targets: posting at least 300 orders/s with p99 under 100 ms on SQLite; the batch in under
10 s end to end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from crowdship.core import Requests, TravelModel, match
from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.accounts.service import create_user
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.orders import repository as order_rows
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips import repository as trip_rows
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.settings import Settings
from crowdship.service.workflows import core_model, matching, routing
from crowdship.service.workflows.matching import run_matching

POSTGRES = os.environ.get(
    "CROWDSHIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXE = str(Path(sys.executable).parent / "crowdship")
SECRET = "bench-secret-key-0123456789-0123456789"
console = Console(width=150)


@dataclass
class Load:
    what: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


# -- databases ---------------------------------------------------------------------------


class Scratch:
    """A fresh database per measurement: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}"
            self.schema = ""
        else:
            self.schema = f"crowdship_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            url = sa.engine.make_url(POSTGRES).update_query_dict(
                {"options": f"-csearch_path={self.schema}"}
            )
            self.url = url.render_as_string(hide_password=False)
        migrate(self.url)

    def drop(self) -> None:
        if self.schema:
            admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


# -- part 1: posting orders over HTTP ----------------------------------------------------


def order_json(k: int, now: datetime) -> dict[str, object]:
    rng = np.random.default_rng(k)
    start = now + timedelta(minutes=int(rng.integers(10, 300)))
    return {
        "pickup_lat": float(rng.uniform(60.15, 60.20)),
        "pickup_lon": float(rng.uniform(24.90, 24.98)),
        "pickup_address": f"Bench street {k}",
        "delivery_lat": float(rng.uniform(60.15, 60.20)),
        "delivery_lon": float(rng.uniform(24.90, 24.98)),
        "delivery_address": f"Bench road {k}",
        "earliest_pickup": start.isoformat(),
        "latest_delivery": (start + timedelta(hours=3)).isoformat(),
        "receiver_name": "Bench Receiver",
        "receiver_phone": "+358409999999",
    }


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one HTTP/1.1 request on a kept-alive connection; return the status code."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def _request(what: str, host: str, token: str, body: bytes = b"") -> bytes:
    method, path = ("POST", "/orders") if what == "post /orders" else ("GET", "/health")
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def hammer(
    base: str, token: str, what: str, clients: int, seconds: float, now: datetime
) -> Load:
    """``clients`` concurrent connections, each waiting for its answer before the next
    request. A minimal HTTP/1.1 client on raw sockets, so the load generator is never the
    bottleneck (a general-purpose client library costs more than the server here)."""
    import json

    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    expected = 201 if what == "post /orders" else 200

    async def loop(worker: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        k = worker * 1_000_000
        try:
            while time.perf_counter() < stop:
                k += 1
                body = json.dumps(order_json(k, now)).encode() if what == "post /orders" else b""
                request = _request(what, host, token, body)
                begin = time.perf_counter()
                status = await _exchange(reader, writer, request)
                latencies.append(time.perf_counter() - begin)
                errors += status != expected
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(clients)))
    elapsed = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return Load(
        what,
        len(latencies),
        errors,
        elapsed,
        float(np.percentile(ms, 50)),
        float(np.percentile(ms, 99)),
    )


def load_client(base: str, token: str, what: str, clients: int, seconds: float) -> Load:
    """Run the load from a separate process, so client and server do not share one GIL."""
    code = (
        "import asyncio, json, sys, datetime as d; sys.path.insert(0, sys.argv[1]);"
        "import bench_service as b;"
        "r = asyncio.run(b.hammer(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),"
        " float(sys.argv[6]), d.datetime.now(d.UTC)));"
        "print(json.dumps(r.__dict__))"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(Path(__file__).parent),
            base,
            token,
            what,
            str(clients),
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    return Load(**json.loads(out.stdout.strip().splitlines()[-1]))


def posting(kind: str, folder: Path, clients: int, seconds: float) -> tuple[Load, Load]:
    scratch = Scratch(kind, folder)
    port = 18000 + int(uuid.uuid4().int % 1000)
    env = {
        **os.environ,
        "CROWDSHIP_DATABASE_URL": scratch.url,
        "CROWDSHIP_SECRET_KEY": SECRET,
        "CROWDSHIP_SCHEDULER": "false",
    }
    server = subprocess.Popen(
        [EXE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        signup = {
            "email": "shop@bench.dev",
            "password": "bench-pass-1",
            "role": "merchant",
            "name": "Bench Shop",
            "phone": "+358401112222",
        }
        httpx.post(f"{base}/auth/register", json=signup).raise_for_status()
        token = httpx.post(
            f"{base}/auth/token", data={"username": "shop@bench.dev", "password": "bench-pass-1"}
        ).json()["access_token"]
        load_client(base, token, "get /health", clients, 1.0)  # warm up
        floor = load_client(base, token, "get /health", clients, seconds)
        post = load_client(base, token, "post /orders", clients, seconds)
        return post, floor
    finally:
        server.terminate()
        server.wait(30)
        scratch.drop()


# -- part 2: one matching batch ------------------------------------------------------------

LAT0, LON0 = 60.10, 24.75  # a 20 km square over Helsinki
KM_LAT, KM_LON = 1 / 111.2, 1 / 55.6


def fill(db: Database, trips: int, orders: int, now: datetime, seed: int) -> None:
    """Bulk-insert free trips and open orders (as if posted earlier in the day)."""
    rng = np.random.default_rng(seed)
    with db.write() as session:
        courier = create_user(session, "c@bench.dev", "pw-bench-1", Role.COURIER, "C", None, now)
        courier.assessment_passed_at = now  # only assessed couriers get offers
        sender = create_user(session, "s@bench.dev", "pw-bench-1", Role.MERCHANT, "S", None, now)

        def points(n: int) -> np.ndarray:
            km = rng.uniform(0, 20, size=(n, 2))
            return np.column_stack([LAT0 + km[:, 0] * KM_LAT, LON0 + km[:, 1] * KM_LON])

        origin, destination = points(trips), points(trips)
        direct_km = np.hypot(
            (origin[:, 0] - destination[:, 0]) / KM_LAT, (origin[:, 1] - destination[:, 1]) / KM_LON
        )
        direct_min = direct_km * 1.3 / 30 * 60
        depart = rng.uniform(0, 600, trips)  # over ten hours
        window = direct_min * 4 / 3 + 10  # one third flexibility, plus ten minutes
        session.execute(
            sa.insert(Trip),
            [
                {
                    "courier_id": courier.id,
                    "origin_lat": origin[k, 0],
                    "origin_lon": origin[k, 1],
                    "destination_lat": destination[k, 0],
                    "destination_lon": destination[k, 1],
                    "origin_address": "",
                    "destination_address": "",
                    "earliest_departure": now + timedelta(minutes=float(depart[k])),
                    "latest_arrival": now + timedelta(minutes=float(depart[k] + window[k])),
                    "capacity": 1,
                    "status": TripStatus.OPEN,
                    "created_at": now,
                    "updated_at": now,
                }
                for k in range(trips)
            ],
        )
        pickup, delivery = points(orders), points(orders)
        start = rng.uniform(0, 480, orders)
        session.execute(
            sa.insert(Order),
            [
                {
                    "sender_id": sender.id,
                    "pickup_lat": pickup[k, 0],
                    "pickup_lon": pickup[k, 1],
                    "pickup_address": "p",
                    "delivery_lat": delivery[k, 0],
                    "delivery_lon": delivery[k, 1],
                    "delivery_address": "d",
                    "earliest_pickup": now + timedelta(minutes=float(start[k])),
                    "latest_delivery": now + timedelta(minutes=float(start[k] + 120)),
                    "size": "small",
                    "description": "",
                    "receiver_name": "R",
                    "receiver_phone": "+358409999999",
                    "fee_cents": 500,
                    "currency": "EUR",
                    "distance_km": 1.0,
                    "status": OrderStatus.POSTED,
                    "pickup_attempts": 0,
                    "delivery_attempts": 0,
                    "locked": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for k in range(orders)
            ],
        )
        session.commit()


@dataclass
class Batch:
    database: str
    orders: int
    trips: int
    feasible: int
    offers: int
    load_s: float
    match_s: float
    write_s: float
    total_s: float
    core_s: float


def batch(kind: str, folder: Path, trips: int, orders: int) -> Batch:
    scratch = Scratch(kind, folder)
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    try:
        db = Database(scratch.url)
        context = ServiceContext.build(
            Settings(database_url=scratch.url, secret_key=SECRET, scheduler=False),
            clock=ManualClock(now),
            db=db,
        )
        fill(db, trips, orders, now, seed=11)
        # The competitor: the core matcher alone on the same rows (warm: compiled already).
        with db.read() as session:
            open_orders = order_rows.open_orders(session, now)
            working = accounts.working_couriers(context.settings.assessment_required)
            free = trip_rows.free(session, now, working, offers.busy_trips())
        core_trips = core_model.core_trips(free, now)
        core_requests = core_model.core_requests(open_orders, now)
        match(core_trips, core_requests, context.travel)  # compile and warm caches
        began = time.perf_counter()
        alone = match(core_trips, core_requests, context.travel)
        core_s = time.perf_counter() - began

        began = time.perf_counter()
        run = run_matching(context, "operator")
        total = time.perf_counter() - began
        assert run is not None and run.offers == alone.matched, (run, alone.matched)
        # An empty batch would time nothing: fail loudly rather than print a hollow row.
        assert run.feasible_pairs > 0 and run.offers > 0, f"empty batch: {run}"
        db.dispose()
        return Batch(
            kind,
            orders,
            trips,
            run.feasible_pairs,
            run.offers,
            run.load_s,
            run.match_s,
            run.write_s,
            total,
            core_s,
        )
    finally:
        scratch.drop()


# -- part 3: a batch with trips that carry orders ----------------------------------------


def load_trips(db: Database, travel: TravelModel, now: datetime, share: float, seed: int) -> int:
    """Turn ``share`` of the free trips into assigned ones of capacity 2 to 4, each carrying
    one or two orders (accepted; the first of every fourth trip picked up) that lie along
    it, kept only if the whole route fits (planned by the service's routing). Every trip
    keeps room for one more. Returns how many orders the trips carry."""
    rng = np.random.default_rng(seed)
    with db.write() as session:
        all_trips = list(session.scalars(sa.select(Trip).order_by(Trip.id)))
        sender_id = session.scalar(sa.select(Order.sender_id).limit(1))
        chosen = rng.choice(len(all_trips), size=int(len(all_trips) * share), replace=False)
        rows: list[dict[str, object]] = []
        for n, t in enumerate(sorted(chosen.tolist())):
            trip = all_trips[t]
            capacity = int(rng.integers(2, 5))
            wanted = 1 if capacity == 2 else int(rng.integers(1, 3))
            origin = np.array([trip.origin_lat, trip.origin_lon])
            destination = np.array([trip.destination_lat, trip.destination_lon])
            span = (trip.latest_arrival - trip.earliest_departure).total_seconds() / 60
            for count in range(wanted, 0, -1):
                fields: list[dict[str, object]] = []
                for c in range(count):
                    f = np.sort(rng.uniform(0, 1, 2))
                    noise = rng.normal(0, 0.3, (2, 2)) * [KM_LAT, KM_LON]  # ~300 m aside
                    pickup = origin + f[0] * (destination - origin) + noise[0]
                    delivery = origin + f[1] * (destination - origin) + noise[1]
                    earliest = trip.earliest_departure + timedelta(minutes=f[0] * span / 2)
                    picked = c == 0 and n % 4 == 0
                    fields.append(
                        dict(
                            sender_id=sender_id,
                            pickup_lat=float(pickup[0]),
                            pickup_lon=float(pickup[1]),
                            pickup_address="p",
                            delivery_lat=float(delivery[0]),
                            delivery_lon=float(delivery[1]),
                            delivery_address="d",
                            earliest_pickup=earliest,
                            latest_delivery=earliest + timedelta(minutes=120),
                            size="small",
                            description="",
                            receiver_name="R",
                            receiver_phone="+358409999999",
                            fee_cents=500,
                            currency="EUR",
                            distance_km=1.0,
                            status=OrderStatus.PICKED_UP if picked else OrderStatus.ACCEPTED,
                            trip_id=trip.id,
                            courier_id=trip.courier_id,
                            accepted_at=now,
                            picked_up_at=now if picked else None,
                            delivered_at=None,
                            pickup_attempts=0,
                            delivery_attempts=0,
                            locked=False,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                trip.capacity = capacity
                carried = [Order(id=-(c + 1), **f) for c, f in enumerate(fields)]
                if routing.plan_trip(trip, carried, travel, now).feasible:
                    break
            else:
                trip.capacity = 1
                continue
            trip.status = TripStatus.ASSIGNED
            rows.extend(fields)
        if rows:
            session.execute(sa.insert(Order), rows)
        session.commit()
    return len(rows)


@dataclass
class LoadedBatch:
    orders: int
    trips: int
    loaded_trips: int
    carried: int
    feasible: int
    loaded_pairs: int
    offers: int
    replanned: int
    fitting: int
    runs: dict[str, list[dict[str, float]]]


def per_candidate(
    trips: list[Trip],
    on_trips: list[list[Order]],
    orders: list[Order],
    requests: Requests,
    pair_trip: np.ndarray,
    pair_request: np.ndarray,
    travel: TravelModel,
    now: datetime,
) -> routing.Extras:
    """The re-planning before it was batched: for each trip, the whole route planned
    again for each candidate (``routing.additions``, a Python loop over the pairs); the
    same answers as ``routing.extras``."""
    n = len(pair_trip)
    fits = np.zeros(n, dtype=bool)
    extra, pickup, delivery = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i, trip in enumerate(trips):
        rows = np.flatnonzero(pair_trip == i)
        candidates = [orders[int(j)] for j in pair_request[rows]]
        for k, a in routing.additions(trip, on_trips[i], candidates, travel, now):
            row = rows[k]
            fits[row], extra[row] = True, a.extra_min
            pickup[row], delivery[row] = core_model.minutes_after(
                now, [a.planned_pickup, a.planned_delivery]
            )
    return routing.Extras(fits, extra, pickup, delivery)


def loaded_batch(folder: Path, trips: int, orders: int, share: float, runs: int) -> LoadedBatch:
    scratch = Scratch("sqlite", folder)
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    batched = routing.extras
    try:
        db = Database(scratch.url)
        context = ServiceContext.build(
            Settings(database_url=scratch.url, secret_key=SECRET, scheduler=False),
            clock=ManualClock(now),
            db=db,
        )
        fill(db, trips, orders, now, seed=11)
        carried = load_trips(db, context.travel, now, share, seed=12)
        loaded = matching._load(context, now)
        replanned: list[tuple[int, int]] = []  # pairs on loaded trips, how many fit

        def counted(extras: Callable[..., routing.Extras]) -> Callable[..., routing.Extras]:
            def run(*args: Any) -> routing.Extras:
                found = extras(*args)
                replanned.append((len(found.fits), int(found.fits.sum())))
                return found

            return run

        ways = {"batched": counted(batched), "per candidate": counted(per_candidate)}
        measured: dict[str, list[dict[str, float]]] = {way: [] for way in ways}
        answers = {}
        for repeat in range(runs + 1):  # the first round warms up (compiles, fills caches)
            for way, extras in ways.items():
                routing.extras = extras  # type: ignore[assignment]
                phases: dict[str, float] = {}
                began = time.perf_counter()
                proposals, feasible = matching.plan_batch(context, loaded, now, phases)
                phases["total"] = time.perf_counter() - began
                if repeat:
                    measured[way].append(phases)
                answers[way] = proposals
        routing.extras = batched
        # Both ways choose the same pairs at the same costs and times.
        a, b = answers["batched"], answers["per candidate"]
        assert [(p.trip_id, p.order_id) for p in a] == [(p.trip_id, p.order_id) for p in b]
        for p, q in zip(a, b, strict=True):
            assert abs(p.detour_min - q.detour_min) < 1e-6, (p, q)
            assert abs((p.planned_pickup - q.planned_pickup).total_seconds()) < 1e-3, (p, q)
            assert abs((p.planned_delivery - q.planned_delivery).total_seconds()) < 1e-3
        assert len(a) > 0 and any(p.carried for p in a), "no order went to a loaded trip"
        assert len(set(replanned)) == 1, replanned
        loaded_ids = {trip_id for trip_id in loaded.on_trips}
        db.dispose()
        return LoadedBatch(
            orders,
            trips,
            len(loaded_ids),
            carried,
            feasible,
            sum(1 for p in a if p.trip_id in loaded_ids),
            len(a),
            replanned[0][0],
            replanned[0][1],
            measured,
        )
    finally:
        routing.extras = batched
        scratch.drop()


def median_ms(runs: list[dict[str, float]], phase: str) -> float:
    return float(np.median([r.get(phase, 0.0) for r in runs])) * 1000


def fastest_ms(runs: list[dict[str, float]], phase: str) -> float:
    return float(np.min([r.get(phase, 0.0) for r in runs])) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=16, help="concurrent posting clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="per load measurement")
    parser.add_argument("--trips", type=int, default=10000)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--skip-posting", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-loaded", action="store_true")
    parser.add_argument("--loaded-trips", type=int, default=5000)
    parser.add_argument("--loaded-orders", type=int, default=2000)
    parser.add_argument("--loaded-share", type=float, default=1 / 3, help="trips carrying orders")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of the loaded batch")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        if not args.skip_posting:
            table = Table(
                title=f"posting orders over HTTP ({args.clients} concurrent clients, "
                f"{args.seconds:g} s each)"
            )
            for column in ("database", "requests", "per second", "p50 ms", "p99 ms", "errors"):
                table.add_column(column, justify="right")
            table.add_column("cost vs /health", justify="right")
            for kind in kinds:
                console.print(f"posting on {kind} ...")
                post, floor = posting(kind, folder, args.clients, args.seconds)
                for load in (floor, post):
                    ratio = "1.00x" if load is floor else f"{floor.rate / post.rate:.2f}x"
                    table.add_row(
                        f"{kind}: {load.what}",
                        str(load.requests),
                        f"{load.rate:.0f}",
                        f"{load.p50_ms:.1f}",
                        f"{load.p99_ms:.1f}",
                        str(load.errors),
                        ratio,
                    )
            console.print(table)
        if not args.skip_batch:
            table = Table(
                title=f"one matching batch: {args.orders} open orders x {args.trips} "
                "free trips (20 km city)"
            )
            for column in (
                "database",
                "feasible pairs",
                "offers",
                "load s",
                "match s",
                "write s",
                "total s",
                "core alone s",
                "service / core",
            ):
                table.add_column(column, justify="right")
            for kind in kinds:
                console.print(f"matching batch on {kind} ...")
                b = batch(kind, folder, args.trips, args.orders)
                table.add_row(
                    kind,
                    f"{b.feasible:,}",
                    str(b.offers),
                    f"{b.load_s:.2f}",
                    f"{b.match_s:.2f}",
                    f"{b.write_s:.2f}",
                    f"{b.total_s:.2f}",
                    f"{b.core_s:.2f}",
                    f"{b.total_s / b.core_s:.2f}x",
                )
            console.print(table)
        if not args.skip_loaded:
            console.print("matching batch with loaded trips (sqlite) ...")
            lb = loaded_batch(
                folder, args.loaded_trips, args.loaded_orders, args.loaded_share, args.runs
            )
            console.print(
                f"{lb.orders} open orders x {lb.trips} trips, {lb.loaded_trips} of them "
                f"carrying {lb.carried} orders; {lb.replanned:,} pairs on loaded trips "
                f"re-planned, {lb.fitting:,} fit; {lb.feasible:,} feasible pairs in all; "
                f"{lb.offers} proposals, {lb.loaded_pairs} on loaded trips"
            )
            table = Table(
                title=f"plan_batch by phase, ms: median (fastest) of {args.runs} warm runs"
            )
            phases = ("pairs", "routes", "policy", "schedule", "total")
            table.add_column("re-planning loaded trips")
            for phase in phases:
                table.add_column(phase, justify="right")
            for way, runs in lb.runs.items():
                table.add_row(
                    way,
                    *(
                        f"{median_ms(runs, phase):.1f} ({fastest_ms(runs, phase):.1f})"
                        for phase in phases
                    ),
                )
            console.print(table)
            load = os.getloadavg()
            console.print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
