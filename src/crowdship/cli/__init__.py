"""The ``crowdship`` command: one module per group of subcommands.

A subcommand's module is imported only when that subcommand runs (or ``--help`` lists
them all): ``crowdship match`` need not load the simulator, the experiments' plotting and
statistics, or the service, which took 1.4 s before it read a file."""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import re
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path
from typer.core import TyperCommand, TyperGroup

from crowdship import __version__
from crowdship.cli import common
from crowdship.cli.common import console


class Subcommand(NamedTuple):
    module: str
    attribute: str
    is_app: bool  # a Typer sub-app, or a single command function
    # What ``crowdship --help`` lists for it: the first paragraph of its own help
    # (tests/test_cli.py checks they agree). Importing every module to read it took 2 s.
    summary: str


SUBCOMMANDS: dict[str, Subcommand] = {
    "match": Subcommand(
        "crowdship.cli.match",
        "match_command",
        False,
        "Match requests to trips and print the result.",
    ),
    "simulate": Subcommand(
        "crowdship.cli.simulate",
        "simulate_command",
        False,
        "Simulate one day of crowdsourced delivery and print its metrics.",
    ),
    "scenario": Subcommand(
        "crowdship.cli.simulate",
        "scenario_command",
        False,
        "Generate a day of trips and requests (the paper's defaults) and save it as files "
        "that ``crowdship match --coords km`` and ``crowdship simulate --scenario`` read.",
    ),
    "experiment": Subcommand(
        "crowdship.cli.simulate",
        "experiment_app",
        True,
        "Reproduce the paper's evaluation (Figures 5 and 6) and sweep past it.",
    ),
    "serve": Subcommand(
        "crowdship.cli.serve",
        "serve_command",
        False,
        "Run the order service (HTTP API, OpenAPI at /docs) on SQLite by default.",
    ),
    "create-operator": Subcommand(
        "crowdship.cli.serve",
        "create_operator_command",
        False,
        "Create an operator account (the first one cannot sign up over the API).",
    ),
    "db": Subcommand("crowdship.cli.serve", "db_app", True, "The service's database: migrations."),
    "settle": Subcommand(
        "crowdship.cli.money",
        "settle_command",
        False,
        "Book the day's delivered orders in the ledger and schedule each courier's payout "
        "(T+2 by default). Running it again books nothing twice; a crash leaves nothing.",
    ),
    "payout": Subcommand(
        "crowdship.cli.money",
        "payout_app",
        True,
        "Pay couriers what is due (T+2) and export the payout files.",
    ),
    "web": Subcommand(
        "crowdship.cli.web",
        "web_app",
        True,
        "Build inputs for the pages (scripts/setup runs these).",
    ),
}


class LazyGroup(TyperGroup):
    """Loads a subcommand's module the first time the subcommand is asked for."""

    listing = False  # while the group's own help is written

    # Typer vendors its own click, whose types are private: Any keeps the signatures honest.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(SUBCOMMANDS)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _quick_options(self, ctx)  # the group's own flags (--verbose, --version, --help)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            if self.listing:  # only its line in the list: the module stays unloaded
                return TyperCommand(cmd_name, help=SUBCOMMANDS[cmd_name].summary)
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


