"""The ``crowdship`` command: one module per group of subcommands.

A subcommand's module is imported only when that subcommand runs (or ``--help`` lists
them all): ``crowdship match`` need not load the simulator, the experiments' plotting and
statistics, or the service, which took 1.4 s before it read a file."""

from __future__ import annotations

import importlib
import logging
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from crowdship import __version__
from crowdship.cli.common import console

# command name -> (module, attribute, a Typer sub-app or a single command function)
SUBCOMMANDS: dict[str, tuple[str, str, bool]] = {
    "match": ("crowdship.cli.match", "match_command", False),
    "simulate": ("crowdship.cli.simulate", "simulate_command", False),
    "scenario": ("crowdship.cli.simulate", "scenario_command", False),
    "experiment": ("crowdship.cli.simulate", "experiment_app", True),
    "serve": ("crowdship.cli.serve", "serve_command", False),
    "create-operator": ("crowdship.cli.serve", "create_operator_command", False),
    "db": ("crowdship.cli.serve", "db_app", True),
    "settle": ("crowdship.cli.money", "settle_command", False),
    "payout": ("crowdship.cli.money", "payout_app", True),
    "web": ("crowdship.cli.web", "web_app", True),
}


class LazyGroup(TyperGroup):
    """Loads a subcommand's module the first time the subcommand is asked for."""

    # Typer vendors its own click, whose types are private: Any keeps the signatures honest.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            module, attribute, is_app = SUBCOMMANDS[cmd_name]
            target: Any = getattr(importlib.import_module(module), attribute)
            command: Any
            if is_app:
                command = typer.main.get_group(target)
            else:
                single = typer.Typer(add_completion=False)
                single.command(cmd_name)(target)
                command = typer.main.get_command(single)
            command.name = cmd_name
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=LazyGroup,
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
