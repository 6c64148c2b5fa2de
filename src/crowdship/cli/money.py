"""``crowdship settle`` and ``crowdship payout``: the daily money runs, by hand.

The service's scheduler runs both every day; these commands run them now (catching up a
missed day, or on a machine without the service running). Both are safe to repeat."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crowdship.cli.common import console, errors, fail
from crowdship.cli.serve import _migrate, _settings
from crowdship.service.money import format_money

payout_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Pay couriers what is due (T+2) and export the payout files.",
    no_args_is_help=True,
)
log = logging.getLogger("crowdship.cli")


def _context():  # type: ignore[no-untyped-def]
    from crowdship.service.context import ServiceContext

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("crowdship").setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = _settings()
    _migrate(settings.resolved_database_url)
    return ServiceContext.build(settings)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")


def settle_command(
    day: Annotated[
        str,
        typer.Option(
            "--date",
            help="Settle orders delivered up to the end of this day (YYYY-MM-DD, in "
            "CROWDSHIP_TIMEZONE). Orders of earlier days not settled yet are included; "
            "disputed ones are held back.",
        ),
    ],
) -> None:
    """Book the day's delivered orders in the ledger and schedule each courier's payout
    (T+2 by default). Running it again books nothing twice; a crash leaves nothing."""
    from crowdship.service.errors import DomainError
    from crowdship.service.workflows.settlement import settle

    when = _day(day, "--date")
    context = _context()
    with Progress(
        TextColumn("settling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task("orders", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            log.info("settlement %s: %d of %d orders booked", when, done, total)

        try:
            outcome = settle(context, when, "cli", progress)
        except DomainError as error:
            fail(error.message)
    currency = context.settings.currency
    if outcome.run is None:
        console.print(
            f"nothing to settle up to {when}; {outcome.held_back} disputed orders held back"
        )
        return
    run = outcome.run
    console.print(
        f"settlement run {run.id}: {run.orders} orders, {format_money(run.total_cents, currency)} "
        f"charged, {run.payouts} courier payouts scheduled; {run.held_back} disputed held back"
    )


@payout_app.command("run")
def payout_run(
    day: Annotated[str, typer.Option("--date", help="Pay every scheduled payout due by this day.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the CSV (default: CROWDSHIP_PAYOUT_DIR or data_dir)."),
    ] = None,
) -> None:
    """Mark due payouts paid to the couriers' bound accounts and write the run's CSV
    (courier, account, amount, orders). Couriers without an account are held; running it
    again pays nobody twice."""
    from crowdship.service.errors import DomainError
    from crowdship.service.workflows.settlement import pay_out

    when = _day(day, "--date")
    context = _context()
    try:
        outcome = pay_out(context, when, "cli", out)
    except DomainError as error:
        fail(error.message)
    currency = context.settings.currency
    if outcome.run is None:
        console.print(f"nothing to pay by {when}")
    else:
        run = outcome.run
        console.print(
            f"payout run {run.id}: {format_money(run.total_cents, currency)} to {run.couriers} "
            f"couriers ({run.payouts} payouts); file {outcome.file}"
        )
    if outcome.held:
        console.print(
            f"held (no bound account): {len(outcome.held)} couriers, "
            f"{format_money(sum(outcome.held.values()), currency)}"
        )
    if outcome.carried:
        console.print(
            f"carried forward (cash collected exceeds earnings): {len(outcome.carried)} couriers"
        )


@payout_app.command("export")
def payout_export(
    run_id: Annotated[int, typer.Argument(help="The payout run's id.", min=1)],
    out: Annotated[Path | None, typer.Option(help="Folder for the CSV.")] = None,
) -> None:
    """Write a payout run's CSV again from the database."""
    from crowdship.service.errors import DomainError
    from crowdship.service.workflows.settlement import export_csv

    context = _context()
    try:
        path = export_csv(context, run_id, out)
    except DomainError as error:
        fail(error.message)
    console.print(f"payout run {run_id}: {path}")
