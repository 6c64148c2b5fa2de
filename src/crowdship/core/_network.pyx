"""The exact rule on every pair of a road network whose legs are looked up (Cython):
:func:`network_pairs`, ported from the numba kernel of ``_kernels.py`` so that
``crowdship match --road-network`` imports no numba (its import and first compiled call
cost about 0.4 s). The rule is ``_grid.pxd``'s ``_rule_with_legs``, shared with the
great-circle rule; every float is computed with the same operations in the same order as
numba's, so the pairs, their order and their detours are the same, bit for bit.
"""

from cython.parallel import prange

from libc.stdint cimport int64_t
from openmp cimport omp_get_max_threads

from crowdship.core._grid cimport _max, _rule_with_legs

import numpy as np

#: Days with fewer trips x requests than this are checked on the calling thread.
cdef Py_ssize_t SERIAL_WORK = 1 << 16


cdef extern from *:
    """
    #include <stdint.h>

    /* One trip's legs and numbers, and the requests' columns. */
    typedef struct {
        const double *legs_in;  /* minutes from the trip's origin to each pickup */
        const double *legs_out;  /* from each delivery to the trip's destination */
        double leave, arrive_by, direct, allowed;  /* arrive_by, allowed: + tolerance */
    } crowdship_net_trip;

    typedef struct {
        const double *earliest_pickup, *latest_delivery, *direct_request;
        double tolerance;
        int64_t n;
    } crowdship_net_rows;

    /* numba's max(detour, 0.0): 0.0 only where it compares greater (-0.0 stays). */
    static inline double crowdship_net_clip(double detour) {
        return 0.0 > detour ? 0.0 : detour;
    }

    /* The rule four requests at a time with AVX (picked at import where the CPU has it,
       as numba compiles for the machine it runs on): ``_rule_with_legs`` in four lanes,
       every operation IEEE, correctly rounded, in the same order (vmaxpd(a, b) is
       a > b ? a : b, so vmaxpd(opens, at) is Python's max(at, opens)): the same bits. */
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>

    static int crowdship_net_has_avx(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx");
    }

    static const int64_t crowdship_net_tail[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

    /* Lanes of requests r .. r + 3 (only the first ``rest`` read when not ``full``): the
       rule's truths as bits, and the detours. */
    __attribute__((target("avx"))) static inline int crowdship_net_rule4(
        const crowdship_net_trip *t, const crowdship_net_rows *q, int64_t r, int full,
        int64_t rest, __m256d *detour_out
    ) {
        __m256d leg_in, leg_out, opens, closes, own;
        int valid = 15;
        if (full) {
            leg_in = _mm256_loadu_pd(t->legs_in + r);
            leg_out = _mm256_loadu_pd(t->legs_out + r);
            opens = _mm256_loadu_pd(q->earliest_pickup + r);
            closes = _mm256_loadu_pd(q->latest_delivery + r);
            own = _mm256_loadu_pd(q->direct_request + r);
        } else {
            __m256i lanes = _mm256_loadu_si256((const __m256i *)(crowdship_net_tail + 4 - rest));
            leg_in = _mm256_maskload_pd(t->legs_in + r, lanes);
            leg_out = _mm256_maskload_pd(t->legs_out + r, lanes);
            opens = _mm256_maskload_pd(q->earliest_pickup + r, lanes);
            closes = _mm256_maskload_pd(q->latest_delivery + r, lanes);
            own = _mm256_maskload_pd(q->direct_request + r, lanes);
            valid = (1 << rest) - 1;
        }
        __m256d at_delivery = _mm256_add_pd(
            _mm256_max_pd(opens, _mm256_add_pd(_mm256_set1_pd(t->leave), leg_in)), own
        );
        __m256d detour = _mm256_sub_pd(
            _mm256_add_pd(_mm256_add_pd(leg_in, own), leg_out), _mm256_set1_pd(t->direct)
        );
        __m256d ok = _mm256_and_pd(
            _mm256_and_pd(
                _mm256_cmp_pd(
                    at_delivery, _mm256_add_pd(closes, _mm256_set1_pd(q->tolerance)),
                    _CMP_LE_OQ
                ),
                _mm256_cmp_pd(
                    _mm256_add_pd(at_delivery, leg_out), _mm256_set1_pd(t->arrive_by),
                    _CMP_LE_OQ
                )
            ),
            _mm256_cmp_pd(detour, _mm256_set1_pd(t->allowed), _CMP_LE_OQ)
        );
        *detour_out = detour;
        return _mm256_movemask_pd(ok) & valid;
    }

    __attribute__((target("avx"))) static int64_t crowdship_net_count_avx(
        const crowdship_net_trip *t, const crowdship_net_rows *q
    ) {
        int64_t found = 0, r = 0, n = q->n;
        __m256d detour;
        for (; r + 8 <= n; r += 8) {  /* two at once: the lanes' work overlaps */
            int bits = crowdship_net_rule4(t, q, r, 1, 4, &detour);
            bits |= crowdship_net_rule4(t, q, r + 4, 1, 4, &detour) << 4;
            found += __builtin_popcount(bits);
        }
        for (; r < n; r += 4) {
            found += __builtin_popcount(
                crowdship_net_rule4(t, q, r, r + 4 <= n, n - r < 4 ? n - r : 4, &detour)
            );
        }
        return found;
    }

    __attribute__((target("avx"))) static int64_t crowdship_net_write_avx(
        const crowdship_net_trip *t, const crowdship_net_rows *q, int64_t trip,
        int64_t write, int64_t end, int64_t *out_trip, int64_t *out_request,
        double *out_detour
    ) {
        int64_t r = 0, n = q->n;
        __m256d detour;
        double detours[4];
        for (; r < n && write < end; r += 4) {
            int bits = crowdship_net_rule4(
                t, q, r, r + 4 <= n, n - r < 4 ? n - r : 4, &detour
            );
            if (bits) {
                _mm256_storeu_pd(detours, detour);
                while (bits && write < end) {
                    int lane = __builtin_ctz(bits);
                    out_trip[write] = trip;
                    out_request[write] = r + lane;
                    out_detour[write] = crowdship_net_clip(detours[lane]);
                    write++;
                    bits &= bits - 1;
                }
            }
        }
        return write;
    }
    #else
    static int crowdship_net_has_avx(void) { return 0; }
    static int64_t crowdship_net_count_avx(
        const crowdship_net_trip *t, const crowdship_net_rows *q
    ) {
        return 0;
    }
    static int64_t crowdship_net_write_avx(
        const crowdship_net_trip *t, const crowdship_net_rows *q, int64_t trip,
        int64_t write, int64_t end, int64_t *out_trip, int64_t *out_request,
        double *out_detour
    ) {
        return write;
    }
    #endif
    """
    ctypedef struct crowdship_net_trip:
        const double* legs_in
        const double* legs_out
        double leave, arrive_by, direct, allowed

    ctypedef struct crowdship_net_rows:
        const double* earliest_pickup
        const double* latest_delivery
        const double* direct_request
        double tolerance
        int64_t n

    int crowdship_net_has_avx() noexcept nogil
    int64_t crowdship_net_count_avx(
        const crowdship_net_trip* t, const crowdship_net_rows* q
    ) noexcept nogil
    int64_t crowdship_net_write_avx(
        const crowdship_net_trip* t, const crowdship_net_rows* q, int64_t trip,
        int64_t write, int64_t end, int64_t* out_trip, int64_t* out_request,
        double* out_detour,
    ) noexcept nogil


