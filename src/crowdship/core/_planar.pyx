"""The planar candidate search (Cython): :func:`planar_pairs`, ported from the numba kernels
of ``_kernels.py`` so that ``crowdship match`` on planar coordinates imports no numba (its
import and first compiled call cost about 0.4 s). Its grid geometry (the trip's shadow, the
ellipse after each pickup cell, the rows under a column) is ``_grid.pxd``'s, shared with
the great-circle search.

Every float is computed with the same operations in the same order as the numba kernels
(``max``/``min`` as Python's, which numba follows: the later value when it compares
greater/less, else the earlier), so the pairs, their order and their detours are the same,
bit for bit. The build keeps plain IEEE arithmetic (no contraction into fused multiply-adds).
"""

from cython.parallel import parallel, prange

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from crowdship.core._grid cimport (
    After,
    Shadow,
    _after_pickup_cell,
    _delivery_rows,
    _doubles,
    _ints,
    _trip_shadow,
)

import numpy as np


ctypedef struct Day:
    # trips
    const double* e_origin  # (n_trips, k) row-major
    const double* e_dest
    const double* centre
    int64_t k
    const double* radius
    const double* earliest_departure
    const double* latest_arrival
    const double* direct_trip
    const double* allowed_detour
    # rows (sorted by pickup cell, then delivery cell)
    const double* pickup_x
    const double* pickup_y
    const double* delivery_x
    const double* delivery_y
    const double* earliest_pickup
    const double* latest_delivery
    const double* direct_request
    const int64_t* request_id
    # the grid
    const int64_t* cell_start
    const double* cell_box  # (cells, 4)
    const int64_t* delivery_cell
    const int64_t* row_table  # (cells, cells + 1), or NULL
    int64_t table_width
    int64_t dx
    int64_t dy
    double gx0
    double gy0
    double cell_km
    int64_t nx
    int64_t ny
    double rate
    double tolerance
    # the writing pass
    const int64_t* offsets
    int64_t* out_trip
    int64_t* out_request
    double* out_detour


cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>

    /* The rule for one trip and a range of rows, with Euclidean legs: the trip's numbers,
       and the rows' columns (sorted by pickup cell, then delivery cell). */
    typedef struct {
        double o_x, o_y, d_x, d_y;  /* the trip's origin and destination */
        double leave;  /* its earliest departure */
        double arrive_by;  /* its latest arrival + tolerance */
        double direct;  /* its direct minutes */
        double detour_by;  /* its allowed detour + tolerance */
        double rate, tolerance;
    } crowdship_trip;

    typedef struct {
        const double *pickup_x, *pickup_y, *delivery_x, *delivery_y;
        const double *earliest_pickup, *latest_delivery, *direct_request;
        const int64_t *request_id;
    } crowdship_rows;

    /* Whether the rule holds for one row (1 or 0), and its detour (the travel model's
       arithmetic: sqrt(dx^2 + dy^2) x minutes per km), in numba's order of operations.
       The truths are combined with & (no branch). */
    static inline int64_t crowdship_rule_row(
        const crowdship_trip *t, const crowdship_rows *r, int64_t row, double *detour_out
    ) {
        double vx = t->o_x - r->pickup_x[row];
        double vy = t->o_y - r->pickup_y[row];
        double to_pickup = sqrt(vx * vx + vy * vy) * t->rate;
        double wx = r->delivery_x[row] - t->d_x;
        double wy = r->delivery_y[row] - t->d_y;
        double from_delivery = sqrt(wx * wx + wy * wy) * t->rate;
        double detour = to_pickup + r->direct_request[row] + from_delivery - t->direct;
        double at_pickup = t->leave + to_pickup;
        double opens = r->earliest_pickup[row];
        double pickup = at_pickup > opens ? at_pickup : opens;
        double delivery = pickup + r->direct_request[row];
        *detour_out = detour;
        return (int64_t)(delivery <= r->latest_delivery[row] + t->tolerance)
            & (int64_t)(delivery + from_delivery <= t->arrive_by)
            & (int64_t)(detour <= t->detour_by);
    }

    /* numba's max(detour, 0.0): 0.0 only where it compares greater (-0.0 stays). */
    static inline double crowdship_clip(double detour) {
        return 0.0 > detour ? 0.0 : detour;
    }

    /* How many of rows first .. first + n - 1 the rule holds for. */
    static int64_t crowdship_count_rows(
        const crowdship_trip *t, const crowdship_rows *r, int64_t first, int64_t n
    ) {
        int64_t found = 0;
        double detour;
        for (int64_t row = first; row < first + n; row++) {
            found += crowdship_rule_row(t, r, row, &detour);
        }
        return found;
    }

    /* Writes the rows the rule holds for (request, clipped detour) from out[write] on, in
       row order, never at or past ``end``; returns the next free slot. */
    static int64_t crowdship_write_rows(
        const crowdship_trip *t, const crowdship_rows *r, int64_t first, int64_t n,
        int64_t *out_request, double *out_detour, int64_t write, int64_t end
    ) {
        double detour;
        for (int64_t row = first; row < first + n && write < end; row++) {
            if (crowdship_rule_row(t, r, row, &detour)) {
                out_request[write] = r->request_id[row];
                out_detour[write] = crowdship_clip(detour);
                write++;
            }
        }
        return write;
    }

    /* The same, four rows at a time with AVX (picked at import where the CPU has it, as
       numba compiles for the machine it runs on). Written with intrinsics: the build's
       flags keep sqrt's errno, which stops gcc from vectorising the loops above, and AVX
       is not in x86-64's baseline. Every operation is IEEE, correctly rounded, in the
       same order (vmaxpd(a, b) is a > b ? a : b), so the bits are the scalar loops'. */
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>
    #define CROWDSHIP_AVX 1

    static int crowdship_has_avx(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx");
    }

    /* The lanes of the rule for rows row .. row + 3 (lanes past ``lanes`` not read). */
    __attribute__((target("avx"))) static inline int crowdship_rule4(
        const crowdship_trip *t, const crowdship_rows *r, int64_t row, __m256i lanes,
        int full, __m256d *detour_out
    ) {
        __m256d px, py, qx, qy, opens, closes, own;
        if (full) {
            px = _mm256_loadu_pd(r->pickup_x + row);
            py = _mm256_loadu_pd(r->pickup_y + row);
            qx = _mm256_loadu_pd(r->delivery_x + row);
            qy = _mm256_loadu_pd(r->delivery_y + row);
            opens = _mm256_loadu_pd(r->earliest_pickup + row);
            closes = _mm256_loadu_pd(r->latest_delivery + row);
            own = _mm256_loadu_pd(r->direct_request + row);
        } else {
            px = _mm256_maskload_pd(r->pickup_x + row, lanes);
            py = _mm256_maskload_pd(r->pickup_y + row, lanes);
            qx = _mm256_maskload_pd(r->delivery_x + row, lanes);
            qy = _mm256_maskload_pd(r->delivery_y + row, lanes);
            opens = _mm256_maskload_pd(r->earliest_pickup + row, lanes);
            closes = _mm256_maskload_pd(r->latest_delivery + row, lanes);
            own = _mm256_maskload_pd(r->direct_request + row, lanes);
        }
        __m256d rate = _mm256_set1_pd(t->rate);
        __m256d vx = _mm256_sub_pd(_mm256_set1_pd(t->o_x), px);
        __m256d vy = _mm256_sub_pd(_mm256_set1_pd(t->o_y), py);
        __m256d to_pickup = _mm256_mul_pd(
            _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(vx, vx), _mm256_mul_pd(vy, vy))), rate
        );
        __m256d wx = _mm256_sub_pd(qx, _mm256_set1_pd(t->d_x));
        __m256d wy = _mm256_sub_pd(qy, _mm256_set1_pd(t->d_y));
        __m256d from_delivery = _mm256_mul_pd(
            _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(wx, wx), _mm256_mul_pd(wy, wy))), rate
        );
        __m256d detour = _mm256_sub_pd(
            _mm256_add_pd(_mm256_add_pd(to_pickup, own), from_delivery),
            _mm256_set1_pd(t->direct)
        );
        __m256d at_pickup = _mm256_add_pd(_mm256_set1_pd(t->leave), to_pickup);
        __m256d pickup = _mm256_max_pd(at_pickup, opens);
        __m256d delivery = _mm256_add_pd(pickup, own);
        __m256d ok = _mm256_and_pd(
            _mm256_and_pd(
                _mm256_cmp_pd(
                    delivery, _mm256_add_pd(closes, _mm256_set1_pd(t->tolerance)), _CMP_LE_OQ
                ),
                _mm256_cmp_pd(
                    _mm256_add_pd(delivery, from_delivery), _mm256_set1_pd(t->arrive_by),
                    _CMP_LE_OQ
                )
            ),
            _mm256_cmp_pd(detour, _mm256_set1_pd(t->detour_by), _CMP_LE_OQ)
        );
        *detour_out = detour;
        return _mm256_movemask_pd(ok) & _mm256_movemask_pd(_mm256_castsi256_pd(lanes));
    }

    static const int64_t crowdship_tail[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

    __attribute__((target("avx"))) static inline __m256i crowdship_lanes(int64_t rest) {
        return _mm256_loadu_si256((const __m256i *)(crowdship_tail + 4 - rest));
    }

    __attribute__((target("avx"))) static int64_t crowdship_count_avx(
        const crowdship_trip *t, const crowdship_rows *r, int64_t first, int64_t n
    ) {
        int64_t found = 0, row = first, end = first + n;
        __m256i all = crowdship_lanes(4);
        __m256d detour;
        for (; row + 4 <= end; row += 4) {
            int bits = crowdship_rule4(t, r, row, all, 1, &detour);
            found += (0x4332322132212110LL >> (4 * bits)) & 15;  /* bits set of 4 */
        }
        if (row < end) {
            int bits = crowdship_rule4(t, r, row, crowdship_lanes(end - row), 0, &detour);
            found += (0x4332322132212110LL >> (4 * bits)) & 15;
        }
        return found;
    }

    __attribute__((target("avx"))) static int64_t crowdship_write_avx(
        const crowdship_trip *t, const crowdship_rows *r, int64_t first, int64_t n,
        int64_t *out_request, double *out_detour, int64_t write, int64_t end
    ) {
        int64_t row = first, last = first + n;
        __m256i all = crowdship_lanes(4);
        __m256d detour;
        double detours[4];
        while (row < last && write < end) {
            int full = row + 4 <= last;
            int bits = crowdship_rule4(
                t, r, row, full ? all : crowdship_lanes(last - row), full, &detour
            );
            if (bits) {
                _mm256_storeu_pd(detours, detour);
                while (bits && write < end) {
                    int lane = __builtin_ctz(bits);
                    out_request[write] = r->request_id[row + lane];
                    out_detour[write] = crowdship_clip(detours[lane]);
                    write++;
                    bits &= bits - 1;
                }
            }
            row += 4;
        }
        return write;
    }
    #else
    #define CROWDSHIP_AVX 0
    static int crowdship_has_avx(void) { return 0; }
    static int64_t crowdship_count_avx(
        const crowdship_trip *t, const crowdship_rows *r, int64_t first, int64_t n
    ) {
        return crowdship_count_rows(t, r, first, n);
    }
    static int64_t crowdship_write_avx(
        const crowdship_trip *t, const crowdship_rows *r, int64_t first, int64_t n,
        int64_t *out_request, double *out_detour, int64_t write, int64_t end
    ) {
        return crowdship_write_rows(t, r, first, n, out_request, out_detour, write, end);
    }
    #endif
    """
    ctypedef struct crowdship_trip:
        double o_x, o_y, d_x, d_y, leave, arrive_by, direct, detour_by, rate, tolerance

    ctypedef struct crowdship_rows:
        const double* pickup_x
        const double* pickup_y
        const double* delivery_x
        const double* delivery_y
        const double* earliest_pickup
        const double* latest_delivery
        const double* direct_request
        const int64_t* request_id

    int crowdship_has_avx() noexcept nogil
    int64_t crowdship_count_rows(
        const crowdship_trip* t, const crowdship_rows* r, int64_t first, int64_t n
    ) noexcept nogil
    int64_t crowdship_write_rows(
        const crowdship_trip* t, const crowdship_rows* r, int64_t first, int64_t n,
        int64_t* out_request, double* out_detour, int64_t write, int64_t end,
    ) noexcept nogil
    int64_t crowdship_count_avx(
        const crowdship_trip* t, const crowdship_rows* r, int64_t first, int64_t n
    ) noexcept nogil
    int64_t crowdship_write_avx(
        const crowdship_trip* t, const crowdship_rows* r, int64_t first, int64_t n,
        int64_t* out_request, double* out_detour, int64_t write, int64_t end,
    ) noexcept nogil


#: Whether the rule's loops run four rows at a time (AVX); :func:`_use_avx` switches.
cdef bint USE_AVX = crowdship_has_avx()


def _use_avx(on):
    """Run the rule's loops with AVX (where the CPU has it) or one row at a time; returns
    the previous setting. Both give the same bits (the tests run both)."""
    global USE_AVX
    previous = bool(USE_AVX)
    USE_AVX = bool(on) and crowdship_has_avx()
    return previous


cdef int64_t _trip_pairs(
    const Day* day, Py_ssize_t t, bint fill, bint avx, int64_t* y_lo, int64_t* y_hi
) noexcept nogil:
    """Trip ``t``'s pairs: counted (returned), or written from ``offsets[t]`` on (fill).
    ``y_lo``, ``y_hi``: scratch for the trip's shadow (nx each).

    The count adds the rule's truth over each range of rows (no branch per row, several
    rows at once); the writing pass checks a range's rows four at a time and writes those
    that hold, in row order, and stops once the trip's count is written (the rest hold
    for no row)."""
    cdef Shadow shadow
    cdef After after
    cdef crowdship_trip trip
    cdef crowdship_rows rows
    cdef int64_t x0, x1, px, py, qx, cell, lo, hi, first, last, i, n, found = 0
    cdef int64_t write = 0, end = 0
    cdef int64_t ny = day.ny, k = day.k
    cdef double a, pad, ox, oy, tx, ty
    _trip_shadow(
        day.e_origin + t * k, day.e_dest + t * k, day.centre + t * k, k, day.radius[t],
        day.dx, day.dy, day.gx0, day.gy0, day.cell_km, day.nx, ny, y_lo, y_hi, &shadow,
    )
    x0 = shadow.x0
    x1 = shadow.x1
    a = shadow.a
    pad = shadow.pad
    trip.o_x = day.e_origin[t * k]
    trip.o_y = day.e_origin[t * k + 1]
    trip.d_x = day.e_dest[t * k]
    trip.d_y = day.e_dest[t * k + 1]
    trip.leave = day.earliest_departure[t]
    trip.arrive_by = day.latest_arrival[t] + day.tolerance
    trip.direct = day.direct_trip[t]
    trip.detour_by = day.allowed_detour[t] + day.tolerance
    trip.rate = day.rate
    trip.tolerance = day.tolerance
    rows.pickup_x = day.pickup_x
    rows.pickup_y = day.pickup_y
    rows.delivery_x = day.delivery_x
    rows.delivery_y = day.delivery_y
    rows.earliest_pickup = day.earliest_pickup
    rows.latest_delivery = day.latest_delivery
    rows.direct_request = day.direct_request
    rows.request_id = day.request_id
    ox = day.e_origin[t * k + day.dx] - day.gx0
    oy = day.e_origin[t * k + day.dy] - day.gy0
    tx = day.e_dest[t * k + day.dx] - day.gx0
    ty = day.e_dest[t * k + day.dy] - day.gy0
    if fill:
        write = day.offsets[t]
        end = day.offsets[t + 1]
        for i in range(write, end):
            day.out_trip[i] = t
    for px in range(x0, x1 + 1):
        if fill and write >= end:
            break
        for py in range(y_lo[px - x0], y_hi[px - x0] + 1):
            if fill and write >= end:
                break
            cell = px * ny + py
            lo = day.cell_start[cell]
            hi = day.cell_start[cell + 1]
            if lo == hi:
                continue
            if not _after_pickup_cell(day.cell_box + 4 * cell, ox, oy, tx, ty, a, pad, &after):
                continue
            for qx in range(x0, x1 + 1):
                _delivery_rows(
                    qx, qx - x0, y_lo, y_hi, lo, hi, &after, pad, cell, day.nx, ny, day.cell_km,
                    day.delivery_cell, day.row_table, day.table_width, &first, &last,
                )
                n = last - first
                if n <= 0:
                    continue
                if fill:
                    if avx:
                        write = crowdship_write_avx(
                            &trip, &rows, first, n, day.out_request, day.out_detour, write, end
                        )
                    else:
                        write = crowdship_write_rows(
                            &trip, &rows, first, n, day.out_request, day.out_detour, write, end
                        )
                    if write >= end:
                        break
                elif avx:
                    found += crowdship_count_avx(&trip, &rows, first, n)
                else:
                    found += crowdship_count_rows(&trip, &rows, first, n)
    return found


def _f1(values):
    return np.ascontiguousarray(values, dtype=np.float64)


def _i1(values):
    return np.ascontiguousarray(values, dtype=np.int64)


def planar_pairs(
    fill,  # False: count each trip's pairs; True: write them at ``offsets``
    offsets,  # (n_trips + 1,) int64: where each trip's output starts (fill)
    counts,  # (n_trips,) int64: pairs found per trip (counting)
    e_origin,  # (n_trips, 2) trip origins, km
    e_dest,
    centre,  # (n_trips, 2) ellipse centres
    radius,  # (n_trips,) ball radius containing the ellipse, km (< 0: none)
    earliest_departure,
    latest_arrival,
    direct_trip,
    allowed_detour,
    pickup_x,  # per row (sorted by pickup cell, then delivery cell), km
    pickup_y,
    delivery_x,
    delivery_y,
    earliest_pickup,
    latest_delivery,
    direct_request,
    request_id,  # original request index per sorted row
    cell_start,  # (nx * ny + 1,) row where each pickup cell begins
    cell_box,  # (nx * ny, 4) the pickups' bounding box per cell, grid coordinates
    delivery_cell,  # per row: the delivery's cell (ascending in a pickup cell)
    row_table,  # :func:`delivery_row_table` (or empty)
    grid_dims,  # the dimensions the grid's x and y are laid over
    grid_origin,  # (2,) lower corner
    double cell_km,
    int64_t nx,
    int64_t ny,
    double rate,  # minutes per km (exact for planar travel; else a lower bound)
    double tolerance,
    int64_t[::1] out_trip,  # (pairs,) written at ``offsets``
    int64_t[::1] out_request,
    double[::1] out_detour,  # clipped at 0
):
    """The exact rule on planar points (both joining legs Euclidean, so exact), row by row
    over the rows under each trip's ellipse and after each pickup cell: once to count, once
    to write. The rule's loops have no branch per row (the count adds the rule's truth; the
    writing pass checks a range's rows four at a time, then writes the rows that hold), so
    they run several rows at once with vector instructions; that checks each row twice
    faster than a marked single pass.
    Legs, detours and the rule are computed as :func:`grid_candidates` and the travel model
    compute them, in the same order of operations: the same pairs, the same detours."""
    cdef bint filling = bool(fill)
    cdef const double[:, ::1] origin_v = np.ascontiguousarray(e_origin, dtype=np.float64)
    cdef const double[:, ::1] dest_v = np.ascontiguousarray(e_dest, dtype=np.float64)
    cdef const double[:, ::1] centre_v = np.ascontiguousarray(centre, dtype=np.float64)
    cdef const double[:, ::1] box_v = np.ascontiguousarray(cell_box, dtype=np.float64)
    cdef const int64_t[:, ::1] table_v = np.ascontiguousarray(row_table, dtype=np.int64)
    cdef const int64_t[::1] dims_v = _i1(grid_dims)
    cdef const double[::1] grid_v = _f1(grid_origin)
    cdef const int64_t[::1] offsets_v = _i1(offsets)
    cdef int64_t[::1] counts_v = counts
    # Kept alive (and contiguous) while the loops read them.
    cdef const double[::1] radius_v = _f1(radius)
    cdef const double[::1] leave_v = _f1(earliest_departure)
    cdef const double[::1] arrive_v = _f1(latest_arrival)
    cdef const double[::1] direct_v = _f1(direct_trip)
    cdef const double[::1] allowed_v = _f1(allowed_detour)
    cdef const double[::1] px_v = _f1(pickup_x)
    cdef const double[::1] py_v = _f1(pickup_y)
    cdef const double[::1] qx_v = _f1(delivery_x)
    cdef const double[::1] qy_v = _f1(delivery_y)
    cdef const double[::1] opens_v = _f1(earliest_pickup)
    cdef const double[::1] closes_v = _f1(latest_delivery)
    cdef const double[::1] own_v = _f1(direct_request)
    cdef const int64_t[::1] id_v = _i1(request_id)
    cdef const int64_t[::1] start_v = _i1(cell_start)
    cdef const int64_t[::1] dcell_v = _i1(delivery_cell)
    cdef Day day
    cdef Py_ssize_t n_trips = origin_v.shape[0], t
    cdef int64_t found
    cdef int64_t* y_lo
    cdef int64_t* y_hi
    cdef bint avx = USE_AVX
    cdef int failed = 0
    cdef int* failed_at = &failed  # written through from the threads (shared)
    if n_trips == 0:
        return
    day.k = origin_v.shape[1]
    day.e_origin = &origin_v[0, 0]
    day.e_dest = &dest_v[0, 0]
    day.centre = &centre_v[0, 0]
    day.radius = _doubles(radius_v)
    day.earliest_departure = _doubles(leave_v)
    day.latest_arrival = _doubles(arrive_v)
    day.direct_trip = _doubles(direct_v)
    day.allowed_detour = _doubles(allowed_v)
    day.pickup_x = _doubles(px_v)
    day.pickup_y = _doubles(py_v)
    day.delivery_x = _doubles(qx_v)
    day.delivery_y = _doubles(qy_v)
    day.earliest_pickup = _doubles(opens_v)
    day.latest_delivery = _doubles(closes_v)
    day.direct_request = _doubles(own_v)
    day.request_id = _ints(id_v)
    day.cell_start = _ints(start_v)
    day.cell_box = &box_v[0, 0] if box_v.shape[0] > 0 else NULL
    day.delivery_cell = _ints(dcell_v)
    day.row_table = &table_v[0, 0] if table_v.shape[0] > 0 else NULL
    day.table_width = table_v.shape[1]
    day.dx = dims_v[0]
    day.dy = dims_v[1]
    day.gx0 = grid_v[0]
    day.gy0 = grid_v[1]
    day.cell_km = cell_km
    day.nx = nx
    day.ny = ny
    day.rate = rate
    day.tolerance = tolerance
    day.offsets = _ints(offsets_v)
    day.out_trip = &out_trip[0] if out_trip.shape[0] > 0 else NULL
    day.out_request = &out_request[0] if out_request.shape[0] > 0 else NULL
    day.out_detour = &out_detour[0] if out_detour.shape[0] > 0 else NULL
    y_lo = y_hi = NULL
    with nogil, parallel():
        # Per thread: a trip's shadow (at most nx columns). Trips differ a lot in work:
        # handed out a few at a time.
        y_lo = <int64_t*>malloc((nx + 1) * sizeof(int64_t))
        y_hi = <int64_t*>malloc((nx + 1) * sizeof(int64_t))
        if y_lo == NULL or y_hi == NULL:
            failed_at[0] = 1
        else:
            for t in prange(n_trips, schedule="dynamic", chunksize=8):
                if day.radius[t] < 0:
                    continue
                found = _trip_pairs(&day, t, filling, avx, y_lo, y_hi)
                if not filling:
                    counts_v[t] = found
        free(y_lo)
        free(y_hi)
    if failed:
        raise MemoryError("planar_pairs: no memory for the per-thread buffers")
