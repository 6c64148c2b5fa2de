"""Which (trip, request) pairs are time feasible, and what they cost the driver.

The rule (DESIGN.md, exact): the courier leaves ``O_t`` at ``ED_t``, drives to ``O_r``, waits
until ``ED_r`` if early, drives to ``D_r`` (arrive ``<= LA_r``), then to ``D_t``
(arrive ``<= LA_t``). Leaving later never helps because waiting is allowed.

Finding the pairs runs in two stages, both vectorised:

1. *Candidates*: requests are filed on a grid in the travel model's embedding by pickup
   cell, and within a cell by delivery cell. Each trip reads only the requests whose pickup
   and delivery cells both lie under the ball around its ellipse (foci ``O_t``, ``D_t``,
   length ``LA_t - ED_t``), and evaluates the whole rule with *lower bounds* on the two legs
   that join trip and request (``minutes_per_km x`` Euclidean distance in the embedding).
   The rule is monotone in travel times, so a pair rejected with lower bounds is infeasible
   with the true times: no feasible pair is ever dropped. The loops are compiled (Cython:
   ``_planar.pyx``, ``_sphere.pyx``, ``_network.pyx``; numba for any other embedding:
   ``_kernels.py``).
   On planar and great-circle travel each pickup cell also narrows where the deliveries
   can lie, and the rule runs without a branch per row (vector instructions); on the
   sphere with legs from the chords (no trigonometry), the haversine formula deciding
   only the pairs within rounding of a limit.
2. *Exact check*: the travel model gives the true minutes for the surviving pairs only
   (skipped when the embedding's distances are the true times, as for planar models).

A road network small enough to keep its node-to-node table skips both: every pair is
checked exactly in one compiled pass that reads each trip's legs from the table
(:func:`_looked_up_pairs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The planar, great-circle and looked-up road searches are Cython (compiled at install);
# the general grid search (``grid_candidates``) is numba's, imported where it is used, so
# that a process matching those days never imports numba (0.4 s before any work).
from crowdship.core._network import network_pairs
from crowdship.core._planar import planar_pairs
from crowdship.core._sphere import compact_pairs, great_circle_rule, sphere_pairs
from crowdship.core.model import FloatArray, IntArray, Requests, Trips
from crowdship.core.travel import EARTH_RADIUS_KM, GreatCircleTravel, TravelModel

#: Bounds are compared with this tolerance (minutes) so that a bound met exactly on paper is
#: not lost to floating-point rounding.
TIME_TOLERANCE = 1e-6
#: Grid cells are the typical ellipse ball's radius over this (see :func:`_grid_layout`).
CELL_DIVISOR = 2.0


#: The most grid cells for which :func:`delivery_row_table` is built (cells x (cells + 1)
#: entries: 8 MB at this size; the families' grids have 25 to 100 cells).
ROW_TABLE_CELLS = 1024


def delivery_row_table(cell_start: np.ndarray, delivery_cell: np.ndarray) -> np.ndarray:
    """For each pickup cell and each delivery cell k, the first of the pickup cell's rows
    (sorted by delivery cell) whose delivery cell is k or later: a trip's range of rows
    under one grid column is then two reads instead of two binary searches (on the
    families' days those searches were most of the bookkeeping per pickup cell and
    delivery column, itself more than half of the counting pass). Empty past
    ``ROW_TABLE_CELLS`` cells."""
    n_cells = len(cell_start) - 1
    if n_cells > ROW_TABLE_CELLS or n_cells == 0:
        return np.zeros((0, 0), dtype=np.int64)
    pickup = np.repeat(np.arange(n_cells, dtype=np.int64), np.diff(cell_start))
    keys = pickup * (n_cells + 1) + delivery_cell  # ascending: rows sorted by both cells
    wanted = np.arange(n_cells * (n_cells + 1), dtype=np.int64)
    return np.searchsorted(keys, wanted).astype(np.int64).reshape(n_cells, n_cells + 1)


@dataclass(frozen=True)
class Limits:
    """Optional hard limits on a pair beyond the four time bounds."""

    max_detour_min: float | None = None
    max_detour_fraction: float | None = None  # of the trip's direct driving time

    def __post_init__(self) -> None:
        if self.max_detour_min is not None and not self.max_detour_min >= 0:
            raise ValueError(f"max detour must be >= 0 minutes, got {self.max_detour_min}")
        if self.max_detour_fraction is not None and not self.max_detour_fraction >= 0:
            raise ValueError(f"max detour fraction must be >= 0, got {self.max_detour_fraction}")

    def allowed_detour(self, direct_trip: FloatArray) -> FloatArray:
        """Largest detour each trip may take under these limits (inf when unlimited)."""
        allowed = np.full(direct_trip.shape, np.inf)
        if self.max_detour_min is not None:
            allowed = np.minimum(allowed, self.max_detour_min)
        if self.max_detour_fraction is not None:
            allowed = np.minimum(allowed, self.max_detour_fraction * direct_trip)
        return allowed


NO_LIMITS = Limits()


@dataclass(frozen=True)
class FeasiblePairs:
    """Feasible pairs and their detours; every array is aligned with ``trip``/``request``.

    The pairs' times (pickup, delivery, arrival) are not kept: with millions of pairs they
    would be most of the memory, and only the few pairs that are matched or shown need
    them; :func:`schedule` gives them.
    """

    trip: IntArray
    request: IntArray
    detour: FloatArray  # minutes the driver drives in addition to the direct trip
    candidates: int  # pairs that reached the exact check

    def __len__(self) -> int:
        return len(self.trip)

    @classmethod
    def allocate(cls, total: int, candidates: int) -> FeasiblePairs:
        """Room for ``total`` pairs, for a compiled pass to write into."""
        return cls(
            trip=np.empty(total, np.int64),
            request=np.empty(total, np.int64),
            detour=np.empty(total),
            candidates=candidates,
        )

    def select(self, mask: np.ndarray) -> FeasiblePairs:
        return FeasiblePairs(
            trip=self.trip[mask],
            request=self.request[mask],
            detour=self.detour[mask],
            candidates=self.candidates,
        )


@dataclass(frozen=True)
class Schedule:
    """When each pair's courier picks the parcel up (after any wait), delivers it, and
    arrives at the trip's destination; minutes, aligned with the pairs asked for."""

    pickup_time: FloatArray
    delivery_time: FloatArray
    arrival_time: FloatArray


