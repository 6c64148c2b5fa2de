"""Type stubs of the compiled module ``_planar.pyx``, for type checkers."""

from numpy.typing import ArrayLike

from crowdship.core.model import FloatArray, IntArray

def _use_avx(on: bool) -> bool: ...
def _f1(values: ArrayLike) -> FloatArray: ...
def _i1(values: ArrayLike) -> IntArray: ...
def planar_pairs(
    fill: bool,
    offsets: IntArray,
    counts: IntArray,
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
    delivery_x: FloatArray,
    delivery_y: FloatArray,
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
    out_trip: IntArray,
    out_request: IntArray,
    out_detour: FloatArray,
) -> None: ...
