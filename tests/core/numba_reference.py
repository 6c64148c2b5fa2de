"""The numba kernels the compiled match path was ported from (``_paths.pyx``,
``_certify.pyx``, ``_planar.pyx``; until 2026-12-01 they ran in ``crowdship.core._kernels``),
kept here, unchanged, as the reference the ports are tested against output for output
(``test_native_paths.py``, ``test_native_certify.py``, ``test_native_planar.py``): the
same outputs, in the same order, with the same bits. Nothing in ``src`` imports this.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from crowdship.core._kernels import _delivery_rows, _trip_shadow, haversine_minutes


@njit(cache=True)
def _group_offsets(group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Counting sort: positions of each group's items, and where each group starts."""
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for g in group:
        counts[g + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    order = np.empty(len(group), dtype=np.int64)
    for i in range(len(group)):
        order[fill[group[i]]] = i
        fill[group[i]] += 1
    return order, offsets


@njit(cache=True, parallel=True)
def arcs_below(
    trip: np.ndarray,
    request: np.ndarray,
    cost: np.ndarray,
    potential: np.ndarray,
    n_trips: int,
    skip: np.ndarray,
    margin: int,
) -> tuple[np.ndarray, int]:
    """Arcs not in ``skip`` whose reduced cost ``c + pi(t) - pi(n_trips + r)`` is below
    ``margin``, and how many of them are below zero (those break the certificate)."""
    n = len(trip)
    below = np.zeros(n, dtype=np.bool_)
    negative = 0
    for a in prange(n):
        if not skip[a]:
            reduced = cost[a] + potential[trip[a]] - potential[n_trips + request[a]]
            if reduced < margin:
                below[a] = True
                if reduced < 0:
                    negative += 1  # a reduction: prange sums it over the threads
    return below, negative


@njit(cache=True, parallel=True)
def rounded_multiple(values: np.ndarray, scale: float) -> np.ndarray:
    """``rint(values x scale)`` as int64 (halves to even, as NumPy rounds)."""
    out = np.empty(len(values), dtype=np.int64)
    for i in prange(len(values)):
        out[i] = np.int64(np.rint(values[i] * scale))
    return out


@njit(cache=True)
def _parent_cycle(parent: np.ndarray) -> bool:
    """Whether the predecessor graph (each node's last improving neighbour) has a cycle;
    in a label-correcting search such a cycle is always a negative cycle."""
    n = len(parent)
    walk = np.full(n, -1, dtype=np.int64)  # which walk first reached the node
    for start in range(n):
        v = start
        while v >= 0 and walk[v] < 0:
            walk[v] = start
            v = parent[v]
        if v >= 0 and walk[v] == start:
            return True
    return False


#: "No label yet" for :func:`label_correcting` (far beyond any path cost).
UNREACHED = np.int64(1) << np.int64(62)


@njit(cache=True)
def label_correcting(
    n_nodes: int, tails: np.ndarray, heads: np.ndarray, costs: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, bool]:
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


@njit(cache=True)
def _label_correcting(
    n_nodes: int,
    offsets: np.ndarray,  # (n_nodes + 1,): where each node's arcs start in ``order``
    order: np.ndarray,  # arc positions grouped by tail (empty: arc p is at position p)
    heads: np.ndarray,
    costs: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """:func:`label_correcting` on arcs grouped by tail."""
    identity = len(order) == 0
    dist = start.copy()
    parent = np.full(n_nodes, -1, dtype=np.int64)
    in_queue = np.zeros(n_nodes, dtype=np.bool_)
    queue = np.empty(n_nodes + 1, dtype=np.int64)
    size = 0
    for i in range(n_nodes):
        if dist[i] < UNREACHED:
            queue[size] = i
            in_queue[i] = True
            size += 1
    head, tail = 0, size % (n_nodes + 1)
    relaxations = np.zeros(n_nodes, dtype=np.int64)
    since_check = 0
    small_first = True
    while size > 0:
        u = queue[head]
        head = (head + 1) % (n_nodes + 1)
        size -= 1
        in_queue[u] = False
        du = dist[u]
        for p in range(offsets[u], offsets[u + 1]):
            a = p if identity else order[p]
            v = heads[a]
            nd = du + costs[a]
            if nd < dist[v]:
                dist[v] = nd
                parent[v] = u
                relaxations[v] += 1
                if relaxations[v] > n_nodes:
                    if not small_first:
                        return dist, False
                    small_first = False
                    relaxations[:] = 0
                since_check += 1
                if since_check >= n_nodes:
                    since_check = 0
                    if _parent_cycle(parent):
                        return dist, False
                if not in_queue[v]:
                    in_queue[v] = True
                    if small_first and size > 0 and nd < dist[queue[head]]:
                        head = (head + n_nodes) % (n_nodes + 1)
                        queue[head] = v
                    else:
                        queue[tail] = v
                        tail = (tail + 1) % (n_nodes + 1)
                    size += 1
    return dist, True


@njit(cache=True)
def residual_potentials(
    trip: np.ndarray,  # the small problem's arcs: trip, request and integer cost of each
    request: np.ndarray,
    cost: np.ndarray,
    used: np.ndarray,  # bool per arc: the flow, a matching
    n_trips: int,
    n_requests: int,
) -> tuple[np.ndarray, int]:
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
    n_nodes = n_trips + n_requests + 2
    source, sink = n_trips + n_requests, n_trips + n_requests + 1
    m = len(trip)
    matched = np.zeros(n_trips + n_requests, dtype=np.bool_)
    out_offsets = np.zeros(n_nodes + 1, dtype=np.int64)
    in_offsets = np.zeros(n_nodes + 1, dtype=np.int64)
    for i in range(m):
        t, r = trip[i], n_trips + request[i]
        if used[i]:
            matched[t] = True
            matched[r] = True
            t, r = r, t
        out_offsets[t + 1] += 1
        in_offsets[r + 1] += 1
    for v in range(n_trips + n_requests):
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
    n_arcs = m + n_trips + n_requests
    out_head = np.empty(n_arcs, dtype=np.int64)
    out_cost = np.empty(n_arcs, dtype=np.int64)
    in_tail = np.empty(n_arcs, dtype=np.int64)
    in_cost = np.empty(n_arcs, dtype=np.int64)
    out_fill = out_offsets[:-1].copy()
    in_fill = in_offsets[:-1].copy()
    for i in range(m):
        t, r, c = trip[i], n_trips + request[i], cost[i]
        if used[i]:
            t, r, c = r, t, -c
        out_head[out_fill[t]] = r
        out_cost[out_fill[t]] = c
        out_fill[t] += 1
        in_tail[in_fill[r]] = t
        in_cost[in_fill[r]] = c
        in_fill[r] += 1
    for v in range(n_trips + n_requests):
        end = source if v < n_trips else sink
        tail, head = (v, end) if matched[v] == (v < n_trips) else (end, v)
        out_head[out_fill[tail]] = head
        out_cost[out_fill[tail]] = 0
        out_fill[tail] += 1
        in_tail[in_fill[head]] = tail
        in_cost[in_fill[head]] = 0
        in_fill[head] += 1
    identity = np.zeros(0, dtype=np.int64)
    start = np.full(n_nodes, UNREACHED, dtype=np.int64)
    start[source] = 0
    forward, converged = _label_correcting(
        n_nodes, out_offsets, identity, out_head, out_cost, start
    )
    if not converged:
        return forward, 1
    for v in range(n_nodes):
        start[v] = -forward[v] if forward[v] < UNREACHED else UNREACHED
    backward, converged = _label_correcting(n_nodes, in_offsets, identity, in_tail, in_cost, start)
    if not converged:
        return backward, 1
    potential = np.empty(n_nodes, dtype=np.int64)
    for v in range(n_nodes):
        if forward[v] < UNREACHED:
            potential[v] = forward[v]
        elif backward[v] >= UNREACHED:
            return potential, 2
        else:
            potential[v] = -backward[v]
    return potential, 0


@njit(cache=True)
def merge_arcs(
    subset: np.ndarray,  # the small problem's arcs (positions, ascending)
    sub_trip: np.ndarray,  # their trips, requests and costs
    sub_request: np.ndarray,
    sub_cost: np.ndarray,
    add: np.ndarray,  # arcs joining (positions, ascending, none in ``subset``)
    trip: np.ndarray,  # every arc's trip, request and cost
    request: np.ndarray,
    cost: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The small problem with the arcs ``add`` joined, in position order: its positions,
    trips, requests and costs. Only the joining arcs are read from the large arrays (a
    read there is a cache miss; gathering every small arc anew took 10 ms a round)."""
    n, m = len(subset), len(add)
    out = np.empty(n + m, dtype=np.int64)
    out_trip = np.empty(n + m, dtype=trip.dtype)
    out_request = np.empty(n + m, dtype=request.dtype)
    out_cost = np.empty(n + m, dtype=cost.dtype)
    i = j = 0
    for k in range(n + m):
        if j >= m or (i < n and subset[i] < add[j]):
            out[k] = subset[i]
            out_trip[k] = sub_trip[i]
            out_request[k] = sub_request[i]
            out_cost[k] = sub_cost[i]
            i += 1
        else:
            a = add[j]
            out[k] = a
            out_trip[k] = trip[a]
            out_request[k] = request[a]
            out_cost[k] = cost[a]
            j += 1
    return out, out_trip, out_request, out_cost


@njit(cache=True)
def maximum_matching(
    offsets: np.ndarray,  # (n_trips + 1,): where each trip's arcs start in ``order``
    order: np.ndarray,  # arc positions grouped by trip (empty: the arcs are grouped already)
    request: np.ndarray,  # request of each arc
    n_requests: int,
    mate_trip: np.ndarray,  # (n_trips,) arc position matched at each trip, or -1 (in/out)
    bound: int,  # no matching is larger than this (stop there)
) -> int:
    """Grow the matching ``mate_trip`` to a maximum-cardinality one (Hopcroft-Karp: shortest
    augmenting paths in phases, each a breadth-first search from every free trip and
    depth-first searches along its layers). Returns the matching's size.

    A matching of ``bound`` arcs is maximum: the phases stop there, without the last
    breadth-first search that finds no augmenting path (on the delivery-hotspots day the
    third of three, 16 M of the 37 M arcs they scanned)."""
    n_trips = len(offsets) - 1
    grouped = len(order) == 0
    mate_request = np.full(n_requests, -1, dtype=np.int64)  # trip matched at each request
    matched = 0
    for t in range(n_trips):
        if mate_trip[t] >= 0:
            mate_request[request[mate_trip[t]]] = t
            matched += 1
    free_layer = np.int64(1) << np.int64(60)
    layer = np.empty(n_trips, dtype=np.int64)
    queue = np.empty(n_trips, dtype=np.int64)
    cursor = np.empty(n_trips, dtype=np.int64)
    stack = np.empty(n_trips + 1, dtype=np.int64)
    while matched < bound:
        # Layers: free trips at 0; a matched trip one past the trip that reaches its request.
        size = 0
        for t in range(n_trips):
            if mate_trip[t] < 0:
                layer[t] = 0
                queue[size] = t
                size += 1
            else:
                layer[t] = free_layer
        shortest = free_layer
        head = 0
        while head < size:
            t = queue[head]
            head += 1
            if layer[t] >= shortest:
                break
            for p in range(offsets[t], offsets[t + 1]):
                u = mate_request[request[p if grouped else order[p]]]
                if u < 0:
                    if shortest == free_layer:
                        shortest = layer[t] + 1
                elif layer[u] == free_layer:
                    layer[u] = layer[t] + 1
                    queue[size] = u
                    size += 1
        if shortest == free_layer:
            break
        # Vertex-disjoint shortest augmenting paths along the layers (iterative DFS).
        for t in range(n_trips):
            cursor[t] = offsets[t]
        for root in range(n_trips):
            if mate_trip[root] >= 0:
                continue
            depth = 0
            stack[0] = root
            while depth >= 0:
                t = stack[depth]
                advanced = False
                while cursor[t] < offsets[t + 1]:
                    a = cursor[t] if grouped else order[cursor[t]]
                    cursor[t] += 1
                    u = mate_request[request[a]]
                    if u < 0:
                        if layer[t] + 1 != shortest:
                            continue
                        # Augment along the stack: each trip takes the arc it came through.
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
                    layer[t] = free_layer  # a dead end for the rest of this phase
                    depth -= 1
    return matched


@njit(cache=True)
def stable_order(values: np.ndarray) -> np.ndarray:
    """Positions of ``values`` in ascending order, ties by position (NumPy's stable
    argsort); by counting when the values span at most a few times their number (integer
    costs on a day do: 20 to 25 ms -> 2 to 3 ms for 240,000 costs)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = values.min(), values.max()
    span = np.int64(high) - np.int64(low)
    if span > 4 * n + 1024:
        return np.argsort(values, kind="mergesort")
    counts = np.zeros(span + 2, dtype=np.int64)
    for i in range(n):
        counts[np.int64(values[i]) - low + 1] += 1
    for v in range(span + 1):
        counts[v + 1] += counts[v]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        v = np.int64(values[i]) - low
        order[counts[v]] = i
        counts[v] += 1
    return order


@njit(cache=True)
def greedy_matching(
    cost: np.ndarray, trip: np.ndarray, request: np.ndarray, n_trips: int, n_requests: int
) -> np.ndarray:
    """Arc matched at each trip (or -1), taking the arcs cheapest first (ties by position)
    when both ends are still free."""
    mate_trip = np.full(n_trips, -1, dtype=np.int64)
    taken = np.zeros(n_requests, dtype=np.bool_)
    for a in stable_order(cost):
        if mate_trip[trip[a]] < 0 and not taken[request[a]]:
            mate_trip[trip[a]] = a
            taken[request[a]] = True
    return mate_trip


@njit(cache=True)
def trip_groups(trip: np.ndarray, n_trips: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each trip's arcs start, and the arc positions grouped by trip; the positions
    are empty when the arcs already come grouped by trip (as the candidate index writes
    them), since then a group is a plain range of positions."""
    n = len(trip)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    previous = trip[0] if n else 0
    for i in range(n):  # one read of the trips: counted while checking the order
        t = trip[i]
        if t < previous:
            order, offsets = _group_offsets(trip, n_trips)
            return offsets, order
        offsets[t + 1] += 1
        previous = t
    for t in range(n_trips):
        offsets[t + 1] += offsets[t]
    return offsets, np.zeros(0, dtype=np.int64)


@njit(cache=True)
def cheap_matching(
    cost: np.ndarray,  # the cheap arcs: integer cost, trip and request of each
    trip: np.ndarray,
    request: np.ndarray,
    n_trips: int,
    n_requests: int,
    bound: int,  # no matching is larger than this
) -> tuple[np.ndarray, int]:
    """A maximum matching of the cheap arcs from the greedy one (cheapest first): the arc
    matched at each trip (or -1) and the matching's size. One compiled call for
    :func:`greedy_matching`, :func:`trip_groups` and :func:`maximum_matching` (each kernel
    loaded from numba's cache costs a fresh process 3 to 7 ms)."""
    mate = greedy_matching(cost, trip, request, n_trips, n_requests)
    offsets, order = trip_groups(trip, n_trips)
    size = maximum_matching(offsets, order, request, n_requests, mate, bound)
    return mate, size


@njit(cache=True)
def cheapest_per_node(
    trip: np.ndarray, request: np.ndarray, cost: np.ndarray, n_trips: int, n_requests: int, k: int
) -> np.ndarray:
    """Mask of each trip's and each request's ``k`` cheapest arcs (ties to the earlier
    position), in one pass over the arcs: every node keeps a sorted buffer of its ``k``
    best so far, and an arc displaces one only if strictly cheaper."""
    n = len(trip)
    best_cost = np.empty((n_trips + n_requests, k), dtype=cost.dtype)
    best_arc = np.empty((n_trips + n_requests, k), dtype=np.int64)
    size = np.zeros(n_trips + n_requests, dtype=np.int64)
    for a in range(n):
        c = cost[a]
        for node in (trip[a], n_trips + request[a]):
            m = size[node]
            if m == k and c >= best_cost[node, k - 1]:
                continue
            j = m if m < k else k - 1
            while j > 0 and best_cost[node, j - 1] > c:
                best_cost[node, j] = best_cost[node, j - 1]
                best_arc[node, j] = best_arc[node, j - 1]
                j -= 1
            best_cost[node, j] = c
            best_arc[node, j] = a
            if m < k:
                size[node] = m + 1
    keep = np.zeros(n, dtype=np.bool_)
    for node in range(n_trips + n_requests):
        for j in range(size[node]):
            keep[best_arc[node, j]] = True
    return keep


@njit(cache=True)
def _heap_push(keys: np.ndarray, items: np.ndarray, size: int, key: int, item: int) -> int:
    """Push onto a 4-ary min-heap: parents move down into the hole, the new entry is
    written once (a third of the binary heap's time in the shortest-path solves)."""
    i = size
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


@njit(cache=True)
def _heap_pop(keys: np.ndarray, items: np.ndarray, size: int) -> tuple[int, int, int]:
    """Pop the least key of a 4-ary min-heap (the last entry sinks through a hole)."""
    key, item = keys[0], items[0]
    size -= 1
    last_key, last_item = keys[size], items[size]
    i = 0
    while True:
        child = 4 * i + 1
        if child >= size:
            break
        best, best_key = child, keys[child]
        for q in range(child + 1, min(child + 4, size)):
            if keys[q] < best_key:
                best, best_key = q, keys[q]
        if last_key <= best_key:
            break
        keys[i] = best_key
        items[i] = items[best]
        i = best
    keys[i] = last_key
    items[i] = last_item
    return key, item, size


@njit(cache=True)
def shortest_augmenting_paths(
    row_offsets: np.ndarray,  # (n_rows + 1,): where each row's arcs start in ``row_arcs``
    row_arcs: np.ndarray,  # arc positions grouped by row (empty: arc p is at position p)
    arc_row: np.ndarray,  # row of each arc
    arc_col: np.ndarray,  # column of each arc
    cost: np.ndarray,  # integer cost of each arc
    n_cols: int,
    big: int,  # cost of leaving a row unmatched (above any path's cost)
    row_order: np.ndarray,  # the order in which rows get their paths (any order is exact)
) -> tuple[np.ndarray, int]:
    """Most matches, then least cost, on a sparse bipartite graph: each row in turn gets a
    shortest augmenting path (Dijkstra on reduced costs under node potentials, which every
    augmentation keeps valid: successive shortest paths, as in Jonker-Volgenant). Every row
    also has a private "unmatched" column of cost ``big``, so every row is assigned and the
    row-by-row order is exact; ``big`` above any path's cost puts the number of matches
    first. Returns the arc matched at each row (or -1), and the number of arcs scanned."""
    n_rows = len(row_offsets) - 1
    identity = len(row_arcs) == 0  # the arcs come laid out row by row: arc p is at p
    n_nodes = n_cols + n_rows  # real columns, then each row's private column
    pi_col = np.zeros(n_nodes, dtype=np.int64)
    pi_row = np.zeros(n_rows, dtype=np.int64)
    for i in range(n_rows):
        low = big
        for p in range(row_offsets[i], row_offsets[i + 1]):
            low = min(low, cost[p if identity else row_arcs[p]])
        pi_row[i] = -low
    mate_row = np.full(n_rows, -1, dtype=np.int64)  # arc, or -2 for the private column
    mate_col = np.full(n_cols, -1, dtype=np.int64)
    dist = np.full(n_nodes, UNREACHED, dtype=np.int64)
    pred = np.full(n_nodes, -1, dtype=np.int64)  # arc into a real column, or the row
    done = np.zeros(n_nodes, dtype=np.bool_)
    touched = np.empty(n_nodes, dtype=np.int64)
    finished = np.empty(n_nodes, dtype=np.int64)
    heap_size_max = len(arc_col) + n_rows + 1
    keys = np.empty(heap_size_max, dtype=np.int64)
    items = np.empty(heap_size_max, dtype=np.int64)
    scanned = 0
    for start in row_order:
        n_touched = 0
        n_finished = 0
        size = 0
        row, at = start, 0  # scan ``row`` reached at distance ``at``
        end, end_dist = -1, 0
        while True:
            base = at + pi_row[row]
            scanned += row_offsets[row + 1] - row_offsets[row]
            # Reduced costs are >= 0, so a final column (the row's own among them: its
            # arc is tight) is never improved: no test for it is needed.
            for p in range(row_offsets[row], row_offsets[row + 1]):
                a = p if identity else row_arcs[p]
                j = arc_col[a]
                d = base + cost[a] - pi_col[j]
                if d < dist[j]:
                    if dist[j] == UNREACHED:
                        touched[n_touched] = j
                        n_touched += 1
                    dist[j] = d
                    pred[j] = a
                    size = _heap_push(keys, items, size, d, j)
            own = n_cols + row
            if mate_row[row] != -2:
                d = base + big - pi_col[own]
                if d < dist[own]:
                    if dist[own] == UNREACHED:
                        touched[n_touched] = own
                        n_touched += 1
                    dist[own] = d
                    pred[own] = row
                    size = _heap_push(keys, items, size, d, own)
            # The nearest column not yet final.
            x = -1
            while size > 0:
                d, x, size = _heap_pop(keys, items, size)
                if not done[x] and d == dist[x]:
                    break
                x = -1
            if x < 0:  # cannot happen: the row's private column is always reachable
                break
            done[x] = True
            finished[n_finished] = x
            n_finished += 1
            if x >= n_cols or mate_col[x] < 0:
                end, end_dist = x, dist[x]
                break
            row, at = mate_col[x], dist[x]
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
            dist[x] = UNREACHED
            done[x] = False
            pred[x] = -1
    for i in range(n_rows):
        if mate_row[i] < 0:
            mate_row[i] = -1
    return mate_row, scanned


@njit(cache=True)
def sparse_assignment(
    trip: np.ndarray, request: np.ndarray, cost: np.ndarray, n_trips: int, n_requests: int
) -> tuple[np.ndarray, int]:
    """Most matches, then least cost (:func:`shortest_augmenting_paths`), rows on the side
    with fewer nodes that have an arc (requests on a tie). The arcs are grouped by row and
    laid out row by row (each search reads a row's columns and costs in one stretch of
    memory), and the rows with the fewest arcs get their paths first: the most constrained
    ones take their columns before others would have to be displaced from them (about a
    third fewer arcs scanned). Returns the matched arcs (positions, ascending) and the
    number of arcs scanned."""
    n = len(trip)
    seen_trip = np.zeros(n_trips, dtype=np.bool_)
    seen_request = np.zeros(n_requests, dtype=np.bool_)
    top = np.int64(0)  # the largest |cost|
    for a in range(n):
        seen_trip[trip[a]] = True
        seen_request[request[a]] = True
        c = np.int64(cost[a])
        if c > top:
            top = c
        elif -c > top:
            top = -c
    by_request = seen_request.sum() <= seen_trip.sum()
    rows, cols = (request, trip) if by_request else (trip, request)
    n_rows, n_cols = (n_requests, n_trips) if by_request else (n_trips, n_requests)
    order, offsets = _group_offsets(rows, n_rows)
    big = int((top + 1) * (2 * n_rows + 2))
    laid_rows = np.empty(n, dtype=np.int64)
    laid_cols = np.empty(n, dtype=np.int64)
    laid_cost = np.empty(n, dtype=np.int64)
    for p in range(n):
        a = order[p]
        laid_rows[p] = rows[a]
        laid_cols[p] = cols[a]
        laid_cost[p] = cost[a]
    # Rows with fewer arcs first and, among rows with as many, the row whose cheapest arc
    # costs most (the delivery-hotspots day's five small problems: 30.0 -> 28.6 M arcs
    # scanned; rows in position order on a tie before).
    cheapest = np.zeros(n_rows, dtype=np.int64)
    for i in range(n_rows):
        if offsets[i + 1] > offsets[i]:
            cheapest[i] = laid_cost[offsets[i] : offsets[i + 1]].min()
    low, high = cheapest.min(), cheapest.max()
    if high - low >= (np.int64(1) << np.int64(62)) // (n + 1):  # the key would overflow
        low = high
    key = np.empty(n_rows, dtype=np.int64)
    for i in range(n_rows):
        key[i] = (offsets[i + 1] - offsets[i]) * (high - low + 1) + min(
            high - cheapest[i], high - low
        )
    row_order = stable_order(key)
    mate, scanned = shortest_augmenting_paths(
        offsets,
        np.zeros(0, dtype=np.int64),
        laid_rows,
        laid_cols,
        laid_cost,
        n_cols,
        big,
        row_order,
    )
    matched = 0
    for i in range(n_rows):
        if mate[i] >= 0:
            matched += 1
    selected = np.empty(matched, dtype=np.int64)
    k = 0
    for i in range(n_rows):
        if mate[i] >= 0:
            selected[k] = order[mate[i]]
            k += 1
    selected.sort()
    return selected, scanned


@njit(cache=True)
def repair_flow(
    n_trips: int,
    n_requests: int,
    trip: np.ndarray,  # the small problem's arcs: trip, request and integer cost of each
    request: np.ndarray,
    cost: np.ndarray,
    used: np.ndarray,  # (in/out) bool per arc: the arcs the flow uses, a matching
    potential: np.ndarray,  # (in/out) trips, requests, source, sink: valid on the old arcs
    max_paths: int,  # give up if more units than this have to move
    budget: int,  # give up once more arcs than this have been scanned
) -> tuple[bool, int]:
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
    n_arcs = len(trip)
    source = n_trips + n_requests
    sink = source + 1
    n_nodes = sink + 1
    mate_trip = np.full(n_trips, -1, dtype=np.int64)
    mate_request = np.full(n_requests, -1, dtype=np.int64)
    for a in range(n_arcs):
        if used[a]:
            mate_trip[trip[a]] = a
            mate_request[request[a]] = a
    fed = mate_trip >= 0  # source -> trip carries a unit
    feeds = mate_request >= 0  # request -> sink carries a unit
    excess = np.zeros(n_trips, dtype=np.int64)
    deficit = np.zeros(n_requests, dtype=np.bool_)
    open_trip = np.zeros(n_trips, dtype=np.bool_)
    open_request = np.zeros(n_requests, dtype=np.bool_)
    for a in range(n_arcs):
        t, r = trip[a], request[a]
        if used[a] or open_trip[t] or open_request[r]:
            continue
        if cost[a] + potential[t] - potential[n_trips + r] >= 0:
            continue
        if feeds[r]:
            open_request[r] = True
            old = mate_request[r]
            if old >= 0:
                used[old] = False
                mate_trip[trip[old]] = -1
                mate_request[r] = -1
                excess[trip[old]] += 1
                deficit[r] = True
        elif fed[t]:
            open_trip[t] = True
            old = mate_trip[t]
            if old >= 0:
                used[old] = False
                mate_request[request[old]] = -1
                mate_trip[t] = -1
                excess[t] += 1
                deficit[request[old]] = True
        else:
            return False, 0
    excess_trips = np.flatnonzero(excess > 0)
    if len(excess_trips) > max_paths:  # before any other work: most failures end here
        return False, 0
    order, offsets = _group_offsets(trip, n_trips)  # arcs grouped by trip
    for t in range(n_trips):
        if open_trip[t]:
            high = potential[t]
            for p in range(offsets[t], offsets[t + 1]):
                a = order[p]
                high = max(high, potential[n_trips + request[a]] - cost[a])
            potential[t] = high
    for a in range(n_arcs):
        r = request[a]
        if open_request[r]:
            potential[n_trips + r] = min(potential[n_trips + r], cost[a] + potential[trip[a]])
    dist = np.full(n_nodes, UNREACHED, dtype=np.int64)
    pred = np.full(n_nodes, -1, dtype=np.int64)  # previous node
    pred_arc = np.full(n_nodes, -1, dtype=np.int64)  # arc between them (-1: source, sink)
    done = np.zeros(n_nodes, dtype=np.bool_)
    touched = np.empty(n_nodes, dtype=np.int64)
    finished = np.empty(n_nodes, dtype=np.int64)
    heap_max = n_arcs + 3 * n_nodes + 1
    keys = np.empty(heap_max, dtype=np.int64)
    items = np.empty(heap_max, dtype=np.int64)
    scanned = 0
    for i in range(len(excess_trips)):
        x = int(excess_trips[i])
        if scanned > budget:
            return False, scanned
        n_touched = 1
        n_finished = 0
        touched[0] = x
        dist[x] = 0
        size = _heap_push(keys, items, 0, 0, x)
        end, length = -1, 0
        while size > 0:
            d, u, size = _heap_pop(keys, items, size)
            if done[u] or d != dist[u]:
                continue
            done[u] = True
            finished[n_finished] = u
            n_finished += 1
            if u >= n_trips and u < source and deficit[u - n_trips]:
                end, length = u, d
                break
            pu = potential[u]
            if u < n_trips:
                scanned += offsets[u + 1] - offsets[u]
                for p in range(offsets[u], offsets[u + 1]):
                    a = order[p]
                    if used[a]:
                        continue
                    v = n_trips + request[a]
                    nd = d + cost[a] + pu - potential[v]
                    if nd < dist[v]:
                        if dist[v] == UNREACHED:
                            touched[n_touched] = v
                            n_touched += 1
                        dist[v], pred[v], pred_arc[v] = nd, u, a
                        size = _heap_push(keys, items, size, nd, v)
                if fed[u]:
                    v = source
                    nd = d + pu - potential[v]
                    if nd < dist[v]:
                        if dist[v] == UNREACHED:
                            touched[n_touched] = v
                            n_touched += 1
                        dist[v], pred[v], pred_arc[v] = nd, u, -1
                        size = _heap_push(keys, items, size, nd, v)
            elif u < source:
                r = u - n_trips
                a = mate_request[r]
                if a >= 0:
                    v = trip[a]
                    nd = d - cost[a] + pu - potential[v]
                    if nd < dist[v]:
                        if dist[v] == UNREACHED:
                            touched[n_touched] = v
                            n_touched += 1
                        dist[v], pred[v], pred_arc[v] = nd, u, a
                        size = _heap_push(keys, items, size, nd, v)
                if not feeds[r]:
                    v = sink
                    nd = d + pu - potential[v]
                    if nd < dist[v]:
                        if dist[v] == UNREACHED:
                            touched[n_touched] = v
                            n_touched += 1
                        dist[v], pred[v], pred_arc[v] = nd, u, -1
                        size = _heap_push(keys, items, size, nd, v)
            elif u == source:
                scanned += n_trips
                for v in range(n_trips):
                    if fed[v] or done[v]:
                        continue
                    nd = d + pu - potential[v]
                    if nd < dist[v]:
                        if dist[v] == UNREACHED:
                            touched[n_touched] = v
                            n_touched += 1
                        dist[v], pred[v], pred_arc[v] = nd, u, -1
                        size = _heap_push(keys, items, size, nd, v)
            else:
                scanned += n_requests
                for r in range(n_requests):
                    v = n_trips + r
                    if not feeds[r] or done[v]:
                        continue
                    nd = d + pu - potential[v]
                    if nd < dist[v]:
                        if dist[v] == UNREACHED:
                            touched[n_touched] = v
                            n_touched += 1
                        dist[v], pred[v], pred_arc[v] = nd, u, -1
                        size = _heap_push(keys, items, size, nd, v)
        if end < 0:  # cannot happen: the unit can go back the way it came
            return False, scanned
        for f in range(n_finished):
            v = finished[f]
            potential[v] += dist[v] - length
        # Augment along the path, from its end back to the excess trip.
        v = end
        while v != x:
            u = pred[v]
            a = pred_arc[v]
            if u < n_trips and v >= n_trips and v < source:  # trip -> request: use it
                used[a] = True
                mate_trip[u] = a
                mate_request[v - n_trips] = a
            elif u >= n_trips and u < source and v < n_trips:  # request -> trip: drop it
                used[a] = False
                if mate_trip[v] == a:
                    mate_trip[v] = -1
                if mate_request[u - n_trips] == a:
                    mate_request[u - n_trips] = -1
            elif v == source:  # the trip hands its unit back
                fed[u] = False
            elif u == source:
                fed[v] = True
            elif v == sink:
                feeds[u - n_trips] = True
            else:  # sink -> request
                feeds[v - n_trips] = False
            v = u
        excess[x] -= 1
        deficit[end - n_trips] = False
        for f in range(n_touched):
            v = touched[f]
            dist[v] = UNREACHED
            done[v] = False
            pred[v] = -1
            pred_arc[v] = -1
    return True, scanned


@njit(cache=True, parallel=True)
def arcs_below_grouped(
    offsets: np.ndarray,  # (n_trips + 1,): the arcs come grouped by trip, trip t's from here
    request: np.ndarray,
    cost: np.ndarray,
    potential: np.ndarray,
    skip: np.ndarray,
    margin: int,
) -> tuple[np.ndarray, int]:
    """:func:`arcs_below` on arcs grouped by trip: the same answer without reading each
    arc's trip (a third less memory read per round on the largest days)."""
    n_trips = len(offsets) - 1
    below = np.zeros(len(request), dtype=np.bool_)
    negative = 0
    for t in prange(n_trips):
        base = potential[t]
        for a in range(offsets[t], offsets[t + 1]):
            if not skip[a]:
                reduced = cost[a] + base - potential[n_trips + request[a]]
                if reduced < margin:
                    below[a] = True
                    if reduced < 0:
                        negative += 1
    return below, negative


@njit(cache=True)
def certificate(
    sub_trip: np.ndarray,  # the small problem's arcs: trip, request and cost of each
    sub_request: np.ndarray,
    sub_cost: np.ndarray,
    used: np.ndarray,  # bool per small arc: the flow
    n_trips: int,
    n_requests: int,
    offsets: np.ndarray,  # where each trip's arcs start when all arcs come grouped by trip
    trip: np.ndarray,  # every arc's trip (unread when grouped), request and cost
    request: np.ndarray,
    cost: np.ndarray,
    skip: np.ndarray,  # the small problem's arcs among all
    margin: int,
) -> tuple[np.ndarray, int, np.ndarray, int]:
    """One round's proof in one compiled call (each kernel loaded from numba's cache costs
    a fresh process 3 to 7 ms): :func:`residual_potentials` of the flow, then, if it has
    potentials (status 0), every arc's check against them (:func:`arcs_below_grouped` when
    ``offsets`` is given, else :func:`arcs_below`). Returns the potentials, the status, the
    arcs below ``margin`` and how many are below zero (empty and -1 without potentials)."""
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


@njit(cache=True)
def most_negative_per_node(
    arcs: np.ndarray,  # arc positions, ascending
    trip: np.ndarray,
    request: np.ndarray,
    cost: np.ndarray,
    potential: np.ndarray,  # trips, then requests
    n_trips: int,
    n_requests: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each trip's and each request's ``k`` arcs of least reduced cost among ``arcs``
    (``c + pi(t) - pi(n_trips + r)``; ties to the earlier position), as
    :func:`cheapest_per_node` picks them on the reduced costs, without gathering every
    arc's ends and reduced cost first. Returns the kept arcs (ascending) and their reduced
    costs."""
    n = len(arcs)
    reduced = np.empty(n, dtype=np.int64)
    best_cost = np.empty((n_trips + n_requests, k), dtype=np.int64)
    best_arc = np.empty((n_trips + n_requests, k), dtype=np.int64)
    size = np.zeros(n_trips + n_requests, dtype=np.int64)
    for i in range(n):
        a = arcs[i]
        t, r = trip[a], request[a]
        c = cost[a] + potential[t] - potential[n_trips + r]
        reduced[i] = c
        for node in (t, n_trips + r):
            m = size[node]
            if m == k and c >= best_cost[node, k - 1]:
                continue
            j = m if m < k else k - 1
            while j > 0 and best_cost[node, j - 1] > c:
                best_cost[node, j] = best_cost[node, j - 1]
                best_arc[node, j] = best_arc[node, j - 1]
                j -= 1
            best_cost[node, j] = c
            best_arc[node, j] = i
            if m < k:
                size[node] = m + 1
    keep = np.zeros(n, dtype=np.bool_)
    for node in range(n_trips + n_requests):
        for j in range(size[node]):
            keep[best_arc[node, j]] = True
    kept = np.flatnonzero(keep)
    return arcs[kept], reduced[kept]


@njit(cache=True, inline="always")
def _planar_rule(
    row: int,
    o_x: float,
    o_y: float,
    d_x: float,
    d_y: float,
    leave: float,  # the trip's earliest departure
    arrive_by: float,  # its latest arrival + tolerance
    direct: float,  # its direct minutes
    detour_by: float,  # its allowed detour + tolerance
    pickup_x: np.ndarray,
    pickup_y: np.ndarray,
    delivery_x: np.ndarray,
    delivery_y: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    rate: float,
    tolerance: float,
) -> tuple[np.int64, float]:
    """The rule for one trip and one row, with Euclidean legs: whether it holds (1 or 0), and the
    detour (the travel model's arithmetic: sqrt(dx^2 + dy^2) x minutes per km)."""
    vx = o_x - pickup_x[row]
    vy = o_y - pickup_y[row]
    to_pickup = np.sqrt(vx * vx + vy * vy) * rate
    wx = delivery_x[row] - d_x
    wy = delivery_y[row] - d_y
    from_delivery = np.sqrt(wx * wx + wy * wy) * rate
    detour = to_pickup + direct_request[row] + from_delivery - direct
    # Written without ``max`` and ``&`` (which keep the compiler from vectorising the loop).
    at_pickup = leave + to_pickup
    opens = earliest_pickup[row]
    pickup = at_pickup if at_pickup > opens else opens
    delivery = pickup + direct_request[row]
    ok = (
        np.int64(delivery <= latest_delivery[row] + tolerance)
        * np.int64(delivery + from_delivery <= arrive_by)
        * np.int64(detour <= detour_by)
    )
    return ok, detour


@njit(cache=True, parallel=True, fastmath=False)
def planar_pairs(
    fill: bool,  # False: count each trip's pairs; True: write them at ``offsets``
    offsets: np.ndarray,  # (n_trips + 1,) int64: where each trip's output starts (fill)
    counts: np.ndarray,  # (n_trips,) int64: pairs found per trip (counting)
    e_origin: np.ndarray,  # (n_trips, 2) trip origins, km
    e_dest: np.ndarray,
    centre: np.ndarray,  # (n_trips, 2) ellipse centres
    radius: np.ndarray,  # (n_trips,) ball radius containing the ellipse, km (< 0: none)
    earliest_departure: np.ndarray,
    latest_arrival: np.ndarray,
    direct_trip: np.ndarray,
    allowed_detour: np.ndarray,
    pickup_x: np.ndarray,  # per row (sorted by pickup cell, then delivery cell), km
    pickup_y: np.ndarray,
    delivery_x: np.ndarray,
    delivery_y: np.ndarray,
    earliest_pickup: np.ndarray,
    latest_delivery: np.ndarray,
    direct_request: np.ndarray,
    request_id: np.ndarray,  # original request index per sorted row
    cell_start: np.ndarray,  # (nx * ny + 1,) row where each pickup cell begins
    cell_box: np.ndarray,  # (nx * ny, 4) the pickups' bounding box per cell, grid coordinates
    delivery_cell: np.ndarray,  # per row: the delivery's cell (ascending in a pickup cell)
    row_table: np.ndarray,  # :func:`delivery_row_table` (or empty)
    grid_dims: np.ndarray,  # the dimensions the grid's x and y are laid over
    grid_origin: np.ndarray,  # (2,) lower corner
    cell_km: float,
    nx: int,
    ny: int,
    rate: float,  # minutes per km (exact for planar travel; else a lower bound)
    tolerance: float,
    out_trip: np.ndarray,  # (pairs,) written at ``offsets``
    out_request: np.ndarray,
    out_detour: np.ndarray,  # clipped at 0
) -> None:
    """The exact rule on planar points (both joining legs Euclidean, so exact), row by row
    over the rows under each trip's ellipse and after each pickup cell: once to count, once
    to write. The rule's loops have no branch per row (the count adds the rule's truth; the
    writing pass checks a range's rows into buffers, then writes the rows that hold), so
    the compiler runs several rows at once with vector instructions; that checks each row
    twice faster than a marked single pass.
    Legs, detours and the rule are computed as :func:`grid_candidates` and the travel model
    compute them, in the same order of operations: the same pairs, the same detours."""
    n_trips = e_origin.shape[0]
    dx, dy = grid_dims[0], grid_dims[1]
    longest = 0  # the most rows of one pickup cell: the longest range a trip reads
    for cell in range(len(cell_start) - 1):
        longest = max(longest, cell_start[cell + 1] - cell_start[cell])
    for t in prange(n_trips):
        if radius[t] < 0:
            continue
        x0, x1, y_lo, y_hi, a, pad = _trip_shadow(
            t, e_origin, e_dest, centre, radius, dx, dy, grid_origin, cell_km, nx, ny
        )
        o_x, o_y = e_origin[t, 0], e_origin[t, 1]
        d_x, d_y = e_dest[t, 0], e_dest[t, 1]
        ox, oy = e_origin[t, dx] - grid_origin[0], e_origin[t, dy] - grid_origin[1]
        tx, ty = e_dest[t, dx] - grid_origin[0], e_dest[t, dy] - grid_origin[1]
        leave = earliest_departure[t]
        arrive_by = latest_arrival[t] + tolerance
        direct = direct_trip[t]
        detour_by = allowed_detour[t] + tolerance
        found = np.int64(0)
        write = offsets[t] if fill else 0
        holds = np.empty(longest if fill else 0, dtype=np.int64)
        detours = np.empty(longest if fill else 0)
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
                    if fill:
                        # The rule into buffers (vector instructions), then the writes.
                        for i in range(last - first):
                            ok, detour = _planar_rule(
                                first + i, o_x, o_y, d_x, d_y, leave, arrive_by, direct,
                                detour_by, pickup_x, pickup_y, delivery_x, delivery_y,
                                earliest_pickup, latest_delivery, direct_request, rate,
                                tolerance,
                            )  # fmt: skip
                            holds[i] = ok
                            detours[i] = detour
                        for i in range(last - first):
                            if holds[i]:
                                out_request[write] = request_id[first + i]
                                out_detour[write] = max(detours[i], 0.0)
                                write += 1
                    else:
                        for row in range(first, last):
                            ok, _ = _planar_rule(
                                row, o_x, o_y, d_x, d_y, leave, arrive_by, direct, detour_by,
                                pickup_x, pickup_y, delivery_x, delivery_y, earliest_pickup,
                                latest_delivery, direct_request, rate, tolerance,
                            )  # fmt: skip
                            found += ok
        if fill:
            out_trip[offsets[t] : offsets[t + 1]] = t
        else:
            counts[t] = found


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
