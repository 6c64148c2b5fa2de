"""The grid geometry of the candidate search (Cython), shared by the planar and the
great-circle searches (``_planar.pyx``, ``_sphere.pyx``), and the exact rule given a pair's
two joining legs (``_sphere.pyx``, ``_network.pyx``): ported from the numba helpers of
``_kernels.py``, every float computed with the same operations in the same order (``max``
and ``min`` as Python's, which numba follows: the later value when it compares
greater/less, else the earlier), so the cells read, and the rule's answers, are the same.

Inline functions with plain arguments (pointers and scalars), compiled into each module
that cimports them.
"""

from libc.math cimport INFINITY, floor, sqrt
from libc.stdint cimport INT64_MIN, int64_t


cdef inline int64_t _clamp(int64_t value, int64_t top) noexcept nogil:
    if value < 0:
        value = 0
    return top if top < value else value


cdef inline int64_t _floor_int(double x) noexcept nogil:
    """numba's ``int(np.floor(x))``: the x86 conversion, which gives the lowest int64 for
    NaN and for values out of range (infinite radii: clamped to the grid's first cell)."""
    cdef double f = floor(x)
    if f >= -9223372036854775808.0 and f < 9223372036854775808.0:
        return <int64_t>f
    return INT64_MIN


cdef inline double _max(double acc, double value) noexcept nogil:
    """Python's (and numba's) ``max(acc, value)``: ``value`` only if it compares greater."""
    return value if value > acc else acc


cdef inline double _min(double acc, double value) noexcept nogil:
    return value if value < acc else acc


cdef inline void _ellipse_rows(
    int64_t column,
    int64_t n_columns,
    double cx,
    double cy,
    double sxx,
    double sxy,
    double syy,
    double cell_km,
    double* low_y,
    double* high_y,
) noexcept nogil:
    """The lowest and highest y over a grid column (border columns reach to infinity) of
    the ellipse {c + Y : Y^T S^-1 Y <= 1}, into ``low_y``, ``high_y``; an empty range (low >
    high) where they do not meet. For fixed X the ellipse spans
    Y = (sxy / sxx) X +- sqrt((syy - sxy^2 / sxx) (1 - X^2 / sxx)); its top is sqrt(syy),
    at X = sxy / sqrt(syy)."""
    cdef double x_lo = -INFINITY if column == 0 else column * cell_km - cx
    cdef double x_hi = INFINITY if column == n_columns - 1 else (column + 1) * cell_km - cx
    cdef double x_reach = sqrt(sxx)
    cdef double y_reach = sqrt(syy)
    cdef double slope, spread, high, low, root, x, x_top
    x_lo = _max(x_lo, -x_reach)
    x_hi = _min(x_hi, x_reach)
    if x_lo > x_hi:
        low_y[0] = 1.0
        high_y[0] = 0.0
        return
    if sxx <= 1e-18 * (sxx + syy) or syy <= 0:  # a segment along y (or a point)
        low_y[0] = cy - y_reach
        high_y[0] = cy + y_reach
        return
    slope = sxy / sxx
    spread = _max(syy - sxy * slope, 0.0)
    high = -INFINITY
    low = INFINITY
    x = x_lo
    root = sqrt(spread * _max(1.0 - x * x / sxx, 0.0))
    high = _max(high, slope * x + root)
    low = _min(low, slope * x - root)
    x = x_hi
    root = sqrt(spread * _max(1.0 - x * x / sxx, 0.0))
    high = _max(high, slope * x + root)
    low = _min(low, slope * x - root)
    x_top = sxy / y_reach
    if x_lo <= x_top and x_top <= x_hi:
        high = y_reach
    if x_lo <= -x_top and -x_top <= x_hi:
        low = -y_reach
    low_y[0] = cy + low
    high_y[0] = cy + high


ctypedef struct Shadow:
    int64_t x0  # the grid columns under the trip's ellipse
    int64_t x1
    double a  # the ellipse's padded semi-major axis
    double pad


