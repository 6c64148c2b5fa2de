"""Reading trips and requests from CSV or JSON files, and writing matches.

Outside ``core/`` on purpose: the core never touches files. Every problem in a file is
reported as one :class:`InputError` naming the file, the row (1 = first data row) and the
field, e.g. ``requests.csv row 3, latest_delivery: 17:00 is before earliest_pickup 18:00``.

Times may be ``HH:MM`` (``HH:MM:SS``), ISO 8601 date-times, or minutes after midnight. When
any ISO date-time appears, minutes count from midnight of the earliest date seen, and output
times are written back as ISO date-times.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crowdship._csv import plain_columns as compiled_plain_columns
from crowdship.core.matcher import MatchResult
from crowdship.core.model import LARGEST_WORTH, Requests, Trips, format_minutes

Coords = Literal["latlon", "km"]
_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?$")


class InputError(ValueError):
    """A problem in an input file, located by file, row and field."""

    def __init__(self, source: str, row: int | None, column: str | None, problem: str) -> None:
        where = source
        if row is not None:
            where += f" row {row}"
        if column is not None:
            where += f", {column}"
        super().__init__(f"{where}: {problem}")
        self.source, self.row, self.column, self.problem = source, row, column, problem


@dataclass
class TimeBase:
    """Turns parsed times into minutes on one axis, and minutes back into text."""

    reference: datetime | None = None  # midnight of the earliest ISO date, if any

    def format(self, minutes: float) -> str:
        if self.reference is None:
            return format_minutes(minutes)
        # Rounded to the second, as format_minutes rounds (isoformat alone would cut it).
        moment = self.reference + timedelta(seconds=round(float(minutes) * 60))
        return moment.isoformat(timespec="seconds")


# A parsed time before the axis is known: plain minutes, or an ISO date-time.
RawTime = float | datetime


def parse_time(text: str) -> RawTime:
    """``HH:MM[:SS]``, a number of minutes after midnight, or an ISO 8601 date-time."""
    value = text.strip()
    if not value:
        raise ValueError("is empty")
    clock = _CLOCK.match(value)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours) * 60 + int(minutes) + (float(seconds) / 60 if seconds else 0.0)
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number of minutes")
        return number
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"cannot read {value!r} as a time (use HH:MM, ISO 8601 or minutes after midnight)"
        ) from None
    return moment


@dataclass
class _Table:
    """Rows of one file as dictionaries of stripped strings, with the file's name."""

    source: str
    rows: list[dict[str, str]]
    columns: set[str] = field(default_factory=set)

    def require(self, names: Sequence[str]) -> None:
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise InputError(self.source, None, None, f"missing column {', '.join(missing)}")


def _read_table(path: Path) -> _Table:
    source = path.name
    if not path.exists():
        raise InputError(source, None, None, f"file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(source, None, None, f"cannot read file: {error}") from None
    if path.suffix.lower() == ".json":
        return _json_table(source, text)
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise InputError(source, None, None, "file is empty (expected a header row)")
    header = [c.strip() for c in reader.fieldnames]
    for k, name in enumerate(header):
        # A column read twice is ambiguous; two of a column nobody reads (a spreadsheet's
        # "note, note") are left alone, as every column not read is.
        if name in _READ_COLUMNS and name in header[:k]:
            raise InputError(
                source,
                None,
                name,
                f"appears twice in the header (columns {header.index(name) + 1} and {k + 1}); "
                "which one is meant is not clear",
            )
    columns = {c for c in header if c}
    rows: list[dict[str, str]] = []
    for number, row in enumerate(reader, start=1):
        if None in row:
            raise InputError(source, number, None, "has more values than the header has columns")
        rows.append({k.strip(): (v or "").strip() for k, v in row.items() if k})
    return _Table(source, rows, columns)


def _json_table(source: str, text: str) -> _Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(source, None, None, f"is not valid JSON: {error}") from None
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))
    if not isinstance(data, list):
        raise InputError(source, None, None, "must hold a list of objects")
    rows: list[dict[str, str]] = []
    columns: set[str] = set()
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise InputError(source, number, None, "must be an object")
        row: dict[str, str] = {}
        for key, value in item.items():
            row[str(key)] = _json_text(source, number, str(key), value)
        rows.append(row)
        columns |= row.keys()
    return _Table(source, rows, columns)


