"""Whole order lives under load, on several service processes, with nothing lost.

    .venv/bin/python benchmarks/bench_flow.py                          # PostgreSQL, 2 workers, 60 s
    .venv/bin/python benchmarks/bench_flow.py --database sqlite --seconds 30
    .venv/bin/python benchmarks/bench_flow.py --fault kill-worker       # or restart-postgres,
                                                                        # sqlite-lock

A real ``crowdship serve --workers N`` (uvicorn worker processes on one port, each with its
own pool; the background jobs in the supervising process run the matching job every 3 s) on
a fresh database (a new schema in the PostgreSQL at CROWDSHIP_TEST_POSTGRES_URL, or a SQLite
file). One client process (asyncio + aiohttp) plays many order lives at once, each as people
would:

1. a sender posts an order (with a new receiver phone);
2. a courier registers a trip along it;
3. the courier takes an order for that trip: half the lives wait for the matching job's
   offer and accept it, half grab (an order the matcher offered elsewhere first is
   refused 409, and that life waits for an offer or grabs another that fits);
4. the sender confirms the pickup with the courier's code;
5. the receiver's code arrives by SMS (the outbox provider's spool file, which every
   service process appends to) and the courier delivers with it.

Every write carries an ``Idempotency-Key``; a request that fails on the way (connection
lost, 503) is sent again, with the same key, after its ``Retry-After``. At the end the
night's settlement runs (the service's own settlement, with its clock past midnight), and
the verdict checks: every acknowledged order exists once, every retried key got one answer,
no order on two trips, every delivered order settled once, the ledger balances
(``crowdship db check``'s invariants).

Faults (``--fault``) during the load: ``kill-worker`` (kill -9 one worker at a third of the
run; uvicorn starts another), ``restart-postgres`` (a private PostgreSQL cluster made for
the run with initdb, stopped for 5 s and started again), ``sqlite-lock`` (another process
holds SQLite's write lock for 10 s). Clients must see 503 with Retry-After, never 500, and
the service must recover by itself.

Target (issue 18): >= 1000 complete order lives per minute, p99 < 250 ms per endpoint,
0 invariant violations, on 2 cores with PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.security import hash_password
from crowdship.service.settings import Settings
from crowdship.service.workflows import settlement
from crowdship.service.workflows.invariants import check

POSTGRES = os.environ.get(
    "CROWDSHIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXE = str(Path(sys.executable).parent / "crowdship")
SECRET = "bench-flow-secret-key-0123456789-0123456789"
PASSWORD = "bench-flow-password-1"
# Central Helsinki: pickups and deliveries 1 to 5 km apart.
LAT, LON = 60.17, 24.94
# The receiver's code text (a status text ends with a tracking link, which may end in digits).
CODE_TEXT = re.compile(r"\(order (\d+)\).* code(?: on delivery)?: ([0-9]{6})$")
console = Console(width=150)


# -- the service ---------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def workers(self) -> list[int]:
        """Pids of the uvicorn worker processes (children that run the app)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # pid (comm) state ppid ...: comm may hold spaces, so split after ")".
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                command = (stat.parent / "cmdline").read_bytes()
                if ppid == self.process.pid and b"spawn_main" in command:
                    found.append(int(stat.parent.name))
        return sorted(found)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the service now: the worker processes running and
        the supervising one (it runs the background jobs: matching, expiry, notices)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [self.process.pid, *self.workers()]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return total

    def stop(self) -> None:
        workers = self.workers()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # A worker that outlived its parent (stuck in a request) must not hold the
        # database's locks past the run.
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(url: str, data_dir: Path, outbox: Path, busy_timeout_s: float) -> dict[str, str]:
    return {
        **os.environ,
        "CROWDSHIP_DATABASE_URL": url,
        "CROWDSHIP_DATA_DIR": str(data_dir),
        "CROWDSHIP_SECRET_KEY": SECRET,
        "CROWDSHIP_SMS_PROVIDER": "outbox",
        "CROWDSHIP_SMS_OUTBOX": str(outbox),
        # Every client of this benchmark is 127.0.0.1, and it signs in and enters codes far
        # more often than one person could: the per-address limits would refuse it.
        "CROWDSHIP_SIGN_IN_LIMIT": "0",
        "CROWDSHIP_SIGN_IN_ADDRESS_LIMIT": "0",
        "CROWDSHIP_CODE_LIMIT": "0",
        "CROWDSHIP_CODE_ADDRESS_LIMIT": "0",
        "CROWDSHIP_SCHEDULER": "true",
        "CROWDSHIP_PLANNING_INTERVAL_MIN": "0.05",  # a matching batch every 3 s
        "CROWDSHIP_TICK_SECONDS": "1",
        "CROWDSHIP_DB_BUSY_TIMEOUT_S": str(busy_timeout_s),
    }