cdef inline void _trip_shadow(
    const double* origin,  # the trip's embedded origin (k coordinates)
    const double* dest,  # its destination
    const double* centre,  # its ellipse's centre
    int64_t k,
    double r_t,  # the radius of the ball containing the ellipse
    int64_t dx,  # the dimensions the grid's x and y are laid over
    int64_t dy,
    double gx0,  # the grid's lower corner
    double gy0,
    double cell_km,
    int64_t nx,
    int64_t ny,
    int64_t* y_lo,  # (x1 - x0 + 1,) written: each column's rows
    int64_t* y_hi,
    Shadow* shadow,
) noexcept nogil:
    """The grid columns ``x0..x1`` under a trip's ellipse and, per column, its rows
    ``y_lo..y_hi`` (empty where it misses); with the ellipse's padded semi-major axis and
    the padding used.

    The ball's centre in grid coordinates; both ends of a pair lie in the ball, so only
    cells under it are scanned, for the pickup and for the delivery alike. The rows of
    cells under the ellipsoid's shadow on the grid's two dimensions, per column: a long
    trip's ellipse covers about two thirds of its enclosing ball's cells. The shadow of
    {|p - O| + |p - D| <= 2a} is the ellipse of matrix S = b^2 I + (a^2 - b^2) u u^T (u:
    the unit vector O -> D on those dimensions, b^2 = a^2 - |D - O|^2 / 4); a and b are
    padded so that rounding never loses a point."""
    cdef double gx = centre[dx] - gx0
    cdef double gy = centre[dy] - gy0
    cdef int64_t x0 = _clamp(_floor_int((gx - r_t) / cell_km), nx - 1)
    cdef int64_t x1 = _clamp(_floor_int((gx + r_t) / cell_km), nx - 1)
    cdef double s2 = 0.0, v, gap, pad, a, b2, ux, uy, stretch, sxx, syy, sxy, lo_y, hi_y
    cdef int64_t d, c
    for d in range(k):
        v = dest[d] - origin[d]
        s2 += v * v
    gap = sqrt(s2)
    pad = 1e-9 * (abs(gx) + abs(gy) + r_t) + 1e-12
    a = r_t * (1 + 1e-9) + pad
    b2 = _max(a * a - s2 / 4, 0.0) + pad * a
    ux = (dest[dx] - origin[dx]) / gap if gap > 0 else 0.0
    uy = (dest[dy] - origin[dy]) / gap if gap > 0 else 0.0
    stretch = a * a - b2
    sxx = b2 + stretch * ux * ux
    syy = b2 + stretch * uy * uy
    sxy = stretch * ux * uy
    for c in range(x1 - x0 + 1):
        _ellipse_rows(x0 + c, nx, gx, gy, sxx, sxy, syy, cell_km, &lo_y, &hi_y)
        if lo_y <= hi_y:
            y_lo[c] = _clamp(_floor_int((lo_y - pad) / cell_km), ny - 1)
            y_hi[c] = _clamp(_floor_int((hi_y + pad) / cell_km), ny - 1)
        else:
            y_lo[c] = 1
            y_hi[c] = 0
    shadow.x0 = x0
    shadow.x1 = x1
    shadow.a = a
    shadow.pad = pad


ctypedef struct After:
    double cx  # the ellipse's centre
    double cy
    double sxx  # its matrix
    double sxy
    double syy


cdef inline bint _after_pickup_cell(
    const double* box,  # (4,) the pickups' bounding box in the cell: x low, x high, y low, y high
    double ox,  # the trip's origin and destination on the grid, grid coordinates
    double oy,
    double tx,
    double ty,
    double a,  # the trip's padded semi-major axis
    double pad,
    After* after,
) noexcept nogil:
    """Where the delivery of a request picked up in this cell can lie: pickup p in the box,
    delivery q, |O - p| + |p - q| + |q - D| <= 2a (every leg at least its shadow on the
    grid's dimensions); with |O - p| >= the box's distance e from O and |p - q| >= |q - m|
    - h (m the box's centre, h its half diagonal), q lies in the ellipse with foci m and D
    and length 2a - e + h. Returns whether any q can (False: skip the cell), and puts its
    centre and its matrix (xx, xy, yy) in ``after``."""
    cdef double bx0 = box[0], bx1 = box[1], by0 = box[2], by1 = box[3]
    cdef double ex = _max(_max(bx0 - ox, 0.0), ox - bx1)
    cdef double ey = _max(_max(by0 - oy, 0.0), oy - by1)
    cdef double mx = (bx0 + bx1) / 2, my = (by0 + by1) / 2
    cdef double half = sqrt((bx1 - bx0) * (bx1 - bx0) + (by1 - by0) * (by1 - by0)) / 2
    cdef double big_a = (2 * a - sqrt(ex * ex + ey * ey) + half) / 2 + pad
    cdef double fx = tx - mx, fy = ty - my
    cdef double focal2 = fx * fx + fy * fy
    cdef double focal, small2, vx, vy, stretch
    if big_a < 0 or 4 * big_a * big_a < focal2:
        return False
    focal = sqrt(focal2)
    small2 = _max(big_a * big_a - focal2 / 4, 0.0) + pad * big_a
    vx = fx / focal if focal > 0 else 0.0
    vy = fy / focal if focal > 0 else 0.0
    stretch = big_a * big_a - small2
    after.cx = (mx + tx) / 2
    after.cy = (my + ty) / 2
    after.sxx = small2 + stretch * vx * vx
    after.sxy = stretch * vx * vy
    after.syy = small2 + stretch * vy * vy
    return True