def _json_text(source: str, number: int, key: str, value: object) -> str:
    """A JSON value as the text a CSV cell would hold: a string, a number, or null (empty);
    a list only for ``preferred_couriers`` (of strings or numbers, joined by ``;``)."""
    if isinstance(value, bool):
        return str(value)  # the number readers refuse it by name ('True')
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value).strip()
    if isinstance(value, list) and key == "preferred_couriers":
        if all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            return ";".join(str(v) for v in value)
        raise InputError(source, number, key, "must be a list of courier ids")
    kind = "an object" if isinstance(value, dict) else "a list"
    raise InputError(source, number, key, f"must be a text or a number, got {kind}")


def _number(
    table: _Table,
    number: int,
    row: dict[str, str],
    column: str,
    check: Callable[[float], str | None] | None = None,
) -> float:
    text = row.get(column, "")
    try:
        value = float(text)
    except ValueError:
        problem = "is empty" if not text else f"cannot read {text!r} as a number"
        raise InputError(table.source, number, column, problem) from None
    if not math.isfinite(value):
        raise InputError(table.source, number, column, f"{text!r} is not a finite number")
    complaint = check(value) if check is not None else None
    if complaint is not None:
        raise InputError(table.source, number, column, complaint)
    return value


def _optional(
    table: _Table,
    number: int,
    row: dict[str, str],
    column: str,
    default: float,
    check: Callable[[float], str | None] | None = None,
) -> float:
    if not row.get(column, ""):
        return default
    return _number(table, number, row, column, check)


def _latitude(value: float) -> str | None:
    return None if -90 <= value <= 90 else f"latitude {value:g} is outside [-90, 90]"


def _longitude(value: float) -> str | None:
    return None if -180 <= value <= 180 else f"longitude {value:g} is outside [-180, 180]"


def _positive_int(value: float) -> str | None:
    return (
        None
        if value >= 1 and value == int(value)
        else f"must be a whole number >= 1, got {value:g}"
    )


def _rating(value: float) -> str | None:
    return None if 1 <= value <= 5 else f"must be in [1, 5], got {value:g}"


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else f"must be >= 0, got {value:g}"


def _priority(value: float) -> str | None:
    if value < 0:
        return f"must be >= 0, got {value:g}"
    return None if value <= LARGEST_WORTH else f"must be at most {LARGEST_WORTH:g}, got {value:g}"


def _worth(value: float) -> str | None:
    if abs(value) <= LARGEST_WORTH:
        return None
    return f"must be between -{LARGEST_WORTH:g} and {LARGEST_WORTH:g} minutes, got {value:g}"


# Times are minutes after midnight of the first day: never before it, and within ten years
# of it (a time past that is a typo, and would overflow the costs' integer units).
LATEST_MINUTE = 10 * 365.25 * 24 * 60


def _time_problem(value: float, may_be_negative: bool) -> str | None:
    if value < 0 and not may_be_negative:
        return f"{value:g} is before midnight (minutes after midnight are 0 or more)"
    if abs(value) > LATEST_MINUTE:
        return f"{value:g} minutes is more than ten years from midnight of the first day"
    return None


def _point(
    table: _Table, number: int, row: dict[str, str], prefix: str, coords: Coords
) -> tuple[float, float]:
    if coords == "latlon":
        return (
            _number(table, number, row, f"{prefix}_lat", _latitude),
            _number(table, number, row, f"{prefix}_lon", _longitude),
        )
    return _number(table, number, row, f"{prefix}_x"), _number(table, number, row, f"{prefix}_y")


def _point_columns(prefixes: Sequence[str], coords: Coords) -> list[str]:
    suffixes = ("lat", "lon") if coords == "latlon" else ("x", "y")
    return [f"{p}_{s}" for p in prefixes for s in suffixes]


def _ids(table: _Table) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for number, row in enumerate(table.rows, start=1):
        value = row.get("id", "")
        if not value:
            raise InputError(table.source, number, "id", "is empty")
        if value in seen:
            raise InputError(
                table.source, number, "id", f"{value!r} is already used in row {seen[value]}"
            )
        seen[value] = number
        ids.append(value)
    return ids


@dataclass
class _RawTimes:
    """Time columns of one file before they are put on the common axis."""

    table: _Table
    columns: dict[str, list[RawTime | None]] = field(default_factory=dict)

    def read(self, column: str, required: bool = True) -> None:
        values: list[RawTime | None] = []
        for number, row in enumerate(self.table.rows, start=1):
            text = row.get(column, "")
            if not text and not required:
                values.append(None)
                continue
            try:
                values.append(parse_time(text))
            except ValueError as error:
                raise InputError(self.table.source, number, column, str(error)) from None
        self.columns[column] = values


