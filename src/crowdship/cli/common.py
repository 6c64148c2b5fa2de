"""What every ``crowdship`` command shares: the consoles, the bad-input exit and the check
of the files it writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


def _missing(directory: Path) -> list[Path]:
    """``directory`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not directory.exists() and directory.parent != directory:
        missing.append(directory)
        directory = directory.parent
    return missing


def _remove(created: list[Path]) -> None:
    """Remove the directories a check created (deepest first), if still empty."""
    for directory in created:
        try:
            directory.rmdir()
        except OSError:
            return


def writable_directory(path: Path, option: str) -> None:
    """Check, before any long work, that ``path`` is or can be made a directory a file can be
    written in, so results are never lost to a bad output path. Tried, not guessed from
    permissions (root ignores them); a directory that was not there before is not left
    behind: the command makes it when it writes."""
    created = _missing(path)
    try:
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
    finally:
        _remove(created)


def writable_file(path: Path, option: str) -> None:
    """Check that ``path`` can be written, before any long work; a file or directory that
    was not there before is not left behind (the command makes them when it writes)."""
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a directory, not a file")
    existed = path.exists()
    created = _missing(path.parent)
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8"):
                pass
        except OSError as error:
            reason = error.strerror or str(error)
            raise ValueError(f"{option} {path}: cannot write the file: {reason}") from None
        if not existed:
            path.unlink(missing_ok=True)
    finally:
        _remove(created)


@dataclass(frozen=True)
class Place:
    """A file a command reads or writes, with the option that names it: the file itself, or
    (``within``) a directory the option names, of which this is one of the files."""

    option: str
    path: Path
    within: Path | None = None

    def subject(self) -> str:
        """How a message names this output: ``--out m.csv``, ``--save-scenario day (its
        trips.csv)``."""
        if self.within is None:
            return f"{self.option} {self.path}"
        return f"{self.option} {self.within} (its {self.path.name})"

    def given(self) -> str:
        """How a message names this file as another option's: ``the file given to --trips``,
        ``--scenario day's trips.csv``."""
        if self.within is None:
            return f"the file given to {self.option}"
        return f"{self.option} {self.within}'s {self.path.name}"


def files(option: str, path: Path | None) -> list[Place]:
    """The file an option names (none when the option is not given)."""
    return [] if path is None else [Place(option, path)]


def files_in(option: str, directory: Path | None, names: Iterable[str]) -> list[Place]:
    """The files ``names`` in the directory an option names (none when it is not given)."""
    if directory is None:
        return []
    return [Place(option, directory / name, directory) for name in names]


def _identity(path: Path) -> tuple[object, ...]:
    """The same for two paths to one file: the file itself where it exists (a link, or
    another spelling of the path), else the path made absolute with links resolved."""
    try:
        found = path.stat()
    except OSError:
        return ("path", path.resolve())
    return ("file", found.st_dev, found.st_ino)


def check_outputs(inputs: Sequence[Place], outputs: Sequence[Place]) -> None:
    """Before any work: no output is an input (writing it would replace what is read) or
    another output (the one written last would replace the other), and every output can be
    written, tried rather than guessed from permissions (root ignores them). Raises
    ValueError naming the options."""
    seen: dict[tuple[object, ...], tuple[Place, bool]] = {
        _identity(place.path): (place, True) for place in inputs
    }
    for place in outputs:
        key = _identity(place.path)
        kind = "file" if place.within is None else "directory"
        if key in seen:
            other, is_input = seen[key]
            if is_input:
                raise ValueError(
                    f"{place.subject()} is {other.given()}: writing it would replace that "
                    f"input; choose another {kind}"
                )
            raise ValueError(
                f"{place.subject()} is {other.given()} too: one output would replace the "
                f"other; choose another {kind}"
            )
        seen[key] = (place, False)
    for directory, option in dict.fromkeys((p.within, p.option) for p in outputs if p.within):
        assert directory is not None
        writable_directory(directory, option)
    for place in outputs:
        if place.within is None or place.path.exists():
            writable_file(place.path, place.option)
