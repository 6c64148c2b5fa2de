"""What every ``crowdship`` command shares: the consoles and the bad-input exit."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True)

# Exit status for bad input (as argparse and Typer use for usage errors).
BAD_INPUT = 2

# Set by a command whose work is done and written: the ``crowdship`` process then ends at
# once (``crowdship.cli.app``), without Python's teardown of every module and array.
_teardown_needless = False


def teardown_needless() -> None:
    """Say that this command left nothing to clean up (its files are written and closed)."""
    global _teardown_needless
    _teardown_needless = True


def skip_teardown() -> bool:
    return _teardown_needless


def fail(message: str) -> NoReturn:
    """Print one line naming the problem and exit with status 2 (never a traceback)."""
    errors.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)