def _time_base(all_times: Sequence[_RawTimes]) -> TimeBase:
    moments = [
        (raw, value)
        for raw in all_times
        for values in raw.columns.values()
        for value in values
        if isinstance(value, datetime)
    ]
    if not moments:
        return TimeBase()
    aware = {value.tzinfo is not None for _, value in moments}
    if len(aware) > 1:
        raw, value = next((r, v) for r, v in moments if v.tzinfo is None)
        raise InputError(
            raw.table.source,
            None,
            None,
            f"mixes date-times with and without a time zone ({value.isoformat()} has none)",
        )
    first = min(value for _, value in moments)
    return TimeBase(first.replace(hour=0, minute=0, second=0, microsecond=0))


def _to_minutes(raw: _RawTimes, column: str, base: TimeBase, default: float) -> np.ndarray:
    out = np.empty(len(raw.table.rows))
    for k, value in enumerate(raw.columns[column]):
        if value is None:
            out[k] = default
        elif isinstance(value, datetime):
            assert base.reference is not None
            out[k] = (value - base.reference).total_seconds() / 60.0
        else:
            out[k] = value
    return out


def _check_range(raw: _RawTimes, column: str, minutes: np.ndarray) -> None:
    """Times of ``column`` within [0, ``LATEST_MINUTE``] (``announced_at`` may come before
    midnight: a request announced the evening before)."""
    for k, value in enumerate(minutes.tolist()):
        if math.isinf(value):
            continue  # announced_at left empty
        problem = _time_problem(value, column == "announced_at")
        if problem is not None:
            raise InputError(raw.table.source, k + 1, column, problem)


def _check_order(
    raw: _RawTimes,
    early: np.ndarray,
    late: np.ndarray,
    early_name: str,
    late_name: str,
    base: TimeBase,
) -> None:
    bad = np.flatnonzero(late < early)
    if len(bad):
        k = int(bad[0])
        raise InputError(
            raw.table.source,
            k + 1,
            late_name,
            f"{base.format(late[k])} is before {early_name} {base.format(early[k])}",
        )


@dataclass(frozen=True)
class Inputs:
    trips: Trips
    requests: Requests
    time_base: TimeBase


def read_inputs(trips_path: Path, requests_path: Path, coords: Coords = "latlon") -> Inputs:
    """Read and check both files; raises :class:`InputError` on the first problem."""
    fast = _read_inputs_fast(trips_path, requests_path, coords)
    if fast is not None:
        return fast
    return _read_inputs_checked(trips_path, requests_path, coords)


# ------------------------------------------------------------------ the column-wise fast path
#
# Plain CSV files whose every value is well formed (the usual case, tens of thousands of
# rows) are read column by column: one split per line, one ``float`` per value, the checks
# as array comparisons; about a tenth of the time of the row-by-row reading below. Anything
# else (JSON, quotes, ragged or blank lines, date-times, any value a check refuses) returns
# None, and the row-by-row reading decides: it reads the same values the same way, and
# names the first problem's row and field.


class _NotPlain(Exception):
    """The fast path does not handle this file (the row-by-row reading will)."""


# Columns the reading takes as numbers; the others it reads (ids, couriers, senders) stay
# text, and any it does not know are left alone.
_NUMBER_COLUMNS = frozenset(
    f"{place}_{axis}"
    for place in ("origin", "destination", "pickup", "delivery")
    for axis in ("x", "y", "lat", "lon")
) | {
    "earliest_departure",
    "latest_arrival",
    "earliest_pickup",
    "latest_delivery",
    "announced_at",
    "capacity",
    "rating",
    "size",
    "priority",
    "value",
}
_TEXT_COLUMNS = ("id", "courier", "sender", "preferred_couriers")
_READ_COLUMNS = _NUMBER_COLUMNS | set(_TEXT_COLUMNS)

Column = list[str] | np.ndarray

#: Whether :func:`_plain_columns` tries the compiled reader first (the tests turn it off to
#: compare).
_COMPILED_CSV = True


