"""The great-circle candidate search and exact rule (Cython): :func:`sphere_pairs`,
:func:`compact_pairs` and :func:`great_circle_rule`, ported from the numba kernels of
``_kernels.py`` so that ``crowdship match`` on lat/lon coordinates imports no numba (its
import and first compiled call cost about 0.4 s). The grid geometry is ``_grid.pxd``'s,
shared with the planar search.

Every float is computed with the same operations in the same order as the numba kernels
(``max``/``min`` as Python's, which numba follows), so the pairs, their order and their
detours are the same, bit for bit. The build keeps plain IEEE arithmetic (no contraction
into fused multiply-adds); sines, arcsines and square roots are the C library's, which
numba calls too (its scalar ``np.sin``/``np.arcsin`` are calls to the same ``sin``/``asin``;
without Intel's SVML, which numba uses only where it is installed, no loop of numba's
vectorises them).
"""

from cython.parallel import parallel, prange

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from openmp cimport omp_get_max_threads
from libc.string cimport memcpy

from crowdship.core._grid cimport (
    After,
    Shadow,
    _after_pickup_cell,
    _delivery_rows,
    _doubles,
    _ints,
    _max,
    _rule_with_legs,
    _trip_shadow,
)

import numpy as np

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
#: Days with fewer trips x rows than this are searched on the calling thread.
cdef Py_ssize_t SERIAL_WORK = 1 << 15


cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>

    /* The constants of the rule from the chords (``SERIES_X2``, ``ROUNDOFF``). */
    #define CROWDSHIP_SERIES_X2 1e-4
    #define CROWDSHIP_ROUNDOFF 0x1p-53

    /* One trip, as the rule reads it. */
    typedef struct {
        double o_x, o_y, o_z, d_x, d_y, d_z;  /* embedded origin and destination (km) */
        double leave;  /* earliest departure */
        double arrive_by;  /* latest arrival + tolerance */
        double direct;  /* direct minutes */
        double detour_by;  /* allowed detour + tolerance */
        double tolerance;
        double rate;  /* minutes per chord km (a lower bound) */
        double inv_4r2;  /* 1 / (4 R^2) */
        double earth_radius_km;
        double scale;  /* the great-circle model's minutes per km */
        double error_abs, error_rel;  /* a leg's error bound: abs + rel x leg */
        const double *ll_origin, *ll_dest;  /* radians and cos(latitude) */
    } crowdship_sphere_trip;

    /* The rows (sorted by pickup cell, then delivery cell). */
    typedef struct {
        const double *pickup_x, *pickup_y, *pickup_z;
        const double *delivery_x, *delivery_y, *delivery_z;
        const double *earliest_pickup, *latest_delivery, *direct_request;
        const int64_t *request_id;
        const double *ll_pickup, *ll_delivery;  /* (rows, 3) */
    } crowdship_sphere_rows;

    /* Minutes of the great-circle arc whose squared chord is ``chord2`` (km^2): 2R asin(x)
       with x = chord / 2R, as chord x (1 + x^2/6 + 3x^4/40 + 5x^6/112), exact to float64
       rounding for x^2 <= SERIES_X2 (the next term, 35x^9/1152, is below 3e-18 x). */
    static inline double crowdship_series_leg(double chord2, double inv_4r2, double scale) {
        double x2 = chord2 * inv_4r2;
        double series = 1.0 + x2 * (1.0 / 6.0 + x2 * (3.0 / 40.0 + x2 * (5.0 / 112.0)));
        return sqrt(chord2) * series * scale;
    }

    /* Minutes from ``start`` to ``end`` (latitude and longitude in radians, cos(latitude))
       by the haversine formula, in ``GreatCircleTravel``'s order of operations. */
    static inline double crowdship_haversine(
        const double *start, const double *end, double earth_radius_km, double scale
    ) {
        double s1 = sin((end[0] - start[0]) / 2);
        double s2 = sin((end[1] - start[1]) / 2);
        double h = s1 * s1 + start[2] * end[2] * (s2 * s2);
        h = 0.0 > h ? 0.0 : h;  /* max(h, 0.0) */
        h = 1.0 < h ? 1.0 : h;  /* min(h, 1.0) */
        return 2 * earth_radius_km * asin(sqrt(h)) * scale;
    }

    /* numba's max(detour, 0.0): 0.0 only where it compares greater (-0.0 stays). */
    static inline double crowdship_sphere_clip(double detour) {
        return 0.0 > detour ? 0.0 : detour;
    }

    /* The rule with haversine legs, in ``great_circle_rule``'s order of operations:
       whether it holds, and the detour (not clipped). */
    static inline int crowdship_haversine_rule(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t row,
        double *detour_out
    ) {
        double to_pickup = crowdship_haversine(
            t->ll_origin, r->ll_pickup + 3 * row, t->earth_radius_km, t->scale
        );
        double from_delivery = crowdship_haversine(
            r->ll_delivery + 3 * row, t->ll_dest, t->earth_radius_km, t->scale
        );
        double own = r->direct_request[row];
        double detour = to_pickup + own + from_delivery - t->direct;
        double at_pickup = t->leave + to_pickup;
        double opens = r->earliest_pickup[row];
        double delivery = (opens > at_pickup ? opens : at_pickup) + own;  /* max(at, opens) */
        *detour_out = detour;
        return delivery <= r->latest_delivery[row] + t->tolerance
            && delivery + from_delivery <= t->arrive_by
            && detour <= t->detour_by;
    }

    /* The rule for one row with legs from the chords, no trigonometry: the leg lies within
       ``error_abs + error_rel x leg`` of the haversine formula's value. Returns bit 0:
       ``low`` (the rule with legs at the bottom of that range, or the chords for legs past
       the series: 0 only where the pair is infeasible with the haversine legs), bit 1:
       ``sure`` (the rule with legs at the top of it, both legs in the series' range: 1 only
       where the pair is feasible with the haversine legs; every step of the rule is
       monotone in the legs, in floating point too); the detour from the series' legs and
       a bound on its distance from the haversine legs' detour. */
    static inline int crowdship_sphere_rule(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t row,
        double *detour_out, double *error_out
    ) {
        double vx = t->o_x - r->pickup_x[row];
        double vy = t->o_y - r->pickup_y[row];
        double vz = t->o_z - r->pickup_z[row];
        double in2 = vx * vx + vy * vy + vz * vz;
        double wx = r->delivery_x[row] - t->d_x;
        double wy = r->delivery_y[row] - t->d_y;
        double wz = r->delivery_z[row] - t->d_z;
        double out2 = wx * wx + wy * wy + wz * wz;
        double to_pickup = crowdship_series_leg(in2, t->inv_4r2, t->scale);
        double from_delivery = crowdship_series_leg(out2, t->inv_4r2, t->scale);
        double err_in = t->error_abs + t->error_rel * to_pickup;
        double err_out = t->error_abs + t->error_rel * from_delivery;
        int near_in = in2 * t->inv_4r2 <= CROWDSHIP_SERIES_X2;
        int near_out = out2 * t->inv_4r2 <= CROWDSHIP_SERIES_X2;
        /* Past the series' range the chords are the lower legs, and the pair is never
           sure. */
        double low_in = near_in ? to_pickup - err_in : sqrt(in2) * t->rate;
        double low_out = near_out ? from_delivery - err_out : sqrt(out2) * t->rate;
        double high_in = to_pickup + err_in;
        double high_out = from_delivery + err_out;
        double own = r->direct_request[row];
        double opens = r->earliest_pickup[row];
        double closes = r->latest_delivery[row] + t->tolerance;
        double at_pickup = t->leave + low_in;
        double delivery = (at_pickup > opens ? at_pickup : opens) + own;
        int low = (delivery <= closes)
            & (delivery + low_out <= t->arrive_by)
            & (low_in + own + low_out - t->direct <= t->detour_by);
        at_pickup = t->leave + high_in;
        delivery = (at_pickup > opens ? at_pickup : opens) + own;
        int sure = low & near_in & near_out
            & (delivery <= closes)
            & (delivery + high_out <= t->arrive_by)
            & (high_in + own + high_out - t->direct <= t->detour_by);
        /* Each of the two detours' three additions rounds by at most a roundoff of its
           sum. */
        double spread = to_pickup + err_in + own + from_delivery + err_out + fabs(t->direct);
        *detour_out = to_pickup + own + from_delivery - t->direct;
        *error_out = err_in + err_out + 8 * CROWDSHIP_ROUNDOFF * spread;
        return low | (sure << 1);
    }

    /* Over rows first .. first + n - 1: how many the lower legs keep (``kept``), and how
       many pairs hold (``found``): the sure ones, and those the haversine legs decide. */
    static void crowdship_sphere_count(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t first,
        int64_t n, int64_t *kept, int64_t *found
    ) {
        double detour, error;
        for (int64_t row = first; row < first + n; row++) {
            int bits = crowdship_sphere_rule(t, r, row, &detour, &error);
            *kept += bits & 1;
            *found += bits >> 1;
            if (bits == 1) {  /* the few the bounds leave open */
                *found += crowdship_haversine_rule(t, r, row, &detour);
            }
        }
    }

    /* One row the chords' rule keeps (``bits``: low, sure): whether the haversine legs
       decide it and give its detour, and writes it if it holds. Returns the next slot. */
    static inline int64_t crowdship_sphere_put(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t row,
        int exact, double detour, int64_t *out_request, double *out_detour, int64_t write
    ) {
        if (exact && !crowdship_haversine_rule(t, r, row, &detour)) {
            return write;
        }
        out_request[write] = r->request_id[row];
        out_detour[write] = crowdship_sphere_clip(detour);
        return write + 1;
    }

    /* Writes the pairs of rows first .. first + n - 1 (request, clipped detour) from
       out[write] on, in row order, never at or past ``end``; returns the next free slot.
       The detour is the chords' where rint(detour x units) is the same at both ends of
       its bound (so the same as the haversine legs' detour gives), the haversine legs'
       otherwise (and always when ``units`` is 0). */
    static int64_t crowdship_sphere_write(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t first,
        int64_t n, double units, int64_t *out_request, double *out_detour, int64_t write,
        int64_t end
    ) {
        double detour, error;
        for (int64_t row = first; row < first + n && write < end; row++) {
            int bits = crowdship_sphere_rule(t, r, row, &detour, &error);
            if (bits == 0) {
                continue;
            }
            int exact = bits == 1 || units == 0;
            if (!exact) {  /* would the haversine legs' detour round elsewhere? */
                double below = rint(crowdship_sphere_clip(detour - error) * units);
                double above = rint(crowdship_sphere_clip(detour + error) * units);
                exact = below != above;
            }
            write = crowdship_sphere_put(t, r, row, exact, detour, out_request, out_detour, write);
        }
        return write;
    }

    /* The same, four rows at a time with AVX (picked at import where the CPU has it, as
       numba compiles for the machine it runs on). Written with intrinsics: the build's
       flags keep sqrt's errno, which stops gcc from vectorising the loops above, and AVX
       is not in x86-64's baseline. Every operation is IEEE, correctly rounded, in the
       same order (vmaxpd(a, b) is a > b ? a : b; vroundpd in the current rounding mode is
       rint), so the bits are the scalar loops'. */
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>

    static int crowdship_sphere_has_avx(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx");
    }

    /* Lanes of rows row .. row + 3 (lanes past ``lanes`` not read): bits of ``low`` and
       of ``sure`` (as crowdship_sphere_rule), the detours and their error bounds. */
    __attribute__((target("avx"))) static inline void crowdship_sphere_rule4(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t row,
        __m256i lanes, int full, int *low_bits, int *sure_bits, __m256d *detour_out,
        __m256d *error_out
    ) {
        __m256d px, py, pz, qx, qy, qz, opens, closes, own;
        if (full) {
            px = _mm256_loadu_pd(r->pickup_x + row);
            py = _mm256_loadu_pd(r->pickup_y + row);
            pz = _mm256_loadu_pd(r->pickup_z + row);
            qx = _mm256_loadu_pd(r->delivery_x + row);
            qy = _mm256_loadu_pd(r->delivery_y + row);
            qz = _mm256_loadu_pd(r->delivery_z + row);
            opens = _mm256_loadu_pd(r->earliest_pickup + row);
            closes = _mm256_loadu_pd(r->latest_delivery + row);
            own = _mm256_loadu_pd(r->direct_request + row);
        } else {
            px = _mm256_maskload_pd(r->pickup_x + row, lanes);
            py = _mm256_maskload_pd(r->pickup_y + row, lanes);
            pz = _mm256_maskload_pd(r->pickup_z + row, lanes);
            qx = _mm256_maskload_pd(r->delivery_x + row, lanes);
            qy = _mm256_maskload_pd(r->delivery_y + row, lanes);
            qz = _mm256_maskload_pd(r->delivery_z + row, lanes);
            opens = _mm256_maskload_pd(r->earliest_pickup + row, lanes);
            closes = _mm256_maskload_pd(r->latest_delivery + row, lanes);
            own = _mm256_maskload_pd(r->direct_request + row, lanes);
        }
        __m256d inv_4r2 = _mm256_set1_pd(t->inv_4r2);
        __m256d scale = _mm256_set1_pd(t->scale);
        __m256d rate = _mm256_set1_pd(t->rate);
        __m256d series_x2 = _mm256_set1_pd(CROWDSHIP_SERIES_X2);
        __m256d c6 = _mm256_set1_pd(1.0 / 6.0);
        __m256d c40 = _mm256_set1_pd(3.0 / 40.0);
        __m256d c112 = _mm256_set1_pd(5.0 / 112.0);
        __m256d one = _mm256_set1_pd(1.0);
        __m256d error_abs = _mm256_set1_pd(t->error_abs);
        __m256d error_rel = _mm256_set1_pd(t->error_rel);
        __m256d vx = _mm256_sub_pd(_mm256_set1_pd(t->o_x), px);
        __m256d vy = _mm256_sub_pd(_mm256_set1_pd(t->o_y), py);
        __m256d vz = _mm256_sub_pd(_mm256_set1_pd(t->o_z), pz);
        __m256d in2 = _mm256_add_pd(
            _mm256_add_pd(_mm256_mul_pd(vx, vx), _mm256_mul_pd(vy, vy)), _mm256_mul_pd(vz, vz)
        );
        __m256d wx = _mm256_sub_pd(qx, _mm256_set1_pd(t->d_x));
        __m256d wy = _mm256_sub_pd(qy, _mm256_set1_pd(t->d_y));
        __m256d wz = _mm256_sub_pd(qz, _mm256_set1_pd(t->d_z));
        __m256d out2 = _mm256_add_pd(
            _mm256_add_pd(_mm256_mul_pd(wx, wx), _mm256_mul_pd(wy, wy)), _mm256_mul_pd(wz, wz)
        );
        /* The series' legs: sqrt(chord2) x (1 + x2 (1/6 + x2 (3/40 + x2 5/112))) x scale. */
        __m256d x2_in = _mm256_mul_pd(in2, inv_4r2);
        __m256d x2_out = _mm256_mul_pd(out2, inv_4r2);
        __m256d chord_in = _mm256_sqrt_pd(in2);
        __m256d chord_out = _mm256_sqrt_pd(out2);
        __m256d series_in = _mm256_add_pd(one, _mm256_mul_pd(x2_in, _mm256_add_pd(c6,
            _mm256_mul_pd(x2_in, _mm256_add_pd(c40, _mm256_mul_pd(x2_in, c112))))));
        __m256d series_out = _mm256_add_pd(one, _mm256_mul_pd(x2_out, _mm256_add_pd(c6,
            _mm256_mul_pd(x2_out, _mm256_add_pd(c40, _mm256_mul_pd(x2_out, c112))))));
        __m256d to_pickup = _mm256_mul_pd(_mm256_mul_pd(chord_in, series_in), scale);
        __m256d from_delivery = _mm256_mul_pd(_mm256_mul_pd(chord_out, series_out), scale);
        __m256d err_in = _mm256_add_pd(error_abs, _mm256_mul_pd(error_rel, to_pickup));
        __m256d err_out = _mm256_add_pd(error_abs, _mm256_mul_pd(error_rel, from_delivery));
        __m256d near_in = _mm256_cmp_pd(x2_in, series_x2, _CMP_LE_OQ);
        __m256d near_out = _mm256_cmp_pd(x2_out, series_x2, _CMP_LE_OQ);
        __m256d low_in = _mm256_blendv_pd(
            _mm256_mul_pd(chord_in, rate), _mm256_sub_pd(to_pickup, err_in), near_in
        );
        __m256d low_out = _mm256_blendv_pd(
            _mm256_mul_pd(chord_out, rate), _mm256_sub_pd(from_delivery, err_out), near_out
        );
        __m256d high_in = _mm256_add_pd(to_pickup, err_in);
        __m256d high_out = _mm256_add_pd(from_delivery, err_out);
        __m256d leave = _mm256_set1_pd(t->leave);
        __m256d arrive_by = _mm256_set1_pd(t->arrive_by);
        __m256d direct = _mm256_set1_pd(t->direct);
        __m256d detour_by = _mm256_set1_pd(t->detour_by);
        closes = _mm256_add_pd(closes, _mm256_set1_pd(t->tolerance));
        __m256d delivery = _mm256_add_pd(
            _mm256_max_pd(_mm256_add_pd(leave, low_in), opens), own
        );
        __m256d low = _mm256_and_pd(
            _mm256_and_pd(
                _mm256_cmp_pd(delivery, closes, _CMP_LE_OQ),
                _mm256_cmp_pd(_mm256_add_pd(delivery, low_out), arrive_by, _CMP_LE_OQ)
            ),
            _mm256_cmp_pd(
                _mm256_sub_pd(_mm256_add_pd(_mm256_add_pd(low_in, own), low_out), direct),
                detour_by, _CMP_LE_OQ
            )
        );
        delivery = _mm256_add_pd(_mm256_max_pd(_mm256_add_pd(leave, high_in), opens), own);
        __m256d sure = _mm256_and_pd(
            _mm256_and_pd(_mm256_and_pd(low, near_in), near_out),
            _mm256_and_pd(
                _mm256_and_pd(
                    _mm256_cmp_pd(delivery, closes, _CMP_LE_OQ),
                    _mm256_cmp_pd(_mm256_add_pd(delivery, high_out), arrive_by, _CMP_LE_OQ)
                ),
                _mm256_cmp_pd(
                    _mm256_sub_pd(_mm256_add_pd(_mm256_add_pd(high_in, own), high_out), direct),
                    detour_by, _CMP_LE_OQ
                )
            )
        );
        __m256d spread = _mm256_add_pd(
            _mm256_add_pd(
                _mm256_add_pd(
                    _mm256_add_pd(_mm256_add_pd(to_pickup, err_in), own), from_delivery
                ),
                err_out
            ),
            _mm256_set1_pd(fabs(t->direct))
        );
        *detour_out = _mm256_sub_pd(
            _mm256_add_pd(_mm256_add_pd(to_pickup, own), from_delivery), direct
        );
        *error_out = _mm256_add_pd(
            _mm256_add_pd(err_in, err_out),
            _mm256_mul_pd(_mm256_set1_pd(8 * CROWDSHIP_ROUNDOFF), spread)
        );
        int valid = _mm256_movemask_pd(_mm256_castsi256_pd(lanes));
        *low_bits = _mm256_movemask_pd(low) & valid;
        *sure_bits = _mm256_movemask_pd(sure) & valid;
    }

    static const int64_t crowdship_sphere_tail[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

    __attribute__((target("avx"))) static inline __m256i crowdship_sphere_lanes(int64_t rest) {
        return _mm256_loadu_si256((const __m256i *)(crowdship_sphere_tail + 4 - rest));
    }

    __attribute__((target("avx"))) static void crowdship_sphere_count_avx(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t first,
        int64_t n, int64_t *kept, int64_t *found
    ) {
        int64_t row = first, end = first + n;
        __m256i all = crowdship_sphere_lanes(4);
        __m256d detour, error;
        double haversine_detour;
        int low, sure, open;
        while (row < end) {
            int full = row + 4 <= end;
            crowdship_sphere_rule4(
                t, r, row, full ? all : crowdship_sphere_lanes(end - row), full, &low, &sure,
                &detour, &error
            );
            *kept += __builtin_popcount(low);
            *found += __builtin_popcount(sure);
            open = low & ~sure;  /* the few the bounds leave open */
            while (open) {
                int lane = __builtin_ctz(open);
                *found += crowdship_haversine_rule(t, r, row + lane, &haversine_detour);
                open &= open - 1;
            }
            row += 4;
        }
    }

    __attribute__((target("avx"))) static int64_t crowdship_sphere_write_avx(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t first,
        int64_t n, double units, int64_t *out_request, double *out_detour, int64_t write,
        int64_t end
    ) {
        int64_t row = first, last = first + n;
        __m256i all = crowdship_sphere_lanes(4);
        __m256d detour, error, zero = _mm256_setzero_pd(), per = _mm256_set1_pd(units);
        double detours[4];
        int low, sure, exact;
        while (row < last && write < end) {
            int full = row + 4 <= last;
            crowdship_sphere_rule4(
                t, r, row, full ? all : crowdship_sphere_lanes(last - row), full, &low, &sure,
                &detour, &error
            );
            if (low) {
                if (units == 0) {
                    exact = 15;
                } else {  /* would the haversine legs' detour round elsewhere? */
                    __m256d below = _mm256_round_pd(
                        _mm256_mul_pd(_mm256_max_pd(zero, _mm256_sub_pd(detour, error)), per),
                        _MM_FROUND_CUR_DIRECTION
                    );
                    __m256d above = _mm256_round_pd(
                        _mm256_mul_pd(_mm256_max_pd(zero, _mm256_add_pd(detour, error)), per),
                        _MM_FROUND_CUR_DIRECTION
                    );
                    exact = ~sure | _mm256_movemask_pd(_mm256_cmp_pd(below, above, _CMP_NEQ_UQ));
                }
                _mm256_storeu_pd(detours, detour);
                while (low && write < end) {
                    int lane = __builtin_ctz(low);
                    write = crowdship_sphere_put(
                        t, r, row + lane, (exact >> lane) & 1, detours[lane], out_request,
                        out_detour, write
                    );
                    low &= low - 1;
                }
            }
            row += 4;
        }
        return write;
    }
    #else
    static int crowdship_sphere_has_avx(void) { return 0; }
    static void crowdship_sphere_count_avx(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t first,
        int64_t n, int64_t *kept, int64_t *found
    ) {
        crowdship_sphere_count(t, r, first, n, kept, found);
    }
    static int64_t crowdship_sphere_write_avx(
        const crowdship_sphere_trip *t, const crowdship_sphere_rows *r, int64_t first,
        int64_t n, double units, int64_t *out_request, double *out_detour, int64_t write,
        int64_t end
    ) {
        return crowdship_sphere_write(t, r, first, n, units, out_request, out_detour, write, end);
    }
    #endif
    """
    ctypedef struct crowdship_sphere_trip:
        double o_x, o_y, o_z, d_x, d_y, d_z
        double leave, arrive_by, direct, detour_by, tolerance, rate, inv_4r2
        double earth_radius_km, scale, error_abs, error_rel
        const double* ll_origin
        const double* ll_dest

    ctypedef struct crowdship_sphere_rows:
        const double* pickup_x
        const double* pickup_y
        const double* pickup_z
        const double* delivery_x
        const double* delivery_y
        const double* delivery_z
        const double* earliest_pickup
        const double* latest_delivery
        const double* direct_request
        const int64_t* request_id
        const double* ll_pickup
        const double* ll_delivery

    int crowdship_sphere_has_avx() noexcept nogil
    double crowdship_haversine(
        const double* start, const double* end, double earth_radius_km, double scale
    ) noexcept nogil
    void crowdship_sphere_count(
        const crowdship_sphere_trip* t, const crowdship_sphere_rows* r, int64_t first,
        int64_t n, int64_t* kept, int64_t* found,
    ) noexcept nogil
    int64_t crowdship_sphere_write(
        const crowdship_sphere_trip* t, const crowdship_sphere_rows* r, int64_t first,
        int64_t n, double units, int64_t* out_request, double* out_detour, int64_t write,
        int64_t end,
    ) noexcept nogil
    void crowdship_sphere_count_avx(
        const crowdship_sphere_trip* t, const crowdship_sphere_rows* r, int64_t first,
        int64_t n, int64_t* kept, int64_t* found,
    ) noexcept nogil
    int64_t crowdship_sphere_write_avx(
        const crowdship_sphere_trip* t, const crowdship_sphere_rows* r, int64_t first,
        int64_t n, double units, int64_t* out_request, double* out_detour, int64_t write,
        int64_t end,
    ) noexcept nogil


#: Whether the rule's loops run four rows at a time (AVX); :func:`_use_avx` switches.
cdef bint USE_AVX = crowdship_sphere_has_avx()


def _use_avx(on):
    """Run the rule's loops with AVX (where the CPU has it) or one row at a time; returns
    the previous setting. Both give the same bits (the tests run both)."""
    global USE_AVX
    previous = bool(USE_AVX)
    USE_AVX = bool(on) and crowdship_sphere_has_avx()
    return previous


ctypedef struct Day:
    # trips
    const double* e_origin  # (n_trips, 3) row-major
    const double* e_dest
    const double* centre
    const double* radius
    const double* earliest_departure
    const double* latest_arrival
    const double* direct_trip
    const double* allowed_detour
    const double* ll_origin  # (n_trips, 3)
    const double* ll_dest
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
    # the rule
    double rate
    double tolerance
    double earth_radius_km
    double scale
    double error_abs
    double error_rel
    double units
    # the counting pass
    int64_t* candidates
    # the writing pass
    const int64_t* offsets
    int64_t* out_trip
    int64_t* out_request
    double* out_detour


cdef int64_t _trip_pairs(
    const Day* day,
    const crowdship_sphere_rows* rows,
    Py_ssize_t t,
    bint fill,
    bint avx,
    int64_t* y_lo,
    int64_t* y_hi,
) noexcept nogil:
    """Trip ``t``'s pairs: counted (returned; the rows the lower legs keep go to
    ``candidates[t]``), or written from ``offsets[t]`` on (fill: returns how many).
    ``y_lo``, ``y_hi``: scratch for the trip's shadow (nx each).

    The writing pass stops once the trip's slots are full: it writes a subset of the
    rows the count counted, so the rest would write none."""
    cdef Shadow shadow
    cdef After after
    cdef crowdship_sphere_trip trip
    cdef int64_t x0, x1, px, py, qx, cell, lo, hi, first, last, n, found = 0, kept = 0
    cdef int64_t write = 0, end = 0, i
    cdef int64_t ny = day.ny
    cdef double a, pad, ox, oy, tx, ty
    cdef const double* origin = day.e_origin + 3 * t
    cdef const double* dest = day.e_dest + 3 * t
    _trip_shadow(
        origin, dest, day.centre + 3 * t, 3, day.radius[t], day.dx, day.dy, day.gx0, day.gy0,
        day.cell_km, day.nx, ny, y_lo, y_hi, &shadow,
    )
    x0 = shadow.x0
    x1 = shadow.x1
    a = shadow.a
    pad = shadow.pad
    trip.o_x = origin[0]
    trip.o_y = origin[1]
    trip.o_z = origin[2]
    trip.d_x = dest[0]
    trip.d_y = dest[1]
    trip.d_z = dest[2]
    trip.leave = day.earliest_departure[t]
    trip.arrive_by = day.latest_arrival[t] + day.tolerance
    trip.direct = day.direct_trip[t]
    trip.detour_by = day.allowed_detour[t] + day.tolerance
    trip.tolerance = day.tolerance
    trip.rate = day.rate
    trip.inv_4r2 = 1.0 / (4.0 * day.earth_radius_km * day.earth_radius_km)
    trip.earth_radius_km = day.earth_radius_km
    trip.scale = day.scale
    trip.error_abs = day.error_abs
    trip.error_rel = day.error_rel
    trip.ll_origin = day.ll_origin + 3 * t
    trip.ll_dest = day.ll_dest + 3 * t
    ox = origin[day.dx] - day.gx0
    oy = origin[day.dy] - day.gy0
    tx = dest[day.dx] - day.gx0
    ty = dest[day.dy] - day.gy0
    if fill:
        write = day.offsets[t]
        end = day.offsets[t + 1]
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
                        write = crowdship_sphere_write_avx(
                            &trip, rows, first, n, day.units, day.out_request, day.out_detour,
                            write, end,
                        )
                    else:
                        write = crowdship_sphere_write(
                            &trip, rows, first, n, day.units, day.out_request, day.out_detour,
                            write, end,
                        )
                    if write >= end:
                        break
                elif avx:
                    crowdship_sphere_count_avx(&trip, rows, first, n, &kept, &found)
                else:
                    crowdship_sphere_count(&trip, rows, first, n, &kept, &found)
    if fill:
        for i in range(day.offsets[t], write):
            day.out_trip[i] = t
        return write - day.offsets[t]
    if day.candidates != NULL:
        day.candidates[t] = kept
    return found


cdef inline const double* _rows_of(const double[:, ::1] values) noexcept:
    return &values[0, 0] if values.shape[0] > 0 and values.shape[1] > 0 else NULL


def _f1(values):
    return np.ascontiguousarray(values, dtype=np.float64)


def _i1(values):
    return np.ascontiguousarray(values, dtype=np.int64)


def _i2(values):
    return np.ascontiguousarray(values, dtype=np.int64)


cdef _sphere_pairs(  # :func:`sphere_pairs` on typed (contiguous) arrays
    bint filling,
    const int64_t[::1] offsets_v,
    int64_t[::1] counts,
    int64_t[::1] candidates,
    const double[:, ::1] origin_v,
    const double[:, ::1] dest_v,
    const double[:, ::1] centre_v,
    const double[::1] radius_v,
    const double[::1] leave_v,
    const double[::1] arrive_v,
    const double[::1] direct_v,
    const double[::1] allowed_v,
    const double[::1] px_v,
    const double[::1] py_v,
    const double[::1] pz_v,
    const double[::1] qx_v,
    const double[::1] qy_v,
    const double[::1] qz_v,
    const double[::1] opens_v,
    const double[::1] closes_v,
    const double[::1] own_v,
    const int64_t[::1] id_v,
    const int64_t[::1] start_v,
    const double[:, ::1] box_v,
    const int64_t[::1] dcell_v,
    const int64_t[:, ::1] table_v,
    const int64_t[::1] dims_v,
    const double[::1] grid_v,
    double cell_km,
    int64_t nx,
    int64_t ny,
    double rate,
    double tolerance,
    const double[:, ::1] ll_origin_v,
    const double[:, ::1] ll_dest_v,
    const double[:, ::1] ll_pickup_v,
    const double[:, ::1] ll_delivery_v,
    double earth_radius_km,
    double sphere_scale,
    double units,
    int64_t[::1] out_trip,
    int64_t[::1] out_request,
    double[::1] out_detour,
):
    cdef Day day
    cdef crowdship_sphere_rows rows
    cdef Py_ssize_t n_trips = origin_v.shape[0], t, rows_v_n = px_v.shape[0]
    cdef int threads
    cdef int64_t* y_lo
    cdef int64_t* y_hi
    cdef bint avx = USE_AVX
    cdef int failed = 0
    cdef int* failed_at = &failed  # written through from the threads (shared)
    if n_trips == 0:
        return
    day.e_origin = _rows_of(origin_v)
    day.e_dest = _rows_of(dest_v)
    day.centre = _rows_of(centre_v)
    day.radius = _doubles(radius_v)
    day.earliest_departure = _doubles(leave_v)
    day.latest_arrival = _doubles(arrive_v)
    day.direct_trip = _doubles(direct_v)
    day.allowed_detour = _doubles(allowed_v)
    day.ll_origin = _rows_of(ll_origin_v)
    day.ll_dest = _rows_of(ll_dest_v)
    day.cell_start = _ints(start_v)
    day.cell_box = _rows_of(box_v)
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
    day.earth_radius_km = earth_radius_km
    day.scale = sphere_scale
    day.error_abs = LEG_ERROR_RADII * ROUNDOFF * earth_radius_km * sphere_scale
    day.error_rel = LEG_ERROR_LEGS * ROUNDOFF
    day.units = units
    day.candidates = &candidates[0] if candidates.shape[0] > 0 else NULL
    day.offsets = _ints(offsets_v)
    day.out_trip = &out_trip[0] if out_trip.shape[0] > 0 else NULL
    day.out_request = &out_request[0] if out_request.shape[0] > 0 else NULL
    day.out_detour = &out_detour[0] if out_detour.shape[0] > 0 else NULL
    rows.pickup_x = _doubles(px_v)
    rows.pickup_y = _doubles(py_v)
    rows.pickup_z = _doubles(pz_v)
    rows.delivery_x = _doubles(qx_v)
    rows.delivery_y = _doubles(qy_v)
    rows.delivery_z = _doubles(qz_v)
    rows.earliest_pickup = _doubles(opens_v)
    rows.latest_delivery = _doubles(closes_v)
    rows.direct_request = _doubles(own_v)
    rows.request_id = _ints(id_v)
    rows.ll_pickup = _rows_of(ll_pickup_v)
    rows.ll_delivery = _rows_of(ll_delivery_v)
    # A small day on the calling thread alone: waking the others (OpenMP's passive wait,
    # ``crowdship/core/__init__.py``) would cost more than they save.
    threads = 1 if n_trips * rows_v_n < SERIAL_WORK else omp_get_max_threads()
    y_lo = y_hi = NULL
    with nogil, parallel(num_threads=threads):
        # Per thread: a trip's shadow (at most nx columns). Trips differ a lot in work:
        # handed out a few at a time.
        y_lo = <int64_t*>malloc((nx + 1) * sizeof(int64_t))
        y_hi = <int64_t*>malloc((nx + 1) * sizeof(int64_t))
        if y_lo == NULL or y_hi == NULL:
            failed_at[0] = 1
        else:
            for t in prange(n_trips, schedule="dynamic", chunksize=8):
                if day.radius[t] < 0:
                    counts[t] = 0
                    continue
                counts[t] = _trip_pairs(&day, &rows, t, filling, avx, y_lo, y_hi)
        free(y_lo)
        free(y_hi)
    if failed:
        raise MemoryError("sphere_pairs: no memory for the per-thread buffers")




def sphere_pairs(
    fill,  # False: count each trip's pairs; True: write its pairs at ``offsets``
    offsets,  # (n_trips + 1,): where each trip's slots start (fill)
    int64_t[::1] counts,  # (n_trips,): pairs per trip (counting; written when filling)
    int64_t[::1] candidates,  # (n_trips,): rows the lower legs keep (counting)
    e_origin,  # (n_trips, 3) embedded trip origins (points on the sphere, km)
    e_dest,
    centre,
    radius,  # (n_trips,) ball radius containing the ellipsoid, km (< 0: none)
    earliest_departure,
    latest_arrival,
    direct_trip,
    allowed_detour,
    pickup_x,  # per row (sorted by pickup cell, then delivery cell), km
    pickup_y,
    pickup_z,
    delivery_x,
    delivery_y,
    delivery_z,
    earliest_pickup,
    latest_delivery,
    direct_request,
    request_id,
    cell_start,
    cell_box,  # (nx * ny, 4) the pickups' bounding box per cell, grid coordinates
    delivery_cell,
    row_table,  # :func:`delivery_row_table` (or empty)
    grid_dims,
    grid_origin,
    double cell_km,
    int64_t nx,
    int64_t ny,
    double rate,  # minutes per chord km (a lower bound)
    double tolerance,
    ll_origin,  # (n_trips, 3) radians and cos(latitude)
    ll_dest,
    ll_pickup,  # (n_requests, 3), rows sorted as ``pickup_x``
    ll_delivery,
    double earth_radius_km,
    double sphere_scale,  # the great-circle model's minutes per km
    double units,  # cost units per minute of the detours (0: every detour by haversine)
    int64_t[::1] out_trip,
    int64_t[::1] out_request,
    double[::1] out_detour,  # clipped at 0
):
    """Great-circle pairs in two passes over the rows under each trip's ellipse and after
    each pickup cell (as :func:`planar_pairs`; every leg at least its shadow on the grid's
    two dimensions, which the caller lays over the sphere's tangent plane there).

    Each row's rule runs with legs from the chords (vector instructions, no
    trigonometry), which lie within a tiny bound of the haversine legs; only rows within
    that bound of one of the rule's limits (or with a leg past the series' range) get the
    haversine legs, so the pairs are exactly those of the haversine rule. Counting counts
    them per trip; writing writes each at ``offsets``, with the detour from the chords'
    legs where ``rint(detour x units)`` is the same at both ends of its bound (so the same
    as the haversine legs' detour gives), and the haversine legs' detour otherwise (and
    always when ``units`` is 0)."""
    try:  # the callers' arrays as they are (contiguous int64 and float64) ...
        _sphere_pairs(
            bool(fill), offsets, counts, candidates, e_origin, e_dest, centre, radius,
            earliest_departure, latest_arrival, direct_trip, allowed_detour, pickup_x, pickup_y,
            pickup_z, delivery_x, delivery_y, delivery_z, earliest_pickup, latest_delivery,
            direct_request, request_id, cell_start, cell_box, delivery_cell, row_table, grid_dims,
            grid_origin, cell_km, nx, ny, rate, tolerance, ll_origin, ll_dest, ll_pickup,
            ll_delivery, earth_radius_km, sphere_scale, units, out_trip, out_request, out_detour,
        )
    except (ValueError, TypeError):  # ... or copied to be
        _sphere_pairs(
            bool(fill), _i1(offsets), counts, candidates, _f1(e_origin), _f1(e_dest), _f1(centre),
            _f1(radius), _f1(earliest_departure), _f1(latest_arrival), _f1(direct_trip),
            _f1(allowed_detour), _f1(pickup_x), _f1(pickup_y), _f1(pickup_z), _f1(delivery_x),
            _f1(delivery_y), _f1(delivery_z), _f1(earliest_pickup), _f1(latest_delivery),
            _f1(direct_request), _i1(request_id), _i1(cell_start), _f1(cell_box),
            _i1(delivery_cell), _i2(row_table), _i1(grid_dims), _f1(grid_origin), cell_km, nx, ny,
            rate, tolerance, _f1(ll_origin), _f1(ll_dest), _f1(ll_pickup), _f1(ll_delivery),
            earth_radius_km, sphere_scale, units, out_trip, out_request, out_detour,
        )


def compact_pairs(
    offsets,  # (n_trips + 1,) where each trip's slots start
    counts,  # (n_trips,) how many of them it used
    starts,  # (n_trips + 1,) where each trip's pairs go
    trip,
    request,
    detour,
    int64_t[::1] out_trip,
    int64_t[::1] out_request,
    double[::1] out_detour,
):
    """Each trip's used slots, one trip after another with no gaps."""
    cdef const int64_t[::1] offsets_v = _i1(offsets)
    cdef const int64_t[::1] counts_v = _i1(counts)
    cdef const int64_t[::1] starts_v = _i1(starts)
    cdef const int64_t[::1] trip_v = _i1(trip)
    cdef const int64_t[::1] request_v = _i1(request)
    cdef const double[::1] detour_v = _f1(detour)
    cdef Py_ssize_t n_trips = counts_v.shape[0], t
    cdef int64_t n, source, target
    for t in prange(n_trips, nogil=True, schedule="static"):
        n = counts_v[t]
        if n <= 0:
            continue
        source = offsets_v[t]
        target = starts_v[t]
        memcpy(&out_trip[target], &trip_v[source], n * sizeof(int64_t))
        memcpy(&out_request[target], &request_v[source], n * sizeof(int64_t))
        memcpy(&out_detour[target], &detour_v[source], n * sizeof(double))


def haversine_minutes(
    start, Py_ssize_t i, end, Py_ssize_t j, double earth_radius_km, double scale
):
    """Minutes from ``start[i]`` to ``end[j]`` (rows: latitude and longitude in radians,
    cos(latitude)) by the haversine formula, in ``GreatCircleTravel``'s order of operations.
    (The compiled loops call the same formula in C; this is for tests and one-off legs.)"""
    cdef const double[:, ::1] a = _f1(start)
    cdef const double[:, ::1] b = _f1(end)
    return crowdship_haversine(&a[i, 0], &b[j, 0], earth_radius_km, scale)


ctypedef struct GreatCircle:
    const int64_t* trip
    const int64_t* request
    const double* origin  # (n_trips, 3): latitude and longitude in radians, cos(latitude)
    const double* destination
    const double* pickup  # (n_requests, 3)
    const double* delivery
    const double* earliest_departure
    const double* latest_arrival
    const double* direct_trip
    const double* allowed_detour
    const double* earliest_pickup
    const double* latest_delivery
    const double* direct_request
    double minutes_per_km
    double tolerance
    double earth_radius_km
    unsigned char* ok
    double* detour


cdef inline void _great_circle_pair(const GreatCircle* g, Py_ssize_t i) noexcept nogil:
    """The rule for pair ``i`` with haversine legs: its truth and its clipped detour."""
    cdef int64_t t = g.trip[i], r = g.request[i]
    cdef double to_pickup = crowdship_haversine(
        g.origin + 3 * t, g.pickup + 3 * r, g.earth_radius_km, g.minutes_per_km
    )
    cdef double from_delivery = crowdship_haversine(
        g.delivery + 3 * r, g.destination + 3 * t, g.earth_radius_km, g.minutes_per_km
    )
    cdef double detour
    g.ok[i] = _rule_with_legs(
        g.earliest_departure[t],
        to_pickup,
        from_delivery,
        g.earliest_pickup[r],
        g.latest_delivery[r] + g.tolerance,
        g.direct_request[r],
        g.direct_trip[t],
        g.latest_arrival[t] + g.tolerance,
        g.allowed_detour[t] + g.tolerance,
        &detour,
    )
    g.detour[i] = _max(detour, 0.0)


#: Fewer pairs than this are checked on the calling thread: waking the others (OpenMP's
#: passive wait, ``crowdship/core/__init__.py``) costs more than they would save.
cdef Py_ssize_t SERIAL_PAIRS = 1024


cdef tuple _great_circle_rule(
    const int64_t[::1] trip_index,
    const int64_t[::1] request_index,
    const double[:, ::1] origin,
    const double[:, ::1] destination,
    const double[:, ::1] pickup,
    const double[:, ::1] delivery,
    double minutes_per_km,
    const double[::1] earliest_departure,
    const double[::1] latest_arrival,
    const double[::1] direct_trip,
    const double[::1] allowed_detour,
    const double[::1] earliest_pickup,
    const double[::1] latest_delivery,
    const double[::1] direct_request,
    double tolerance,
    double earth_radius_km,
):
    cdef Py_ssize_t n = trip_index.shape[0], i
    cdef GreatCircle g
    ok = np.zeros(n, dtype=np.bool_)
    detour = np.empty(n)
    if n == 0:
        return ok, detour
    cdef unsigned char[::1] ok_v = ok.view(np.uint8)
    cdef double[::1] detour_v = detour
    g.trip = &trip_index[0]
    g.request = &request_index[0]
    g.origin = _rows_of(origin)
    g.destination = _rows_of(destination)
    g.pickup = _rows_of(pickup)
    g.delivery = _rows_of(delivery)
    g.earliest_departure = _doubles(earliest_departure)
    g.latest_arrival = _doubles(latest_arrival)
    g.direct_trip = _doubles(direct_trip)
    g.allowed_detour = _doubles(allowed_detour)
    g.earliest_pickup = _doubles(earliest_pickup)
    g.latest_delivery = _doubles(latest_delivery)
    g.direct_request = _doubles(direct_request)
    g.minutes_per_km = minutes_per_km
    g.tolerance = tolerance
    g.earth_radius_km = earth_radius_km
    g.ok = &ok_v[0]
    g.detour = &detour_v[0]
    if n < SERIAL_PAIRS:
        with nogil:
            for i in range(n):
                _great_circle_pair(&g, i)
    else:
        for i in prange(n, nogil=True, schedule="static"):
            _great_circle_pair(&g, i)
    return ok, detour


def great_circle_rule(
    trip_index,
    request_index,
    origin,  # (n_trips, 3): latitude and longitude in radians, cos(latitude)
    destination,
    pickup,  # (n_requests, 3)
    delivery,
    double minutes_per_km,
    earliest_departure,
    latest_arrival,
    direct_trip,
    allowed_detour,
    earliest_pickup,
    latest_delivery,
    direct_request,
    double tolerance,
    double earth_radius_km,
):
    """The exact rule on candidate pairs with haversine legs (the formula of
    ``GreatCircleTravel``), in one compiled pass: which pairs are feasible, and their
    detours (clipped at 0)."""
    try:  # the callers' arrays as they are (contiguous int64 and float64) ...
        return _great_circle_rule(
            trip_index, request_index, origin, destination, pickup, delivery, minutes_per_km,
            earliest_departure, latest_arrival, direct_trip, allowed_detour, earliest_pickup,
            latest_delivery, direct_request, tolerance, earth_radius_km,
        )
    except (ValueError, TypeError):  # ... or copied to be
        return _great_circle_rule(
            _i1(trip_index), _i1(request_index), _f1(origin), _f1(destination), _f1(pickup),
            _f1(delivery), minutes_per_km, _f1(earliest_departure), _f1(latest_arrival),
            _f1(direct_trip), _f1(allowed_detour), _f1(earliest_pickup), _f1(latest_delivery),
            _f1(direct_request), tolerance, earth_radius_km,
        )