#: Whether the rule's loops run four requests at a time (AVX); :func:`_use_avx` switches.
cdef bint USE_AVX = crowdship_net_has_avx()


def _use_avx(on):
    """Run the rule's loops with AVX (where the CPU has it) or one request at a time;
    returns the previous setting. Both give the same bits (the tests run both)."""
    global USE_AVX
    previous = bool(USE_AVX)
    USE_AVX = bool(on) and crowdship_net_has_avx()
    return previous


cdef int64_t _trip_pairs(
    const crowdship_net_rows* rows,
    const double* legs_in,  # (n_requests,) minutes from the trip's origin to each pickup
    const double* legs_out,  # (n_requests,) from each delivery to the trip's destination
    double leave,
    double arrive_by,  # latest arrival + tolerance
    double direct,
    double allowed,  # allowed detour + tolerance
    bint fill,
    bint avx,
    int64_t t,
    int64_t write,  # fill: the trip's first slot ...
    int64_t end,  # ... and the next trip's
    int64_t* out_trip,
    int64_t* out_request,
    double* out_detour,
) noexcept nogil:
    """Counting: how many requests the rule holds for (the truths added up, no branch per
    request, so the loop runs in vector lanes). Filling: writes the pairs it holds for
    (trip, request, clipped detour) from ``write`` on, in request order, never at or past
    ``end``. (A function per trip: its locals are each thread's own.)"""
    cdef int64_t found = 0, r
    cdef double detour
    cdef crowdship_net_trip trip
    if avx:
        trip.legs_in = legs_in
        trip.legs_out = legs_out
        trip.leave = leave
        trip.arrive_by = arrive_by
        trip.direct = direct
        trip.allowed = allowed
        if fill:
            return crowdship_net_write_avx(
                &trip, rows, t, write, end, out_trip, out_request, out_detour
            )
        return crowdship_net_count_avx(&trip, rows)
    if not fill:
        for r in range(rows.n):
            found += _rule_with_legs(
                leave,
                legs_in[r],
                legs_out[r],
                rows.earliest_pickup[r],
                rows.latest_delivery[r] + rows.tolerance,
                rows.direct_request[r],
                direct,
                arrive_by,
                allowed,
                &detour,
            )
        return found
    for r in range(rows.n):
        if write >= end:
            break
        if _rule_with_legs(
            leave,
            legs_in[r],
            legs_out[r],
            rows.earliest_pickup[r],
            rows.latest_delivery[r] + rows.tolerance,
            rows.direct_request[r],
            direct,
            arrive_by,
            allowed,
            &detour,
        ):
            out_trip[write] = t
            out_request[write] = r
            out_detour[write] = _max(detour, 0.0)
            write += 1
    return write


