"""The ``crowdship`` command: one module per group of subcommands."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from crowdship import __version__
from crowdship.cli.common import console
from crowdship.cli.match import match_command
from crowdship.cli.money import payout_app, settle_command
from crowdship.cli.serve import create_operator_command, db_app, serve_command
from crowdship.cli.simulate import experiment_app, scenario_command, simulate_command

app = typer.Typer(
    help="crowdship: match parcels to the trips people already make.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"crowdship {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    """crowdship: match parcels to the trips people already make."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


app.command("match")(match_command)
app.command("simulate")(simulate_command)
app.command("scenario")(scenario_command)
app.add_typer(experiment_app, name="experiment")
app.command("serve")(serve_command)
app.command("create-operator")(create_operator_command)
app.add_typer(db_app, name="db")
app.command("settle")(settle_command)
app.add_typer(payout_app, name="payout")
