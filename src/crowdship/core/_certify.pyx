"""Compiled loops (Cython) of the certified solve's proof: the cheap arcs each node keeps, the
residual graph's potentials, every arc's check against them, and the arcs that join.

Ported from the numba kernels of ``_kernels.py`` (same names, arguments and answers, bit for
bit); compiled ahead of time, so a ``crowdship match`` process imports them in milliseconds
instead of paying numba's import and first compiled call. Integer sums wrap as numba's int64
arithmetic does (computed in unsigned, never undefined overflow).
"""

from cython.parallel import prange
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset

from crowdship.core._counting cimport counting_sort

import numpy as np

cdef extern from *:
    void __builtin_prefetch(const void* address) noexcept nogil

ctypedef long long i64
ctypedef unsigned long long u64
ctypedef unsigned char u8

#: "No label yet" for :func:`label_correcting` (far beyond any path cost).
UNREACHED = np.int64(1) << np.int64(62)
cdef i64 _UNREACHED = (<i64>1) << 62


cdef inline i64 _add(i64 a, i64 b) noexcept nogil:
    return <i64>(<u64>a + <u64>b)


cdef inline i64 _reduced(i64 c, i64 tail, i64 head) noexcept nogil:
    """``c + tail - head`` in int64 (wrapping as numba does)."""
    return <i64>(<u64>c + <u64>tail - <u64>head)


def _mask(array):
    """A bool mask's bytes (NumPy bool is one byte, 0 or 1); other dtypes by truth."""
    array = np.asarray(array)
    if array.dtype != np.bool_:
        array = array != 0
    return np.ascontiguousarray(array).view(np.uint8)


# ------------------------------------------------------------------------- grouping by tail


def _group_offsets(const i64[::1] group, Py_ssize_t n_groups):
    """Counting sort: positions of each group's items, and where each group starts."""
    cdef Py_ssize_t n = group.shape[0]
    order = np.empty(n, dtype=np.int64)
    offsets = np.empty(n_groups + 1, dtype=np.int64)
    cdef i64[::1] o = order
    cdef i64[::1] off = offsets
    cdef i64* fill = <i64*>malloc((n_groups + 1) * sizeof(i64))
    if fill == NULL:
        raise MemoryError()
    with nogil:
        counting_sort(&group[0], n, n_groups, &o[0], &off[0], fill)
    free(fill)
    return order, offsets


# -------------------------------------------------------------------------- the arcs' check


cdef i64 _arcs_below_c(
    const i64* trip,
    const i64* request,
    const i64* cost,
    const i64* potential,
    i64 n_trips,
    const u8* skip,
    i64 margin,
    u8* below,
    Py_ssize_t n,
) noexcept nogil:
    cdef Py_ssize_t a
    cdef i64 reduced
    cdef i64 negative = 0
    for a in prange(n, schedule="static"):
        if not skip[a]:
            reduced = _reduced(cost[a], potential[trip[a]], potential[n_trips + request[a]])
            if reduced < margin:
                below[a] = 1
                if reduced < 0:
                    negative += 1  # a reduction: prange sums it over the threads
    return negative


def arcs_below(
    const i64[::1] trip,
    const i64[::1] request,
    const i64[::1] cost,
    const i64[::1] potential,
    i64 n_trips,
    skip,
    i64 margin,
):
    """Arcs not in ``skip`` whose reduced cost ``c + pi(t) - pi(n_trips + r)`` is below
    ``margin``, and how many of them are below zero (those break the certificate)."""
    cdef Py_ssize_t n = trip.shape[0]
    cdef const u8[::1] s = _mask(skip)
    below = np.zeros(n, dtype=np.bool_)
    cdef u8[::1] b = below.view(np.uint8)
    cdef i64 negative
    with nogil:
        negative = _arcs_below_c(
            &trip[0], &request[0], &cost[0], &potential[0], n_trips, &s[0], margin, &b[0], n
        )
    return below, negative


