"""The service under test: a real uvicorn server on loopback, a real database (a SQLite
file, and PostgreSQL on 127.0.0.1:5432), a manual clock and an SMS provider that records.

PostgreSQL tests run wherever a server answers at CROWDSHIP_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test). If none answers they fail, so CI never
skips them silently; set CROWDSHIP_TEST_SKIP_POSTGRES=1 to leave them out on a laptop.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from argon2 import PasswordHasher, profiles

from crowdship.service import security
from crowdship.service.app import create_app
from crowdship.service.clock import Clock, ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.settings import Settings
from crowdship.service.sms import RecordingSms

POSTGRES_URL = os.environ.get(
    "CROWDSHIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SKIP_POSTGRES = os.environ.get("CROWDSHIP_TEST_SKIP_POSTGRES") == "1"
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday morning in Helsinki's winter
PASSWORD = "correct-horse-1"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# The service's own password hasher (Argon2id at argon2-cffi's defaults), before the tests'
# services get a cheap one; test_password_rules checks it.
SERVICE_HASHER = security._hasher


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Argon2id at argon2-cffi's cheapest parameters in the services these tests run in
    their own process: at the defaults (64 MiB, 3 passes) each sign-up and each sign-in
    takes 0.2 s, and they came to a third of a service test's time. A hash names its
    parameters, so either hasher checks the other's. ``crowdship serve`` (the browser,
    contract and fault tests) keeps the defaults."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    if SKIP_POSTGRES:
        pytest.skip("CROWDSHIP_TEST_SKIP_POSTGRES=1")
    schema = f"crowdship_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({error.orig}); start it or set "
            "CROWDSHIP_TEST_SKIP_POSTGRES=1"
        )
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crowdship.db'}"
    else:
        yield from postgres_schema_url()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Party:
    """One logged-in account with its own HTTP client."""

    id: int
    email: str
    role: str
    phone: str | None
    client: httpx.Client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.post(path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.patch(path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.put(path, **kw)


@dataclass
class Service:
    """A running service: its base URL, context (clock, SMS, database) and helpers."""

    url: str
    context: ServiceContext
    clock: Any  # ManualClock unless the test gave another clock
    sms: RecordingSms
    clients: list[httpx.Client] = field(default_factory=list)
    _count: int = 0

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def login(self, email: str, password: str = PASSWORD) -> str:
        answer = self.client().post("/auth/token", data={"username": email, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def relogin(self, *parties: Party) -> None:
        """Fresh tokens after the manual clock passed their expiry."""
        for party in parties:
            party.client.headers["Authorization"] = f"Bearer {self.login(party.email)}"

    def party(self, role: str, phone: str | None = None, assessed: bool = True) -> Party:
        """A new account; couriers pass the onboarding assessment unless ``assessed=False``."""
        self._count += 1
        email = f"{role}{self._count}@test.crowdship.dev"
        phone = phone or f"+35840{self._count:07d}"
        if role == "operator":
            from crowdship.service.entities.accounts.models import Role
            from crowdship.service.entities.accounts.service import create_user

            with self.context.db.write() as session:
                user = create_user(session, email, PASSWORD, Role.OPERATOR, "Op", None, START)
                session.commit()
                user_id = user.id
        else:
            answer = self.client().post(
                "/auth/register",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "role": role,
                    "name": f"{role} {self._count}",
                    "phone": phone,
                },
            )
            assert answer.status_code == 201, answer.text
            user_id = answer.json()["id"]
        party = Party(user_id, email, role, phone, self.client(self.login(email)))
        if role == "courier" and assessed:
            answer = party.post("/assessment", json={"answers": right_answers(party)})
            assert answer.status_code == 200 and answer.json()["passed"], answer.text
        return party


def right_answers(courier: Party) -> dict[str, int]:
    """The right answers to the courier's current paper: its questions and options are
    drawn and shuffled per attempt, so each shown option is matched to the bank's text."""
    from crowdship.service.entities.accounts.assessment import load

    bank = {q.id: q.options[q.answer] for q in load().questions}
    paper = courier.get("/assessment").json()["questions"]
    return {q["id"]: q["options"].index(bank[q["id"]]) for q in paper}


def at(minutes: float) -> str:
    """ISO time ``minutes`` after the tests' start (08:00 UTC)."""
    return (START + timedelta(minutes=minutes)).isoformat()


# Central Helsinki points, a few km apart.
KAMPPI = (60.1690, 24.9320)
KALLIO = (60.1841, 24.9500)
TOOLO = (60.1800, 24.9200)
PUNAVUORI = (60.1620, 24.9400)


Point = tuple[float, float]


def trip_body(
    origin: Point = KAMPPI,
    destination: Point = KALLIO,
    depart: float = 30.0,
    arrive: float = 120.0,
) -> dict[str, Any]:
    return {
        "origin_lat": origin[0],
        "origin_lon": origin[1],
        "destination_lat": destination[0],
        "destination_lon": destination[1],
        "earliest_departure": at(depart),
        "latest_arrival": at(arrive),
    }


def order_body(
    pickup: Point = TOOLO,
    delivery: Point = PUNAVUORI,
    earliest=0.0,
    latest=240.0,
    receiver_phone="+358409999999",
) -> dict[str, Any]:
    return {
        "pickup_lat": pickup[0],
        "pickup_lon": pickup[1],
        "pickup_address": "Töölönkatu 4",
        "delivery_lat": delivery[0],
        "delivery_lon": delivery[1],
        "delivery_address": "Punavuorenkatu 1",
        "earliest_pickup": at(earliest),
        "latest_delivery": at(latest),
        "size": "small",
        "receiver_name": "Rita Receiver",
        "receiver_phone": receiver_phone,
    }


_template: str | None = None


def migrate_new(url: str) -> None:
    """``migrate(url)``; a SQLite file that does not exist yet is first copied from one this
    process migrated once (the migrations take a second, and nearly every test wants a new
    database), then ``migrate`` finds it at the head."""
    global _template
    if url.startswith("sqlite:///"):
        target = url.removeprefix("sqlite:///")
        if not os.path.exists(target):
            if _template is None:
                template = os.path.join(tempfile.mkdtemp(prefix="crowdship-template-"), "t.db")
                migrate(f"sqlite:///{template}")
                _template = template
            shutil.copyfile(_template, target)
    migrate(url)


def start_service(
    url: str, clock: Clock | None = None, **settings: Any
) -> tuple[uvicorn.Server, threading.Thread, Service]:
    """A service on ``url``; its clock is a ManualClock at START unless one is given."""
    migrate_new(url)
    clock = clock if clock is not None else ManualClock(START)
    sms = RecordingSms()
    config = Settings(
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        scheduler=False,
        **settings,
    )
    context = ServiceContext.build(config, clock=clock, sms=sms, db=Database(url))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Start-up loads the matcher's compiled kernels (``warm_up``); in a fresh checkout numba
    # compiles them first, which with another test worker beside it can pass a minute. A
    # start that fails ends the thread, which the loop sees at once: the deadline is only
    # for a server that hangs.
    deadline = time.monotonic() + 300
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread, Service(f"http://127.0.0.1:{port}", context, clock, sms)


@contextmanager
def running_service(url: str, clock: Clock | None = None, **settings: Any) -> Iterator[Service]:
    """A service with these settings for the length of a ``with`` block."""
    server, thread, running = start_service(url, clock=clock, **settings)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)
        running.context.db.dispose()


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    with running_service(database_url) as running:
        yield running
