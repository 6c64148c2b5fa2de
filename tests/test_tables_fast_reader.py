"""The compiled CSV reader (``crowdship._csv``) in front of ``tables._plain_columns``: with
it and without it, the same columns (arrays bit for bit, the same raw strings), the same
refusals, the same inputs or the same :class:`InputError`, for any file."""

from __future__ import annotations

import dataclasses
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crowdship import _csv, tables
from crowdship.tables import InputError

ROOT = Path(__file__).resolve().parents[1]
DAYS = [
    (path.parent, coords)
    for path, coords in [
        *((p, "km") for p in sorted((ROOT / "examples").glob("**/trips.csv"))),
        (Path("/tmp/s17/paper/trips.csv"), "km"),
        (Path("/tmp/s17/latlon/trips.csv"), "latlon"),
    ]
    if path.exists() and (path.parent / "requests.csv").exists()
]
TRIPS = ("id", "origin_x", "origin_y", "destination_x", "destination_y")
TRIP_TIMES = ("earliest_departure", "latest_arrival")
REQUESTS = ("id", "pickup_x", "pickup_y", "delivery_x", "delivery_y")
REQUEST_TIMES = ("earliest_pickup", "latest_delivery")


def _compiled(on: bool, call: Callable[[], object]) -> tuple[str, object]:
    """("ok", result) or ("raise", type, message) of call, with the compiled reader on or off."""
    saved = tables._COMPILED_CSV
    tables._COMPILED_CSV = on
    try:
        return ("ok", call())
    except Exception as error:  # the outcome compared
        return ("raise", (type(error), str(error)))
    finally:
        tables._COMPILED_CSV = saved


def _same_value(a: object, b: object, where: str) -> None:
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        if a.dtype == object:
            assert a.tolist() == b.tolist(), where
        else:
            assert a.tobytes() == b.tobytes(), where  # bit for bit, NaNs and signed zeros too
    elif dataclasses.is_dataclass(a):
        for name in (f.name for f in dataclasses.fields(a)):
            _same_value(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where  # type: ignore[arg-type]
        for key in a:
            _same_value(a[key], b[key], f"{where}[{key!r}]")  # type: ignore[index]
    else:
        assert a == b, where


def _same_outcome(call: Callable[[], object]) -> tuple[str, object]:
    on, off = _compiled(True, call), _compiled(False, call)
    assert on[0] == off[0], (on, off)
    if on[0] == "raise":
        assert on[1] == off[1]
    else:
        _same_value(on[1], off[1], "result")
    return on


def _check_file(path: Path) -> None:
    _same_outcome(lambda: tables._plain_columns(path))


def _check_day(trips: Path, requests: Path, coords: tables.Coords) -> None:
    _same_outcome(lambda: tables._read_inputs_fast(trips, requests, coords))
    _same_outcome(lambda: tables.read_inputs(trips, requests, coords))


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# ------------------------------------------------------------------------- the values


def _float_text(value: float, form: int) -> str:
    if form == 0:
        return repr(value)
    if form == 1:
        return f"{value:.{abs(hash(value)) % 20}e}"
    if form == 2:
        return f"{value:.{abs(hash(value)) % 12}f}"
    return f"{value:g}".upper()


NUMBERS = st.one_of(
    st.builds(_float_text, st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 3)),
    st.builds(_float_text, st.floats(-1e4, 1e4), st.integers(0, 3)),
    st.integers(-(10**25), 10**25).map(str),
    st.from_regex(r"\A[+-]?([0-9]{1,22}\.?[0-9]{0,22}|\.[0-9]{1,22})([eE][+-]?[0-9]{1,3})?\Z"),
)
ODD_NUMBERS = st.sampled_from(
    [
        "inf", "-inf", "nan", "+nan", "Infinity", "1_000", "0x1p3", "", " ", "1.", ".5", ".",
        "1e", "1e+", "-0", "+0.0", "0e999", "1e400", "-1e-400", "4.9e-324",
        "2.2250738585072011e-308", "1 5", "\u0661", "1.5\u3000", "\xa01", "\x1f2", "1d5", "+-1",
        "00012", "08:30", "8:05:30",
        "2024-05-01T08:30", "\t7\t", "abc", "1,5", "9007199254740993", "0.1e-5",
    ]
)  # fmt: skip
RARELY = st.sampled_from([False] * 9 + [True])
SPACES = st.sampled_from(["", "", "", " ", "  ", "\t", " \t"])
CLEAN_TIMES = st.builds(_float_text, st.floats(0, 2000), st.integers(0, 3))
CLOCK = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 30), st.integers(0, 59))
ID_CHARS = st.characters(
    codec="utf-8",
    include_characters="\x85\u2028\u2029\x1c\x1f\x0b\x0c\t \"',;\ufeff\xa0\r\n\x00é中😀",
)


