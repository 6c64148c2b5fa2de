"""Compiled matching kernels (Cython) of the certified solve: the maximum-cardinality
matching (Hopcroft-Karp from a greedy start), the successive shortest paths of the small
problems, the repair of a flow after arcs join, and the minutes-to-units rounding.

Ported from the numba kernels of ``_kernels.py``, with the same names, arguments and
results, bit for bit and in the same order (``stable_order`` decides which of several
optimal matchings comes out). Compiled ahead of time, so a ``crowdship match`` process
pays no JIT import or first compiled call. The ``def`` functions are the interface (the
same as numba's); the loops live in ``cdef`` functions on raw pointers.
"""

import numpy as np

from cython.parallel import prange
from libc.math cimport rint
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from crowdship.core._counting cimport counting_sort

cdef extern from *:
    """
    #define CS_UNREACHED (((long long)1) << 62)
    #define CS_FREE_LAYER (((long long)1) << 60)
    """
    long long CS_UNREACHED
    long long CS_FREE_LAYER

#: "No label yet" (far beyond any path cost), as in ``_kernels``.
UNREACHED = np.int64(1) << np.int64(62)


# Wrapping int64 arithmetic (numba's), for the few scalar formulas that can overflow on
# extreme costs; plain C signed overflow would be undefined.
cdef inline long long _wadd(long long a, long long b) noexcept nogil:
    return <long long>(<unsigned long long>a + <unsigned long long>b)


cdef inline long long _wsub(long long a, long long b) noexcept nogil:
    return <long long>(<unsigned long long>a - <unsigned long long>b)


cdef inline long long _wmul(long long a, long long b) noexcept nogil:
    return <long long>(<unsigned long long>a * <unsigned long long>b)


cdef inline void* _alloc(Py_ssize_t n, Py_ssize_t size) except NULL:
    """``malloc`` of ``n`` items (at least one, so an empty array is not NULL)."""
    cdef void* p = malloc((n if n > 0 else 1) * size)
    if p == NULL:
        raise MemoryError()
    return p


# ---------------------------------------------------------------------------------------
# Counting sort by group


cdef int _group_offsets_c(
    const long long* group, Py_ssize_t n, Py_ssize_t n_groups, long long* order,
    long long* offsets,
) except -1:
    """Counting sort: positions of each group's items (``order``, n) and where each group
    starts (``offsets``, n_groups + 1)."""
    cdef long long* fill = <long long*>_alloc(n_groups, sizeof(long long))
    with nogil:
        counting_sort(group, n, n_groups, order, offsets, fill)
    free(fill)
    return 0


def _group_offsets(const long long[::1] group, Py_ssize_t n_groups):
    """Counting sort: positions of each group's items, and where each group starts."""
    cdef Py_ssize_t n = group.shape[0]
    order = np.empty(n, dtype=np.int64)
    offsets = np.empty(n_groups + 1, dtype=np.int64)
    cdef long long[::1] o = order
    cdef long long[::1] f = offsets
    _group_offsets_c(&group[0] if n else NULL, n, n_groups, &o[0] if n else NULL, &f[0])
    return order, offsets


# ---------------------------------------------------------------------------------------
# Minutes to units


def rounded_multiple(const double[::1] values, double scale):
    """``rint(values x scale)`` as int64 (halves to even, as NumPy rounds)."""
    cdef Py_ssize_t n = values.shape[0], i
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    cdef long long[::1] o = out
    cdef const double* v = &values[0]
    cdef long long* w = &o[0]
    for i in prange(n, nogil=True, schedule="static"):
        w[i] = <long long>rint(v[i] * scale)
    return out


# ---------------------------------------------------------------------------------------
# Maximum-cardinality matching


cdef long long _maximum_matching_c(
    const long long* offsets,
    Py_ssize_t n_trips,
    const long long* order,
    bint grouped,
    const long long* request,
    Py_ssize_t n_requests,
    long long* mate_trip,
    long long bound,
) except -1:
    """:func:`maximum_matching` on raw arrays; returns the matching's size."""
    cdef long long* mate_request = <long long*>_alloc(n_requests, sizeof(long long))
    cdef long long* layer = <long long*>_alloc(n_trips, sizeof(long long))
    cdef long long* queue = <long long*>_alloc(n_trips, sizeof(long long))
    cdef long long* cursor = <long long*>_alloc(n_trips, sizeof(long long))
    cdef long long* stack = <long long*>_alloc(n_trips + 1, sizeof(long long))
    cdef long long matched = 0, shortest, size, head, t, u, p, a, arc, tt, end
    cdef Py_ssize_t i, root, depth, d
    cdef bint advanced
    with nogil:
        for i in range(n_requests):
            mate_request[i] = -1  # trip matched at each request
        for i in range(n_trips):
            if mate_trip[i] >= 0:
                mate_request[request[mate_trip[i]]] = i
                matched += 1
        while matched < bound:
            # Layers: free trips at 0; a matched trip one past the trip that reaches its
            # request.
            size = 0
            for i in range(n_trips):
                if mate_trip[i] < 0:
                    layer[i] = 0
                    queue[size] = i
                    size += 1
                else:
                    layer[i] = CS_FREE_LAYER
            shortest = CS_FREE_LAYER
            head = 0
            while head < size:
                t = queue[head]
                head += 1
                if layer[t] >= shortest:
                    break
                end = offsets[t + 1]
                for p in range(offsets[t], end):
                    u = mate_request[request[p if grouped else order[p]]]
                    if u < 0:
                        if shortest == CS_FREE_LAYER:
                            shortest = layer[t] + 1
                    elif layer[u] == CS_FREE_LAYER:
                        layer[u] = layer[t] + 1
                        queue[size] = u
                        size += 1
            if shortest == CS_FREE_LAYER:
                break
            # Vertex-disjoint shortest augmenting paths along the layers (iterative DFS).
            for i in range(n_trips):
                cursor[i] = offsets[i]
            for root in range(n_trips):
                if mate_trip[root] >= 0:
                    continue
                depth = 0
                stack[0] = root
                while depth >= 0:
                    t = stack[depth]
                    advanced = False
                    end = offsets[t + 1]
                    while cursor[t] < end:
                        a = cursor[t] if grouped else order[cursor[t]]
                        cursor[t] += 1
                        u = mate_request[request[a]]
                        if u < 0:
                            if layer[t] + 1 != shortest:
                                continue
                            # Augment along the stack: each trip takes the arc it came
                            # through.
                            for d in range(depth, -1, -1):
                                tt = stack[d]
                                arc = cursor[tt] - 1 if grouped else order[cursor[tt] - 1]
                                mate_trip[tt] = arc
                                mate_request[request[arc]] = tt
                            matched += 1
                            depth = -1
                            advanced = True
                            break
                        if layer[u] == layer[t] + 1 and layer[u] < shortest:
                            depth += 1
                            stack[depth] = u
                            advanced = True
                            break
                    if not advanced:
                        layer[t] = CS_FREE_LAYER  # a dead end for the rest of this phase
                        depth -= 1
    free(mate_request)
    free(layer)
    free(queue)
    free(cursor)
    free(stack)
    return matched