def _plain_columns(path: Path) -> dict[str, Column]:
    """The columns of a plain CSV file (no quotes, every line with the header's number of
    values): the number columns as float64 arrays when NumPy's reader takes every value of
    them, the others as lists of the raw values; raises :class:`_NotPlain` when the file is
    not plain.

    The compiled reader (``crowdship._csv``, about a sixth of the time for the paper's
    28,000 rows) gives exactly these columns, or refuses a file it is not sure about, and
    :func:`_plain_columns_python` decides."""
    if path.suffix.lower() == ".json":
        raise _NotPlain
    if _COMPILED_CSV:
        columns = compiled_plain_columns(path.read_bytes(), _NUMBER_COLUMNS, _TEXT_COLUMNS)
        if columns is not None:
            return columns
    return _plain_columns_python(path)


def _plain_columns_python(path: Path) -> dict[str, Column]:
    """:func:`_plain_columns` in Python: one split per line, NumPy's ``loadtxt`` on the number
    columns (it parses a decimal as ``float`` does, in C)."""
    if path.suffix.lower() == ".json":
        raise _NotPlain
    text = path.read_text(encoding="utf-8-sig")
    if '"' in text or "\x00" in text:
        raise _NotPlain
    lines = text.splitlines()
    if not lines:
        raise _NotPlain
    header = [name.strip() for name in lines[0].split(",")]
    width = len(header)
    if "" in header or len(set(header)) != width:
        raise _NotPlain
    body = lines[1:]
    if any(line.count(",") != width - 1 for line in body):  # also blank lines
        raise _NotPlain
    if not body:
        return {name: [] for name in header}
    numbers = [k for k, name in enumerate(header) if name in _NUMBER_COLUMNS]
    texts = [k for k, name in enumerate(header) if name in _TEXT_COLUMNS]
    try:
        table = np.loadtxt(
            body, delimiter=",", usecols=numbers, dtype=np.float64, comments=None, ndmin=2
        )
    except ValueError:  # clock times, blanks, anything ``float`` may read differently
        rows = [line.split(",") for line in body]
        return {
            name: list(values) for name, values in zip(header, zip(*rows, strict=True), strict=True)
        }
    columns: dict[str, Column] = {
        header[k]: np.ascontiguousarray(table[:, j]) for j, k in enumerate(numbers)
    }
    if texts == [0]:  # the usual case: ids first, no other text read
        columns[header[0]] = [line[: line.find(",")] if width > 1 else line for line in body]
    elif texts:
        rows = [line.split(",") for line in body]
        for k in texts:
            columns[header[k]] = [row[k] for row in rows]
    return columns


def _plain_numbers(values: Column) -> np.ndarray:
    """``float`` of every value (as the row-by-row reading does), all finite."""
    if isinstance(values, np.ndarray):
        out = values
    else:
        out = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    if not np.isfinite(out).all():
        raise _NotPlain
    return out


def _plain_optional(columns: dict[str, Column], name: str, n: int, default: float) -> np.ndarray:
    values = columns.get(name)
    if values is None:
        return np.full(n, default)
    if isinstance(values, np.ndarray):
        return _plain_numbers(values)
    stripped = [v.strip() for v in values]
    if all(stripped):
        return _plain_numbers(stripped)
    out = np.full(n, default)
    given = [k for k, v in enumerate(stripped) if v]
    out[given] = _plain_numbers([stripped[k] for k in given])
    return out


def _plain_times(columns: dict[str, Column], name: str, n: int, default: float) -> np.ndarray:
    """Minutes of a time column: numbers, or ``HH:MM[:SS]`` (date-times are not plain)."""
    column = columns.get(name)
    if isinstance(column, np.ndarray):
        return _plain_numbers(column)
    values = [v.strip() for v in columns[name]] if name in columns else [""] * n
    out = np.full(n, default)
    given = [k for k, v in enumerate(values) if v] if not all(values) else range(n)
    texts = [values[k] for k in given]
    try:
        numbers = _plain_numbers(texts)
    except ValueError:
        parsed = [parse_time(t) for t in texts]
        if any(isinstance(p, datetime) for p in parsed):
            raise _NotPlain from None
        numbers = np.asarray(parsed, dtype=np.float64)
    out[np.asarray(given, dtype=np.int64)] = numbers
    return out


def _plain_ids(values: Column) -> list[str]:
    if isinstance(values, np.ndarray):  # an id column is text, never read as numbers
        raise _NotPlain
    ids = [v.strip() for v in values]
    if not all(ids) or len(set(ids)) != len(ids):
        raise _NotPlain
    return ids