_PLAIN_CELL = st.builds(lambda a, v, b: a + v + b, SPACES, NUMBERS, SPACES)
NUMBER_CELLS = st.one_of(_PLAIN_CELL, _PLAIN_CELL, _PLAIN_CELL, ODD_NUMBERS, CLOCK)


@st.composite
def csv_files(draw: st.DrawFn, columns: tuple[str, ...], times: tuple[str, ...]) -> bytes:
    """A CSV file's bytes: mostly plain, sometimes anything the readers must agree on."""
    extra = draw(
        st.lists(st.sampled_from(["capacity", "rating", "size", "courier", "notes"]), unique=True)
    )
    header = list(columns + times) + extra
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(RARELY):
        header.append(draw(st.sampled_from(["", "id", " x ", "\ufeffid"])))
    clean = not draw(st.sampled_from([False, False, True]))  # a well-formed day, as the paper's
    rows = []
    ids = st.text(ID_CHARS, min_size=1, max_size=6)
    prefix = draw(st.from_regex(r"\A\w{1,3}\Z"))
    for k in range(draw(st.integers(0, 8))):
        cells = []
        early, late = sorted(draw(st.lists(CLEAN_TIMES, min_size=2, max_size=2)), key=float)
        for name in header:
            if name == "id":
                cells.append(f"{prefix}{k}" if clean or draw(st.booleans()) else draw(ids))
            elif name in times:
                if clean:
                    cells.append(early if name == times[0] else late)
                else:
                    cells.append(draw(st.one_of(CLOCK, NUMBER_CELLS)))
            elif name in ("courier", "notes"):
                cells.append(draw(st.text(ID_CHARS, max_size=4)))
            elif clean and name in ("capacity", "rating", "size"):
                cells.append(draw(st.sampled_from(["1", "2", " 3", "4.0", "5e0", "1.", ""])))
            else:
                cells.append(draw(NUMBERS if clean else NUMBER_CELLS))
        if not clean and draw(RARELY):
            cells = cells[:-1] if draw(st.booleans()) else [*cells, "1"]
        rows.append(",".join(cells))
    if not clean and draw(RARELY):
        rows.insert(draw(st.integers(0, len(rows))), draw(st.sampled_from(["", " ", ",,"])))
    lines = [",".join(header), *rows]
    ends = st.sampled_from(["\n", "\r\n", "\r"])
    if draw(st.booleans()):
        end = draw(ends)
        text = end.join(lines) + (end if draw(st.booleans()) else "")
    else:
        text = "".join(line + draw(ends) for line in lines)
    data = text.encode("utf-8")
    if draw(st.sampled_from([False] * 4 + [True])):
        data = b"\xef\xbb\xbf" + data
    if draw(RARELY) and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))] + b"\xff"
    return data


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trips=csv_files(TRIPS, TRIP_TIMES), requests=csv_files(REQUESTS, REQUEST_TIMES))
def test_any_files_read_the_same(folder: Path, trips: bytes, requests: bytes) -> None:
    (folder / "trips.csv").write_bytes(trips)
    (folder / "requests.csv").write_bytes(requests)
    _check_file(folder / "trips.csv")
    _check_file(folder / "requests.csv")
    _check_day(folder / "trips.csv", folder / "requests.csv", "km")


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.one_of(NUMBERS, ODD_NUMBERS, NUMBER_CELLS), min_size=1, max_size=30),
    end=st.sampled_from(["\n", "\r\n", "\r", ""]),
)
@example(values=["1.5", "08:30"], end="\n")
@example(values=["1.5", ""], end="")
@example(values=["1.5", "inf"], end="\r")
def test_number_columns_read_as_loadtxt_reads_them(
    folder: Path, values: list[str], end: str
) -> None:
    rows = "\n".join(f"k{k},{v},{v}" for k, v in enumerate(values))
    path = folder / "numbers.csv"
    path.write_bytes(f"id,size,sender\n{rows}{end}".encode())
    on = _same_outcome(lambda: tables._plain_columns(path))
    if on[0] == "ok" and isinstance(on[1], dict) and isinstance(on[1]["size"], np.ndarray):
        assert on[1]["sender"] == values