cdef i64 _arcs_below_grouped_c(
    const i64* offsets,
    Py_ssize_t n_trips,
    const i64* request,
    const i64* cost,
    const i64* potential,
    const u8* skip,
    i64 margin,
    u8* below,
) noexcept nogil:
    cdef Py_ssize_t t
    cdef i64 a, base, reduced
    cdef i64 negative = 0
    for t in prange(n_trips, schedule="static"):
        base = potential[t]
        for a in range(offsets[t], offsets[t + 1]):
            if not skip[a]:
                reduced = _reduced(cost[a], base, potential[n_trips + request[a]])
                if reduced < margin:
                    below[a] = 1
                    if reduced < 0:
                        negative += 1
    return negative


def arcs_below_grouped(
    const i64[::1] offsets,  # (n_trips + 1,): the arcs come grouped by trip, trip t's from here
    const i64[::1] request,
    const i64[::1] cost,
    const i64[::1] potential,
    skip,
    i64 margin,
):
    """:func:`arcs_below` on arcs grouped by trip: the same answer without reading each
    arc's trip (a third less memory read per round on the largest days)."""
    cdef Py_ssize_t n_trips = offsets.shape[0] - 1
    cdef const u8[::1] s = _mask(skip)
    below = np.zeros(request.shape[0], dtype=np.bool_)
    cdef u8[::1] b = below.view(np.uint8)
    cdef i64 negative
    with nogil:
        negative = _arcs_below_grouped_c(
            &offsets[0], n_trips, &request[0], &cost[0], &potential[0], &s[0], margin, &b[0]
        )
    return below, negative


# ------------------------------------------------------------------ shortest distances


cdef bint _parent_cycle_c(const i64* parent, Py_ssize_t n, i64* walk) noexcept nogil:
    cdef Py_ssize_t start
    cdef i64 v
    for start in range(n):
        walk[start] = -1  # which walk first reached the node
    for start in range(n):
        v = start
        while v >= 0 and walk[v] < 0:
            walk[v] = start
            v = parent[v]
        if v >= 0 and walk[v] == start:
            return True
    return False


def _parent_cycle(const i64[::1] parent):
    """Whether the predecessor graph (each node's last improving neighbour) has a cycle;
    in a label-correcting search such a cycle is always a negative cycle."""
    cdef Py_ssize_t n = parent.shape[0]
    cdef i64* walk = <i64*>malloc((n + 1) * sizeof(i64))
    cdef bint found
    if walk == NULL:
        raise MemoryError()
    with nogil:
        found = _parent_cycle_c(&parent[0], n, walk)
    free(walk)
    return bool(found)


