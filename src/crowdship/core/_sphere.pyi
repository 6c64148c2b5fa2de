"""Type stubs of the compiled module ``_sphere.pyx``, for type checkers."""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crowdship.core.model import FloatArray, IntArray

SERIES_X2: float
ROUNDOFF: float
LEG_ERROR_RADII: float
LEG_ERROR_LEGS: float

def _use_avx(on: bool) -> bool: ...
def _f1(values: ArrayLike) -> FloatArray: ...
def _i1(values: ArrayLike) -> IntArray: ...
def _i2(values: ArrayLike) -> IntArray: ...
def sphere_pairs(
    fill: bool,
    offsets: IntArray,
    counts: IntArray,
    candidates: IntArray,
    e_origin: FloatArray,
    e_dest: FloatArray,
    centre: FloatArray,
    radius: FloatArray,
    earliest_departure: FloatArray,
    latest_arrival: FloatArray,
    direct_trip: FloatArray,
    allowed_detour: FloatArray,
    pickup_x: FloatArray,
    pickup_y: FloatArray,
    pickup_z: FloatArray,
    delivery_x: FloatArray,
    delivery_y: FloatArray,
    delivery_z: FloatArray,
    earliest_pickup: FloatArray,
    latest_delivery: FloatArray,
    direct_request: FloatArray,
    request_id: IntArray,
    cell_start: IntArray,
    cell_box: FloatArray,
    delivery_cell: IntArray,
    row_table: IntArray,
    grid_dims: IntArray,
    grid_origin: FloatArray,
    cell_km: float,
    nx: int,
    ny: int,
    rate: float,
    tolerance: float,
    ll_origin: FloatArray,
    ll_dest: FloatArray,
    ll_pickup: FloatArray,
    ll_delivery: FloatArray,
    earth_radius_km: float,
    sphere_scale: float,
    units: float,
    out_trip: IntArray,
    out_request: IntArray,
    out_detour: FloatArray,
) -> None: ...
def compact_pairs(
    offsets: IntArray,
    counts: IntArray,
    starts: IntArray,
    trip: IntArray,
    request: IntArray,
    detour: FloatArray,
    out_trip: IntArray,
    out_request: IntArray,
    out_detour: FloatArray,
) -> None: ...
def haversine_minutes(
    start: FloatArray, i: int, end: FloatArray, j: int, earth_radius_km: float, scale: float
) -> float: ...
def great_circle_rule(
    trip_index: IntArray,
    request_index: IntArray,
    origin: FloatArray,
    destination: FloatArray,
    pickup: FloatArray,
    delivery: FloatArray,
    minutes_per_km: float,
    earliest_departure: FloatArray,
    latest_arrival: FloatArray,
    direct_trip: FloatArray,
    allowed_detour: FloatArray,
    earliest_pickup: FloatArray,
    latest_delivery: FloatArray,
    direct_request: FloatArray,
    tolerance: float,
    earth_radius_km: float,
) -> tuple[NDArray[np.bool_], FloatArray]: ...