@dataclass(frozen=True)
class DirectTimes:
    """Direct driving minutes of each trip and each request (computed once per batch)."""

    trip: FloatArray
    request: FloatArray

    @classmethod
    def of(cls, trips: Trips, requests: Requests, travel: TravelModel) -> DirectTimes:
        return cls(
            trip=travel.pairwise(trips.origin, trips.destination),
            request=travel.pairwise(requests.pickup, requests.delivery),
        )


def evaluate(
    trips: Trips,
    requests: Requests,
    direct: DirectTimes,
    trip_index: IntArray,
    request_index: IntArray,
    to_pickup: FloatArray,
    from_delivery: FloatArray,
) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The exact rule for aligned pairs, given the two trip-request legs in minutes.

    Returns ``(feasible, detour, pickup_time, delivery_time, arrival_time)``.
    """
    pickup = np.maximum(
        trips.earliest_departure[trip_index] + to_pickup, requests.earliest_pickup[request_index]
    )
    delivery = pickup + direct.request[request_index]
    arrival = delivery + from_delivery
    feasible = (delivery <= requests.latest_delivery[request_index] + TIME_TOLERANCE) & (
        arrival <= trips.latest_arrival[trip_index] + TIME_TOLERANCE
    )
    detour = to_pickup + direct.request[request_index] + from_delivery - direct.trip[trip_index]
    return feasible, detour, pickup, delivery, arrival


def _grid_layout(
    e_pickup: FloatArray, radius: FloatArray
) -> tuple[IntArray, FloatArray, float, int, int]:
    """Grid over request pickups: the two widest embedding dimensions, cells about half
    the typical ellipse ball radius (tighter cells cut scanning; more cells cost loops)."""
    spread = e_pickup.max(axis=0) - e_pickup.min(axis=0)
    dims = np.argsort(spread)[::-1][:2].astype(np.int64)
    if len(dims) == 1:
        dims = np.array([dims[0], dims[0]], dtype=np.int64)
    origin = e_pickup[:, dims].min(axis=0)
    extent = float(max(spread[dims].max(), 1e-9))
    typical = float(np.median(radius[radius >= 0])) if (radius >= 0).any() else extent
    # Cap the grid at 1024 x 1024 cells so huge regions do not cost memory for nothing.
    cell = max(typical / CELL_DIVISOR, extent / 1024, 1e-6)
    nx = int(spread[dims[0]] // cell) + 1
    ny = int(spread[dims[1]] // cell) + 1
    return dims, origin, cell, nx, ny


def candidate_pairs(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    direct: DirectTimes,
    limits: Limits = NO_LIMITS,
    units: float | None = None,
) -> FeasiblePairs:
    """A superset of the feasible pairs (never drops one), found through a grid index.

    Their detours come from the embedded legs: exact when the embedding's distances are
    the true ones (planar) or when the index checks haversine legs too (great-circle: then
    the pairs are exactly the feasible ones), lower bounds otherwise. ``units``: see
    :func:`feasible_pairs`.
    """
    n_trips, n_requests = len(trips), len(requests)
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0)
    if n_trips == 0 or n_requests == 0:
        return FeasiblePairs(empty_i, empty_i, empty_f, 0)
    rate = float(travel.minutes_per_km)
    e_origin = np.ascontiguousarray(travel.embed(trips.origin), dtype=np.float64)
    e_dest = np.ascontiguousarray(travel.embed(trips.destination), dtype=np.float64)
    e_pickup = np.ascontiguousarray(travel.embed(requests.pickup), dtype=np.float64)
    e_delivery = np.ascontiguousarray(travel.embed(requests.delivery), dtype=np.float64)
    sphere = type(travel) is GreatCircleTravel and e_origin.shape[1] == 3
    if sphere and n_requests:
        # Turned so that the requests' mean pickup lies on the third axis: the grid's two
        # dimensions are then the tangent plane there, where a city's distances keep their
        # length (on the fixed axes one direction shrinks by the sine of the latitude).
        turn = _tangent_frame(e_pickup)
        e_origin, e_dest, e_pickup, e_delivery = (
            np.ascontiguousarray(e @ turn.T) for e in (e_origin, e_dest, e_pickup, e_delivery)
        )

    # Every feasible pickup and delivery lies in the ellipse with foci O_t, D_t and total
    # length (LA_t - ED_t) / rate, hence in the ball around its centre with the semi-major
    # axis as radius. A trip that cannot even drive its own route gets a negative radius.
    allowed = limits.allowed_detour(direct.trip)
    budget = np.minimum(trips.latest_arrival - trips.earliest_departure, direct.trip + allowed)
    feasible_alone = budget + TIME_TOLERANCE >= direct.trip
    radius = np.where(
        feasible_alone, (np.maximum(budget, 0.0) + TIME_TOLERANCE) / (2 * rate) * (1 + 1e-9), -1.0
    )
    centre = (e_origin + e_dest) / 2

    dims, origin, cell, nx, ny = _grid_layout(e_pickup, radius)

    def cell_of(points: FloatArray) -> IntArray:  # points beyond the grid go to its border
        cx = np.floor((points[:, dims[0]] - origin[0]) / cell).astype(np.int64)
        cy = np.floor((points[:, dims[1]] - origin[1]) / cell).astype(np.int64)
        return np.clip(cx, 0, nx - 1) * ny + np.clip(cy, 0, ny - 1)

    # Requests by pickup cell, and within one by delivery cell: a trip reads only the rows
    # whose pickup *and* delivery cells lie under its ball.
    pickup_cell, delivery_cell = cell_of(e_pickup), cell_of(e_delivery)
    rows = np.lexsort((delivery_cell, pickup_cell))
    cell_start = np.searchsorted(pickup_cell[rows], np.arange(nx * ny + 1)).astype(np.int64)

    if e_origin.shape[1] == 2 and type(travel) is not GreatCircleTravel:
        return _planar_pairs(
            e_origin,
            e_dest,
            centre,
            radius,
            trips,
            requests,
            direct,
            allowed,
            e_pickup[rows],
            e_delivery[rows],
            rows.astype(np.int64),
            cell_start,
            _cell_boxes(e_pickup[rows][:, dims] - origin, cell_start),
            np.ascontiguousarray(delivery_cell[rows]),
            dims,
            np.ascontiguousarray(origin),
            float(cell),
            nx,
            ny,
            rate,
        )
    if sphere:
        return _sphere_pairs(
            travel,
            e_origin,
            e_dest,
            centre,
            radius,
            trips,
            requests,
            direct,
            allowed,
            rows.astype(np.int64),
            e_pickup[rows],
            e_delivery[rows],
            cell_start,
            _cell_boxes(e_pickup[rows][:, dims] - origin, cell_start),
            np.ascontiguousarray(delivery_cell[rows]),
            dims,
            np.ascontiguousarray(origin),
            float(cell),
            nx,
            ny,
            rate,
            0.0 if units is None else float(units),
        )
    args = (
        e_origin,
        e_dest,
        centre,
        radius,
        trips.earliest_departure,
        trips.latest_arrival,
        direct.trip,
        allowed,
        e_pickup[rows],
        e_delivery[rows],
        requests.earliest_pickup[rows],
        requests.latest_delivery[rows],
        direct.request[rows],
        rows.astype(np.int64),
        cell_start,
        np.ascontiguousarray(delivery_cell[rows]),
        dims,
        np.ascontiguousarray(origin),
        float(cell),
        nx,
        ny,
        rate,
        TIME_TOLERANCE,
        *_sphere_args(travel, trips, requests, rows),
    )
    from crowdship.core._kernels import FILL, MARK, VISIT, grid_candidates

    counts = np.zeros(n_trips, dtype=np.int64)
    scan = np.zeros(n_trips + 1, dtype=np.int64)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    no_marks = np.zeros(0, dtype=np.uint8)
    grid_candidates(VISIT, offsets, counts, scan, no_marks, *args, empty_i, empty_i, empty_f)
    np.cumsum(counts, out=scan[1:])
    marks = np.zeros(int(scan[-1]) // 8, dtype=np.uint8)
    grid_candidates(MARK, offsets, counts, scan, marks, *args, empty_i, empty_i, empty_f)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    found = FeasiblePairs.allocate(total, candidates=total)
    grid_candidates(
        FILL, offsets, counts, scan, marks, *args, found.trip, found.request, found.detour
    )
    return found


def _planar_pairs(
    e_origin: FloatArray,
    e_dest: FloatArray,
    centre: FloatArray,
    radius: FloatArray,
    trips: Trips,
    requests: Requests,
    direct: DirectTimes,
    allowed: FloatArray,
    pickup: FloatArray,  # rows sorted by (pickup cell, delivery cell)
    delivery: FloatArray,
    request_id: IntArray,
    cell_start: IntArray,
    cell_box: FloatArray,
    delivery_cell: IntArray,
    dims: IntArray,
    origin: FloatArray,
    cell: float,
    nx: int,
    ny: int,
    rate: float,
) -> FeasiblePairs:
    """Two-dimensional embeddings: :func:`planar_pairs` counts each trip's pairs, then
    writes them (the rule twice per row, vectorised, instead of marks between passes)."""
    n_trips = len(trips)
    row_table = delivery_row_table(cell_start, delivery_cell)
    rows = (
        np.ascontiguousarray(pickup[:, 0]),
        np.ascontiguousarray(pickup[:, 1]),
        np.ascontiguousarray(delivery[:, 0]),
        np.ascontiguousarray(delivery[:, 1]),
        requests.earliest_pickup[request_id],
        requests.latest_delivery[request_id],
        direct.request[request_id],
    )

    def run(fill: bool, offsets: IntArray, counts: IntArray, out: FeasiblePairs) -> None:
        planar_pairs(
            fill,
            offsets,
            counts,
            e_origin,
            e_dest,
            centre,
            radius,
            trips.earliest_departure,
            trips.latest_arrival,
            direct.trip,
            allowed,
            *rows,
            request_id,
            cell_start,
            cell_box,
            delivery_cell,
            row_table,
            dims,
            origin,
            cell,
            nx,
            ny,
            rate,
            TIME_TOLERANCE,
            out.trip,
            out.request,
            out.detour,
        )

    counts = np.zeros(n_trips, dtype=np.int64)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    run(False, offsets, counts, FeasiblePairs(none, none, np.zeros(0), 0))
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    found = FeasiblePairs(
        np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total), total
    )
    run(True, offsets, counts, found)
    return found


def _sphere_pairs(
    travel: TravelModel,
    e_origin: FloatArray,
    e_dest: FloatArray,
    centre: FloatArray,
    radius: FloatArray,
    trips: Trips,
    requests: Requests,
    direct: DirectTimes,
    allowed: FloatArray,
    request_id: IntArray,  # the original request of each sorted row
    pickup: FloatArray,  # rows sorted by (pickup cell, delivery cell)
    delivery: FloatArray,
    cell_start: IntArray,
    cell_box: FloatArray,
    delivery_cell: IntArray,
    dims: IntArray,
    origin: FloatArray,
    cell: float,
    nx: int,
    ny: int,
    rate: float,
    units: float,
) -> FeasiblePairs:
    """Great-circle travel: :func:`sphere_pairs` counts each trip's pairs, then writes
    them, each time with legs from the chords (no trigonometry) and the haversine formula
    only for rows within a rounding-sized bound of one of the rule's limits (or of a step
    of ``rint(detour x units)``). The slots come out full; were any left unused, they
    would be closed up (:func:`compact_pairs`). Not closing them up saved the copy of every
    pair (6.8 M on the lat/lon day: 0.06 to 0.19 s, in fresh memory)."""
    n_trips = len(trips)
    row_table = delivery_row_table(cell_start, delivery_cell)
    _, ll_origin, ll_dest, ll_pickup, ll_delivery, earth_km, scale = _sphere_args(
        travel, trips, requests, request_id
    )
    p_x, p_y, p_z = (np.ascontiguousarray(pickup[:, k]) for k in range(3))
    q_x, q_y, q_z = (np.ascontiguousarray(delivery[:, k]) for k in range(3))
    opens = requests.earliest_pickup[request_id]
    closes = requests.latest_delivery[request_id]
    own = direct.request[request_id]

    def run(fill: bool, offsets: IntArray, counts: IntArray, out: FeasiblePairs) -> None:
        sphere_pairs(
            fill,
            offsets,
            counts,
            candidates,
            e_origin,
            e_dest,
            centre,
            radius,
            trips.earliest_departure,
            trips.latest_arrival,
            direct.trip,
            allowed,
            p_x,
            p_y,
            p_z,
            q_x,
            q_y,
            q_z,
            opens,
            closes,
            own,
            request_id,
            cell_start,
            cell_box,
            delivery_cell,
            row_table,
            dims,
            origin,
            cell,
            nx,
            ny,
            rate,
            TIME_TOLERANCE,
            ll_origin,
            ll_dest,
            ll_pickup,
            ll_delivery,
            earth_km,
            scale,
            units,
            out.trip,
            out.request,
            out.detour,
        )

    counts = np.zeros(n_trips, dtype=np.int64)
    candidates = np.zeros(n_trips, dtype=np.int64)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    none = np.zeros(0, np.int64)
    run(False, offsets, counts, FeasiblePairs(none, none, np.zeros(0), 0))
    np.cumsum(counts, out=offsets[1:])
    slots = int(offsets[-1])
    near = int(candidates.sum())  # the rows that reach the exact check
    written = FeasiblePairs(
        np.empty(slots, np.int64), np.empty(slots, np.int64), np.empty(slots), near
    )
    run(True, offsets, counts, written)
    starts = np.zeros(n_trips + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    total = int(starts[-1])
    if total == slots:  # every slot holds a pair: no gaps
        return written
    found = FeasiblePairs(
        np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total), near
    )
    compact_pairs(
        offsets,
        counts,
        starts,
        written.trip,
        written.request,
        written.detour,
        found.trip,
        found.request,
        found.detour,
    )
    return found


def _cell_boxes(points: FloatArray, cell_start: IntArray) -> FloatArray:
    """Per grid cell, the bounding box (x low, x high, y low, y high) of the points filed
    in it (``points`` sorted by cell; empty cells get an empty box)."""
    n_cells = len(cell_start) - 1
    box = np.empty((n_cells, 4))
    box[:, 0::2], box[:, 1::2] = np.inf, -np.inf
    filled = np.flatnonzero(cell_start[1:] > cell_start[:-1])
    if len(filled):
        starts = cell_start[filled]
        for axis in range(2):
            box[filled, 2 * axis] = np.minimum.reduceat(points[:, axis], starts)
            box[filled, 2 * axis + 1] = np.maximum.reduceat(points[:, axis], starts)
    return box


def _tangent_frame(points: FloatArray) -> FloatArray:
    """A rotation (3 x 3, orthonormal rows: east, north, up) that takes the points' mean
    direction to the third axis."""
    up = points.mean(axis=0)
    norm = float(np.linalg.norm(up))
    if not norm > 0:
        return np.eye(3)
    up = up / norm
    east = np.array([-up[1], up[0], 0.0])
    if float(np.linalg.norm(east)) < 1e-6:  # at a pole: any east will do
        east = np.array([1.0, 0.0, 0.0])
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    return np.vstack((east, north, up))


def _sphere_args(
    travel: TravelModel, trips: Trips, requests: Requests, rows: IntArray
) -> tuple[bool, FloatArray, FloatArray, FloatArray, FloatArray, float, float]:
    """For great-circle travel, what the index needs to check the exact rule itself."""
    if type(travel) is GreatCircleTravel:
        return (
            True,
            _radians(trips.origin),
            _radians(trips.destination),
            _radians(requests.pickup[rows]),
            _radians(requests.delivery[rows]),
            EARTH_RADIUS_KM,
            travel.detour_factor / travel.speed_kmh * 60.0,
        )
    none = np.zeros((0, 3))
    return False, none, none, none, none, EARTH_RADIUS_KM, 0.0


def _index_is_exact(travel: TravelModel) -> bool:
    """Whether the index applies the exact rule itself: its legs are the true minutes
    (planar), or it checks haversine legs after the lower bounds (great-circle)."""
    return travel.embedding_is_exact or type(travel) is GreatCircleTravel


def feasible_pairs(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    direct: DirectTimes | None = None,
    limits: Limits = NO_LIMITS,
    units: float | None = None,
) -> FeasiblePairs:
    """All feasible pairs, found through the candidate index and checked exactly.

    ``units`` (per minute): the detours are needed only as ``rint(detour x units)``, the
    solver's integer costs. Great-circle detours may then come from legs computed without
    trigonometry, within about 1e-9 minutes of the travel model's formula and rounding to
    the same integer at ``units`` (where the two could round apart, the formula's own
    value is taken). None: every detour is the formula's own value."""
    direct = direct if direct is not None else DirectTimes.of(trips, requests, travel)
    looked_up = _looked_up_pairs(trips, requests, travel, direct, limits)
    if looked_up is not None:
        return looked_up
    found = candidate_pairs(trips, requests, travel, direct, limits, units)
    if _index_is_exact(travel):
        # The index already applied the exact rule with the true travel times (same
        # formulas, same tolerance), and its detours are the rule's.
        return found
    return check_pairs(trips, requests, travel, direct, found.trip, found.request, limits)