cdef int _label_correcting_c(
    Py_ssize_t n_nodes,
    const i64* offsets,
    const i64* order,  # NULL: arc p is at position p
    const i64* heads,
    const i64* costs,
    i64* dist,  # the start labels in, the distances out
) noexcept nogil:
    """1: converged; 0: a negative cycle; -1: out of memory."""
    cdef Py_ssize_t capacity = n_nodes + 1
    cdef i64* parent = <i64*>malloc(capacity * sizeof(i64))
    cdef i64* queue = <i64*>malloc(capacity * sizeof(i64))
    cdef i64* relaxations = <i64*>calloc(capacity, sizeof(i64))
    cdef i64* walk = <i64*>malloc(capacity * sizeof(i64))
    cdef u8* in_queue = <u8*>calloc(capacity, 1)
    cdef int result = 1
    cdef Py_ssize_t i, size = 0, head = 0, tail
    cdef i64 u, v, a, p, du, nd
    cdef i64 since_check = 0
    cdef bint small_first = True
    if parent == NULL or queue == NULL or relaxations == NULL or walk == NULL or in_queue == NULL:
        result = -1
        size = -1
    else:
        for i in range(n_nodes):
            parent[i] = -1
        for i in range(n_nodes):
            if dist[i] < _UNREACHED:
                queue[size] = i
                in_queue[i] = 1
                size += 1
    tail = size % capacity if size >= 0 else 0
    while size > 0 and result == 1:
        u = queue[head]
        head = head + 1 if head + 1 < capacity else 0
        size -= 1
        in_queue[u] = 0
        du = dist[u]
        for p in range(offsets[u], offsets[u + 1]):
            a = p if order == NULL else order[p]
            v = heads[a]
            nd = _add(du, costs[a])
            if nd < dist[v]:
                dist[v] = nd
                parent[v] = u
                relaxations[v] += 1
                if relaxations[v] > n_nodes:
                    if not small_first:
                        result = 0
                        break
                    small_first = False
                    memset(relaxations, 0, n_nodes * sizeof(i64))
                since_check += 1
                if since_check >= n_nodes:
                    since_check = 0
                    if _parent_cycle_c(parent, n_nodes, walk):
                        result = 0
                        break
                if not in_queue[v]:
                    in_queue[v] = 1
                    if small_first and size > 0 and nd < dist[queue[head]]:
                        head = head - 1 if head > 0 else n_nodes
                        queue[head] = v
                    else:
                        queue[tail] = v
                        tail = tail + 1 if tail + 1 < capacity else 0
                    size += 1
    free(parent)
    free(queue)
    free(relaxations)
    free(walk)
    free(in_queue)
    return result


def label_correcting(
    Py_ssize_t n_nodes,
    const i64[::1] tails,
    const i64[::1] heads,
    const i64[::1] costs,
    const i64[::1] start,
):
    """Shortest distances from labelled nodes (``start[v] < UNREACHED``, beginning at that
    label) by a label-correcting search; nodes no path reaches keep ``UNREACHED``.

    Returns the distances and whether they converged (False: a negative cycle is reachable
    from a labelled node). The predecessor graph is checked for a cycle after every
    ``n_nodes`` improvements, so a negative cycle is found soon after it forms.

    The queue puts a node whose new label is below the front node's at the front ("small
    label first"): the certificate's reversed search from a few labelled nodes scanned
    2.4 to 3.2 M arcs in first-in first-out order on the more-requests day, 1.2 to 1.8 M
    so (the paper's forward searches 457 k -> 358 k), the same distances. A node improved
    more than ``n_nodes`` times ends that: the rest runs first-in first-out, whose bound
    (``n_nodes`` improvements a node without a negative cycle) then holds again.
    """
    order, offsets = _group_offsets(tails, n_nodes)
    return _label_correcting(n_nodes, offsets, order, heads, costs, start)


def _label_correcting(
    Py_ssize_t n_nodes,
    const i64[::1] offsets,  # (n_nodes + 1,): where each node's arcs start in ``order``
    const i64[::1] order,  # arc positions grouped by tail (empty: arc p is at position p)
    const i64[::1] heads,
    const i64[::1] costs,
    const i64[::1] start,
):
    """:func:`label_correcting` on arcs grouped by tail."""
    dist = np.array(start, dtype=np.int64)
    cdef i64[::1] d = dist
    cdef const i64* by_tail = NULL
    cdef int result
    if order.shape[0] > 0:
        by_tail = &order[0]
    with nogil:
        result = _label_correcting_c(n_nodes, &offsets[0], by_tail, &heads[0], &costs[0], &d[0])
    if result < 0:
        raise MemoryError()
    return dist, result == 1


# ----------------------------------------------------------- the certificate's potentials


