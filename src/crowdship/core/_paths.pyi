"""Type stubs of the compiled module ``_paths.pyx``, for type checkers."""

import numpy as np
from numpy.typing import NDArray

from crowdship.core.model import FloatArray, IntArray

UNREACHED: np.int64

def _group_offsets(group: IntArray, n_groups: int) -> tuple[IntArray, IntArray]: ...
def rounded_multiple(values: FloatArray, scale: float) -> IntArray: ...
def maximum_matching(
    offsets: IntArray,
    order: IntArray,
    request: IntArray,
    n_requests: int,
    mate_trip: IntArray,
    bound: int,
) -> int: ...
def stable_order(values: IntArray) -> IntArray: ...
def greedy_matching(
    cost: IntArray,
    trip: IntArray,
    request: IntArray,
    n_trips: int,
    n_requests: int,
) -> IntArray: ...
def trip_groups(trip: IntArray, n_trips: int) -> tuple[IntArray, IntArray]: ...
def cheap_matching(
    cost: IntArray,
    trip: IntArray,
    request: IntArray,
    n_trips: int,
    n_requests: int,
    bound: int,
) -> tuple[IntArray, int]: ...
def _heap_push(keys: IntArray, items: IntArray, size: int, key: int, item: int) -> int: ...
def _heap_pop(keys: IntArray, items: IntArray, size: int) -> tuple[int, int, int]: ...
def shortest_augmenting_paths(
    row_offsets: IntArray,
    row_arcs: IntArray,
    arc_row: IntArray,
    arc_col: IntArray,
    cost: IntArray,
    n_cols: int,
    big: int,
    row_order: IntArray,
) -> tuple[IntArray, int]: ...
def sparse_assignment(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    n_trips: int,
    n_requests: int,
) -> tuple[IntArray, int]: ...
def repair_flow(
    n_trips: int,
    n_requests: int,
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    used_array: NDArray[np.bool_],
    potential: IntArray,
    max_paths: int,
    budget: int,
) -> tuple[bool, int]: ...