def _plain_points(columns: dict[str, Column], prefix: str, coords: Coords) -> np.ndarray:
    if coords == "latlon":
        lat = _plain_numbers(columns[f"{prefix}_lat"])
        lon = _plain_numbers(columns[f"{prefix}_lon"])
        if not (((lat >= -90) & (lat <= 90)).all() and ((lon >= -180) & (lon <= 180)).all()):
            raise _NotPlain
        return np.column_stack((lat, lon))
    return np.column_stack(
        (_plain_numbers(columns[f"{prefix}_x"]), _plain_numbers(columns[f"{prefix}_y"]))
    )


def _whole_at_least_one(values: np.ndarray) -> np.ndarray:
    if not ((values >= 1) & (values == np.floor(values))).all():
        raise _NotPlain
    return values


def _read_inputs_fast(trips_path: Path, requests_path: Path, coords: Coords) -> Inputs | None:
    """:func:`read_inputs` for plain, well-formed CSV files; None for anything else."""
    try:
        t = _plain_columns(trips_path)
        r = _plain_columns(requests_path)
        trip_ids = _plain_ids(t["id"])
        request_ids = _plain_ids(r["id"])
        n_t, n_r = len(trip_ids), len(request_ids)
        departure = _plain_times(t, "earliest_departure", n_t, 0.0)
        arrival = _plain_times(t, "latest_arrival", n_t, 0.0)
        earliest = _plain_times(r, "earliest_pickup", n_r, 0.0)
        latest = _plain_times(r, "latest_delivery", n_r, 0.0)
        announced = _plain_times(r, "announced_at", n_r, -np.inf)
        # Required times are never empty (the row-by-row reading refuses them).
        for table, name in (
            (t, "earliest_departure"),
            (t, "latest_arrival"),
            (r, "earliest_pickup"),
            (r, "latest_delivery"),
        ):
            column = table[name]
            if not isinstance(column, np.ndarray) and not all(v.strip() for v in column):
                raise _NotPlain
        if (arrival < departure).any() or (latest < earliest).any() or (earliest < announced).any():
            raise _NotPlain
        # Within [0, LATEST_MINUTE] (announced_at may be negative; -inf is "not given").
        if (departure < 0).any() or (earliest < 0).any():
            raise _NotPlain
        if (arrival > LATEST_MINUTE).any() or (latest > LATEST_MINUTE).any():
            raise _NotPlain
        if (np.isfinite(announced) & (announced < -LATEST_MINUTE)).any():
            raise _NotPlain
        origin = _plain_points(t, "origin", coords)
        destination = _plain_points(t, "destination", coords)
        pickup = _plain_points(r, "pickup", coords)
        delivery = _plain_points(r, "delivery", coords)
        capacity = _whole_at_least_one(_plain_optional(t, "capacity", n_t, 1))
        rating = _plain_optional(t, "rating", n_t, math.nan)
        if ((rating < 1) | (rating > 5)).any():  # NaN (unrated) compares False
            raise _NotPlain
        size = _whole_at_least_one(_plain_optional(r, "size", n_r, 1))
        priority = _plain_optional(r, "priority", n_r, 0.0)
        if (priority < 0).any() or (priority > LARGEST_WORTH).any():
            raise _NotPlain
        value = _plain_optional(r, "value", n_r, math.nan)
        if (np.abs(value) > LARGEST_WORTH).any():  # NaN (no value) compares False
            raise _NotPlain
        courier = (
            [c.strip() or tid for c, tid in zip(t["courier"], trip_ids, strict=True)]
            if "courier" in t
            else trip_ids
        )
        sender = [s.strip() for s in r["sender"]] if "sender" in r else [""] * n_r
        preferred = (
            [
                frozenset(c.strip() for c in p.split(";") if c.strip())
                for p in r["preferred_couriers"]
            ]
            if "preferred_couriers" in r
            else [frozenset()] * n_r
        )
        trips = Trips.from_columns(
            ids=trip_ids,
            origin=origin,
            destination=destination,
            earliest_departure=departure,
            latest_arrival=arrival,
            capacity=capacity,
            courier=courier,
            rating=rating,
        )
        requests = Requests.from_columns(
            ids=request_ids,
            pickup=pickup,
            delivery=delivery,
            earliest_pickup=earliest,
            latest_delivery=latest,
            announced_at=announced,
            size=size,
            priority=priority,
            value=value,
            sender=sender,
            preferred_couriers=preferred,
        )
    except (_NotPlain, KeyError, ValueError, OSError, UnicodeDecodeError):
        return None  # the model's own checks included: the row-by-row reading reports them
    return Inputs(trips, requests, TimeBase())


