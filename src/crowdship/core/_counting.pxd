"""The counting sort by group that the certified solve's modules share (``_paths.pyx``,
``_certify.pyx``): an inline function with plain arguments, compiled into each module that
cimports it."""

from libc.string cimport memset


cdef inline void counting_sort(
    const long long* group, Py_ssize_t n, Py_ssize_t n_groups, long long* order,
    long long* offsets, long long* fill,
) noexcept nogil:
    """Positions of each group's items in group order, stable (``order``, n), and where
    each group starts (``offsets``, n_groups + 1); ``fill`` is scratch (n_groups)."""
    cdef Py_ssize_t i, g
    memset(offsets, 0, (n_groups + 1) * sizeof(long long))
    for i in range(n):
        offsets[group[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    for g in range(n_groups):
        fill[g] = offsets[g]
    for i in range(n):
        g = group[i]
        order[fill[g]] = i
        fill[g] += 1