class _QuickCommand(TyperCommand):
    """A single subcommand whose plain options (``--help`` too) skip Typer's conversion."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _quick_options(self, ctx)
        return super().parse_args(ctx, args)


def load_command(name: str) -> Any:
    """The subcommand itself, its module imported."""
    module, attribute, is_app, _ = SUBCOMMANDS[name]
    target: Any = getattr(importlib.import_module(module), attribute)
    if _process.collector_paused:
        gc.freeze()  # what the imports made lives as long as the process
        gc.enable()
    command: Any
    if is_app:
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False, rich_markup_mode="markdown")
        single.command(name, cls=_QuickCommand)(target)
        command = typer.main.get_command(single)
    command.name = name
    _quick_options(command)
    return command


# Typer converts every option's text through a pydantic TypeAdapter built on first use:
# importing pydantic and building 16 adapters took 0.07 to 0.10 s of each `crowdship match`
# process (the group's two flags alone still cost 0.08 s of pydantic's import). Flags,
# plain numbers, enum choices and paths are converted here instead, exactly as
# those adapters convert them; anything else (and every value refused here, so that the
# error message is Typer's own) goes to Typer's conversion.
_PLAIN_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_REFUSED = object()


@dataclass(frozen=True)
class _QuickParam(RuntimeParam):
    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        quick = self._quick(value, param, ctx)
        if quick is not _REFUSED:
            return quick
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)

    def _quick(self, value: Any, param: Any, ctx: Any) -> Any:
        kind = self.annotation
        if kind is bool:
            if type(value) is bool:  # a flag: the parser gives True or False
                return value
        elif kind is float:
            if type(value) is float:
                return value
            if isinstance(value, str) and _PLAIN_FLOAT.fullmatch(value):
                return float(value)
        elif kind is int:
            if type(value) is int:
                return value
            if isinstance(value, str) and _PLAIN_INT.fullmatch(value):
                return int(value)
        elif kind is Path:
            if isinstance(value, str | Path):
                path = value if isinstance(value, Path) else Path(value)
                return coerce_cli_path(
                    path, self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
        elif isinstance(kind, type) and issubclass(kind, Enum):
            try:
                return coerce_cli_choice(
                    value,
                    choices=tuple(kind),
                    case_sensitive=self.parameter_info.case_sensitive,
                    ctx=ctx,
                )
            except ValueError:
                pass
        return _REFUSED


def _quick_options(command: Any, ctx: Any = None) -> None:
    """Plain conversions for a command's flags, float, int, path and enum options (above),
    and, given a context, its ``--help`` (which click makes per context)."""
    params = list(command.params)
    helper = command.get_help_option(ctx) if ctx is not None else None
    if helper is not None:
        params.append(helper)
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", True) is not None:
            continue
        kind, info = descriptor.annotation, descriptor.parameter_info
        if getattr(info, "parser", None) is not None or descriptor.is_ranged:
            continue
        plain = kind in (bool, float, int) or (kind is Path and info.path_type is None)
        if plain or (isinstance(kind, type) and issubclass(kind, Enum)):
            param._runtime_param = _QuickParam(parameter_info=info, annotation=kind)


class _Process:
    """How the ``crowdship`` process runs (as a script; tests invoke the command in theirs)."""

    # No cyclic garbage collection while the command's modules load: each collection walks
    # every object the imports made so far (numba's alone are tens of thousands). Once
    # loaded they are frozen (``LazyGroup.get_command``), and later collections walk only
    # the command's own objects: reading the paper's two files took 0.15 to 0.17 s with the
    # collector walking them, 0.08 to 0.10 s after.
    collector_paused = False


_process = _Process()


class _Command(typer.Typer):
    """The ``crowdship`` command as a process (the script calls it; tests invoke the click
    command instead). When a command says it left nothing to clean up, the process exits as
    soon as its output is flushed: Python's teardown after `crowdship match` (numba's
    compiled code, the day's arrays, hundreds of modules) took 0.15 to 0.25 s."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _process.collector_paused = gc.isenabled()
        gc.disable()
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as done:
            if common.skip_teardown() and (done.code is None or isinstance(done.code, int)):
                _exit_now(done.code or 0)
            raise


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)


app = _Command(
    cls=LazyGroup,
    help="crowdship: match parcels to the trips people already make.",
    no_args_is_help=True,
    add_completion=False,
    # Help as Markdown (every subcommand's Typer says so too): Rich markup read
    # "[capacity, courier]" as a tag and dropped it, and kept the docstrings' line breaks,
    # which broke help text mid-sentence at 80 columns; Markdown reflows paragraphs.
    rich_markup_mode="markdown",
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
