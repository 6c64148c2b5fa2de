"""Reading input files: the column-wise fast path reads exactly what the row-by-row reading
reads, and leaves every file it does not handle (or any problem) to it."""

from __future__ import annotations

import numpy as np
import pytest

from crowdship import tables
from crowdship.tables import InputError, read_inputs

TRIPS = "id,origin_x,origin_y,destination_x,destination_y,earliest_departure,latest_arrival"
REQUESTS = "id,pickup_x,pickup_y,delivery_x,delivery_y,earliest_pickup,latest_delivery"


def _same(a: object, b: object) -> None:
    for part in ("trips", "requests"):
        x, y = getattr(a, part), getattr(b, part)
        for name in x.__dataclass_fields__:
            u, v = getattr(x, name), getattr(y, name)
            if isinstance(u, np.ndarray):
                assert u.dtype == v.dtype, (part, name)
                assert np.array_equal(u, v, equal_nan=u.dtype.kind == "f"), (part, name)
            else:
                assert u == v, (part, name)
    assert a.time_base == b.time_base  # type: ignore[attr-defined]


def _files(tmp_path, trips: str, requests: str):
    (tmp_path / "trips.csv").write_text(trips + "\n", encoding="utf-8")
    (tmp_path / "requests.csv").write_text(requests + "\n", encoding="utf-8")
    return tmp_path / "trips.csv", tmp_path / "requests.csv"


PLAIN = [
    (  # numbers, the benchmark's files
        f"{TRIPS},capacity\nt0,2.534983884793691,2.3,7.0,17.08,481.87458,506.5475,1\n"
        "t1,1e1,-0.5,3,4,500,600.25,2",
        f"{REQUESTS},announced_at,size\nr0,6.3,18.5,18.2,0.17,655.7,1140.0,589.3,1",
    ),
    (  # clock times, blanks in optional columns, spaces around values, extra columns
        f"{TRIPS},capacity,courier,rating,note\n"
        " t0 , 1 ,2,3,4, 08:00 ,09:30:30,,c1,4.5,x\nt1,1,2,3,4,8:05,10:00,3,,,",
        f"{REQUESTS},announced_at,priority,value,sender,preferred_couriers\n"
        "r0,1,2,3,4,08:00,12:00,,1,2.5,s1,c1; c2\nr1,1,2,3,4,480,720,07:00,,,,",
    ),
    (f"{TRIPS}", f"{REQUESTS}"),  # no rows
]


@pytest.mark.parametrize(("trips", "requests"), PLAIN)
def test_the_fast_path_reads_what_the_row_by_row_reading_reads(tmp_path, trips, requests):
    t, r = _files(tmp_path, trips, requests)
    fast = tables._read_inputs_fast(t, r, "km")
    assert fast is not None
    _same(fast, tables._read_inputs_checked(t, r, "km"))


def test_the_fast_path_checks_coordinates_on_latlon(tmp_path):
    header = TRIPS.replace("_x", "_lat").replace("_y", "_lon")
    r_header = REQUESTS.replace("_x", "_lat").replace("_y", "_lon")
    t, r = _files(tmp_path, f"{header}\nt0,60.1,24.9,60.2,25.0,08:00,09:00", f"{r_header}")
    fast = tables._read_inputs_fast(t, r, "latlon")
    assert fast is not None
    _same(fast, tables._read_inputs_checked(t, r, "latlon"))
    t, r = _files(tmp_path, f"{header}\nt0,95,24.9,60.2,25.0,08:00,09:00", f"{r_header}")
    assert tables._read_inputs_fast(t, r, "latlon") is None


@pytest.mark.parametrize(
    ("trips", "requests"),
    [
        (f'{TRIPS}\n"t0",1,2,3,4,480,540', REQUESTS),  # quotes
        (f"{TRIPS}\nt0,1,2,3,4,480,540\n\nt1,1,2,3,4,480,540", REQUESTS),  # a blank line
        (f"{TRIPS}\nt0,1,2,3,4,480", REQUESTS),  # too few values
        (f"{TRIPS}\nt0,1,2,3,4,2026-11-29T08:00,2026-11-29T09:00", REQUESTS),  # date-times
        (f"{TRIPS}\nt0,1,2,3,4,480,540\nt0,1,2,3,4,480,540", REQUESTS),  # an id twice
        (f"{TRIPS}\nt0,1,2,3,4,540,480", REQUESTS),  # arrival before departure
        (f"{TRIPS},capacity\nt0,1,2,3,4,480,540,1.5", REQUESTS),  # capacity not whole
        (f"{TRIPS},rating\nt0,1,2,3,4,480,540,6", REQUESTS),  # rating past 5
        (f"{TRIPS}\nt0,1,nan,3,4,480,540", REQUESTS),  # not finite
        (f"{TRIPS}\nt0,1,2,3,4,,540", REQUESTS),  # a required time empty
        (TRIPS, f"{REQUESTS},priority\nr0,1,2,3,4,480,540,-1"),  # negative priority
        (TRIPS, f"{REQUESTS},announced_at\nr0,1,2,3,4,480,540,500"),  # announced too late
        (TRIPS, f"{REQUESTS},value\nr0,1,2,3,4,480,540,inf"),  # value not finite
        (TRIPS, "id,pickup_x\nr0,1"),  # a column missing
    ],
)
def test_anything_else_goes_to_the_row_by_row_reading(tmp_path, trips, requests):
    t, r = _files(tmp_path, trips, requests)
    assert tables._read_inputs_fast(t, r, "km") is None
    try:
        expected: object = tables._read_inputs_checked(t, r, "km")
    except InputError as error:
        expected = str(error)
    try:
        got: object = read_inputs(t, r, "km")
    except InputError as error:
        got = str(error)
    if isinstance(expected, str):
        assert got == expected
    else:
        _same(got, expected)
