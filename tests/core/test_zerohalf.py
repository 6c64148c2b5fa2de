"""Zero-half cuts: every cut holds for every 0-1 point of its program (brute force), cuts
off the LP solution it was separated from by what it says, and the triangle's cut is found."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from crowdship.core import zerohalf


def _points(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def _feasible(rows: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    points = _points(rows.shape[1])
    activity = points @ rows.T.toarray()
    return points[((activity >= lower - 1e-9) & (activity <= upper + 1e-9)).all(axis=1)]


def test_the_odd_cycle_of_three_half_columns_is_cut_off():
    # Three columns pairwise in a row of their own, each at 1/2: rows' sum 3/2 <= 3/2, the
    # cut x1 + x2 + x3 <= 1 (the rows halved, 3/2 rounded down) cuts off 1/2.
    rows = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=float))
    cuts = zerohalf.separate(
        rows, np.full(3, -np.inf), np.ones(3), np.full(3, 0.5), np.ones(3, bool)
    )
    assert len(cuts) == 1
    assert cuts.matrix.toarray().tolist() == [[1.0, 1.0, 1.0]]
    assert cuts.rhs.tolist() == [1.0]
    assert cuts.violation.tolist() == pytest.approx([0.5])


def test_columns_fixed_at_zero_get_no_coefficient_and_no_say():
    # The same cycle, and a fourth column in every row, fixed at 0: the cut leaves it out.
    rows = sp.csr_matrix(np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 1, 1]], dtype=float))
    free = np.array([True, True, True, False])
    x = np.array([0.5, 0.5, 0.5, 0.7])  # (a value where the column is fixed: ignored)
    cuts = zerohalf.separate(rows, np.full(3, -np.inf), np.ones(3), x, free)
    assert len(cuts) == 1
    assert cuts.matrix.toarray().tolist() == [[1.0, 1.0, 1.0, 0.0]]


def test_an_lp_solution_without_odd_structure_gets_no_cut():
    rows = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=float))
    cuts = zerohalf.separate(
        rows, np.full(2, -np.inf), np.ones(2), np.array([0.5, 0.5, 0.5]), np.ones(3, bool)
    )
    assert len(cuts) == 0


def test_cuts_kept_are_never_nearly_parallel_and_each_odd_cycle_is_cut_once():
    # Two triangles (columns 0-2 and 3-5), the first with its rows twice over (the same
    # cut again by other rows), each at 1/2: one cut per triangle, the two orthogonal.
    triangle = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=float)
    zero = np.zeros((3, 3))
    rows = sp.csr_matrix(np.block([[triangle, zero], [triangle, zero], [zero, triangle]]))
    cuts = zerohalf.separate(
        rows, np.full(9, -np.inf), np.ones(9), np.full(6, 0.5), np.ones(6, bool)
    )
    assert sorted(cuts.matrix.toarray().tolist()) == [
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
    ]
    # A bigger random one: no two kept cuts are more than MOST_PARALLEL alike.
    rng = np.random.default_rng(3)
    dense = (rng.random((60, 40)) < 0.08).astype(float)
    big = sp.csr_matrix(dense)
    x = linprog(-rng.random(40), A_ub=dense, b_ub=np.ones(60), bounds=(0, 1), method="highs").x
    found = zerohalf.separate(big, np.full(60, -np.inf), np.ones(60), x, np.ones(40, bool))
    assert len(found) >= 2
    unit = found.matrix.toarray()
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, 0.0)
    assert cosine.max() <= zerohalf.MOST_PARALLEL + 1e-12


@st.composite
def programs(draw):
    """A small 0-1 program like the proof's: set-packing rows (requests' and trips'), a few
    rows with right-hand side 2 (the subset-row cuts on five rows), some equalities (the
    rows every better packing fills), a count row of sizes; and a cost."""
    n = draw(st.integers(4, 10))
    m = draw(st.integers(3, 9))
    dense = draw(
        st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n), min_size=m, max_size=m)
    )
    a = np.array(dense, dtype=float)
    upper = np.ones(m)
    lower = np.full(m, -np.inf)
    for i in range(m):
        kind = draw(st.sampled_from(["packing", "two", "equality", "sizes"]))
        if kind == "two":
            upper[i] = 2.0
        elif kind == "equality":
            lower[i] = 1.0
        elif kind == "sizes":
            a[i] = a[i] * np.array(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
            upper[i] = float(draw(st.integers(1, 4)))
    cost = np.array(draw(st.lists(st.integers(1, 20), min_size=n, max_size=n)), dtype=float)
    free = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return sp.csr_matrix(a), lower, upper, cost, free


@given(programs())
@settings(max_examples=150, deadline=None)
def test_every_cut_holds_for_every_packing_and_cuts_the_lp_off(program):
    rows, lower, upper, cost, free = program
    n = rows.shape[1]
    bounds = [(0.0, 1.0 if f else 0.0) for f in free]
    a = rows.toarray()
    has_lower = np.isfinite(lower)
    a_ub = np.vstack([a, -a[has_lower]])
    b_ub = np.r_[upper, -lower[has_lower]]
    lp = linprog(-cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if lp.status != 0:
        return  # no LP solution to separate
    cuts = zerohalf.separate(rows, lower, upper, lp.x, free)
    if len(cuts) == 0:
        return
    coefficients = cuts.matrix.toarray()
    assert np.allclose(coefficients, np.round(coefficients))
    assert np.allclose(cuts.rhs, np.round(cuts.rhs))
    # Cut off by what it says.
    assert np.allclose(coefficients @ np.clip(lp.x, 0, 1) - cuts.rhs, cuts.violation, atol=1e-6)
    assert (cuts.violation > zerohalf.MIN_VIOLATION).all()
    # Valid: every 0-1 point of the program (fixed columns at 0) satisfies every cut.
    points = _feasible(rows, lower, upper)
    points = points[(points[:, ~free] == 0).all(axis=1)] if (~free).any() else points
    assert n == coefficients.shape[1]
    if len(points):
        assert (points @ coefficients.T <= cuts.rhs + 1e-9).all()


@given(programs())
@settings(max_examples=150, deadline=None)
def test_a_cut_without_complements_is_its_rows_sum_halved_on_every_column(program):
    """Without the columns' upper bounds (``complement=False``) each cut is the sum of the
    rows it names (``Cuts.rows``, signed by side) halved, every coefficient and the
    right-hand side rounded down: on the free columns as found, and, written so on every
    column, fixed ones too, it holds for every 0-1 point of the program. That is what lets
    the column generation price such cuts (a column joining later gets the same rule)."""
    rows, lower, upper, cost, free = program
    a = rows.toarray()
    has_lower = np.isfinite(lower)
    a_ub = np.vstack([a, -a[has_lower]])
    b_ub = np.r_[upper, -lower[has_lower]]
    bounds = [(0.0, 1.0 if f else 0.0) for f in free]
    lp = linprog(-cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if lp.status != 0:
        return
    for complement in (False, True):
        cuts = zerohalf.separate(rows, lower, upper, lp.x, free, complement=complement)
        if len(cuts) == 0:
            continue
        summed = cuts.rows.toarray()  # +1 a row from above, -1 from below
        up, down = np.clip(summed, 0, None), np.clip(-summed, 0, None)
        total = up @ a - down @ a
        side = up @ np.where(np.isfinite(upper), upper, 0.0) - down @ np.where(
            has_lower, lower, 0.0
        )
        assert not (up[:, ~np.isfinite(upper)]).any() and not (down[:, ~has_lower]).any()
        found = cuts.matrix.toarray()
        if complement:  # each odd coefficient rounded either way
            assert (found[:, free] >= np.floor(total[:, free] / 2)).all()
            assert (found[:, free] <= np.ceil(total[:, free] / 2)).all()
            continue
        np.testing.assert_array_equal(found[:, free], np.floor(total[:, free] / 2))
        np.testing.assert_array_equal(cuts.rhs, np.floor(np.rint(side) / 2))
        everywhere = np.floor(total / 2)
        points = _feasible(rows, lower, upper)
        if len(points):
            assert (points @ everywhere.T <= cuts.rhs + 1e-9).all()