cdef int _residual_potentials_c(
    const i64* trip,
    const i64* request,
    const i64* cost,
    const u8* used,
    Py_ssize_t m,
    Py_ssize_t n_trips,
    Py_ssize_t n_requests,
    i64* forward,  # (n_nodes,) each
    i64* backward,
    i64* potential,
    int* which,  # the array to return: 0 forward, 1 backward, 2 potential
) noexcept nogil:
    """The status (0, 1, 2) of :func:`residual_potentials`, or -1 when out of memory."""
    cdef Py_ssize_t n_nodes = n_trips + n_requests + 2
    cdef Py_ssize_t n_ends = n_trips + n_requests
    cdef i64 source = n_ends, sink = n_ends + 1
    cdef Py_ssize_t n_arcs = m + n_ends
    cdef Py_ssize_t i, v
    cdef i64 t, r, c, end, tl, hd
    cdef int status = 0, converged
    cdef u8* matched = <u8*>calloc(n_ends + 1, 1)
    cdef i64* out_offsets = <i64*>calloc(n_nodes + 1, sizeof(i64))
    cdef i64* in_offsets = <i64*>calloc(n_nodes + 1, sizeof(i64))
    cdef i64* out_head = <i64*>malloc((n_arcs + 1) * sizeof(i64))
    cdef i64* out_cost = <i64*>malloc((n_arcs + 1) * sizeof(i64))
    cdef i64* in_tail = <i64*>malloc((n_arcs + 1) * sizeof(i64))
    cdef i64* in_cost = <i64*>malloc((n_arcs + 1) * sizeof(i64))
    cdef i64* out_fill = <i64*>malloc((n_nodes + 1) * sizeof(i64))
    cdef i64* in_fill = <i64*>malloc((n_nodes + 1) * sizeof(i64))
    if (
        matched == NULL or out_offsets == NULL or in_offsets == NULL or out_head == NULL
        or out_cost == NULL or in_tail == NULL or in_cost == NULL or out_fill == NULL
        or in_fill == NULL
    ):
        status = -1
    else:
        for i in range(m):
            t = trip[i]
            r = n_trips + request[i]
            if used[i]:
                matched[t] = 1
                matched[r] = 1
                t, r = r, t
            out_offsets[t + 1] += 1
            in_offsets[r + 1] += 1
        for v in range(n_ends):
            end = source if v < n_trips else sink
            if matched[v] == (v < n_trips):  # a matched trip, or a request that feeds nothing
                out_offsets[v + 1] += 1
                in_offsets[end + 1] += 1
            else:
                out_offsets[end + 1] += 1
                in_offsets[v + 1] += 1
        for v in range(n_nodes):
            out_offsets[v + 1] += out_offsets[v]
            in_offsets[v + 1] += in_offsets[v]
        for v in range(n_nodes):
            out_fill[v] = out_offsets[v]
            in_fill[v] = in_offsets[v]
        for i in range(m):
            t = trip[i]
            r = n_trips + request[i]
            c = cost[i]
            if used[i]:
                t, r, c = r, t, <i64>(0 - <u64>c)
            out_head[out_fill[t]] = r
            out_cost[out_fill[t]] = c
            out_fill[t] += 1
            in_tail[in_fill[r]] = t
            in_cost[in_fill[r]] = c
            in_fill[r] += 1
        for v in range(n_ends):
            end = source if v < n_trips else sink
            if matched[v] == (v < n_trips):
                tl, hd = v, end
            else:
                tl, hd = end, v
            out_head[out_fill[tl]] = hd
            out_cost[out_fill[tl]] = 0
            out_fill[tl] += 1
            in_tail[in_fill[hd]] = tl
            in_cost[in_fill[hd]] = 0
            in_fill[hd] += 1
        for v in range(n_nodes):
            forward[v] = _UNREACHED
        forward[source] = 0
        converged = _label_correcting_c(n_nodes, out_offsets, NULL, out_head, out_cost, forward)
        if converged < 0:
            status = -1
        elif converged == 0:
            status = 1
            which[0] = 0
        else:
            for v in range(n_nodes):
                backward[v] = <i64>(0 - <u64>forward[v]) if forward[v] < _UNREACHED else _UNREACHED
            converged = _label_correcting_c(n_nodes, in_offsets, NULL, in_tail, in_cost, backward)
            if converged < 0:
                status = -1
            elif converged == 0:
                status = 1
                which[0] = 1
            else:
                which[0] = 2
                for v in range(n_nodes):
                    if forward[v] < _UNREACHED:
                        potential[v] = forward[v]
                    elif backward[v] >= _UNREACHED:
                        status = 2
                        break
                    else:
                        potential[v] = <i64>(0 - <u64>backward[v])
    free(matched)
    free(out_offsets)
    free(in_offsets)
    free(out_head)
    free(out_cost)
    free(in_tail)
    free(in_cost)
    free(out_fill)
    free(in_fill)
    return status