def _looked_up_pairs(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    direct: DirectTimes,
    limits: Limits,
) -> FeasiblePairs | None:
    """Every pair checked exactly, with legs read from a network model's node-to-node
    table (None when the model keeps none, or the two blocks would be too large).

    On a network small enough for a full table, the grid index prunes little (every place
    is a few minutes from every other), and its survivors cost a table lookup each anyway:
    reading each trip's two rows of legs in request order checks all pairs faster than
    the index finds a third of them (Helsinki's extract, 5000 x 2000: 10 M pairs)."""
    if not getattr(travel, "has_full_table", False) or len(trips) == 0 or len(requests) == 0:
        return None
    snap, node_matrix = travel.snap, travel.node_matrix  # type: ignore[attr-defined]
    origins, origin_of = np.unique(snap(trips.origin), return_inverse=True)
    destinations, destination_of = np.unique(snap(trips.destination), return_inverse=True)
    if max(len(origins), len(destinations)) * len(requests) > _NODE_BLOCK:
        return None
    to_pickup = np.ascontiguousarray(node_matrix(origins, snap(requests.pickup)), np.float64)
    from_delivery = np.ascontiguousarray(
        np.asarray(node_matrix(snap(requests.delivery), destinations), np.float64).T
    )
    n_trips = len(trips)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    counts = np.zeros(n_trips, dtype=np.int64)
    args = (
        to_pickup,
        from_delivery,
        origin_of.astype(np.int64),
        destination_of.astype(np.int64),
        trips.earliest_departure,
        trips.latest_arrival,
        direct.trip,
        limits.allowed_detour(direct.trip),
        requests.earliest_pickup,
        requests.latest_delivery,
        direct.request,
        TIME_TOLERANCE,
    )
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    network_pairs(False, offsets, counts, *args, empty_i, empty_i, empty_f)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    found = FeasiblePairs.allocate(total, candidates=n_trips * len(requests))
    network_pairs(True, offsets, counts, *args, found.trip, found.request, found.detour)
    return found