def _f1(values):
    return np.ascontiguousarray(values, dtype=np.float64)


def _i1(values):
    return np.ascontiguousarray(values, dtype=np.int64)


cdef _network_pairs(  # :func:`network_pairs` on typed (contiguous) arrays
    bint filling,
    const int64_t[::1] offsets_v,
    int64_t[::1] counts,
    const double[:, ::1] in_v,
    const double[:, ::1] out_v,
    const int64_t[::1] origin_v,
    const int64_t[::1] dest_v,
    const double[::1] leave_v,
    const double[::1] arrive_v,
    const double[::1] direct_v,
    const double[::1] allowed_v,
    const double[::1] opens_v,
    const double[::1] closes_v,
    const double[::1] own_v,
    double tolerance,
    int64_t[::1] out_trip,
    int64_t[::1] out_request,
    double[::1] out_detour,
):
    cdef Py_ssize_t n_trips = origin_v.shape[0], i
    cdef int64_t t
    cdef const int64_t[::1] order_v
    cdef const int64_t* order = NULL
    cdef int threads = 1
    cdef crowdship_net_rows rows
    cdef bint avx = USE_AVX
    cdef int64_t found
    cdef int64_t* trips_out = &out_trip[0] if out_trip.shape[0] > 0 else NULL
    cdef int64_t* requests_out = &out_request[0] if out_request.shape[0] > 0 else NULL
    cdef double* detours_out = &out_detour[0] if out_detour.shape[0] > 0 else NULL
    rows.n = opens_v.shape[0]
    if n_trips == 0:
        return
    if rows.n == 0:
        if not filling:
            counts[:] = 0
        return
    rows.earliest_pickup = &opens_v[0]
    rows.latest_delivery = &closes_v[0]
    rows.direct_request = &own_v[0]
    rows.tolerance = tolerance
    if n_trips * rows.n >= SERIAL_WORK:
        # Trips by origin, then destination: trips from one place read the same row of
        # legs in turn, from the cache (the rows, two per trip, are most of the reading).
        # Each trip's answer is its own, whatever the order.
        order_v = np.lexsort((dest_v, origin_v))
        order = &order_v[0]
        threads = omp_get_max_threads()
    # (Else a small day, on the calling thread alone: waking the others, OpenMP's passive
    # wait of ``crowdship/core/__init__.py``, would cost more than they save.)
    for i in prange(n_trips, nogil=True, schedule="static", num_threads=threads):
        t = order[i] if order != NULL else i
        found = _trip_pairs(
            &rows,
            &in_v[origin_v[t], 0],
            &out_v[dest_v[t], 0],
            leave_v[t],
            arrive_v[t] + tolerance,
            direct_v[t],
            allowed_v[t] + tolerance,
            filling,
            avx,
            t,
            offsets_v[t] if filling else 0,
            offsets_v[t + 1] if filling else 0,
            trips_out,
            requests_out,
            detours_out,
        )
        if not filling:
            counts[t] = found


def network_pairs(
    fill,  # False: count each trip's pairs; True: write them at ``offsets``
    offsets,  # (n_trips + 1,) int64: where each trip's pairs go (fill)
    int64_t[::1] counts,  # (n_trips,) int64: each trip's pairs (written when counting)
    to_pickup,  # (distinct origins, n_requests): minutes to each pickup
    from_delivery,  # (distinct destinations, n_requests): from each delivery
    origin_of,  # (n_trips,) each trip's row in ``to_pickup``
    destination_of,  # (n_trips,) its row in ``from_delivery``
    earliest_departure,
    latest_arrival,
    direct_trip,
    allowed_detour,
    earliest_pickup,
    latest_delivery,
    direct_request,
    double tolerance,
    int64_t[::1] out_trip,
    int64_t[::1] out_request,
    double[::1] out_detour,
):
    """The exact rule on every (trip, request) pair of a network model whose legs are
    looked up: each trip reads two contiguous rows (its origin's minutes to every pickup,
    every delivery's minutes to its destination), the requests in order. The arithmetic
    is :func:`crowdship.core.feasibility.evaluate`'s, term for term; detours clipped at 0."""
    try:  # the callers' arrays as they are (contiguous int64 and float64) ...
        _network_pairs(
            bool(fill), offsets, counts, to_pickup, from_delivery, origin_of, destination_of,
            earliest_departure, latest_arrival, direct_trip, allowed_detour, earliest_pickup,
            latest_delivery, direct_request, tolerance, out_trip, out_request, out_detour,
        )
    except (ValueError, TypeError):  # ... or copied to be
        _network_pairs(
            bool(fill), _i1(offsets), counts, _f1(to_pickup), _f1(from_delivery),
            _i1(origin_of), _i1(destination_of), _f1(earliest_departure), _f1(latest_arrival),
            _f1(direct_trip), _f1(allowed_detour), _f1(earliest_pickup), _f1(latest_delivery),
            _f1(direct_request), tolerance, out_trip, out_request, out_detour,
        )
