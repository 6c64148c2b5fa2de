"""``crowdship serve``, ``crowdship db``, ``crowdship create-operator``: run the service."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from crowdship.cli.common import console, fail

if TYPE_CHECKING:  # the service stack loads only when a service command runs
    from crowdship.service.context import ServiceContext
    from crowdship.service.scheduler import Scheduler
    from crowdship.service.settings import Settings

log = logging.getLogger("crowdship.serve")

# On Ctrl-C or SIGTERM, requests under way get this long to finish. Open pages hold their
# event streams open for ever, and without a limit uvicorn would wait for them to close.
SHUTDOWN_GRACE_S = 5

db_app = typer.Typer(
    help="The service's database: migrations.", no_args_is_help=True, rich_markup_mode="markdown"
)


def _settings(**overrides: object) -> Settings:
    from crowdship.service.settings import Settings, SettingsError

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except (ValidationError, SettingsError) as error:
        fail(f"settings: {_one_line(error)}")


def with_public_url(settings: Settings, host: str, port: int) -> Settings:
    """Links sent to people (tracking) point at this server, on the port it listens on,
    unless CROWDSHIP_PUBLIC_URL says where it is reached from outside (they said port 8000
    whatever ``--port`` was)."""
    if "public_url" in settings.model_fields_set:
        return settings
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return settings.model_copy(update={"public_url": f"http://{shown}:{port}"})


def _one_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return f"CROWDSHIP_{field.upper()}: {first['msg']}"
    return str(error)


def _migrate(url: str) -> None:
    from sqlalchemy.exc import OperationalError

    from crowdship.service.db import migrate

    try:
        migrate(url)
    except OperationalError as error:
        reason = " ".join(str(error.orig).split())  # the driver's message spans lines
        fail(f"cannot reach the database {_safe(url)}: {reason}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Seed a demo city (Helsinki: couriers with trips, merchants, customers, open "
            "orders) and run a first matching batch. Uses crowdship-data/demo.db unless "
            "CROWDSHIP_DATABASE_URL is set.",
        ),
    ] = False,
    scheduler: Annotated[
        bool | None,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Run matching every planning interval and expire offers in the background "
            "(default: on; CROWDSHIP_SCHEDULER).",
        ),
    ] = None,
    clock_speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            "--clock-speed",
            min=0.001,
            max=100_000,
            help="Run the service's time this many times faster than real time: 60 is one "
            "minute per second, so the 5-minute withdrawal window, offer expiry and a whole "
            "day pass while you watch (CROWDSHIP_CLOCK_SPEED; login tokens keep real time). "
            "Default: 60 for the living demo, else real time.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Service worker processes sharing the port (uvicorn restarts one that dies). "
            "Each has its own connection pool and rate-limit counts; the background jobs "
            "(expiry, matching, settlement, notifications) run once, in the supervising "
            "process. Needs real time and, with --demo, --no-live.",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="A log line per request (method, path, status). Off saves a few percent of "
            "CPU where a proxy in front keeps its own.",
        ),
    ] = True,
    live: Annotated[
        bool,
        typer.Option(
            "--live/--no-live",
            help="With --demo: the city moves. Simulated senders post the parcels of a day "
            "drawn by the simulator, simulated couriers register trips, answer offers with "
            "the simulator's response model, pick up and deliver; the scheduler matches and "
            "settles. --no-live keeps the seeded city still.",
        ),
    ] = True,
) -> None:
    """Run the order service (HTTP API, OpenAPI at /docs) on SQLite by default.

    Settings come from CROWDSHIP_* variables: CROWDSHIP_DATABASE_URL (e.g.
    postgresql+psycopg://user@host/db), CROWDSHIP_PLANNING_INTERVAL_MIN (40),
    CROWDSHIP_OFFER_TTL_MIN (10), CROWDSHIP_SECRET_KEY, ... (see README). The schema is
    migrated before the service starts.
    """
    import uvicorn

    from crowdship.service.context import ServiceContext
    from crowdship.web import create_site

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    living = demo and live
    if living and clock_speed is None:
        clock_speed = 60.0
    base = _settings(scheduler=scheduler, clock_speed=clock_speed)
    base = with_public_url(base, host, port)
    if workers > 1 and living:
        fail("--workers: the living demo plays its city in one process; add --no-live")
    if workers > 1 and base.clock_speed != 1.0:
        fail(
            f"--workers: a demo clock ({base.clock_speed:g}x) is kept by one process; "
            "use --workers 1 or real time"
        )
    if living:
        # The scheduler's pass must keep up with the fast clock: about one service minute.
        tick = min(base.tick_seconds, max(0.2, 60.0 / base.clock_speed))
        base = base.model_copy(update={"tick_seconds": tick})
    if demo and not base.database_url:
        base.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(base.data_dir / 'demo.db').resolve()}"
        base = base.model_copy(update={"database_url": url})
    url = base.resolved_database_url
    _migrate(url)
    from crowdship.service.sms import RecordingSms

    # The living demo's receivers read their codes from the texts they were sent.
    sms = RecordingSms() if living else None
    context = ServiceContext.build(base, sms=sms)
    if demo:
        _seed_demo(context)
    console.print(
        f"crowdship service on http://{host}:{port} (API docs: http://{host}:{port}/docs), "
        f"database {_safe(url)}"
    )
    if demo:
        console.print(
            f"open http://{host}:{port} in a browser and sign in as one of the accounts above; "
            "the API with curl: docs/api.md"
        )
    if base.clock_speed != 1.0:
        console.print(
            f"demo clock: service time runs {base.clock_speed:g}x real time from "
            f"{context.clock.now():%Y-%m-%d %H:%M} UTC"
        )
    city = None
    if living and sms is not None:
        from crowdship.service.demo_city import LiveCity

        city = LiveCity(context, sms)
        city.start()
        console.print(
            f"living demo: {len(city.day.orders)} parcels and {len(city.day.trips)} trips "
            f"through the day, played by the simulator (--no-live for a still city)"
        )
    try:
        if workers == 1:
            uvicorn.run(
                create_site(context),
                host=host,
                port=port,
                log_level="info",
                access_log=access_log,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            )
        else:
            # Each worker process reads its settings from the environment: pass on what this
            # command decided (the database above all).
            context.db.dispose()
            os.environ["CROWDSHIP_DATABASE_URL"] = url
            os.environ["CROWDSHIP_PUBLIC_URL"] = base.public_url
            # The background jobs (expiry, matching, settlement, notifications) run once, in
            # this supervising process, not in every worker: a matching batch holds its
            # process's GIL for tens of milliseconds, and the requests of a worker running
            # it waited that long (the p99 of bench_flow).
            os.environ["CROWDSHIP_SCHEDULER"] = "false"
            jobs = _background_jobs(context) if base.scheduler else None
            console.print(
                f"{workers} worker processes"
                + (", background jobs in this process" if jobs is not None else "")
            )
            try:
                uvicorn.run(
                    "crowdship.web:site_from_environment",
                    factory=True,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level="info",
                    access_log=access_log,
                    timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                )
            finally:
                if jobs is not None:
                    jobs.stop()
    finally:
        if city is not None:
            city.stop()
            console.print(f"living demo: {city.tally}")


def _background_jobs(context: ServiceContext) -> Scheduler:
    """The scheduler, started in this process, its matcher's kernels loaded first."""
    from crowdship.service.scheduler import Scheduler
    from crowdship.service.workflows.matching import warm_up

    log.info("matcher ready in %.2f s", warm_up(context))
    jobs = Scheduler(context)
    jobs.start()
    return jobs


def _seed_demo(context: ServiceContext) -> None:
    from crowdship.service.demo import OPERATOR_EMAIL, PASSWORD, seed
    from crowdship.service.workflows.matching import run_matching

    summary = seed(context)
    if summary.created:
        run = run_matching(context, "operator")
        offers = run.offers if run is not None else 0
        console.print(
            f"demo city seeded: {summary.couriers} couriers with {summary.trips} trips, "
            f"{summary.merchants} merchants, {summary.customers} customers, {summary.orders} "
            f"open orders; a first matching batch sent {offers} offers"
        )
    else:
        console.print("demo city already seeded; reusing it")
    table = Table(title=f"demo sign-ins (password for all: {PASSWORD})")
    table.add_column("role", no_wrap=True)
    table.add_column("email", no_wrap=True, min_width=len(OPERATOR_EMAIL))  # copied whole
    table.add_column("page", no_wrap=True)
    for role, email, page in [
        ("operator", OPERATOR_EMAIL, "/console"),
        ("merchant", "shop1@demo.crowdship.dev", "/sender"),
        ("customer", "customer1@demo.crowdship.dev", "/sender"),
        ("courier", "courier1@demo.crowdship.dev", "/courier"),
        ("new courier", "courier25@demo.crowdship.dev", "/courier"),
        ("point staff", "staff1@demo.crowdship.dev", "/staff"),
    ]:
        table.add_row(role, email, page)
    console.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version (CROWDSHIP_DATABASE_URL)."""
    settings = _settings()
    url = settings.resolved_database_url
    _migrate(url)
    console.print(f"database {_safe(url)} is at the latest schema")


def create_operator_command(
    email: Annotated[str, typer.Option(help="Login email of the operator.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "Operator",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 8 characters (prompted if left out).",
        ),
    ] = "",
) -> None:
    """Create an operator account (the first one cannot sign up over the API)."""
    from crowdship.service.context import ServiceContext
    from crowdship.service.entities.accounts.models import Role
    from crowdship.service.entities.accounts.service import create_user
    from crowdship.service.errors import DomainError

    if len(password) < 8:
        fail("--password: needs at least 8 characters")
    if "@" not in email:
        fail(f"--email: {email!r} is not an email address")
    settings = _settings()
    _migrate(settings.resolved_database_url)
    context = ServiceContext.build(settings)
    with context.db.write() as session:
        try:
            user = create_user(
                session, email, password, Role.OPERATOR, name, None, context.clock.now()
            )
        except DomainError as error:
            fail(error.message)
        session.commit()
    console.print(f"operator {user.email} created (id {user.id})")


@db_app.command("check")
def db_check() -> None:
    """Check what must always hold (CROWDSHIP_DATABASE_URL): every order's events form one
    chain to its status, no trip carries more orders than its capacity, the ledger balances,
    every settled order is charged and paid once, no order is in two payouts. Exits 1 and
    lists the violations if any."""
    from crowdship.service.db import Database
    from crowdship.service.workflows.invariants import check

    settings = _settings()
    url = settings.resolved_database_url
    _migrate(url)
    database = Database(url)
    try:
        with database.snapshot() as session:
            verdict = check(session)
    finally:
        database.dispose()
    summary = (
        f"{verdict.orders} orders, {verdict.events} order events, "
        f"{verdict.transactions} ledger transactions of orders"
    )
    if verdict.ok:
        console.print(f"database {_safe(url)}: all invariants hold ({summary})")
        return
    for problem in verdict.violations:
        console.print(f"[red]violation[/red]: {problem}")
    console.print(f"database {_safe(url)}: invariants broken ({summary})")
    raise typer.Exit(1)  # 2 is for bad input; a broken invariant is a failed check