def start_server(env: dict[str, str], workers: int, log: Path) -> Server:
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        # No access log: a line per request costs ~3% of the workers' CPU, and a deployment
        # under this load keeps the proxy's instead.
        [EXE, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"crowdship serve exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            healthy = httpx.get(server.url + "/health", timeout=2).status_code == 200
            # Every worker past its start-up (the matcher loaded), not just the first.
            ready = log.read_text(errors="replace").count("Application startup complete")
            if healthy and ready >= workers:
                return server
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"crowdship serve did not answer in 90 s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    schema = f"bench_flow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(sa.exc.OperationalError), admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the run's own (initdb), so a restart touches nobody else."""

    directory: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # the server refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> None:
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200",
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("restart-postgres needs PostgreSQL's server programs (initdb, pg_ctl)")
    return found[-1].parent


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    directory = Path(tempfile.mkdtemp(prefix="crowdship-pg-"))
    cluster = PrivatePostgres(directory, free_port(), postgres_bin())
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster._as_postgres(
        "initdb", "-D", str(directory / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"
    )
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


# -- accounts ------------------------------------------------------------------------------


def seed_accounts(url: str, senders: int, couriers: int) -> tuple[list[str], list[str], str]:
    """Senders (merchants), couriers past their assessment with a payout account, and an
    operator, written straight into the database (one password hash for all: setting up is
    not what is measured)."""
    database = Database(url)
    now = datetime.now(UTC)
    secret = hash_password(PASSWORD)
    tag = uuid.uuid4().hex[:6]

    def user(role: Role, email: str, k: int) -> User:
        return User(
            email=email,
            password_hash=secret,
            role=role,
            name=f"{role.value} {k}",
            phone=f"+35840{k:07d}",
            active=True,
            created_at=now,
            assessment_passed_at=now if role == Role.COURIER else None,
            payout_account="FI7600000000000001" if role == Role.COURIER else None,
        )

    sender_emails = [f"sender{k}-{tag}@flow.dev" for k in range(senders)]
    courier_emails = [f"courier{k}-{tag}@flow.dev" for k in range(couriers)]
    operator = f"operator-{tag}@flow.dev"
    with database.write() as session:
        session.add_all(user(Role.MERCHANT, e, k) for k, e in enumerate(sender_emails))
        session.add_all(user(Role.COURIER, e, 100_000 + k) for k, e in enumerate(courier_emails))
        session.add(user(Role.OPERATOR, operator, 999_999))
        session.commit()
    database.dispose()
    return sender_emails, courier_emails, operator


# -- the client ----------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: defaultdict[str, defaultdict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    retries: int = 0
    lost_connections: int = 0
    unavailable: int = 0  # 503 answers
    unavailable_without_retry_after: int = 0
    unavailable_reasons: Counter[str] = field(default_factory=Counter)
    lost_reasons: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    # Idempotency: key -> the order id every answer to it named.
    posted: dict[str, set[int]] = field(default_factory=dict)
    acknowledged_orders: set[int] = field(default_factory=set)
    abandoned_posts: int = 0
    delivered: list[tuple[float, int]] = field(default_factory=list)  # (time, order id)
    unserved: int = 0
    stuck: list[str] = field(default_factory=list)
    first_outage: float | None = None
    last_outage: float | None = None


class Retryable(Exception):
    pass


@dataclass
class Answer:
    status_code: int
    text: str
    headers: Any

    def json(self) -> Any:
        return json.loads(self.text)


class Client:
    """aiohttp, not httpx: the client shares the 2 cores with the service it loads, and
    aiohttp's C parser costs a fraction of httpx's pure-Python one per request."""

    def __init__(self, url: str, tally: Tally, concurrency: int) -> None:
        connector = aiohttp.TCPConnector(limit=concurrency + 8)
        self.http = aiohttp.ClientSession(
            base_url=url, connector=connector, timeout=aiohttp.ClientTimeout(total=30)
        )
        self.tally = tally
        self.tokens: dict[str, str] = {}

    async def sign_in(self, email: str) -> None:
        answer = await self.call(
            "POST /auth/token",
            "POST",
            "/auth/token",
            None,
            data={"username": email, "password": PASSWORD},
        )
        self.tokens[email] = answer.json()["access_token"]
        # Signing in is setting up (argon2 on purpose slow), not part of an order's life.
        for table in (self.tally.latencies, self.tally.statuses):
            table.pop("POST /auth/token", None)

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        who: str | None,
        *,
        key: str | None = None,
        give_up_after: float = 120.0,
        **kw: Any,
    ) -> Answer:
        """One request, sent again (same Idempotency-Key) while the connection is lost or
        the answer is 503; returns the first answer that is not, whatever its status."""
        headers = {}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        if key is not None:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + give_up_after
        while True:
            start = time.perf_counter()
            try:
                async with self.http.request(method, path, headers=headers, **kw) as response:
                    answer = Answer(response.status, await response.text(), response.headers)
            except (aiohttp.ClientError, TimeoutError) as error:
                self.tally.lost_connections += 1
                self.tally.lost_reasons[f"{name}: {type(error).__name__} {error}"[:120]] += 1
                self._outage()
                if time.monotonic() > deadline:
                    raise Retryable(f"{name}: {type(error).__name__}") from error
                self.tally.retries += 1
                await asyncio.sleep(0.2)
                continue
            elapsed = (time.perf_counter() - start) * 1000
            self.tally.latencies[name].append(elapsed)
            self.tally.statuses[name][answer.status_code] += 1
            if answer.status_code >= 500 and answer.status_code != 503:
                self.tally.server_errors.append(f"{name} {answer.status_code}: {answer.text[:200]}")
            if answer.status_code == 503:
                self.tally.unavailable += 1
                self.tally.unavailable_reasons[answer.json().get("detail", "?").split(";")[0]] += 1
                self._outage()
                wait = answer.headers.get("Retry-After")
                if wait is None or not wait.isdigit():
                    self.tally.unavailable_without_retry_after += 1
                    wait = "1"
                if time.monotonic() > deadline:
                    raise Retryable(f"{name}: 503 for {give_up_after:.0f} s")
                self.tally.retries += 1
                await asyncio.sleep(float(wait))
                continue
            return answer

    def _outage(self) -> None:
        now = time.monotonic()
        if self.tally.first_outage is None:
            self.tally.first_outage = now
        self.tally.last_outage = now


class Outbox:
    """Reads the receivers' codes from the SMS spool as the service processes append."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.codes: dict[int, str] = {}
        self._offset = 0
        self._rest = b""

    def poll(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as spool:
            spool.seek(self._offset)
            chunk = spool.read()
        self._offset += len(chunk)
        lines = (self._rest + chunk).split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            text = json.loads(line)["text"]
            found = CODE_TEXT.search(text)
            if found:
                self.codes[int(found.group(1))] = found.group(2)

    async def code_for(self, order_id: int, wait_s: float = 30.0) -> str | None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            self.poll()
            if order_id in self.codes:
                return self.codes[order_id]
            await asyncio.sleep(0.05)
        return None


def _point(
    rng: random.Random, around: tuple[float, float] | None = None, km: float = 3.0
) -> tuple[float, float]:
    lat0, lon0 = around or (LAT, LON)
    return (
        round(lat0 + rng.uniform(-km, km) / 111.0, 6),
        round(lon0 + rng.uniform(-km, km) / 55.5, 6),
    )


@dataclass
class Life:
    client: Client
    outbox: Outbox
    sender_of: dict[int, str]
    cash_of: dict[int, int]
    rng: random.Random
    index: int

    async def run(self, sender: str, courier: str, grab: bool) -> None:
        c, t = self.client, self.client.tally
        now = datetime.now(UTC)
        pickup = _point(self.rng)
        delivery = _point(self.rng, pickup, 2.0)
        key = f"order-{uuid.uuid4().hex}"
        phone = f"+3585{self.index:09d}"
        order = {
            "pickup_lat": pickup[0],
            "pickup_lon": pickup[1],
            "pickup_address": "Mannerheimintie 1",
            "delivery_lat": delivery[0],
            "delivery_lon": delivery[1],
            "delivery_address": "Hämeentie 2",
            "earliest_pickup": now.isoformat(),
            "latest_delivery": (now + timedelta(hours=3)).isoformat(),
            "size": "small",
            "receiver_name": "Rita Receiver",
            "receiver_phone": phone,
            "payment_method": "cash_on_delivery" if self.rng.random() < 0.2 else "prepaid",
        }
        try:
            posted = await c.call("POST /orders", "POST", "/orders", sender, key=key, json=order)
        except Retryable:
            t.abandoned_posts += 1
            return
        if posted.status_code != 201:
            t.stuck.append(f"post {posted.status_code}: {posted.text[:200]}")
            return
        order_id = int(posted.json()["id"])
        if order["payment_method"] == "cash_on_delivery":
            self.cash_of[order_id] = int(posted.json()["fee_cents"])
        t.posted.setdefault(key, set()).add(order_id)
        t.acknowledged_orders.add(order_id)
        self.sender_of[order_id] = sender

        start = _point(self.rng, pickup, 0.5)
        end = _point(self.rng, delivery, 0.5)
        trip = {
            "origin_lat": start[0],
            "origin_lon": start[1],
            "destination_lat": end[0],
            "destination_lon": end[1],
            "earliest_departure": (now + timedelta(minutes=2)).isoformat(),
            "latest_arrival": (now + timedelta(hours=2)).isoformat(),
        }
        made = await c.call(
            "POST /trips", "POST", "/trips", courier, key=f"trip-{uuid.uuid4().hex}", json=trip
        )
        if made.status_code != 201:
            t.stuck.append(f"trip {made.status_code}: {made.text[:200]}")
            return
        trip_id = int(made.json()["id"])
        taken = await self.take(courier, trip_id, order_id if grab else None)
        if taken is None:
            t.unserved += 1
            await c.call(
                "POST /trips/{id}/cancel",
                "POST",
                f"/trips/{trip_id}/cancel",
                courier,
                key=f"cancel-{uuid.uuid4().hex}",
            )
            return
        carried, pickup_code = taken
        owner = self.sender_of.get(carried)
        if owner is None:  # an order posted by a life that has not noted it yet
            await asyncio.sleep(0.5)
            owner = self.sender_of.get(carried)
        if owner is None:
            t.stuck.append(f"order {carried}: no sender known")
            return
        picked = await c.call(
            "POST /orders/{id}/pickup",
            "POST",
            f"/orders/{carried}/pickup",
            owner,
            key=f"pickup-{uuid.uuid4().hex}",
            json={"code": pickup_code},
        )
        if picked.status_code != 200:
            t.stuck.append(f"pickup {carried} {picked.status_code}: {picked.text[:200]}")
            return
        cash: dict[str, int] = {}
        if carried in self.cash_of:  # the receiver pays the courier the fee
            cash = {"cash_collected_cents": self.cash_of[carried]}
        code = await self.outbox.code_for(carried)
        if code is None:
            t.stuck.append(f"order {carried}: no delivery code texted in 30 s")
            return
        done = await c.call(
            "POST /orders/{id}/deliver",
            "POST",
            f"/orders/{carried}/deliver",
            courier,
            key=f"deliver-{uuid.uuid4().hex}",
            json={"code": code, **cash},
        )
        if done.status_code != 200:
            t.stuck.append(f"deliver {carried} {done.status_code}: {done.text[:200]}")
            return
        t.delivered.append((time.monotonic(), carried))

    async def take(self, courier: str, trip_id: int, grab: int | None) -> tuple[int, str] | None:
        """The order this trip carries and its pickup code: grabbed, or offered and accepted."""
        c = self.client
        if grab is not None:
            code = await self.grab(courier, grab, trip_id)
            if code is not None:
                return grab, code
        deadline = time.monotonic() + 30
        polls = 0
        while time.monotonic() < deadline:
            polls += 1
            offers = await c.call(
                "GET /offers", "GET", "/offers", courier, params={"status": "pending"}
            )
            for offer in offers.json() if offers.status_code == 200 else []:
                if offer["trip_id"] != trip_id:
                    continue
                accepted = await c.call(
                    "POST /offers/{id}/accept",
                    "POST",
                    f"/offers/{offer['id']}/accept",
                    courier,
                    key=f"accept-{uuid.uuid4().hex}",
                )
                if accepted.status_code == 200:
                    return int(offer["order_id"]), accepted.json()["pickup_code"]
            if polls % 4 == 0:  # no offer yet: look for an open order that fits, and grab it
                fitting = await c.call(
                    "GET /trips/{id}/fitting-orders",
                    "GET",
                    f"/trips/{trip_id}/fitting-orders",
                    courier,
                    params={"limit": 5},
                )
                for fit in fitting.json() if fitting.status_code == 200 else []:
                    other = int(fit["order"]["id"])
                    code = await self.grab(courier, other, trip_id)
                    if code is not None:
                        return other, code
            await asyncio.sleep(1.0)  # a batch runs every 3 s: polling faster only loads it
        return None

    async def grab(self, courier: str, order_id: int, trip_id: int) -> str | None:
        """Grab the order for the trip: its pickup code, or None if it was refused."""
        got = await self.client.call(
            "POST /orders/{id}/grab",
            "POST",
            f"/orders/{order_id}/grab",
            courier,
            key=f"grab-{uuid.uuid4().hex}",
            json={"trip_id": trip_id},
        )
        return str(got.json()["pickup_code"]) if got.status_code == 200 else None


# -- faults --------------------------------------------------------------------------------


@dataclass
class FaultLog:
    kind: str
    began: float | None = None
    ended: float | None = None
    note: str = ""


async def inject(kind: str, at_s: float, server: Server, extra: Any, log: FaultLog) -> None:
    await asyncio.sleep(at_s)
    log.began = time.monotonic()
    if kind == "kill-worker":
        victims = server.workers()
        os.kill(victims[0], signal.SIGKILL)
        log.note = f"killed worker {victims[0]} of {victims}"
        while True:  # until uvicorn has started a new one
            await asyncio.sleep(0.2)
            now = server.workers()
            if victims[0] not in now and len(now) >= len(victims):
                log.note += f"; running again: {now}"
                break
    elif kind == "restart-postgres":
        cluster: PrivatePostgres = extra
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(5)
        await asyncio.to_thread(cluster.start)
        log.note = "stopped for 5 s, started again"
    elif kind == "sqlite-lock":
        path: Path = extra

        def hold() -> None:
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            time.sleep(10)
            connection.execute("ROLLBACK")
            connection.close()

        await asyncio.to_thread(hold)
        log.note = "write lock held for 10 s"
    log.ended = time.monotonic()


# -- the run -------------------------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    lives: int
    tally: Tally
    verdict_violations: list[str]
    checks: dict[str, bool]
    settled: int
    fault: FaultLog | None
    recovered_s: float | None
    server_cpu_s: float = 0.0  # the service's CPU time during the run (workers and jobs)
    client_cpu_s: float = 0.0
    machine_busy: float = 0.0  # share of the machine's CPU busy during the run (all of it)

    @property
    def lives_per_min(self) -> float:
        return self.lives / self.seconds * 60

    @property
    def ok(self) -> bool:
        return not self.verdict_violations and all(self.checks.values())


async def drive(
    url: str,
    outbox_path: Path,
    senders: list[str],
    couriers: list[str],
    seconds: float,
    concurrency: int,
    seed: int,
    fault: tuple[str, float, Server, Any] | None,
) -> tuple[Tally, float, FaultLog | None]:
    tally = Tally()
    client = Client(url, tally, concurrency)
    outbox = Outbox(outbox_path)
    sender_of: dict[int, str] = {}
    cash_of: dict[int, int] = {}
    gate = asyncio.Semaphore(8)  # argon2 is slow on purpose: sign in a few at a time

    async def sign_in(email: str) -> None:
        async with gate:
            await client.sign_in(email)

    await asyncio.gather(*(sign_in(e) for e in [*senders, *couriers]))
    # Setting up is not what is measured.
    tally.retries = tally.lost_connections = 0
    tally.lost_reasons.clear()
    tally.first_outage = tally.last_outage = None
    rng = random.Random(seed)
    counter = iter(range(10**9))
    start = time.monotonic()
    stop_at = start + seconds

    async def worker(k: int) -> None:
        local = random.Random(rng.random())
        courier = couriers[k]  # one courier per worker: a trip at a time each
        # People do not all start at the same instant: the lives begin over the first 3 s
        # (all at once, the first 32 posts queued behind each other and set the p99).
        await asyncio.sleep(local.uniform(0, 3))
        while time.monotonic() < stop_at:
            life = Life(client, outbox, sender_of, cash_of, local, next(counter))
            try:
                await life.run(local.choice(senders), courier, grab=local.random() < 0.5)
            except Retryable as error:
                tally.stuck.append(f"gave up: {error}")

    log = FaultLog(fault[0]) if fault else None
    tasks = [asyncio.create_task(worker(k)) for k in range(concurrency)]
    if fault is not None and log is not None:
        kind, at_s, server, extra = fault
        tasks.append(asyncio.create_task(inject(kind, at_s, server, extra, log)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    await client.http.close()
    return tally, elapsed, log


def settle_night(url: str, days: list[date]) -> int:
    """The nightly settlement, run as the scheduler would once the day is over (its clock
    set past midnight; the service's real clock would wait for the night)."""
    settings = Settings(database_url=url, secret_key=SECRET, scheduler=False)
    tomorrow = max(days) + timedelta(days=1)
    clock = ManualClock(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 3, tzinfo=UTC))
    context = ServiceContext.build(settings, clock=clock)
    settled = 0
    try:
        for day in sorted(set(days)):
            outcome = settlement.settle(context, day, "cli")
            settled += outcome.run.orders if outcome.run is not None else 0
    finally:
        context.db.dispose()
    return settled


def verdict(url: str, tally: Tally) -> tuple[list[str], dict[str, bool], int]:
    database = Database(url)
    try:
        with database.snapshot() as session:
            found = check(session)
            rows = session.execute(sa.select(Order.id, Order.status)).all()
    finally:
        database.dispose()
    status = {i: s for i, s in rows}
    delivered_ids = [o for _, o in tally.delivered]
    checks = {
        "every retried key got one order": all(len(ids) == 1 for ids in tally.posted.values()),
        "every acknowledged order exists once": tally.acknowledged_orders <= set(status)
        and len(status) <= len(tally.acknowledged_orders) + tally.abandoned_posts,
        "every acknowledged delivery is settled": all(
            status.get(o) == OrderStatus.SETTLED for o in delivered_ids
        ),
        "no order delivered twice": len(delivered_ids) == len(set(delivered_ids)),
        "no server error (5xx but 503)": not tally.server_errors,
        "every 503 says Retry-After": tally.unavailable_without_retry_after == 0,
    }
    settled = sum(1 for s in status.values() if s == OrderStatus.SETTLED)
    return found.violations, checks, settled


def run_flow(
    database: str = "postgresql",
    workers: int = 2,
    seconds: float = 60.0,
    concurrency: int = 32,
    senders: int = 12,
    fault: str | None = None,
    seed: int = 18,
    workdir: Path | None = None,
    busy_timeout_s: float = 2.0,
) -> Result:
    """The whole benchmark, returning its figures and verdict (the fault tests call this)."""
    own_dir = workdir is None
    directory = workdir or Path(tempfile.mkdtemp(prefix="crowdship-flow-"))
    with contextlib.ExitStack() as stack:
        cluster = None
        if database == "sqlite":
            db_path = directory / "flow.db"
            url = f"sqlite:///{db_path}"
        elif fault == "restart-postgres":
            cluster = stack.enter_context(private_postgres())
            url = cluster.url
        else:
            url = stack.enter_context(postgres_schema(POSTGRES))
        migrate(url)
        sender_emails, courier_emails, _operator = seed_accounts(url, senders, concurrency)
        outbox = directory / "sms-outbox.jsonl"
        env = service_env(url, directory / "data", outbox, busy_timeout_s)
        server = start_server(env, workers, directory / "serve.log")
        stack.callback(server.stop)
        planned = None
        if fault == "kill-worker":
            planned = ("kill-worker", seconds / 3, server, None)
        elif fault == "restart-postgres":
            planned = ("restart-postgres", seconds / 3, server, cluster)
        elif fault == "sqlite-lock":
            if database != "sqlite":
                raise ValueError("--fault sqlite-lock needs --database sqlite")
            planned = ("sqlite-lock", seconds / 3, server, db_path)
        elif fault is not None:
            raise ValueError(f"unknown fault {fault!r}")
        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        busy_before, total_before = machine_busy()
        tally, elapsed, log = asyncio.run(
            drive(
                server.url,
                outbox,
                sender_emails,
                courier_emails,
                seconds,
                concurrency,
                seed,
                planned,
            )
        )
        server_cpu = server.cpu_seconds() - server_cpu
        busy_after, total_after = machine_busy()
        busy = (busy_after - busy_before) / max(total_after - total_before, 1e-9)
        client_cpu = time.process_time() - client_cpu
        recovered = None
        if log is not None and log.ended is not None:
            after = [when for when, _ in tally.delivered if when > log.ended]
            recovered = (min(after) - log.ended) if after else None
            if log.kind == "kill-worker" and log.began is not None:
                after = [when for when, _ in tally.delivered if when > log.began]
                recovered = (min(after) - log.began) if after else None
        server.stop()
        today = datetime.now(UTC).date()
        settled = settle_night(url, [today - timedelta(days=1), today])
        violations, checks, _ = verdict(url, tally)
        if log is not None:
            checks["service recovered (a delivery after the fault)"] = recovered is not None
        result = Result(
            seconds=elapsed,
            lives=len(tally.delivered),
            tally=tally,
            verdict_violations=violations,
            checks=checks,
            settled=settled,
            fault=log,
            recovered_s=recovered,
            server_cpu_s=server_cpu,
            client_cpu_s=client_cpu,
            machine_busy=busy,
        )
    if own_dir:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def report(result: Result, database: str, workers: int, concurrency: int) -> None:
    t = result.tally
    table = Table(
        title=f"bench_flow: {database}, {workers} workers, {concurrency} lives at once, "
        f"{result.seconds:.0f} s"
    )
    table.add_column("endpoint")
    table.add_column("requests", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("answers")
    for name in sorted(t.latencies):
        values = np.array(t.latencies[name])
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(t.statuses[name].items()))
        table.add_row(
            name,
            str(len(values)),
            f"{np.percentile(values, 50):.1f}",
            f"{np.percentile(values, 99):.1f}",
            answers,
        )
    console.print(table)
    every = np.concatenate([np.array(v) for v in t.latencies.values()])
    console.print(
        f"complete order lives: {result.lives} in {result.seconds:.1f} s = "
        f"[bold]{result.lives_per_min:.0f} per minute[/bold]; all requests {len(every)} "
        f"({len(every) / result.seconds:.0f}/s), p50 {np.percentile(every, 50):.1f} ms, "
        f"p99 {np.percentile(every, 99):.1f} ms; unserved trips {t.unserved}; "
        f"settled {result.settled}"
    )
    if result.lives:
        per_life = result.server_cpu_s / result.lives * 1000
        client = result.client_cpu_s / result.lives * 1000
        console.print(
            f"CPU per complete life: the service {per_life:.1f} ms, this client "
            f"{client:.1f} ms "
            f"(PostgreSQL's own not counted); per request: service "
            f"{result.server_cpu_s / len(every) * 1000:.2f} ms; the machine was "
            f"{result.machine_busy:.0%} busy (everything on it, PostgreSQL included)"
        )
    console.print(
        f"retries {t.retries} (lost connections {t.lost_connections}, "
        f"503 answers {t.unavailable}), "
        f"server errors {len(t.server_errors)}, stuck lives {len(t.stuck)}"
    )
    for reason, n in t.unavailable_reasons.most_common():
        console.print(f"  503 x {n}: {reason}")
    for reason, n in t.lost_reasons.most_common(5):
        console.print(f"  lost x {n}: {reason}")
    for line in t.stuck[:5]:
        console.print(f"  stuck: {line}")
    for line in t.server_errors[:5]:
        console.print(f"  [red]server error[/red]: {line}")
    if result.fault is not None:
        f = result.fault
        length = (
            (f.ended - f.began) if f.began is not None and f.ended is not None else float("nan")
        )
        recovered = f"{result.recovered_s:.1f} s" if result.recovered_s is not None else "never"
        console.print(
            f"fault {f.kind}: {f.note}; lasted {length:.1f} s; first delivery after it: {recovered}"
        )
    for name, passed in result.checks.items():
        console.print(f"  {'[green]ok[/green]' if passed else '[red]FAILED[/red]'}  {name}")
    console.print(
        f"  {'[green]ok[/green]' if not result.verdict_violations else '[red]FAILED[/red]'}  "
        "crowdship db check (event chains, trip loads, ledger balanced, settled once, one payout)"
    )
    for problem in result.verdict_violations:
        console.print(f"    [red]violation[/red]: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", type=int, default=2, help="service worker processes")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long lives are started")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="order lives at once (32 keep about 1100 lives a minute going on 2 cores)",
    )
    parser.add_argument("--senders", type=int, default=12)
    parser.add_argument("--fault", choices=["kill-worker", "restart-postgres", "sqlite-lock"])
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the service's log and SMS spool here (default: a temporary folder, removed)",
    )
    args = parser.parse_args()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"load average before: {os.getloadavg()[0]:.2f}")
    result = run_flow(
        args.database,
        args.workers,
        args.seconds,
        args.concurrency,
        args.senders,
        args.fault,
        args.seed,
        workdir=args.workdir,
    )
    report(result, args.database, args.workers, args.concurrency)
    console.print(f"load average after: {os.getloadavg()[0]:.2f}")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
