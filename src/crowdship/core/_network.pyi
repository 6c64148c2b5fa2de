"""Type stubs of the compiled module ``_network.pyx``, for type checkers."""

from numpy.typing import ArrayLike

from crowdship.core.model import FloatArray, IntArray

def _use_avx(on: bool) -> bool: ...
def _f1(values: ArrayLike) -> FloatArray: ...
def _i1(values: ArrayLike) -> IntArray: ...
def network_pairs(
    fill: bool,
    offsets: IntArray,
    counts: IntArray,
    to_pickup: FloatArray,
    from_delivery: FloatArray,
    origin_of: IntArray,
    destination_of: IntArray,
    earliest_departure: FloatArray,
    latest_arrival: FloatArray,
    direct_trip: FloatArray,
    allowed_detour: FloatArray,
    earliest_pickup: FloatArray,
    latest_delivery: FloatArray,
    direct_request: FloatArray,
    tolerance: float,
    out_trip: IntArray,
    out_request: IntArray,
    out_detour: FloatArray,
) -> None: ...