def _great_circle_rule(
    trips: Trips,
    requests: Requests,
    travel: GreatCircleTravel,
    direct: DirectTimes,
    trip_index: IntArray,
    request_index: IntArray,
    allowed_detour: FloatArray,
) -> tuple[np.ndarray, FloatArray]:
    """The compiled exact rule with haversine legs on the given pairs: which pass, and
    their detours (the travel model's formula, point by point)."""
    return great_circle_rule(
        trip_index,
        request_index,
        _radians(trips.origin),
        _radians(trips.destination),
        _radians(requests.pickup),
        _radians(requests.delivery),
        travel.detour_factor / travel.speed_kmh * 60.0,
        trips.earliest_departure,
        trips.latest_arrival,
        direct.trip,
        allowed_detour,
        requests.earliest_pickup,
        requests.latest_delivery,
        direct.request,
        TIME_TOLERANCE,
        EARTH_RADIUS_KM,
    )


def great_circle_detours(
    trips: Trips,
    requests: Requests,
    travel: GreatCircleTravel,
    direct: DirectTimes,
    trip_index: IntArray,
    request_index: IntArray,
) -> FloatArray:
    """The detours of the given pairs (clipped at 0) by the travel model's formula, as
    :func:`feasible_pairs` gives them with no ``units`` (bit for bit: the same kernel)."""
    _, detour = _great_circle_rule(
        trips, requests, travel, direct, trip_index, request_index, np.full(len(trips), np.inf)
    )
    return detour