def _read_inputs_checked(trips_path: Path, requests_path: Path, coords: Coords) -> Inputs:
    """Row by row, naming the file, row and field of the first problem."""
    trip_table = _read_table(trips_path)
    request_table = _read_table(requests_path)
    trip_table.require(
        [
            "id",
            *_point_columns(["origin", "destination"], coords),
            "earliest_departure",
            "latest_arrival",
        ]
    )
    request_table.require(
        [
            "id",
            *_point_columns(["pickup", "delivery"], coords),
            "earliest_pickup",
            "latest_delivery",
        ]
    )
    trip_times = _RawTimes(trip_table)
    trip_times.read("earliest_departure")
    trip_times.read("latest_arrival")
    request_times = _RawTimes(request_table)
    request_times.read("earliest_pickup")
    request_times.read("latest_delivery")
    request_times.read("announced_at", required=False)
    base = _time_base([trip_times, request_times])

    t_rows, r_rows = trip_table.rows, request_table.rows
    trip_ids, request_ids = _ids(trip_table), _ids(request_table)
    departure = _to_minutes(trip_times, "earliest_departure", base, 0.0)
    arrival = _to_minutes(trip_times, "latest_arrival", base, 0.0)
    earliest = _to_minutes(request_times, "earliest_pickup", base, 0.0)
    latest = _to_minutes(request_times, "latest_delivery", base, 0.0)
    announced = _to_minutes(request_times, "announced_at", base, -np.inf)
    for raw, column, minutes in (
        (trip_times, "earliest_departure", departure),
        (trip_times, "latest_arrival", arrival),
        (request_times, "earliest_pickup", earliest),
        (request_times, "latest_delivery", latest),
        (request_times, "announced_at", announced),
    ):
        _check_range(raw, column, minutes)
    _check_order(trip_times, departure, arrival, "earliest_departure", "latest_arrival", base)
    _check_order(request_times, earliest, latest, "earliest_pickup", "latest_delivery", base)
    _check_order(request_times, announced, earliest, "announced_at", "earliest_pickup", base)

    trips = Trips.from_columns(
        ids=trip_ids,
        origin=[_point(trip_table, n, row, "origin", coords) for n, row in enumerate(t_rows, 1)],
        destination=[
            _point(trip_table, n, row, "destination", coords) for n, row in enumerate(t_rows, 1)
        ],
        earliest_departure=departure,
        latest_arrival=arrival,
        capacity=[
            _optional(trip_table, n, row, "capacity", 1, _positive_int)
            for n, row in enumerate(t_rows, 1)
        ],
        courier=[row.get("courier") or tid for tid, row in zip(trip_ids, t_rows, strict=True)],
        rating=[
            _optional(trip_table, n, row, "rating", math.nan, _rating)
            for n, row in enumerate(t_rows, 1)
        ],
    )
    requests = Requests.from_columns(
        ids=request_ids,
        pickup=[_point(request_table, n, row, "pickup", coords) for n, row in enumerate(r_rows, 1)],
        delivery=[
            _point(request_table, n, row, "delivery", coords) for n, row in enumerate(r_rows, 1)
        ],
        earliest_pickup=earliest,
        latest_delivery=latest,
        announced_at=announced,
        size=[
            _optional(request_table, n, row, "size", 1, _positive_int)
            for n, row in enumerate(r_rows, 1)
        ],
        priority=[
            _optional(request_table, n, row, "priority", 0.0, _priority)
            for n, row in enumerate(r_rows, 1)
        ],
        value=[
            _optional(request_table, n, row, "value", math.nan, _worth)
            for n, row in enumerate(r_rows, 1)
        ],
        sender=[row.get("sender", "") for row in r_rows],
        preferred_couriers=[
            frozenset(c.strip() for c in row.get("preferred_couriers", "").split(";") if c.strip())
            for row in r_rows
        ],
    )
    return Inputs(trips, requests, base)


MATCH_COLUMNS = ("trip_id", "request_id", "detour_min", "pickup_time", "delivery_time")


def match_rows(result: MatchResult, base: TimeBase) -> list[dict[str, Any]]:
    return [
        {
            "trip_id": m.trip_id,
            "request_id": m.request_id,
            "detour_min": round(m.detour_min, 3),
            "pickup_time": base.format(m.pickup_time),
            "delivery_time": base.format(m.delivery_time),
        }
        for m in result.assignment.matches()
    ]


def write_matches(path: Path, result: MatchResult, base: TimeBase) -> None:
    """Matches as CSV, or JSON when the file name ends in ``.json``."""
    rows = match_rows(result, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MATCH_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