def residual_potentials(
    const i64[::1] trip,  # the small problem's arcs: trip, request and integer cost of each
    const i64[::1] request,
    const i64[::1] cost,
    used,  # bool per arc: the flow, a matching
    Py_ssize_t n_trips,
    Py_ssize_t n_requests,
):
    """The certificate's potentials (trips, requests, source, sink) of the flow ``used`` on
    these arcs: every residual arc's reduced cost is >= 0 under them, and the requests'
    are as low as the residual graph allows. They are the shortest distances from the
    source in its residual graph, and for the nodes the source does not reach, minus their
    shortest distance to a node it reaches. Residual arcs: unused arcs forward at their
    cost, used ones backward at minus their cost, source -> free trip and matched trip ->
    source, free request -> sink and sink -> matched request, all at 0 (no return arc: the
    flow's value is already the largest possible, so only flows of the same value
    compete). The residual graph is laid out by tail and by head here, in the order its
    arcs would have in one list (the small problem's arcs, then each trip's arc to or from
    the source, then each request's to or from the sink), so each search scans as
    :func:`label_correcting` does on that list, without the list and its two groupings.
    Status 0: the potentials; 1: a negative cycle (the flow is not a cheapest one of its
    value on these arcs); 2: a node that reaches no node the source reaches."""
    cdef Py_ssize_t n_nodes = n_trips + n_requests + 2
    cdef const u8[::1] u = _mask(used)
    forward = np.empty(n_nodes, dtype=np.int64)
    backward = np.empty(n_nodes, dtype=np.int64)
    potential = np.empty(n_nodes, dtype=np.int64)
    cdef i64[::1] f = forward
    cdef i64[::1] b = backward
    cdef i64[::1] p = potential
    cdef int which = 2
    cdef int status
    with nogil:
        status = _residual_potentials_c(
            &trip[0], &request[0], &cost[0], &u[0], trip.shape[0], n_trips, n_requests,
            &f[0], &b[0], &p[0], &which,
        )
    if status < 0:
        raise MemoryError()
    return (forward, backward, potential)[which], status


# ------------------------------------------------------------------ the small problem's arcs


def merge_arcs(
    const i64[::1] subset,  # the small problem's arcs (positions, ascending)
    const i64[::1] sub_trip,  # their trips, requests and costs
    const i64[::1] sub_request,
    const i64[::1] sub_cost,
    const i64[::1] add,  # arcs joining (positions, ascending, none in ``subset``)
    const i64[::1] trip,  # every arc's trip, request and cost
    const i64[::1] request,
    const i64[::1] cost,
):
    """The small problem with the arcs ``add`` joined, in position order: its positions,
    trips, requests and costs. Only the joining arcs are read from the large arrays (a
    read there is a cache miss; gathering every small arc anew took 10 ms a round)."""
    cdef Py_ssize_t n = subset.shape[0], m = add.shape[0]
    out = np.empty(n + m, dtype=np.int64)
    out_trip = np.empty(n + m, dtype=np.int64)
    out_request = np.empty(n + m, dtype=np.int64)
    out_cost = np.empty(n + m, dtype=np.int64)
    cdef i64[::1] o = out
    cdef i64[::1] ot = out_trip
    cdef i64[::1] orq = out_request
    cdef i64[::1] oc = out_cost
    cdef Py_ssize_t i = 0, j = 0, k
    cdef i64 a
    with nogil:
        for k in range(n + m):
            if j >= m or (i < n and subset[i] < add[j]):
                o[k] = subset[i]
                ot[k] = sub_trip[i]
                orq[k] = sub_request[i]
                oc[k] = sub_cost[i]
                i += 1
            else:
                a = add[j]
                o[k] = a
                ot[k] = trip[a]
                orq[k] = request[a]
                oc[k] = cost[a]
                j += 1
    return out, out_trip, out_request, out_cost