def check_pairs(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    direct: DirectTimes,
    trip_index: IntArray,
    request_index: IntArray,
    limits: Limits = NO_LIMITS,
) -> FeasiblePairs:
    """The exact rule (true travel times) on the given pairs; keeps the feasible ones."""
    if type(travel) is GreatCircleTravel and len(trip_index) > len(trips) + len(requests):
        # Compiled, one pass: NumPy's haversine over millions of pairs makes a dozen
        # temporaries of them (the same formula, point by point).
        ok, detour = _great_circle_rule(
            trips,
            requests,
            travel,
            direct,
            trip_index,
            request_index,
            limits.allowed_detour(direct.trip),
        )
        return FeasiblePairs(
            trip=trip_index[ok],
            request=request_index[ok],
            detour=detour[ok],
            candidates=len(trip_index),
        )
    ok, detour, *_ = _evaluate_with_true_legs(
        trips, requests, travel, direct, trip_index, request_index
    )
    if limits != NO_LIMITS:
        ok &= detour <= limits.allowed_detour(direct.trip)[trip_index] + TIME_TOLERANCE
    return FeasiblePairs(
        trip=trip_index[ok],
        request=request_index[ok],
        detour=np.maximum(detour[ok], 0.0),
        candidates=len(trip_index),
    )


