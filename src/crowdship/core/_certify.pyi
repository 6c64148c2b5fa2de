"""Type stubs of the compiled module ``_certify.pyx``, for type checkers."""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crowdship.core.model import IntArray

UNREACHED: np.int64

def _mask(array: ArrayLike) -> NDArray[np.uint8]: ...
def _group_offsets(group: IntArray, n_groups: int) -> tuple[IntArray, IntArray]: ...
def arcs_below(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    potential: IntArray,
    n_trips: int,
    skip: NDArray[np.bool_],
    margin: int,
) -> tuple[NDArray[np.bool_], int]: ...
def arcs_below_grouped(
    offsets: IntArray,
    request: IntArray,
    cost: IntArray,
    potential: IntArray,
    skip: NDArray[np.bool_],
    margin: int,
) -> tuple[NDArray[np.bool_], int]: ...
def _parent_cycle(parent: IntArray) -> bool: ...
def label_correcting(
    n_nodes: int,
    tails: IntArray,
    heads: IntArray,
    costs: IntArray,
    start: IntArray,
) -> tuple[IntArray, bool]: ...
def _label_correcting(
    n_nodes: int,
    offsets: IntArray,
    order: IntArray,
    heads: IntArray,
    costs: IntArray,
    start: IntArray,
) -> tuple[IntArray, bool]: ...
def residual_potentials(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    used: NDArray[np.bool_],
    n_trips: int,
    n_requests: int,
) -> tuple[IntArray, int]: ...
def merge_arcs(
    subset: IntArray,
    sub_trip: IntArray,
    sub_request: IntArray,
    sub_cost: IntArray,
    add: IntArray,
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray]: ...
def cheapest_per_node(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    n_trips: int,
    n_requests: int,
    k: int,
) -> NDArray[np.bool_]: ...
def most_negative_per_node(
    arcs: IntArray,
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    potential: IntArray,
    n_trips: int,
    n_requests: int,
    k: int,
) -> tuple[IntArray, IntArray]: ...
def certificate(
    sub_trip: IntArray,
    sub_request: IntArray,
    sub_cost: IntArray,
    used: NDArray[np.bool_],
    n_trips: int,
    n_requests: int,
    offsets: IntArray,
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    skip: NDArray[np.bool_],
    margin: int,
) -> tuple[IntArray, int, NDArray[np.bool_], int]: ...