# ------------------------------------------------------------- each node's k cheapest arcs


cdef inline void _offer(i64* row, i64 k, i64 c, i64 item) noexcept nogil:
    """Offer ``item`` of cost ``c`` to a node's sorted buffer of its ``k`` best (``row``:
    their costs, how many there are, their items): it displaces one only if strictly
    cheaper, and goes after those it ties with."""
    cdef i64 m = row[k]
    cdef i64* items = row + k + 1
    cdef i64 j
    if m == k and c >= row[k - 1]:
        return
    j = m if m < k else k - 1
    while j > 0 and row[j - 1] > c:
        row[j] = row[j - 1]
        items[j] = items[j - 1]
        j -= 1
    row[j] = c
    items[j] = item
    if m < k:
        row[k] = m + 1


cdef int _keep_cheapest(
    const i64* arcs,  # NULL: item i is arc i
    const i64* trip,
    const i64* request,
    const i64* cost,
    const i64* potential,  # NULL: the arcs' costs; else their reduced costs
    i64* reduced,  # the reduced cost of each item, with ``potential``
    Py_ssize_t n,
    i64 n_trips,
    i64 n_requests,
    i64 k,
    u8* keep,
) noexcept nogil:
    """Marks in ``keep`` each trip's and each request's ``k`` cheapest items (ties to the
    earlier item), in one pass; -1 when out of memory. Each node's buffer is one row
    (costs, count, items), so the common test (full, and not cheaper) reads one place."""
    cdef Py_ssize_t n_ends = n_trips + n_requests
    cdef i64 stride = 2 * k + 1
    cdef i64* rows
    cdef i64* row
    cdef Py_ssize_t i, node
    cdef i64 a, t, r, c, j
    if k <= 0:  # no node keeps an arc (numba's buffers would have no room at all)
        return 0
    rows = <i64*>malloc((n_ends * stride + 1) * sizeof(i64))
    if rows == NULL:
        return -1
    for node in range(n_ends):
        rows[node * stride + k] = 0
    # The arcs come by trip, so each trip's row stays in cache while the requests' rows are
    # read in no order: each is fetched 16 arcs ahead (cheapest_per_node on the
    # delivery-hotspots day: 102 ms against numba's 122-135). Where ``arcs`` picks scattered
    # positions, their ends and costs are fetched 32 ahead too (the same day's largest
    # most_negative_per_node: 39-52 ms against 48-62).
    if arcs == NULL:
        for i in range(n):
            if i + 16 < n:
                __builtin_prefetch(rows + (n_trips + request[i + 16]) * stride + k - 1)
            c = cost[i]
            _offer(rows + trip[i] * stride, k, c, i)
            _offer(rows + (n_trips + request[i]) * stride, k, c, i)
    else:
        for i in range(n):
            if i + 32 < n:
                a = arcs[i + 32]
                __builtin_prefetch(trip + a)
                __builtin_prefetch(request + a)
                __builtin_prefetch(cost + a)
            if i + 16 < n:
                __builtin_prefetch(rows + (n_trips + request[arcs[i + 16]]) * stride + k - 1)
            a = arcs[i]
            t = trip[a]
            r = n_trips + request[a]
            c = _reduced(cost[a], potential[t], potential[r])
            reduced[i] = c
            _offer(rows + t * stride, k, c, i)
            _offer(rows + r * stride, k, c, i)
    for node in range(n_ends):
        row = rows + node * stride
        for j in range(row[k]):
            keep[row[k + 1 + j]] = 1
    free(rows)
    return 0