def _radians(points: FloatArray) -> FloatArray:
    """Latitude and longitude in radians, and the cosine of the latitude, per point."""
    lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
    return np.ascontiguousarray(np.column_stack((lat, lon, np.cos(lat))))


def schedule(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    trip_index: IntArray,
    request_index: IntArray,
    direct: DirectTimes | None = None,
) -> Schedule:
    """The rule's times for the given (feasible) pairs, with the true travel times."""
    direct = direct if direct is not None else DirectTimes.of(trips, requests, travel)
    _, _, pickup, delivery, arrival = _evaluate_with_true_legs(
        trips, requests, travel, direct, trip_index, request_index
    )
    return Schedule(pickup, delivery, arrival)


def _evaluate_with_true_legs(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    direct: DirectTimes,
    trip_index: IntArray,
    request_index: IntArray,
) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`evaluate` with the travel model's own minutes for the two joining legs."""
    to_pickup = _legs(travel, trips.origin, requests.pickup, trip_index, request_index)
    from_delivery = _legs(travel, requests.delivery, trips.destination, request_index, trip_index)
    return evaluate(trips, requests, direct, trip_index, request_index, to_pickup, from_delivery)


#: Largest node-to-node block (entries) looked up at once for models on a network.
_NODE_BLOCK = 20_000_000


