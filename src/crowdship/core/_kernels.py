"""Compiled inner loops (numba) for the candidate search.

Kept apart from ``feasibility.py`` so the rule reads as plain NumPy there and the loops
that make it fast live in one place. Each kernel runs twice: once to count each trip's
candidates, once to write them at the offsets the counts give (no locks, no resizing).
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
def _after_pickup_cell(
    box: np.ndarray,  # (4,) the pickups' bounding box in the cell: x low, x high, y low, y high
    ox: float,  # the trip's origin and destination on the grid, grid coordinates
    oy: float,
    tx: float,
    ty: float,
    a: float,  # the trip's padded semi-major axis
    pad: float,
) -> tuple[bool, float, float, float, float, float]:
    """Where the delivery of a request picked up in this cell can lie: pickup p in the box,
    delivery q, |O - p| + |p - q| + |q - D| <= 2a (every leg at least its shadow on the
    grid's dimensions); with |O - p| >= the box's distance e from O and |p - q| >= |q - m|
    - h (m the box's centre, h its half diagonal), q lies in the ellipse with foci m and D
    and length 2a - e + h. Returns whether any q can (False: skip the cell), its centre and
    its matrix (xx, xy, yy)."""
    bx0, bx1, by0, by1 = box[0], box[1], box[2], box[3]
    ex = max(bx0 - ox, 0.0, ox - bx1)
    ey = max(by0 - oy, 0.0, oy - by1)
    mx, my = (bx0 + bx1) / 2, (by0 + by1) / 2
    half = np.sqrt((bx1 - bx0) * (bx1 - bx0) + (by1 - by0) * (by1 - by0)) / 2
    big_a = (2 * a - np.sqrt(ex * ex + ey * ey) + half) / 2 + pad
    fx, fy = tx - mx, ty - my
    focal2 = fx * fx + fy * fy
    if big_a < 0 or 4 * big_a * big_a < focal2:
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    focal = np.sqrt(focal2)
    small2 = max(big_a * big_a - focal2 / 4, 0.0) + pad * big_a
    vx = fx / focal if focal > 0 else 0.0
    vy = fy / focal if focal > 0 else 0.0
    stretch = big_a * big_a - small2
    return (
        True,
        (mx + tx) / 2,
        (my + ty) / 2,
        small2 + stretch * vx * vx,
        stretch * vx * vy,
        small2 + stretch * vy * vy,
    )


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


#: Legs from chords by asin's series (:func:`_series_leg`) where x = chord / 2R <= 0.01
#: (x^2 <= this: legs up to 127 km); longer legs take the haversine formula.
SERIES_X2 = 1e-4
#: 2^-53, the unit roundoff of float64.
ROUNDOFF = 2.0**-53
#: How far a leg from the chord may lie from the haversine formula's value of the same
#: leg, both in float64 from the same radians: this many roundoffs of the earth's radius
#: (the embedding's coordinates, rotated, and their differences: each coordinate is off by
#: a few roundoffs of R, which the chord inherits) plus this many of the leg (the series,
#: and the haversine formula's own sines, square root and arcsine). Measured: at most 3.5
#: roundoffs of R, from the equator to the poles and from 1 mm to 120 km
#: (``tests/core/test_sphere_legs.py`` asserts a tenth of the bound); the bound keeps a
#: wide margin, since only pairs within it of a limit or a rounding step pay for the
#: haversine formula (about 1e-9 minutes: a few pairs a day).
LEG_ERROR_RADII = 256.0
LEG_ERROR_LEGS = 64.0


@njit(cache=True, inline="always")
def _series_leg(chord2: float, inv_4r2: float, scale: float) -> float:
    """Minutes of the great-circle arc whose squared chord is ``chord2`` (km^2): 2R asin(x)
    with x = chord / 2R, as chord x (1 + x^2/6 + 3x^4/40 + 5x^6/112), exact to float64
    rounding for x^2 <= ``SERIES_X2`` (the next term, 35x^9/1152, is below 3e-18 x)."""
    x2 = chord2 * inv_4r2
    series = 1.0 + x2 * (1.0 / 6.0 + x2 * (3.0 / 40.0 + x2 * (5.0 / 112.0)))
    return np.sqrt(chord2) * series * scale


@njit(cache=True, inline="always")
def _sphere_rule(
    row: int,
    o_x: float,  # the trip's embedded origin and destination (km, rotated)
    o_y: float,
    o_z: float,
    d_x: float,
    d_y: float,
    d_z: float,
    leave: float,
    arrive_by: float,  # latest arrival + tolerance
    direct: float,
    detour_by: float,  # allowed detour + tolerance
    pickup_x: np.ndarray,
    pickup_y: np.ndarray,
    pickup_z: np.ndarray,
    delivery_x: np.ndarray,
    delivery_y: np.ndarray,
    delivery_z: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    closes_by: float,  # tolerance
    rate: float,  # minutes per chord km, a lower bound
    earth_radius_km: float,
    scale: float,  # the great-circle model's minutes per km
    error_abs: float,  # a leg's error bound: error_abs + error_rel x leg (minutes)
    error_rel: float,
) -> tuple[np.int64, np.int64, float, float]:
    """The rule for one trip and one row with legs from the chords, no trigonometry: the
    leg (:func:`_series_leg`) lies within ``error_abs + error_rel x leg`` of the haversine
    formula's value. Returns ``low`` (the rule with legs at the bottom of that range, or
    the chords for legs past the series: 0 only where the pair is infeasible with the
    haversine legs), ``sure`` (the rule with legs at the top of it, both legs in the
    series' range: 1 only where the pair is feasible with the haversine legs; every step of
    the rule is monotone in the legs, in floating point too), the detour from the series'
    legs and a bound on its distance from the haversine legs' detour."""
    inv_4r2 = 1.0 / (4.0 * earth_radius_km * earth_radius_km)
    vx = o_x - pickup_x[row]
    vy = o_y - pickup_y[row]
    vz = o_z - pickup_z[row]
    in2 = vx * vx + vy * vy + vz * vz
    wx = delivery_x[row] - d_x
    wy = delivery_y[row] - d_y
    wz = delivery_z[row] - d_z
    out2 = wx * wx + wy * wy + wz * wz
    to_pickup = _series_leg(in2, inv_4r2, scale)
    from_delivery = _series_leg(out2, inv_4r2, scale)
    err_in = error_abs + error_rel * to_pickup
    err_out = error_abs + error_rel * from_delivery
    near_in = in2 * inv_4r2 <= SERIES_X2
    near_out = out2 * inv_4r2 <= SERIES_X2
    # Past the series' range the chords are the lower legs, and the pair is never sure.
    low_in = to_pickup - err_in if near_in else np.sqrt(in2) * rate
    low_out = from_delivery - err_out if near_out else np.sqrt(out2) * rate
    high_in = to_pickup + err_in
    high_out = from_delivery + err_out
    own = direct_request[row]
    opens = earliest_pickup[row]
    closes = latest_delivery[row] + closes_by
    at_pickup = leave + low_in
    delivery = (at_pickup if at_pickup > opens else opens) + own
    low = (
        np.int64(delivery <= closes)
        * np.int64(delivery + low_out <= arrive_by)
        * np.int64(low_in + own + low_out - direct <= detour_by)
    )
    at_pickup = leave + high_in
    delivery = (at_pickup if at_pickup > opens else opens) + own
    sure = (
        low
        * np.int64(near_in)
        * np.int64(near_out)
        * np.int64(delivery <= closes)
        * np.int64(delivery + high_out <= arrive_by)
        * np.int64(high_in + own + high_out - direct <= detour_by)
    )
    detour = to_pickup + own + from_delivery - direct
    # Each of the two detours' three additions rounds by at most a roundoff of its sum.
    spread = to_pickup + err_in + own + from_delivery + err_out + abs(direct)
    return low, sure, detour, err_in + err_out + 8 * ROUNDOFF * spread


@njit(cache=True, inline="always")
def _haversine_rule(
    t: int,
    row: int,
    leave: float,
    arrive_by: float,  # latest arrival + tolerance
    direct: float,
    detour_by: float,  # allowed detour + tolerance
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    tolerance: float,
    ll_origin: np.ndarray,
    ll_dest: np.ndarray,
    ll_pickup: np.ndarray,
    ll_delivery: np.ndarray,
    earth_radius_km: float,
    scale: float,
) -> tuple[bool, float]:
    """The rule with haversine legs (:func:`haversine_minutes`, the travel model's formula),
    in :func:`great_circle_rule`'s order of operations: whether it holds, and the detour."""
    to_pickup = haversine_minutes(ll_origin, t, ll_pickup, row, earth_radius_km, scale)
    from_delivery = haversine_minutes(ll_delivery, row, ll_dest, t, earth_radius_km, scale)
    detour = to_pickup + direct_request[row] + from_delivery - direct
    pickup = max(leave + to_pickup, earliest_pickup[row])
    delivery = pickup + direct_request[row]
    ok = (
        delivery <= latest_delivery[row] + tolerance
        and delivery + from_delivery <= arrive_by
        and detour <= detour_by
    )
    return ok, detour


@njit(cache=True, parallel=True, fastmath=False)
def sphere_pairs(
    fill: bool,  # False: count each trip's pairs; True: write its pairs at ``offsets``
    offsets: np.ndarray,  # (n_trips + 1,): where each trip's slots start (fill)
    counts: np.ndarray,  # (n_trips,): pairs per trip (counting; written when filling)
    candidates: np.ndarray,  # (n_trips,): rows the lower legs keep (counting)
    e_origin: np.ndarray,  # (n_trips, 3) embedded trip origins (points on the sphere, km)
    e_dest: np.ndarray,
    centre: np.ndarray,
    radius: np.ndarray,  # (n_trips,) ball radius containing the ellipsoid, km (< 0: none)
    earliest_departure: np.ndarray,
    latest_arrival: np.ndarray,
    direct_trip: np.ndarray,
    allowed_detour: np.ndarray,
    pickup_x: np.ndarray,  # per row (sorted by pickup cell, then delivery cell), km
    pickup_y: np.ndarray,
    pickup_z: np.ndarray,
    delivery_x: np.ndarray,
    delivery_y: np.ndarray,
    delivery_z: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    request_id: np.ndarray,
    cell_start: np.ndarray,
    cell_box: np.ndarray,  # (nx * ny, 4) the pickups' bounding box per cell, grid coordinates
    delivery_cell: np.ndarray,
    row_table: np.ndarray,  # :func:`delivery_row_table` (or empty)
    grid_dims: np.ndarray,
    grid_origin: np.ndarray,
    cell_km: float,
    nx: int,
    ny: int,
    rate: float,  # minutes per chord km (a lower bound)
    tolerance: float,
    ll_origin: np.ndarray,  # (n_trips, 3) radians and cos(latitude)
    ll_dest: np.ndarray,
    ll_pickup: np.ndarray,  # (n_requests, 3), rows sorted as ``pickup_x``
    ll_delivery: np.ndarray,
    earth_radius_km: float,
    sphere_scale: float,  # the great-circle model's minutes per km
    units: float,  # cost units per minute of the detours (0: every detour by haversine)
    out_trip: np.ndarray,
    out_request: np.ndarray,
    out_detour: np.ndarray,  # clipped at 0
) -> None:
    """Great-circle pairs in two passes over the rows under each trip's ellipse and after
    each pickup cell (as :func:`planar_pairs`; every leg at least its shadow on the grid's
    two dimensions, which the caller lays over the sphere's tangent plane there).

    Each row's rule runs with legs from the chords (:func:`_sphere_rule`, vector
    instructions, no trigonometry), which lie within a tiny bound of the haversine legs;
    only rows within that bound of one of the rule's limits (or with a leg past the series'
    range) get the haversine legs (:func:`_haversine_rule`), so the pairs are exactly those
    of the haversine rule. Counting counts them per trip; writing writes each at
    ``offsets``, with the detour from the chords' legs where ``rint(detour x units)`` is
    the same at both ends of its bound (so the same as the haversine legs' detour gives),
    and the haversine legs' detour otherwise (and always when ``units`` is 0)."""
    n_trips = e_origin.shape[0]
    dx, dy = grid_dims[0], grid_dims[1]
    error_abs = LEG_ERROR_RADII * ROUNDOFF * earth_radius_km * sphere_scale
    error_rel = LEG_ERROR_LEGS * ROUNDOFF
    longest = 0
    for cell in range(len(cell_start) - 1):
        longest = max(longest, cell_start[cell + 1] - cell_start[cell])
    for t in prange(n_trips):
        if radius[t] < 0:
            counts[t] = 0
            continue
        x0, x1, y_lo, y_hi, a, pad = _trip_shadow(
            t, e_origin, e_dest, centre, radius, dx, dy, grid_origin, cell_km, nx, ny
        )
        o_x, o_y, o_z = e_origin[t, 0], e_origin[t, 1], e_origin[t, 2]
        d_x, d_y, d_z = e_dest[t, 0], e_dest[t, 1], e_dest[t, 2]
        ox, oy = e_origin[t, dx] - grid_origin[0], e_origin[t, dy] - grid_origin[1]
        tx, ty = e_dest[t, dx] - grid_origin[0], e_dest[t, dy] - grid_origin[1]
        leave = earliest_departure[t]
        arrive_by = latest_arrival[t] + tolerance
        direct = direct_trip[t]
        detour_by = allowed_detour[t] + tolerance
        found = np.int64(0)
        near = np.int64(0)
        write = offsets[t] if fill else 0
        holds = np.empty(longest if fill else 0, dtype=np.int64)
        detours = np.empty(longest if fill else 0)
        errors = np.empty(longest if fill else 0)
        for px in range(x0, x1 + 1):
            for py in range(y_lo[px - x0], y_hi[px - x0] + 1):
                cell = px * ny + py
                lo, hi = cell_start[cell], cell_start[cell + 1]
                if lo == hi:
                    continue
                after = _after_pickup_cell(cell_box[cell], ox, oy, tx, ty, a, pad)
                if not after[0]:
                    continue
                cell_rows = delivery_cell[lo:hi]
                for qx in range(x0, x1 + 1):
                    first, last = _delivery_rows(
                        qx, qx - x0, y_lo, y_hi, lo, cell_rows, after, nx, ny, cell_km, pad, True,
                        cell, row_table,
                    )  # fmt: skip
                    if not fill:
                        kept = np.int64(0)
                        sure = np.int64(0)
                        for row in range(first, last):
                            low, high, _, _ = _sphere_rule(
                                row, o_x, o_y, o_z, d_x, d_y, d_z, leave, arrive_by, direct,
                                detour_by, pickup_x, pickup_y, pickup_z, delivery_x, delivery_y,
                                delivery_z, earliest_pickup, latest_delivery, direct_request,
                                tolerance, rate, earth_radius_km, sphere_scale, error_abs,
                                error_rel,
                            )  # fmt: skip
                            kept += low
                            sure += high
                        near += kept
                        found += sure
                        if kept == sure:
                            continue
                        for row in range(first, last):  # the few the bounds leave open
                            low, high, _, _ = _sphere_rule(
                                row, o_x, o_y, o_z, d_x, d_y, d_z, leave, arrive_by, direct,
                                detour_by, pickup_x, pickup_y, pickup_z, delivery_x, delivery_y,
                                delivery_z, earliest_pickup, latest_delivery, direct_request,
                                tolerance, rate, earth_radius_km, sphere_scale, error_abs,
                                error_rel,
                            )  # fmt: skip
                            if low == 0 or high == 1:
                                continue
                            ok, _ = _haversine_rule(
                                t, row, leave, arrive_by, direct, detour_by, earliest_pickup,
                                latest_delivery, direct_request, tolerance, ll_origin, ll_dest,
                                ll_pickup, ll_delivery, earth_radius_km, sphere_scale,
                            )  # fmt: skip
                            found += ok
                        continue
                    # The rule into buffers (vector instructions), then the writes.
                    for i in range(last - first):
                        low, high, detour, error = _sphere_rule(
                            first + i, o_x, o_y, o_z, d_x, d_y, d_z, leave, arrive_by, direct,
                            detour_by, pickup_x, pickup_y, pickup_z, delivery_x, delivery_y,
                            delivery_z, earliest_pickup, latest_delivery, direct_request,
                            tolerance, rate, earth_radius_km, sphere_scale, error_abs, error_rel,
                        )  # fmt: skip
                        holds[i] = low + high
                        detours[i] = detour
                        errors[i] = error
                    for i in range(last - first):
                        if holds[i] == 0:
                            continue
                        row = first + i
                        detour = detours[i]
                        exact = holds[i] == 1 or units == 0
                        if not exact:  # would the haversine legs' detour round elsewhere?
                            below = np.rint(max(detour - errors[i], 0.0) * units)
                            above = np.rint(max(detour + errors[i], 0.0) * units)
                            exact = below != above
                        if exact:
                            ok, detour = _haversine_rule(
                                t, row, leave, arrive_by, direct, detour_by, earliest_pickup,
                                latest_delivery, direct_request, tolerance, ll_origin, ll_dest,
                                ll_pickup, ll_delivery, earth_radius_km, sphere_scale,
                            )  # fmt: skip
                            if not ok:
                                continue
                        out_request[write] = request_id[row]
                        out_detour[write] = max(detour, 0.0)
                        write += 1
        if fill:
            out_trip[offsets[t] : write] = t
            counts[t] = write - offsets[t]
        else:
            counts[t] = found
            candidates[t] = near


@njit(cache=True, parallel=True)
def compact_pairs(
    offsets: np.ndarray,  # (n_trips + 1,) where each trip's slots start
    counts: np.ndarray,  # (n_trips,) how many of them it used
    starts: np.ndarray,  # (n_trips + 1,) where each trip's pairs go
    trip: np.ndarray,
    request: np.ndarray,
    detour: np.ndarray,
    out_trip: np.ndarray,
    out_request: np.ndarray,
    out_detour: np.ndarray,
) -> None:
    """Each trip's used slots, one trip after another with no gaps."""
    for t in prange(len(counts)):
        for i in range(counts[t]):
            out_trip[starts[t] + i] = trip[offsets[t] + i]
            out_request[starts[t] + i] = request[offsets[t] + i]
            out_detour[starts[t] + i] = detour[offsets[t] + i]


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


@njit(cache=True, inline="always")
def _rule_with_legs(
    leave: float,  # the trip's earliest departure
    leg_in: float,  # minutes from the trip's origin to the pickup
    leg_out: float,  # minutes from the delivery to the trip's destination
    earliest_pickup: float,
    deliver_by: float,  # latest delivery, tolerance included
    direct_request: float,
    direct_trip: float,
    arrive_by: float,  # the trip's latest arrival, tolerance included
    allowed: float,  # the detour allowed, tolerance included
) -> tuple[bool, float]:
    """The exact rule for one pair given its two joining legs, the arithmetic of
    :func:`crowdship.core.feasibility.evaluate` term for term: whether the pair is
    feasible, and its detour (not clipped). No branch, so loops over it can run in
    vector lanes."""
    at_delivery = max(leave + leg_in, earliest_pickup) + direct_request
    detour = leg_in + direct_request + leg_out - direct_trip
    ok = (at_delivery <= deliver_by) & (at_delivery + leg_out <= arrive_by) & (detour <= allowed)
    return ok, detour


@njit(cache=True, parallel=True)
def great_circle_rule(
    trip_index: np.ndarray,
    request_index: np.ndarray,
    origin: np.ndarray,  # (n_trips, 3): latitude and longitude in radians, cos(latitude)
    destination: np.ndarray,
    pickup: np.ndarray,  # (n_requests, 3)
    delivery: np.ndarray,
    minutes_per_km: float,
    earliest_departure: np.ndarray,
    latest_arrival: np.ndarray,
    direct_trip: np.ndarray,
    allowed_detour: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    tolerance: float,
    earth_radius_km: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact rule on candidate pairs with haversine legs (the formula of
    ``GreatCircleTravel``), in one compiled pass: which pairs are feasible, and their
    detours (clipped at 0)."""
    n = len(trip_index)
    ok = np.zeros(n, dtype=np.bool_)
    detour = np.empty(n)
    for i in prange(n):
        t, r = trip_index[i], request_index[i]
        to_pickup = haversine_minutes(origin, t, pickup, r, earth_radius_km, minutes_per_km)
        from_delivery = haversine_minutes(
            delivery, r, destination, t, earth_radius_km, minutes_per_km
        )
        ok[i], d = _rule_with_legs(
            earliest_departure[t],
            to_pickup,
            from_delivery,
            earliest_pickup[r],
            latest_delivery[r] + tolerance,
            direct_request[r],
            direct_trip[t],
            latest_arrival[t] + tolerance,
            allowed_detour[t] + tolerance,
        )
        detour[i] = max(d, 0.0)
    return ok, detour


@njit(cache=True, parallel=True, fastmath=False)
def network_pairs(
    fill: bool,  # False: count each trip's pairs; True: write them at ``offsets``
    offsets: np.ndarray,  # (n_trips + 1,) int64: where each trip's pairs go (fill)
    counts: np.ndarray,  # (n_trips,) int64: each trip's pairs (written when counting)
    to_pickup: np.ndarray,  # (distinct origins, n_requests): minutes to each pickup
    from_delivery: np.ndarray,  # (distinct destinations, n_requests): from each delivery
    origin_of: np.ndarray,  # (n_trips,) each trip's row in ``to_pickup``
    destination_of: np.ndarray,  # (n_trips,) its row in ``from_delivery``
    earliest_departure: np.ndarray,
    latest_arrival: np.ndarray,
    direct_trip: np.ndarray,
    allowed_detour: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    tolerance: float,
    out_trip: np.ndarray,
    out_request: np.ndarray,
    out_detour: np.ndarray,
) -> None:
    """The exact rule on every (trip, request) pair of a network model whose legs are
    looked up: each trip reads two contiguous rows (its origin's minutes to every pickup,
    every delivery's minutes to its destination), the requests in order. The arithmetic
    is :func:`crowdship.core.feasibility.evaluate`'s, term for term; detours clipped at 0."""
    n_requests = len(earliest_pickup)
    for t in prange(len(origin_of)):
        legs_in = to_pickup[origin_of[t]]
        legs_out = from_delivery[destination_of[t]]
        leave, arrive_by = earliest_departure[t], latest_arrival[t] + tolerance
        direct, allowed = direct_trip[t], allowed_detour[t] + tolerance
        # Counting has no branch per pair (``fill`` is the same for every pair, so the
        # compiler keeps one loop for each case), so it runs in vector lanes.
        k = offsets[t] if fill else 0
        for r in range(n_requests):
            ok, d = _rule_with_legs(
                leave,
                legs_in[r],
                legs_out[r],
                earliest_pickup[r],
                latest_delivery[r] + tolerance,
                direct_request[r],
                direct,
                arrive_by,
                allowed,
            )
            if not fill:
                k += ok
            elif ok:
                out_trip[k] = t
                out_request[k] = r
                out_detour[k] = max(d, 0.0)
                k += 1
        if not fill:
            counts[t] = k