def cheapest_per_node(
    const i64[::1] trip,
    const i64[::1] request,
    const i64[::1] cost,
    i64 n_trips,
    i64 n_requests,
    i64 k,
):
    """Mask of each trip's and each request's ``k`` cheapest arcs (ties to the earlier
    position), in one pass over the arcs: every node keeps a sorted buffer of its ``k``
    best so far, and an arc displaces one only if strictly cheaper."""
    cdef Py_ssize_t n = trip.shape[0]
    keep = np.zeros(n, dtype=np.bool_)
    cdef u8[::1] kv = keep.view(np.uint8)
    cdef int status
    with nogil:
        status = _keep_cheapest(
            NULL, &trip[0], &request[0], &cost[0], NULL, NULL, n, n_trips, n_requests, k, &kv[0]
        )
    if status < 0:
        raise MemoryError()
    return keep


def most_negative_per_node(
    const i64[::1] arcs,  # arc positions, ascending
    const i64[::1] trip,
    const i64[::1] request,
    const i64[::1] cost,
    const i64[::1] potential,  # trips, then requests
    i64 n_trips,
    i64 n_requests,
    i64 k,
):
    """Each trip's and each request's ``k`` arcs of least reduced cost among ``arcs``
    (``c + pi(t) - pi(n_trips + r)``; ties to the earlier position), as
    :func:`cheapest_per_node` picks them on the reduced costs, without gathering every
    arc's ends and reduced cost first. Returns the kept arcs (ascending) and their reduced
    costs."""
    cdef Py_ssize_t n = arcs.shape[0]
    reduced = np.empty(n, dtype=np.int64)
    keep = np.zeros(n, dtype=np.uint8)
    cdef i64[::1] rv = reduced
    cdef u8[::1] kv = keep
    cdef int status
    cdef Py_ssize_t i, count = 0
    with nogil:
        status = _keep_cheapest(
            &arcs[0], &trip[0], &request[0], &cost[0], &potential[0], &rv[0], n, n_trips,
            n_requests, k, &kv[0],
        )
        if status == 0:
            for i in range(n):
                count += kv[i]
    if status < 0:
        raise MemoryError()
    kept = np.empty(count, dtype=np.int64)
    kept_reduced = np.empty(count, dtype=np.int64)
    cdef i64[::1] ka = kept
    cdef i64[::1] kr = kept_reduced
    count = 0
    with nogil:
        for i in range(n):
            if kv[i]:
                ka[count] = arcs[i]
                kr[count] = rv[i]
                count += 1
    return kept, kept_reduced


# ----------------------------------------------------------------- one round's proof


def certificate(
    sub_trip,  # the small problem's arcs: trip, request and cost of each
    sub_request,
    sub_cost,
    used,  # bool per small arc: the flow
    n_trips,
    n_requests,
    offsets,  # where each trip's arcs start when all arcs come grouped by trip
    trip,  # every arc's trip (unread when grouped), request and cost
    request,
    cost,
    skip,  # the small problem's arcs among all
    margin,
):
    """One round's proof in one call: :func:`residual_potentials` of the flow, then, if it
    has potentials (status 0), every arc's check against them (:func:`arcs_below_grouped`
    when ``offsets`` is given, else :func:`arcs_below`). Returns the potentials, the
    status, the arcs below ``margin`` and how many are below zero (empty and -1 without
    potentials)."""
    potential, status = residual_potentials(
        sub_trip, sub_request, sub_cost, used, n_trips, n_requests
    )
    if status != 0:
        return potential, status, np.zeros(0, dtype=np.bool_), -1
    if len(offsets) > 0:
        below, broken = arcs_below_grouped(offsets, request, cost, potential, skip, margin)
    else:
        below, broken = arcs_below(trip, request, cost, potential, n_trips, skip, margin)
    return potential, 0, below, broken