def maximum_matching(
    const long long[::1] offsets,  # (n_trips + 1,): where each trip's arcs start in ``order``
    const long long[::1] order,  # arc positions grouped by trip (empty: grouped already)
    const long long[::1] request,  # request of each arc
    Py_ssize_t n_requests,
    long long[::1] mate_trip,  # (n_trips,) arc position matched at each trip, or -1 (in/out)
    long long bound,  # no matching is larger than this (stop there)
):
    """Grow the matching ``mate_trip`` to a maximum-cardinality one (Hopcroft-Karp: shortest
    augmenting paths in phases, each a breadth-first search from every free trip and
    depth-first searches along its layers). Returns the matching's size.

    A matching of ``bound`` arcs is maximum: the phases stop there, without the last
    breadth-first search that finds no augmenting path (on the delivery-hotspots day the
    third of three, 16 M of the 37 M arcs they scanned)."""
    cdef Py_ssize_t n_trips = offsets.shape[0] - 1
    if n_trips < 0:
        raise ValueError("negative dimensions are not allowed")
    if mate_trip.shape[0] < n_trips:
        raise IndexError("mate_trip has fewer entries than trips")
    return _maximum_matching_c(
        &offsets[0],
        n_trips,
        &order[0] if order.shape[0] else NULL,
        order.shape[0] == 0,
        &request[0] if request.shape[0] else NULL,
        n_requests,
        &mate_trip[0] if n_trips else NULL,
        bound,
    )


# ---------------------------------------------------------------------------------------
# Stable order, greedy start, grouping by trip


cdef int _stable_order_c(const long long[::1] values, long long* order) except -1:
    """:func:`stable_order` into ``order`` (len(values) entries)."""
    cdef Py_ssize_t n = values.shape[0], i
    cdef long long low, high, v
    cdef unsigned long long span
    cdef long long* counts
    cdef const long long* x
    cdef long long[::1] sorted_
    if n == 0:
        return 0
    x = &values[0]
    low = x[0]
    high = x[0]
    for i in range(1, n):
        if x[i] < low:
            low = x[i]
        if x[i] > high:
            high = x[i]
    # The true span (numba's int64 difference wraps, and then fails, beyond 2**63).
    span = <unsigned long long>high - <unsigned long long>low
    if span > <unsigned long long>(4 * n + 1024):
        # Any stable sort gives this order (numba: mergesort; NumPy: timsort).
        sorted_ = np.argsort(np.asarray(values), kind="stable").astype(np.int64, copy=False)
        memcpy(order, &sorted_[0], n * sizeof(long long))
        return 0
    counts = <long long*>_alloc(<Py_ssize_t>span + 2, sizeof(long long))
    with nogil:
        memset(counts, 0, (span + 2) * sizeof(long long))
        for i in range(n):
            counts[x[i] - low + 1] += 1
        for v in range(<long long>span + 1):
            counts[v + 1] += counts[v]
        for i in range(n):
            v = x[i] - low
            order[counts[v]] = i
            counts[v] += 1
    free(counts)
    return 0


def stable_order(const long long[::1] values):
    """Positions of ``values`` in ascending order, ties by position (NumPy's stable
    argsort); by counting when the values span at most a few times their number (integer
    costs on a day do: 20 to 25 ms -> 2 to 3 ms for 240,000 costs)."""
    cdef Py_ssize_t n = values.shape[0]
    out = np.empty(n, dtype=np.int64)
    cdef long long[::1] o = out
    if n:
        _stable_order_c(values, &o[0])
    return out