cdef inline int64_t _search_left(const int64_t* keys, int64_t n, int64_t value) noexcept nogil:
    """``np.searchsorted(keys[:n], value)``: the first position whose key is >= value."""
    cdef int64_t lo = 0, hi = n, mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if keys[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline int64_t _search_right(const int64_t* keys, int64_t n, int64_t value) noexcept nogil:
    """``np.searchsorted(keys[:n], value, side="right")``: the first key > value."""
    cdef int64_t lo = 0, hi = n, mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if keys[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline void _delivery_rows(
    int64_t qx,
    int64_t c,  # qx - x0
    const int64_t* y_lo,  # the trip's shadow (:func:`_trip_shadow`)
    const int64_t* y_hi,
    int64_t lo,  # the pickup cell's rows
    int64_t hi,
    const After* after,  # :func:`_after_pickup_cell`'s ellipse
    double pad,
    int64_t cell,  # the pickup cell
    int64_t nx,
    int64_t ny,
    double cell_km,
    const int64_t* delivery_cell,  # per row: the delivery's cell (ascending in a pickup cell)
    const int64_t* row_table,  # (cells, table_width): ``delivery_row_table``, or NULL
    int64_t table_width,
    int64_t* first,
    int64_t* last,
) noexcept nogil:
    """The pickup cell's rows whose delivery cell lies in grid column ``qx`` under the
    trip's shadow and under the ellipse :func:`_after_pickup_cell` gives (an empty range
    where none does): read off ``row_table`` when there is one, else found by binary
    search. (numba's ``_delivery_rows`` with ``joint`` true, as the planar and the
    great-circle searches call it.)"""
    cdef int64_t q_lo, q_hi
    cdef double lo_q, hi_q
    cdef const int64_t* table
    first[0] = 0
    last[0] = 0
    if y_lo[c] > y_hi[c]:
        return
    q_lo = y_lo[c]
    q_hi = y_hi[c]
    _ellipse_rows(
        qx, nx, after.cx, after.cy, after.sxx, after.sxy, after.syy, cell_km, &lo_q, &hi_q
    )
    if lo_q > hi_q:
        return
    q_lo = max(q_lo, _clamp(_floor_int((lo_q - pad) / cell_km), ny - 1))
    q_hi = min(q_hi, _clamp(_floor_int((hi_q + pad) / cell_km), ny - 1))
    if q_lo > q_hi:
        return
    if row_table != NULL:
        table = row_table + cell * table_width
        first[0] = table[qx * ny + q_lo]
        last[0] = table[qx * ny + q_hi + 1]
        return
    first[0] = lo + _search_left(delivery_cell + lo, hi - lo, qx * ny + q_lo)
    last[0] = lo + _search_right(delivery_cell + lo, hi - lo, qx * ny + q_hi)


cdef inline bint _rule_with_legs(
    double leave,  # the trip's earliest departure
    double leg_in,  # minutes from the trip's origin to the pickup
    double leg_out,  # minutes from the delivery to the trip's destination
    double earliest_pickup,
    double deliver_by,  # latest delivery, tolerance included
    double direct_request,
    double direct_trip,
    double arrive_by,  # the trip's latest arrival, tolerance included
    double allowed,  # the detour allowed, tolerance included
    double* detour,
) noexcept nogil:
    """The exact rule for one pair given its two joining legs, the arithmetic of
    :func:`crowdship.core.feasibility.evaluate` term for term: whether the pair is
    feasible, and its detour (not clipped, into ``detour``). No branch (the truths are
    combined with ``&``), so loops over it can run in vector lanes."""
    cdef double at_delivery = _max(leave + leg_in, earliest_pickup) + direct_request
    detour[0] = leg_in + direct_request + leg_out - direct_trip
    return (
        (at_delivery <= deliver_by)
        & (at_delivery + leg_out <= arrive_by)
        & (detour[0] <= allowed)
    )


cdef inline const double* _doubles(const double[::1] values) noexcept:
    """The first value of a contiguous array (NULL when it is empty)."""
    return &values[0] if values.shape[0] > 0 else NULL


cdef inline const int64_t* _ints(const int64_t[::1] values) noexcept:
    """The first value of a contiguous array (NULL when it is empty)."""
    return &values[0] if values.shape[0] > 0 else NULL
