"""Compiled inner loops (numba) for the candidate search in any embedding
(:func:`grid_candidates`: road networks too large for a kept node-to-node table, and other
travel models); imported only when such a day is matched.

The planar, great-circle and looked-up road searches and the certified solve are Cython
(``_planar.pyx``, ``_sphere.pyx``, ``_network.pyx``, ``_paths.pyx``, ``_certify.pyx``), so
that a ``crowdship match`` process on those days imports no numba. Each kernel runs more than
once: to count each trip's candidates, then to write them at the offsets the counts give
(no locks, no resizing).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# OpenMP's wait policy is set by the package (``crowdship/core/__init__.py``).


def _load_numba_array_math() -> None:
    """Import numba's array math (its first compiled call, or cache load, imports it) without
    importing SciPy's linear algebra: the module checks for BLAS at import by importing
    ``scipy.linalg``, 0.1 to 0.2 s of every ``crowdship match`` process (SciPy's array-API
    layer imports ``numpy.f2py``). No kernel here uses BLAS, and numba's linear algebra
    still checks for it when such a function is compiled."""
    import numba.np.linalg as linalg

    real = linalg.ensure_blas
    linalg.ensure_blas = lambda: None
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        linalg.ensure_blas = real


_load_numba_array_math()


@njit(cache=True)
def _clamp(value: int, top: int) -> int:
    return min(max(value, 0), top)


@njit(cache=True)
def _ellipse_rows(
    column: int,
    n_columns: int,
    cx: float,
    cy: float,
    sxx: float,
    sxy: float,
    syy: float,
    cell_km: float,
) -> tuple[float, float]:
    """The lowest and highest y over a grid column (border columns reach to infinity) of
    the ellipse {c + Y : Y^T S^-1 Y <= 1}; an empty range (low > high) where they do not
    meet. For fixed X the ellipse spans Y = (sxy / sxx) X +- sqrt((syy - sxy^2 / sxx)
    (1 - X^2 / sxx)); its top is sqrt(syy), at X = sxy / sqrt(syy)."""
    x_lo = -np.inf if column == 0 else column * cell_km - cx
    x_hi = np.inf if column == n_columns - 1 else (column + 1) * cell_km - cx
    x_reach = np.sqrt(sxx)
    y_reach = np.sqrt(syy)
    x_lo, x_hi = max(x_lo, -x_reach), min(x_hi, x_reach)
    if x_lo > x_hi:
        return 1.0, 0.0
    if sxx <= 1e-18 * (sxx + syy) or syy <= 0:  # a segment along y (or a point)
        return cy - y_reach, cy + y_reach
    slope = sxy / sxx
    spread = max(syy - sxy * slope, 0.0)
    high, low = -np.inf, np.inf
    for x in (x_lo, x_hi):
        root = np.sqrt(spread * max(1.0 - x * x / sxx, 0.0))
        high = max(high, slope * x + root)
        low = min(low, slope * x - root)
    x_top = sxy / y_reach
    if x_lo <= x_top <= x_hi:
        high = y_reach
    if x_lo <= -x_top <= x_hi:
        low = -y_reach
    return cy + low, cy + high


#: Passes of :func:`grid_candidates`.
VISIT, MARK, FILL = 0, 1, 2


@njit(cache=True)
def _trip_shadow(
    t: int,
    e_origin: np.ndarray,
    e_dest: np.ndarray,
    centre: np.ndarray,
    radius: np.ndarray,
    dx: int,
    dy: int,
    grid_origin: np.ndarray,
    cell_km: float,
    nx: int,
    ny: int,
) -> tuple[int, int, np.ndarray, np.ndarray, float, float]:
    """The grid columns ``x0..x1`` under trip ``t``'s ellipse and, per column, its rows
    ``y_lo..y_hi`` (empty where it misses); with the ellipse's padded semi-major axis and
    the padding used.

    The ball's centre in grid coordinates; both ends of a pair lie in the ball, so only
    cells under it are scanned, for the pickup and for the delivery alike. The rows of
    cells under the ellipsoid's shadow on the grid's two dimensions, per column: a long
    trip's ellipse covers about two thirds of its enclosing ball's cells. The shadow of
    {|p - O| + |p - D| <= 2a} is the ellipse of matrix S = b^2 I + (a^2 - b^2) u u^T (u:
    the unit vector O -> D on those dimensions, b^2 = a^2 - |D - O|^2 / 4); a and b are
    padded so that rounding never loses a point."""
    k = e_origin.shape[1]
    r_t = radius[t]
    gx = centre[t, dx] - grid_origin[0]
    gy = centre[t, dy] - grid_origin[1]
    x0 = _clamp(int(np.floor((gx - r_t) / cell_km)), nx - 1)
    x1 = _clamp(int(np.floor((gx + r_t) / cell_km)), nx - 1)
    y_lo = np.ones(x1 - x0 + 1, dtype=np.int64)
    y_hi = np.zeros(x1 - x0 + 1, dtype=np.int64)
    s2 = 0.0
    for d in range(k):
        v = e_dest[t, d] - e_origin[t, d]
        s2 += v * v
    gap = np.sqrt(s2)
    pad = 1e-9 * (abs(gx) + abs(gy) + r_t) + 1e-12
    a = r_t * (1 + 1e-9) + pad
    b2 = max(a * a - s2 / 4, 0.0) + pad * a
    ux = (e_dest[t, dx] - e_origin[t, dx]) / gap if gap > 0 else 0.0
    uy = (e_dest[t, dy] - e_origin[t, dy]) / gap if gap > 0 else 0.0
    stretch = a * a - b2
    sxx = b2 + stretch * ux * ux
    syy = b2 + stretch * uy * uy
    sxy = stretch * ux * uy
    for c in range(x1 - x0 + 1):
        lo_y, hi_y = _ellipse_rows(x0 + c, nx, gx, gy, sxx, sxy, syy, cell_km)
        if lo_y <= hi_y:
            y_lo[c] = _clamp(int(np.floor((lo_y - pad) / cell_km)), ny - 1)
            y_hi[c] = _clamp(int(np.floor((hi_y + pad) / cell_km)), ny - 1)
    return x0, x1, y_lo, y_hi, a, pad


@njit(cache=True)
def _delivery_rows(
    qx: int,
    c: int,  # qx - x0
    y_lo: np.ndarray,
    y_hi: np.ndarray,
    lo: int,  # the pickup cell's rows
    cell_rows: np.ndarray,  # their delivery cells (ascending)
    after: tuple[bool, float, float, float, float, float],
    nx: int,
    ny: int,
    cell_km: float,
    pad: float,
    joint: bool,
    cell: int,  # the pickup cell
    row_table: np.ndarray,  # (cells, cells + 1): :func:`delivery_row_table`, or empty
) -> tuple[int, int]:
    """The pickup cell's rows whose delivery cell lies in grid column ``qx`` under the
    trip's shadow and, if ``joint``, under the ellipse :func:`_after_pickup_cell` gives (an
    empty range where none does): read off ``row_table`` when there is one, else found by
    binary search."""
    if y_lo[c] > y_hi[c]:
        return 0, 0
    q_lo, q_hi = y_lo[c], y_hi[c]
    if joint:
        lo_q, hi_q = _ellipse_rows(
            qx, nx, after[1], after[2], after[3], after[4], after[5], cell_km
        )
        if lo_q > hi_q:
            return 0, 0
        q_lo = max(q_lo, _clamp(int(np.floor((lo_q - pad) / cell_km)), ny - 1))
        q_hi = min(q_hi, _clamp(int(np.floor((hi_q + pad) / cell_km)), ny - 1))
        if q_lo > q_hi:
            return 0, 0
    if row_table.shape[0] > 0:
        return row_table[cell, qx * ny + q_lo], row_table[cell, qx * ny + q_hi + 1]
    first = lo + np.searchsorted(cell_rows, qx * ny + q_lo)
    last = lo + np.searchsorted(cell_rows, qx * ny + q_hi, side="right")
    return first, last


#: No ellipse after the pickup cell (:func:`grid_candidates` reads the trip's whole shadow:
#: with the sphere's fixed axes the grid's two dimensions saw distances shortened, and the
#: extra ellipse per cell cost more than it saved; :func:`sphere_pairs` now lays the grid
#: on the tangent plane and uses it).
NO_ELLIPSE = (True, 0.0, 0.0, 0.0, 0.0, 0.0)


@njit(cache=True, parallel=True, fastmath=False)
def grid_candidates(
    mode: int,  # VISIT: count rows read; MARK: check the rule, mark and count; FILL: write
    offsets: np.ndarray,  # (n_trips + 1,) int64: where each trip's output starts (FILL)
    counts: np.ndarray,  # (n_trips,) int64: rows read (VISIT, rounded up to 8) or found (MARK)
    scan: np.ndarray,  # (n_trips + 1,) int64: each trip's first bit in ``marks`` (MARK, FILL)
    marks: np.ndarray,  # uint8 bits, one per row a trip reads: set where the rule holds
    e_origin: np.ndarray,  # (n_trips, k) embedded trip origins
    e_dest: np.ndarray,
    centre: np.ndarray,  # (n_trips, k) ellipse centres
    radius: np.ndarray,  # (n_trips,) ball radius containing the ellipse, km
    earliest_departure: np.ndarray,
    latest_arrival: np.ndarray,
    direct_trip: np.ndarray,
    allowed_detour: np.ndarray,
    e_pickup: np.ndarray,  # (n_requests, k), rows sorted by (pickup cell, delivery cell)
    e_delivery: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    request_id: np.ndarray,  # original request index per sorted row
    cell_start: np.ndarray,  # (nx * ny + 1,) row where each pickup cell begins
    delivery_cell: np.ndarray,  # per sorted row: the delivery's cell (ascending in a pickup cell)
    grid_dims: np.ndarray,  # the two embedding dimensions the grid is laid over
    grid_origin: np.ndarray,  # (2,) lower corner
    cell_km: float,
    nx: int,
    ny: int,
    rate: float,  # minutes per embedded km (a lower bound, or exact for planar models)
    tolerance: float,
    sphere: bool,  # great-circle travel: the rule again with haversine legs (exact)
    ll_origin: np.ndarray,  # (n_trips, 3) radians and cos(latitude), when ``sphere``
    ll_dest: np.ndarray,
    ll_pickup: np.ndarray,  # (n_requests, 3), rows sorted as ``e_pickup``
    ll_delivery: np.ndarray,
    earth_radius_km: float,
    sphere_scale: float,  # the great-circle model's minutes per km
    out_trip: np.ndarray,
    out_request: np.ndarray,
    out_detour: np.ndarray,  # from the embedded legs, clipped at 0
) -> None:
    """Three passes over the same rows: VISIT counts the rows each trip reads (cell ranges
    only), MARK checks the rule on them and sets one bit per feasible row, FILL writes the
    marked rows' pairs and detours at the offsets MARK's counts give. FILL recomputes legs
    for the marked rows only (the same arithmetic, so the same detours), so the rule runs
    once per row instead of twice."""
    n_trips = e_origin.shape[0]
    k = e_origin.shape[1]
    dx, dy = grid_dims[0], grid_dims[1]
    no_table = np.zeros((0, 0), dtype=np.int64)
    for t in prange(n_trips):
        r_t = radius[t]
        if r_t < 0:
            continue
        r2 = r_t * r_t
        x0, x1, y_lo, y_hi, a, pad = _trip_shadow(
            t, e_origin, e_dest, centre, radius, dx, dy, grid_origin, cell_km, nx, ny
        )
        found = 0
        bit = scan[t]
        write = offsets[t] if mode == FILL else 0
        for px in range(x0, x1 + 1):
            for py in range(y_lo[px - x0], y_hi[px - x0] + 1):
                cell = px * ny + py
                lo, hi = cell_start[cell], cell_start[cell + 1]
                if lo == hi:
                    continue
                cell_rows = delivery_cell[lo:hi]
                for qx in range(x0, x1 + 1):
                    first, last = _delivery_rows(
                        qx, qx - x0, y_lo, y_hi, lo, cell_rows, NO_ELLIPSE, nx, ny, cell_km, pad,
                        False, cell, no_table,
                    )  # fmt: skip
                    if mode == VISIT:
                        found += last - first
                        continue
                    for row in range(first, last):
                        at = bit
                        bit += 1
                        if mode == FILL:
                            if not (marks[at >> 3] >> (at & 7)) & 1:
                                continue
                        else:
                            # Both ends of the request must lie in the ellipse's ball.
                            s = 0.0
                            for d in range(k):
                                v = e_pickup[row, d] - centre[t, d]
                                s += v * v
                            if s > r2:
                                continue
                            s = 0.0
                            for d in range(k):
                                v = e_delivery[row, d] - centre[t, d]
                                s += v * v
                            if s > r2:
                                continue
                        s = 0.0
                        for d in range(k):
                            v = e_origin[t, d] - e_pickup[row, d]
                            s += v * v
                        to_pickup = np.sqrt(s) * rate
                        s = 0.0
                        for d in range(k):
                            v = e_delivery[row, d] - e_dest[t, d]
                            s += v * v
                        from_delivery = np.sqrt(s) * rate
                        # Lower-bound legs first; on the sphere, the haversine legs after.
                        failed = False
                        for exact in range(2 if sphere else 1):
                            if exact == 1 or (sphere and mode == FILL):
                                to_pickup = haversine_minutes(
                                    ll_origin, t, ll_pickup, row, earth_radius_km, sphere_scale
                                )
                                from_delivery = haversine_minutes(
                                    ll_delivery, row, ll_dest, t, earth_radius_km, sphere_scale
                                )
                            detour = (
                                to_pickup + direct_request[row] + from_delivery - direct_trip[t]
                            )
                            if mode == FILL:
                                break
                            pickup = max(earliest_departure[t] + to_pickup, earliest_pickup[row])
                            delivery = pickup + direct_request[row]
                            if (
                                delivery > latest_delivery[row] + tolerance
                                or delivery + from_delivery > latest_arrival[t] + tolerance
                                or detour > allowed_detour[t] + tolerance
                            ):
                                failed = True
                                break
                        if mode == FILL:
                            out_trip[write] = t
                            out_request[write] = request_id[row]
                            out_detour[write] = max(detour, 0.0)
                            write += 1
                            continue
                        if failed:
                            continue
                        # Trips' bit ranges start on whole bytes: no two threads share one.
                        marks[at >> 3] |= np.uint8(1 << (at & 7))
                        found += 1
        if mode == VISIT:
            counts[t] = (found + 7) // 8 * 8
        elif mode == MARK:
            counts[t] = found


@njit(cache=True, inline="always")
def haversine_minutes(
    start: np.ndarray, i: int, end: np.ndarray, j: int, earth_radius_km: float, scale: float
) -> float:
    """Minutes from ``start[i]`` to ``end[j]`` (rows: latitude and longitude in radians,
    cos(latitude)) by the haversine formula, in ``GreatCircleTravel``'s order of operations."""
    s1 = np.sin((end[j, 0] - start[i, 0]) / 2)
    s2 = np.sin((end[j, 1] - start[i, 1]) / 2)
    h = min(max(s1 * s1 + start[i, 2] * end[j, 2] * (s2 * s2), 0.0), 1.0)
    return 2 * earth_radius_km * np.arcsin(np.sqrt(h)) * scale