def _legs(
    travel: TravelModel, a: FloatArray, b: FloatArray, a_index: IntArray, b_index: IntArray
) -> FloatArray:
    """Minutes from ``a[a_index[i]]`` to ``b[b_index[i]]`` for each ``i``.

    A model on a network (one with ``snap`` and ``node_matrix``, as the road network) would
    snap both ends of every pair again, millions of nearest-node queries for a few thousand
    distinct points; here each point is snapped once and the pairs read one node-to-node
    block, when it is small enough."""
    snap = getattr(travel, "snap", None)
    node_matrix = getattr(travel, "node_matrix", None)
    if snap is not None and node_matrix is not None and len(a_index) > len(a) + len(b):
        a_nodes, a_of = np.unique(snap(a), return_inverse=True)
        b_nodes, b_of = np.unique(snap(b), return_inverse=True)
        if len(a_nodes) * len(b_nodes) <= _NODE_BLOCK:
            block = np.asarray(node_matrix(a_nodes, b_nodes), dtype=np.float64)
            return block[a_of[a_index], b_of[b_index]]
    return travel.pairwise(a[a_index], b[b_index])


def all_pairs(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    direct: DirectTimes | None = None,
    limits: Limits = NO_LIMITS,
) -> FeasiblePairs:
    """Every pair checked with the exact rule, no index: the reference for tests."""
    direct = direct if direct is not None else DirectTimes.of(trips, requests, travel)
    ti, ri = np.meshgrid(np.arange(len(trips)), np.arange(len(requests)), indexing="ij")
    return check_pairs(
        trips,
        requests,
        travel,
        direct,
        ti.ravel().astype(np.int64),
        ri.ravel().astype(np.int64),
        limits,
    )