cdef int _greedy_matching_c(
    const long long[::1] cost,
    const long long* trip,
    const long long* request,
    Py_ssize_t n_requests,
    long long* mate_trip,  # (n_trips,), all -1 on entry
) except -1:
    cdef Py_ssize_t n = cost.shape[0], k
    cdef long long a
    if n == 0:
        return 0
    cdef long long* by_cost = <long long*>_alloc(n, sizeof(long long))
    cdef unsigned char* taken = <unsigned char*>_alloc(n_requests, 1)
    try:
        _stable_order_c(cost, by_cost)
        with nogil:
            memset(taken, 0, n_requests)
            for k in range(n):
                a = by_cost[k]
                if mate_trip[trip[a]] < 0 and not taken[request[a]]:
                    mate_trip[trip[a]] = a
                    taken[request[a]] = 1
    finally:
        free(by_cost)
        free(taken)
    return 0


def greedy_matching(
    const long long[::1] cost,
    const long long[::1] trip,
    const long long[::1] request,
    Py_ssize_t n_trips,
    Py_ssize_t n_requests,
):
    """Arc matched at each trip (or -1), taking the arcs cheapest first (ties by position)
    when both ends are still free."""
    mate = np.full(n_trips, -1, dtype=np.int64)
    cdef long long[::1] m = mate
    if cost.shape[0]:
        _greedy_matching_c(cost, &trip[0], &request[0], n_requests, &m[0])
    return mate


cdef bint _trip_counts(
    const long long* trip, Py_ssize_t n, Py_ssize_t n_trips, long long* offsets
) noexcept nogil:
    """``offsets`` (n_trips + 1) from arcs grouped by trip; False (and ``offsets`` half
    counted) as soon as a trip comes after a greater one."""
    cdef Py_ssize_t i
    cdef long long t, previous = trip[0] if n else 0
    memset(offsets, 0, (n_trips + 1) * sizeof(long long))
    for i in range(n):  # one read of the trips: counted while checking the order
        t = trip[i]
        if t < previous:
            return False
        offsets[t + 1] += 1
        previous = t
    for i in range(n_trips):
        offsets[i + 1] += offsets[i]
    return True


