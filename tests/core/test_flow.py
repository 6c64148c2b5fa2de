"""The solver's own pieces against independent ones: shortest distances with negative
arcs (SciPy's Bellman-Ford) and the cheapest arcs per node (a sort)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import NegativeCycleError, bellman_ford

from crowdship.core._certify import cheapest_per_node, label_correcting


def shortest_distances(n, tails, heads, costs):
    """From a virtual root joined to every node at 0: every node labelled 0."""
    return label_correcting(n, tails, heads, costs, np.zeros(n, dtype=np.int64))


def _scipy_root_distances(n, tails, heads, costs):
    """Distances from a virtual root joined to every node, or None on a negative cycle.

    SciPy sums duplicate entries and drops explicit zeros, so arcs are unique and a
    constant 1 is added to the root's arcs (and taken off again)."""
    root = n
    rows = np.concatenate((tails, np.full(n, root)))
    cols = np.concatenate((heads, np.arange(n)))
    data = np.concatenate((costs, np.ones(n))).astype(float)
    graph = csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
    try:
        dist = bellman_ford(graph, indices=root)
    except NegativeCycleError:
        return None
    return np.minimum(dist[:n] - 1, 0)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 12),
    data=st.data(),
)
def test_shortest_distances_equal_scipy_and_find_negative_cycles(n, data):
    """Random graphs with negative arcs: same distances as SciPy, or both see a cycle."""
    pairs = data.draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda a: a[0] != a[1]),
            unique=True,
            max_size=n * (n - 1),
        )
    )
    nonzero = st.integers(-20, 30).filter(bool)
    costs = data.draw(st.lists(nonzero, min_size=len(pairs), max_size=len(pairs)))
    tails = np.array([a for a, _ in pairs], dtype=np.int64)
    heads = np.array([b for _, b in pairs], dtype=np.int64)
    weights = np.array(costs, dtype=np.int64)
    dist, converged = shortest_distances(n, tails, heads, weights)
    expected = _scipy_root_distances(n, tails, heads, weights)
    assert converged == (expected is not None)
    if converged:
        assert dist.tolist() == expected.astype(np.int64).tolist()


def test_a_long_negative_cycle_is_found_quickly():
    """A ring of 20000 nodes with one negative arc: found by the predecessor check, not
    after 20000 passes around it (some 4e8 relaxations)."""
    n = 20_000
    tails = np.arange(n, dtype=np.int64)
    heads = (tails + 1) % n
    costs = np.ones(n, dtype=np.int64)
    costs[-1] = -n  # the whole ring costs -1
    _, converged = shortest_distances(n, tails, heads, costs)
    assert not converged


@settings(max_examples=100, deadline=None)
@given(
    groups=st.lists(st.integers(0, 5), max_size=60),
    data=st.data(),
    k=st.integers(1, 4),
)
def test_cheapest_per_node_equals_a_stable_sort(groups, data, k):
    """Each group's k cheapest items, ties to the earlier position."""
    costs = data.draw(st.lists(st.integers(0, 5), min_size=len(groups), max_size=len(groups)))
    group = np.array(groups, dtype=np.int64)
    cost = np.array(costs, dtype=np.int64)
    both = cheapest_per_node(group, group, cost, 6, 6, k)  # the same groups on both sides
    expected = np.zeros(len(group), dtype=bool)
    for g in range(6):
        items = np.flatnonzero(group == g)
        expected[items[np.argsort(cost[items], kind="stable")[:k]]] = True
    assert both.tolist() == expected.tolist()


@pytest.mark.parametrize("k", [1, 3])
def test_cheapest_per_node_keeps_small_groups_whole(k):
    group = np.array([0, 0, 1], dtype=np.int64)
    keep = cheapest_per_node(group, group, np.array([5, 1, 2], dtype=np.int64), 2, 2, k)
    assert keep.tolist() == ([False, True, True] if k == 1 else [True, True, True])