def _bits(value: float) -> str:
    return struct.pack("<d", value).hex()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
            st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:.18e}"),
            st.from_regex(r"\A[+-]?[0-9]{1,20}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?\Z"),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_numbers_as_float_parses_them(values: list[str]) -> None:
    """Correctly rounded, as ``float`` and NumPy's ``loadtxt``: the same bits."""
    data = ("id,capacity\n" + "\n".join(f"i,{v}" for v in values)).encode()
    columns = _csv.plain_columns(data, frozenset({"capacity"}), ("id",))
    assert columns is not None
    assert [_bits(v) for v in columns["capacity"]] == [_bits(float(v)) for v in values]


def test_what_the_compiled_reader_takes_and_refuses() -> None:
    numbers, texts = tables._NUMBER_COLUMNS, tables._TEXT_COLUMNS

    def read(text: str | bytes) -> object:
        data = text.encode() if isinstance(text, str) else text
        return _csv.plain_columns(data, numbers, texts)

    taken = read("\ufeffid, size ,x\r\n é ,\t1.5e3 , a\rb,-.5,c\n")
    assert isinstance(taken, dict)
    assert list(taken) == ["size", "id"]
    assert taken["size"].tolist() == [1500.0, -0.5]
    assert taken["id"] == [" é ", "b"]
    clocks = read("id,earliest_pickup,size\nr0,08:30,1\nr1,9,\n")  # loadtxt refuses: raw text
    assert clocks == {"id": ["r0", "r1"], "earliest_pickup": ["08:30", "9"], "size": ["1", ""]}
    for refused in (
        "id,size\nr0,inf\n",  # outside the grammar: the Python reading decides
        "id,size\nr0,1_000\n",
        'id,size\n"r0",1\n',
        "id,size\nr0,1\n\nr1,2\n",
        "id,size\nr0,1,2\n",
        "id\nr0\n",
        "id,size\n",
        "id,size\nr\u20280,1\n",
        "id,size\nr\x850,1\n",
        "id,size\nr\x0c0,1\n",
        "id,id\nr0,1\n",
        b"id,size\nr\xff,1\n",
        "",
    ):
        assert read(refused) is None, refused


def test_bundled_examples_and_the_paper_days() -> None:
    assert DAYS, "no example files"
    for folder, coords in DAYS:
        for name in ("trips.csv", "requests.csv"):
            _check_file(folder / name)
            assert _csv.plain_columns(
                (folder / name).read_bytes(), tables._NUMBER_COLUMNS, tables._TEXT_COLUMNS
            ), folder / name
        _check_day(folder / "trips.csv", folder / "requests.csv", coords)


def test_bad_inputs_name_the_same_problem(folder: Path) -> None:
    (folder / "t.csv").write_text(
        ",".join(TRIPS + TRIP_TIMES) + "\nt0,1,2,3,4,08:00,07:00\n", encoding="utf-8"
    )
    (folder / "r.csv").write_text(
        ",".join(REQUESTS + REQUEST_TIMES) + "\nr0,1,2,3,4,600,700\n", encoding="utf-8"
    )
    outcome = _same_outcome(lambda: tables.read_inputs(folder / "t.csv", folder / "r.csv", "km"))
    assert outcome[0] == "raise"
    kind, message = outcome[1]  # type: ignore[misc]
    assert kind is InputError and "latest_arrival" in message
