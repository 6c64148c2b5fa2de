"""What every ``crowdship`` command shares: the consoles and the bad-input exit."""

from __future__ import annotations

from pathlib import Path
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


def writable_directory(path: Path, option: str) -> None:
    """Create ``path`` (and its parents) and check a file can be written in it, before any
    long work, so results are never lost to a bad output path."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(f"{option} {path}: is a file, not a directory") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"{option} {path}: cannot create the directory: {reason}") from None
    import tempfile  # here: `crowdship match` need not import it

    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"{option} {path}: cannot write in the directory: {reason}") from None


def writable_file(path: Path, option: str) -> None:
    """Check that ``path`` can be written (creating its directory), before any long work;
    a file that was not there before is not left behind."""
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a directory, not a file")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"{option} {path}: cannot write the file: {reason}") from None
    if not existed:
        path.unlink(missing_ok=True)