def trip_groups(const long long[::1] trip, Py_ssize_t n_trips):
    """Where each trip's arcs start, and the arc positions grouped by trip; the positions
    are empty when the arcs already come grouped by trip (as the candidate index writes
    them), since then a group is a plain range of positions."""
    cdef Py_ssize_t n = trip.shape[0]
    offsets = np.empty(n_trips + 1, dtype=np.int64)
    cdef long long[::1] f = offsets
    cdef long long[::1] o
    cdef bint grouped
    with nogil:
        grouped = _trip_counts(&trip[0] if n else NULL, n, n_trips, &f[0])
    if grouped:
        return offsets, np.zeros(0, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    o = order
    _group_offsets_c(&trip[0], n, n_trips, &o[0], &f[0])
    return offsets, order


def cheap_matching(
    const long long[::1] cost,  # the cheap arcs: integer cost, trip and request of each
    const long long[::1] trip,
    const long long[::1] request,
    Py_ssize_t n_trips,
    Py_ssize_t n_requests,
    long long bound,  # no matching is larger than this
):
    """A maximum matching of the cheap arcs from the greedy one (cheapest first): the arc
    matched at each trip (or -1) and the matching's size (:func:`greedy_matching`,
    :func:`trip_groups` and :func:`maximum_matching` in one call)."""
    cdef Py_ssize_t n = cost.shape[0]
    mate = np.full(n_trips, -1, dtype=np.int64)
    cdef long long[::1] m = mate
    cdef long long* mp = &m[0] if n_trips else NULL
    cdef const long long* tp = &trip[0] if n else NULL
    cdef const long long* rp = &request[0] if n else NULL
    cdef long long* offsets = <long long*>_alloc(n_trips + 1, sizeof(long long))
    cdef long long* order = NULL
    cdef bint grouped
    cdef long long size
    try:
        _greedy_matching_c(cost, tp, rp, n_requests, mp)
        with nogil:
            grouped = _trip_counts(tp, n, n_trips, offsets)
        if not grouped:
            order = <long long*>_alloc(n, sizeof(long long))
            _group_offsets_c(tp, n, n_trips, order, offsets)
        size = _maximum_matching_c(offsets, n_trips, order, grouped, rp, n_requests, mp, bound)
    finally:
        free(offsets)
        free(order)
    return mate, size


# ---------------------------------------------------------------------------------------
# 4-ary heap


cdef inline long long _push(
    long long* keys, long long* items, long long size, long long key, long long item
) noexcept nogil:
    """Push onto a 4-ary min-heap: parents move down into the hole, the new entry is
    written once (a third of the binary heap's time in the shortest-path solves)."""
    cdef long long i = size, parent
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        items[i] = items[parent]
        i = parent
    keys[i] = key
    items[i] = item
    return size + 1


cdef inline long long _pop(
    long long* keys, long long* items, long long size, long long* key, long long* item
) noexcept nogil:
    """Pop the least key of a 4-ary min-heap (the last entry sinks through a hole); the
    new size is returned, the key and item written to ``key`` and ``item``."""
    cdef long long i = 0, child, best, best_key, q, top, last_key, last_item
    key[0] = keys[0]
    item[0] = items[0]
    size -= 1
    last_key = keys[size]
    last_item = items[size]
    while True:
        child = 4 * i + 1
        if child >= size:
            break
        best = child
        best_key = keys[child]
        top = child + 4 if child + 4 < size else size
        for q in range(child + 1, top):
            if keys[q] < best_key:
                best = q
                best_key = keys[q]
        if last_key <= best_key:
            break
        keys[i] = best_key
        items[i] = items[best]
        i = best
    keys[i] = last_key
    items[i] = last_item
    return size


def _heap_push(long long[::1] keys, long long[::1] items, long long size, long long key,
               long long item):
    """Push onto a 4-ary min-heap: parents move down into the hole, the new entry is
    written once (a third of the binary heap's time in the shortest-path solves)."""
    if size < 0 or size >= keys.shape[0] or size >= items.shape[0]:
        raise IndexError("heap is full")
    return _push(&keys[0], &items[0], size, key, item)


def _heap_pop(long long[::1] keys, long long[::1] items, long long size):
    """Pop the least key of a 4-ary min-heap (the last entry sinks through a hole)."""
    cdef long long key, item
    if size < 1 or size > keys.shape[0] or size > items.shape[0]:
        raise IndexError("pop from an empty heap")
    size = _pop(&keys[0], &items[0], size, &key, &item)
    return key, item, size


# ---------------------------------------------------------------------------------------
# Successive shortest paths


cdef long long _shortest_augmenting_paths_c(
    const long long* row_offsets,
    Py_ssize_t n_rows,
    const long long* row_arcs,
    bint identity,
    const long long* arc_row,
    const long long* arc_col,
    const long long* cost,
    Py_ssize_t n_arcs,
    Py_ssize_t n_cols,
    long long big,
    const long long* row_order,
    Py_ssize_t n_order,
    long long* mate_row,  # (n_rows,) out
) except -1:
    """:func:`shortest_augmenting_paths` on raw arrays; returns the arcs scanned."""
    cdef Py_ssize_t n_nodes = n_cols + n_rows  # real columns, then each row's private one
    cdef Py_ssize_t heap_size_max = n_arcs + n_rows + 1
    cdef long long* pi_col = <long long*>_alloc(n_nodes, sizeof(long long))
    cdef long long* pi_row = <long long*>_alloc(n_rows, sizeof(long long))
    cdef long long* mate_col = <long long*>_alloc(n_cols, sizeof(long long))
    cdef long long* dist = <long long*>_alloc(n_nodes, sizeof(long long))
    cdef long long* pred = <long long*>_alloc(n_nodes, sizeof(long long))
    cdef unsigned char* done = <unsigned char*>_alloc(n_nodes, 1)
    cdef long long* touched = <long long*>_alloc(n_nodes, sizeof(long long))
    cdef long long* finished = <long long*>_alloc(n_nodes, sizeof(long long))
    cdef long long* keys = <long long*>_alloc(heap_size_max, sizeof(long long))
    cdef long long* items = <long long*>_alloc(heap_size_max, sizeof(long long))
    cdef long long scanned = 0, low, start, row, at, end, end_dist, base, p, a, j, d, own
    cdef long long x, size, shift, r, previous, p_end, c
    cdef Py_ssize_t i, s, n_touched, n_finished, f
    with nogil:
        for i in range(n_nodes):
            pi_col[i] = 0
            dist[i] = CS_UNREACHED
            pred[i] = -1  # arc into a real column, or the row
            done[i] = 0
        for i in range(n_rows):
            low = big
            for p in range(row_offsets[i], row_offsets[i + 1]):
                c = cost[p if identity else row_arcs[p]]
                if c < low:
                    low = c
            pi_row[i] = -low
            mate_row[i] = -1  # arc, or -2 for the private column
        for i in range(n_cols):
            mate_col[i] = -1
        for s in range(n_order):
            start = row_order[s]
            n_touched = 0
            n_finished = 0
            size = 0
            row = start  # scan ``row`` reached at distance ``at``
            at = 0
            end = -1
            end_dist = 0
            while True:
                base = at + pi_row[row]
                p_end = row_offsets[row + 1]
                scanned += p_end - row_offsets[row]
                # Reduced costs are >= 0, so a final column (the row's own among them: its
                # arc is tight) is never improved: no test for it is needed.
                for p in range(row_offsets[row], p_end):
                    a = p if identity else row_arcs[p]
                    j = arc_col[a]
                    d = base + cost[a] - pi_col[j]
                    if d < dist[j]:
                        if dist[j] == CS_UNREACHED:
                            touched[n_touched] = j
                            n_touched += 1
                        dist[j] = d
                        pred[j] = a
                        size = _push(keys, items, size, d, j)
                own = n_cols + row
                if mate_row[row] != -2:
                    d = base + big - pi_col[own]
                    if d < dist[own]:
                        if dist[own] == CS_UNREACHED:
                            touched[n_touched] = own
                            n_touched += 1
                        dist[own] = d
                        pred[own] = row
                        size = _push(keys, items, size, d, own)
                # The nearest column not yet final.
                x = -1
                while size > 0:
                    size = _pop(keys, items, size, &d, &x)
                    if not done[x] and d == dist[x]:
                        break
                    x = -1
                if x < 0:  # cannot happen: the row's private column is always reachable
                    break
                done[x] = 1
                finished[n_finished] = x
                n_finished += 1
                if x >= n_cols or mate_col[x] < 0:
                    end = x
                    end_dist = dist[x]
                    break
                row = mate_col[x]
                at = dist[x]
            # Potentials: every final node moves by (its distance - the path's length).
            for f in range(n_finished):
                x = finished[f]
                shift = dist[x] - end_dist
                pi_col[x] += shift
                if x < n_cols and mate_col[x] >= 0 and x != end:
                    pi_row[mate_col[x]] += shift
            pi_row[start] -= end_dist
            # Augment: walk back from the free column to the start row.
            x = end
            while True:
                if x >= n_cols:
                    r = x - n_cols
                    previous = mate_row[r]
                    mate_row[r] = -2
                else:
                    a = pred[x]
                    r = arc_row[a]
                    previous = mate_row[r]
                    mate_row[r] = a
                    mate_col[x] = r
                if r == start:
                    break
                x = arc_col[previous] if previous >= 0 else n_cols + r
            for f in range(n_touched):
                x = touched[f]
                dist[x] = CS_UNREACHED
                done[x] = 0
                pred[x] = -1
        for i in range(n_rows):
            if mate_row[i] < 0:
                mate_row[i] = -1
    free(pi_col)
    free(pi_row)
    free(mate_col)
    free(dist)
    free(pred)
    free(done)
    free(touched)
    free(finished)
    free(keys)
    free(items)
    return scanned


def shortest_augmenting_paths(
    const long long[::1] row_offsets,  # (n_rows + 1,): where each row's arcs start
    const long long[::1] row_arcs,  # arc positions grouped by row (empty: arc p is at p)
    const long long[::1] arc_row,  # row of each arc
    const long long[::1] arc_col,  # column of each arc
    const long long[::1] cost,  # integer cost of each arc
    Py_ssize_t n_cols,
    long long big,  # cost of leaving a row unmatched (above any path's cost)
    const long long[::1] row_order,  # the order in which rows get their paths
):
    """Most matches, then least cost, on a sparse bipartite graph: each row in turn gets a
    shortest augmenting path (Dijkstra on reduced costs under node potentials, which every
    augmentation keeps valid: successive shortest paths, as in Jonker-Volgenant). Every row
    also has a private "unmatched" column of cost ``big``, so every row is assigned and the
    row-by-row order is exact; ``big`` above any path's cost puts the number of matches
    first. Returns the arc matched at each row (or -1), and the number of arcs scanned."""
    cdef Py_ssize_t n_rows = row_offsets.shape[0] - 1
    cdef Py_ssize_t n_arcs = arc_col.shape[0]
    if n_rows < 0:
        raise ValueError("negative dimensions are not allowed")
    mate = np.empty(n_rows, dtype=np.int64)
    cdef long long[::1] m = mate
    scanned = _shortest_augmenting_paths_c(
        &row_offsets[0],
        n_rows,
        &row_arcs[0] if row_arcs.shape[0] else NULL,
        row_arcs.shape[0] == 0,
        &arc_row[0] if arc_row.shape[0] else NULL,
        &arc_col[0] if n_arcs else NULL,
        &cost[0] if cost.shape[0] else NULL,
        n_arcs,
        n_cols,
        big,
        &row_order[0] if row_order.shape[0] else NULL,
        row_order.shape[0],
        &m[0] if n_rows else NULL,
    )
    return mate, scanned


def sparse_assignment(
    const long long[::1] trip,
    const long long[::1] request,
    const long long[::1] cost,
    Py_ssize_t n_trips,
    Py_ssize_t n_requests,
):
    """Most matches, then least cost (:func:`shortest_augmenting_paths`), rows on the side
    with fewer nodes that have an arc (requests on a tie). The arcs are grouped by row and
    laid out row by row (each search reads a row's columns and costs in one stretch of
    memory), and the rows with the fewest arcs get their paths first: the most constrained
    ones take their columns before others would have to be displaced from them (about a
    third fewer arcs scanned). Returns the matched arcs (positions, ascending) and the
    number of arcs scanned."""
    cdef Py_ssize_t n = trip.shape[0], a, p, i, k
    cdef long long top = 0, c, low, high, scanned, n_seen_trip = 0, n_seen_request = 0
    cdef long long big, spread, kept
    cdef const long long* tp = &trip[0] if n else NULL
    cdef const long long* rp = &request[0] if n else NULL
    cdef const long long* cp = &cost[0] if n else NULL
    cdef const long long* rows
    cdef const long long* cols
    cdef Py_ssize_t n_rows, n_cols
    cdef bint by_request
    cdef long long* row_count
    # Each node's arcs counted (at index node + 1): which nodes have arcs, and the counts
    # of the side that becomes the rows (one read of the arcs for both).
    cdef long long* count_trip = <long long*>_alloc(n_trips + 1, sizeof(long long))
    cdef long long* count_request = <long long*>_alloc(n_requests + 1, sizeof(long long))
    with nogil:
        memset(count_trip, 0, (n_trips + 1) * sizeof(long long))
        memset(count_request, 0, (n_requests + 1) * sizeof(long long))
        for a in range(n):
            count_trip[tp[a] + 1] += 1
            count_request[rp[a] + 1] += 1
            c = cp[a]
            if c > top:
                top = c
            elif _wsub(0, c) > top:
                top = _wsub(0, c)
        for i in range(n_trips):
            n_seen_trip += count_trip[i + 1] > 0
        for i in range(n_requests):
            n_seen_request += count_request[i + 1] > 0
    by_request = n_seen_request <= n_seen_trip
    if by_request:
        rows, cols, n_rows, n_cols = rp, tp, n_requests, n_trips
        free(count_trip)
        row_count = count_request
    else:
        rows, cols, n_rows, n_cols = tp, rp, n_trips, n_requests
        free(count_request)
        row_count = count_trip
    if n_rows == 0:  # numba: the rows' least cost of an empty array
        free(row_count)
        raise ValueError("zero-size array to reduction operation minimum which has no identity")
    order_arr = np.empty(n, dtype=np.int64)
    offsets_arr = np.empty(n_rows + 1, dtype=np.int64)
    laid_rows_arr = np.empty(n, dtype=np.int64)
    laid_cols_arr = np.empty(n, dtype=np.int64)
    laid_cost_arr = np.empty(n, dtype=np.int64)
    cheapest_arr = np.zeros(n_rows, dtype=np.int64)
    key_arr = np.empty(n_rows, dtype=np.int64)
    mate_arr = np.empty(n_rows, dtype=np.int64)
    row_order_arr = np.empty(n_rows, dtype=np.int64)
    cdef long long[::1] order = order_arr
    cdef long long[::1] offsets = offsets_arr
    cdef long long[::1] laid_rows = laid_rows_arr
    cdef long long[::1] laid_cols = laid_cols_arr
    cdef long long[::1] laid_cost = laid_cost_arr
    cdef long long[::1] cheapest = cheapest_arr
    cdef long long[::1] key = key_arr
    cdef long long[::1] mate = mate_arr
    cdef long long[::1] row_order = row_order_arr
    cdef long long* op = &order[0] if n else NULL
    cdef long long* lr = &laid_rows[0] if n else NULL
    cdef long long* lc = &laid_cols[0] if n else NULL
    cdef long long* lk = &laid_cost[0] if n else NULL
    cdef long long* low_cost = &cheapest[0]
    cdef long long* fp = &offsets[0]
    cdef long long* fill = row_count  # becomes each row's next free position
    big = _wmul(_wadd(top, 1), 2 * n_rows + 2)
    with nogil:
        # The arcs grouped by row (a counting sort, as ``_group_offsets``) and laid out row
        # by row in the same pass: each arc is read in order and written to its place (a
        # gather through ``order`` waited on a cache miss for every arc), with each row's
        # cheapest arc.
        memcpy(fp, row_count, (n_rows + 1) * sizeof(long long))
        for i in range(n_rows):
            fp[i + 1] += fp[i]
        memcpy(fill, fp, n_rows * sizeof(long long))
        for a in range(n):
            i = rows[a]
            p = fill[i]
            fill[i] = p + 1
            op[p] = a
            lr[p] = i
            lc[p] = cols[a]
            c = cp[a]
            lk[p] = c
            if p == fp[i] or c < low_cost[i]:
                low_cost[i] = c
    free(fill)
    with nogil:
        # Rows with fewer arcs first and, among rows with as many, the row whose cheapest
        # arc costs most (the delivery-hotspots day's five small problems: 30.0 -> 28.6 M
        # arcs scanned; rows in position order on a tie before).
        low = cheapest[0]
        high = cheapest[0]
        for i in range(1, n_rows):
            if cheapest[i] < low:
                low = cheapest[i]
            if cheapest[i] > high:
                high = cheapest[i]
        if _wsub(high, low) >= ((<long long>1) << 62) // (n + 1):  # the key would overflow
            low = high
        spread = _wsub(high, low)
        for i in range(n_rows):
            kept = _wsub(high, cheapest[i])
            key[i] = _wadd(
                _wmul(offsets[i + 1] - offsets[i], _wadd(spread, 1)),
                kept if kept < spread else spread,
            )
    _stable_order_c(key, &row_order[0])
    scanned = _shortest_augmenting_paths_c(
        &offsets[0],
        n_rows,
        NULL,
        True,
        &laid_rows[0] if n else NULL,
        &laid_cols[0] if n else NULL,
        &laid_cost[0] if n else NULL,
        n,
        n_cols,
        big,
        &row_order[0],
        n_rows,
        &mate[0],
    )
    # The matched arcs' positions, ascending (distinct positions: marked, then read in
    # order, instead of sorted).
    cdef unsigned char* chosen = <unsigned char*>_alloc(n, 1)
    cdef long long matched = 0
    with nogil:
        memset(chosen, 0, n)
        for i in range(n_rows):
            if mate[i] >= 0:
                chosen[op[mate[i]]] = 1
                matched += 1
    selected_arr = np.empty(matched, dtype=np.int64)
    cdef long long[::1] selected = selected_arr
    with nogil:
        k = 0
        for p in range(n):
            if chosen[p]:
                selected[k] = p
                k += 1
    free(chosen)
    return selected_arr, scanned


# ---------------------------------------------------------------------------------------
# Repair of a flow after arcs joined


cdef inline void _relax(
    long long v, long long nd, long long u, long long a, long long* dist, long long* pred,
    long long* pred_arc, long long* touched, Py_ssize_t* n_touched, long long* keys,
    long long* items, long long* size,
) noexcept nogil:
    if nd < dist[v]:
        if dist[v] == CS_UNREACHED:
            touched[n_touched[0]] = v
            n_touched[0] += 1
        dist[v] = nd
        pred[v] = u
        pred_arc[v] = a
        size[0] = _push(keys, items, size[0], nd, v)


def repair_flow(
    Py_ssize_t n_trips,
    Py_ssize_t n_requests,
    const long long[::1] trip,  # the small problem's arcs: trip, request and integer cost
    const long long[::1] request,
    const long long[::1] cost,
    used_array,  # (in/out) bool per arc: the arcs the flow uses, a matching
    long long[::1] potential,  # (in/out) trips, requests, source, sink: valid on old arcs
    long long max_paths,  # give up if more units than this have to move
    long long budget,  # give up once more arcs than this have been scanned
):
    """Make the flow ``used`` a cheapest one of its value again after arcs joined, from the
    potentials that proved it before (successive shortest paths from a pseudoflow).

    Residual arcs (unit flow source -> trips -> requests -> sink): unused arcs forward at
    their cost, used ones backward at minus it, source -> a trip it does not feed and a
    trip it feeds -> source, a request that feeds nothing -> sink and sink -> a request
    that feeds it, at 0. Reduced costs are ``c + pi(tail) - pi(head)``.

    1. Every joined arc with a negative reduced cost opens one end: a request that feeds
       the sink (its used arc, if any, is dropped: its trip keeps a unit it cannot pass on,
       an *excess*, and the request lacks one, a *deficit*) gets the least potential its
       arcs allow, which only raises reduced costs (no residual arc leaves it); otherwise
       its trip, which the source feeds, gets the largest (no residual arc enters it), its
       used arc dropped likewise. Both ends free would be an augmenting path, impossible
       when the flow's value is the largest on all arcs. Every reduced cost is then >= 0.
    2. Each excess trip sends its unit along a shortest path (Dijkstra on reduced costs)
       to the nearest deficit request, and potentials move by the distances, which keeps
       every reduced cost >= 0. With no excess left the flow has its old value and
       potentials prove it a cheapest one on these arcs.

    Returns whether the flow was repaired (False if step 1 finds two free ends, or more
    than ``max_paths`` excess units, or the paths scan more than ``budget`` arcs: the
    caller then solves from scratch; ``used`` and ``potential`` are left half-way), and
    the number of arcs scanned."""
    if used_array.dtype != np.bool_:
        raise TypeError("used must be a bool array")
    cdef unsigned char[::1] used_view = used_array.view(np.uint8)
    cdef Py_ssize_t n_arcs = trip.shape[0]
    if used_view.shape[0] < n_arcs:
        raise IndexError("used has fewer entries than arcs")
    if potential.shape[0] < n_trips + n_requests + 2:
        raise IndexError("potential needs trips, requests, source and sink")
    cdef Py_ssize_t source = n_trips + n_requests
    cdef Py_ssize_t sink = source + 1
    cdef Py_ssize_t n_nodes = sink + 1
    cdef unsigned char* used = &used_view[0] if n_arcs else NULL
    cdef long long* pot = &potential[0]
    cdef const long long* tp = &trip[0] if n_arcs else NULL
    cdef const long long* rp = &request[0] if n_arcs else NULL
    cdef const long long* cp = &cost[0] if n_arcs else NULL
    cdef long long* mate_trip = <long long*>_alloc(n_trips, sizeof(long long))
    cdef long long* mate_request = <long long*>_alloc(n_requests, sizeof(long long))
    cdef unsigned char* fed = <unsigned char*>_alloc(n_trips, 1)
    cdef unsigned char* feeds = <unsigned char*>_alloc(n_requests, 1)
    cdef long long* excess = <long long*>_alloc(n_trips, sizeof(long long))
    cdef unsigned char* deficit = <unsigned char*>_alloc(n_requests, 1)
    cdef unsigned char* open_trip = <unsigned char*>_alloc(n_trips, 1)
    cdef unsigned char* open_request = <unsigned char*>_alloc(n_requests, 1)
    cdef long long* order = NULL
    cdef long long* offsets = NULL
    cdef long long* dist = NULL
    cdef long long* pred = NULL
    cdef long long* pred_arc = NULL
    cdef unsigned char* done = NULL
    cdef long long* touched = NULL
    cdef long long* finished = NULL
    cdef long long* keys = NULL
    cdef long long* items = NULL
    cdef Py_ssize_t heap_max = n_arcs + 3 * n_nodes + 1
    cdef long long a, t, r, old, n_excess = 0, high, scanned = 0, x, size, end, length
    cdef long long d, u, pu, v, nd, p, q
    cdef Py_ssize_t i, n_touched, n_finished, f
    cdef bint free_ends = False, repaired = True
    try:
        with nogil:
            for i in range(n_trips):
                mate_trip[i] = -1
                excess[i] = 0
                open_trip[i] = 0
            for i in range(n_requests):
                mate_request[i] = -1
                deficit[i] = 0
                open_request[i] = 0
            for a in range(n_arcs):
                if used[a]:
                    mate_trip[tp[a]] = a
                    mate_request[rp[a]] = a
            for i in range(n_trips):
                fed[i] = mate_trip[i] >= 0  # source -> trip carries a unit
            for i in range(n_requests):
                feeds[i] = mate_request[i] >= 0  # request -> sink carries a unit
            for a in range(n_arcs):
                t = tp[a]
                r = rp[a]
                if used[a] or open_trip[t] or open_request[r]:
                    continue
                if cp[a] + pot[t] - pot[n_trips + r] >= 0:
                    continue
                if feeds[r]:
                    open_request[r] = 1
                    old = mate_request[r]
                    if old >= 0:
                        used[old] = 0
                        mate_trip[tp[old]] = -1
                        mate_request[r] = -1
                        excess[tp[old]] += 1
                        deficit[r] = 1
                elif fed[t]:
                    open_trip[t] = 1
                    old = mate_trip[t]
                    if old >= 0:
                        used[old] = 0
                        mate_request[rp[old]] = -1
                        mate_trip[t] = -1
                        excess[t] += 1
                        deficit[rp[old]] = 1
                else:
                    free_ends = True
                    break
            if not free_ends:
                for i in range(n_trips):
                    if excess[i] > 0:
                        n_excess += 1
        if free_ends:
            return False, 0
        if n_excess > max_paths:  # before any other work: most failures end here
            return False, 0
        order = <long long*>_alloc(n_arcs, sizeof(long long))
        offsets = <long long*>_alloc(n_trips + 1, sizeof(long long))
        _group_offsets_c(tp, n_arcs, n_trips, order, offsets)  # arcs grouped by trip
        dist = <long long*>_alloc(n_nodes, sizeof(long long))
        pred = <long long*>_alloc(n_nodes, sizeof(long long))  # previous node
        pred_arc = <long long*>_alloc(n_nodes, sizeof(long long))  # arc (-1: source, sink)
        done = <unsigned char*>_alloc(n_nodes, 1)
        touched = <long long*>_alloc(n_nodes, sizeof(long long))
        finished = <long long*>_alloc(n_nodes, sizeof(long long))
        keys = <long long*>_alloc(heap_max, sizeof(long long))
        items = <long long*>_alloc(heap_max, sizeof(long long))
        with nogil:
            for t in range(n_trips):
                if open_trip[t]:
                    high = pot[t]
                    for p in range(offsets[t], offsets[t + 1]):
                        a = order[p]
                        q = pot[n_trips + rp[a]] - cp[a]
                        if q > high:
                            high = q
                    pot[t] = high
            for a in range(n_arcs):
                r = rp[a]
                if open_request[r]:
                    q = cp[a] + pot[tp[a]]
                    if q < pot[n_trips + r]:
                        pot[n_trips + r] = q
            for i in range(n_nodes):
                dist[i] = CS_UNREACHED
                pred[i] = -1
                pred_arc[i] = -1
                done[i] = 0
            for x in range(n_trips):
                if excess[x] <= 0:
                    continue
                if scanned > budget:
                    repaired = False
                    break
                n_touched = 1
                n_finished = 0
                touched[0] = x
                dist[x] = 0
                size = _push(keys, items, 0, 0, x)
                end = -1
                length = 0
                while size > 0:
                    size = _pop(keys, items, size, &d, &u)
                    if done[u] or d != dist[u]:
                        continue
                    done[u] = 1
                    finished[n_finished] = u
                    n_finished += 1
                    if u >= n_trips and u < source and deficit[u - n_trips]:
                        end = u
                        length = d
                        break
                    pu = pot[u]
                    if u < n_trips:
                        scanned += offsets[u + 1] - offsets[u]
                        for p in range(offsets[u], offsets[u + 1]):
                            a = order[p]
                            if used[a]:
                                continue
                            v = n_trips + rp[a]
                            _relax(v, d + cp[a] + pu - pot[v], u, a, dist, pred, pred_arc,
                                   touched, &n_touched, keys, items, &size)
                        if fed[u]:
                            v = source
                            _relax(v, d + pu - pot[v], u, -1, dist, pred, pred_arc,
                                   touched, &n_touched, keys, items, &size)
                    elif u < source:
                        r = u - n_trips
                        a = mate_request[r]
                        if a >= 0:
                            v = tp[a]
                            _relax(v, d - cp[a] + pu - pot[v], u, a, dist, pred, pred_arc,
                                   touched, &n_touched, keys, items, &size)
                        if not feeds[r]:
                            v = sink
                            _relax(v, d + pu - pot[v], u, -1, dist, pred, pred_arc,
                                   touched, &n_touched, keys, items, &size)
                    elif u == source:
                        scanned += n_trips
                        for v in range(n_trips):
                            if fed[v] or done[v]:
                                continue
                            _relax(v, d + pu - pot[v], u, -1, dist, pred, pred_arc,
                                   touched, &n_touched, keys, items, &size)
                    else:
                        scanned += n_requests
                        for r in range(n_requests):
                            v = n_trips + r
                            if not feeds[r] or done[v]:
                                continue
                            _relax(v, d + pu - pot[v], u, -1, dist, pred, pred_arc,
                                   touched, &n_touched, keys, items, &size)
                if end < 0:  # cannot happen: the unit can go back the way it came
                    repaired = False
                    break
                for f in range(n_finished):
                    v = finished[f]
                    pot[v] += dist[v] - length
                # Augment along the path, from its end back to the excess trip.
                v = end
                while v != x:
                    u = pred[v]
                    a = pred_arc[v]
                    if u < n_trips and v >= n_trips and v < source:  # trip -> request
                        used[a] = 1
                        mate_trip[u] = a
                        mate_request[v - n_trips] = a
                    elif u >= n_trips and u < source and v < n_trips:  # request -> trip
                        used[a] = 0
                        if mate_trip[v] == a:
                            mate_trip[v] = -1
                        if mate_request[u - n_trips] == a:
                            mate_request[u - n_trips] = -1
                    elif v == source:  # the trip hands its unit back
                        fed[u] = 0
                    elif u == source:
                        fed[v] = 1
                    elif v == sink:
                        feeds[u - n_trips] = 1
                    else:  # sink -> request
                        feeds[v - n_trips] = 0
                    v = u
                excess[x] -= 1
                deficit[end - n_trips] = 0
                for f in range(n_touched):
                    v = touched[f]
                    dist[v] = CS_UNREACHED
                    done[v] = 0
                    pred[v] = -1
                    pred_arc[v] = -1
        return repaired, scanned
    finally:
        free(mate_trip)
        free(mate_request)
        free(fed)
        free(feeds)
        free(excess)
        free(deficit)
        free(open_trip)
        free(open_request)
        free(order)
        free(offsets)
        free(dist)
        free(pred)
        free(pred_arc)
        free(done)
        free(touched)
        free(finished)
        free(keys)
        free(items)
