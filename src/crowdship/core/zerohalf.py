"""Zero-half cuts ({0, 1/2}-Chvátal-Gomory cuts) for a 0-1 program's LP solution.

A zero-half cut adds rows of ``A x <= b`` (integral) with multiplier 1/2 each, makes every
odd coefficient even with a column's bound (``x_j >= 0`` or ``x_j <= 1``, also times 1/2),
and rounds the right-hand side down: when the sum is odd, the cut takes 1/2 off it, which
0-1 points never need. It cuts the LP solution ``x`` off when the rows' slacks and the
bounds' slacks (``x_j`` or ``1 - x_j`` for each odd column) sum below 1. Finding the most
violated one is NP-hard (Caprara and Fischetti 1996); this is the usual heuristic (Koster,
Zymolka and Kutschka 2009, as in SCIP's separator): the rows of slack below 1 taken modulo
2 over the fractional columns (each column complemented where ``x_j > 1/2``, so its bound's
slack is ``min(x_j, 1 - x_j)``), and Gaussian elimination over GF(2) that pivots on the
row of least slack in each column (the most costly columns first, then again in a
shuffled order); every row it produces whose right-hand side is odd and whose slack plus
its odd columns' costs stay below 1 is a cut.

Why here: the proof of a day at capacity 3 (``colgen``'s last 0-1 program) is closed by
such cuts (SCIP's zero-half separator is what proved these days: without it, seed 1's
proof 9.6 -> 26.5 s). On 1000 x 1000 at capacity 3 (seed 1) the program's LP, with the
subset-row cuts, stays 838 units above the optimum; 13 rounds of these cuts, each
followed by holding at 0 the columns whose reduced cost leaves no room for a better
packing, made it integral at the optimum (5.5-7.4 s from a cold LP; SCIP 9.6 s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

from crowdship.core.model import FloatArray, IntArray

#: A cut must cut the LP solution off by this much (rows of slack above ``1 - 2 * it`` are
#: not used: a combination with them cannot reach it).
MIN_VIOLATION = 0.01
#: Combinations made into cuts, per cut asked (least slack first, then fewest rows: each
#: cut is a sum of rows, and thousands of them took seconds to sum).
COMBINATIONS_PER_CUT = 3
#: Eliminations a call (each in another order of the columns).
ELIMINATIONS = 2
#: Cuts this parallel to one kept (cosine) are dropped.
MOST_PARALLEL = 0.95
#: Rows over more than this share of the free columns are left out (the requests-served
#: row holds every column: a sum with it made each cut thousands of columns long, which
#: the LP then carried in every pivot).
DENSE_ROW = 0.05
_EPS = 1e-9


@dataclass
class Cuts:
    """Cuts ``matrix @ x <= rhs`` (integral), most efficacious first, how much each cuts
    the LP solution off, and the program's rows each one sums (``rows``: 1 where a cut
    sums a row's upper side, -1 its lower side)."""

    matrix: sp.csr_matrix
    rhs: FloatArray
    violation: FloatArray
    rows: sp.csr_matrix

    def __len__(self) -> int:
        return len(self.rhs)


def _words(n: int) -> int:
    return max(1, (n + 63) // 64)


def _pack(rows: IntArray, cols: IntArray, n_rows: int, n_cols: int) -> np.ndarray:
    """Bits at (rows, cols) XOR-ed into an ``n_rows x words`` uint64 array (a repeated
    entry cancels, as mod 2 it should)."""
    out = np.zeros((n_rows, _words(n_cols)), dtype=np.uint64)
    bits = np.left_shift(np.uint64(1), (cols % 64).astype(np.uint64))
    np.bitwise_xor.at(out, (rows, cols // 64), bits)
    return out


def _unpack(packed: np.ndarray, n: int) -> np.ndarray:
    """The bool matrix of packed rows (``n`` columns)."""
    as_bytes = packed.view(np.uint8).reshape(len(packed), -1)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n].astype(bool)


@njit(cache=True)
def _odd_cost(row: np.ndarray, column_cost: FloatArray, limit: float) -> float:
    """The costs of the columns set in the packed ``row``, summed until past ``limit``."""
    paid = 0.0
    for w in range(len(row)):
        v = row[w]
        if v == 0:
            continue
        for b in range(8):
            byte = (v >> np.uint64(8 * b)) & np.uint64(255)
            if byte == 0:
                continue
            for k in range(8):
                if (byte >> np.uint64(k)) & np.uint64(1):
                    paid += column_cost[64 * w + 8 * b + k]
            if paid >= limit:
                return paid
    return paid


@njit(cache=True)
def _ones(row: np.ndarray) -> int:
    count = 0
    for w in range(len(row)):
        v = row[w]
        while v:
            v &= v - np.uint64(1)
            count += 1
    return count


@njit(cache=True)
def _eliminate(
    bits: np.ndarray,
    parity: np.ndarray,
    weight: FloatArray,
    order: IntArray,
    column_cost: FloatArray,
    reach: float,
) -> tuple[np.ndarray, FloatArray, IntArray]:
    """Gaussian elimination over GF(2) of the rows ``bits`` (their right-hand sides'
    ``parity``, their slacks ``weight``; all changed in place), the columns in ``order``,
    each on the row of least slack that holds it (the first such); every row met whose
    right-hand side is odd and whose slack plus the costs of its odd columns stay below
    ``reach`` is returned, in the order met, as the rows it sums (packed bits), with that
    total and how many rows. (Compiled: in NumPy a step per column took most of a call.)"""
    n = bits.shape[0]
    words = (n + 63) // 64
    combination = np.zeros((n, words), np.uint64)
    for i in range(n):
        combination[i, i // 64] = np.uint64(1) << np.uint64(i % 64)
    found = np.zeros((64, words), np.uint64)
    total = np.zeros(64)
    size = np.zeros(64, np.int64)
    k = 0
    active = np.arange(n)
    n_active = n
    # Every row first, then each row changed by a pivot.
    met = np.arange(n)
    n_met = n
    step = -1
    while True:
        for m in range(n_met):
            i = met[m]
            if parity[i] and weight[i] < reach:
                t = weight[i] + _odd_cost(bits[i], column_cost, reach - weight[i])
                if t < reach:
                    if k == len(total):
                        found = np.concatenate((found, np.zeros_like(found)))
                        total = np.concatenate((total, np.zeros_like(total)))
                        size = np.concatenate((size, np.zeros_like(size)))
                    found[k] = combination[i]
                    total[k] = t
                    size[k] = _ones(combination[i])
                    k += 1
        step += 1
        if step == len(order) or n_active == 0:
            break
        c = order[step]
        word, bit = c // 64, np.uint64(c % 64)
        pivot = -1
        n_met = 0
        for m in range(n_active):
            i = active[m]
            if (bits[i, word] >> bit) & np.uint64(1):
                if pivot < 0 or weight[i] < weight[pivot]:
                    pivot = i
                met[n_met] = i
                n_met += 1
        if pivot < 0:
            continue
        # The rows holding the column, less the pivot, take the pivot's row in.
        others = 0
        for m in range(n_met):
            i = met[m]
            if i == pivot:
                continue
            bits[i] ^= bits[pivot]
            parity[i] ^= parity[pivot]
            combination[i] ^= combination[pivot]
            weight[i] += weight[pivot]
            met[others] = i
            others += 1
        n_met = others
        kept = 0
        for m in range(n_active):
            i = active[m]
            if i != pivot and weight[i] < reach:
                active[kept] = i
                kept += 1
        n_active = kept
    return found[:k], total[:k], size[:k]


def separate(
    rows: sp.csr_matrix,
    lower: FloatArray,
    upper: FloatArray,
    x: FloatArray,
    free: np.ndarray,
    most: int = 200,
    complement: bool = True,
) -> Cuts:
    """Zero-half cuts that ``x`` breaks, for the program ``lower <= rows @ x <= upper``
    (``rows`` integral, infinite bounds for none) over 0-1 columns, at most ``most``.
    ``free``: the columns not fixed at 0 (the others count as 0, their bounds free).
    ``complement``: columns above 1/2 may add their upper bound; without it every odd
    coefficient is rounded down (the lower bound), so a cut's coefficient on any column,
    one that joins later too, is half its rows' sum rounded down: such cuts can be priced.
    """
    n_cols = rows.shape[1]
    empty = Cuts(
        sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0), sp.csr_matrix((0, rows.shape[0]))
    )
    # The columns fixed at 0 are left out: a cut needs no coefficient there (the program
    # has none of them), and most of a proof's columns are (the sums below took seconds).
    free_cols = np.flatnonzero(free)
    if len(free_cols) == 0:
        return empty
    x = np.clip(np.asarray(x, dtype=np.float64)[free_cols], 0.0, 1.0)
    local = sp.csr_matrix(rows.tocsc()[:, free_cols])
    activity = local @ x
    reach = 1.0 - 2.0 * MIN_VIOLATION
    has_upper = np.isfinite(upper)
    has_lower = np.isfinite(lower) & ~(has_upper & (lower == upper))  # an equality: once
    slack_upper = np.where(has_upper, upper - activity, np.inf)
    slack_lower = np.where(has_lower, activity - lower, np.inf)
    sparse_row = np.diff(local.indptr) <= max(DENSE_ROW * len(free_cols), 50)
    up = np.flatnonzero((slack_upper < reach) & sparse_row)
    down = np.flatnonzero((slack_lower < reach) & sparse_row)
    side_row = np.r_[up, down]
    sign = np.r_[np.ones(len(up)), -np.ones(len(down))]
    slack = np.maximum(np.r_[slack_upper[up], slack_lower[down]], 0.0)
    rhs = np.r_[upper[up], -lower[down]]
    if len(side_row) == 0:
        return empty
    # Complemented columns (x > 1/2) count their upper bound: ``1 - x`` is their cost.
    complemented = (x > 0.5) & complement
    cost = np.where(complemented, 1.0 - x, x)
    fractional = np.flatnonzero(cost > _EPS)
    position = np.full(len(free_cols), -1)
    position[fractional] = np.arange(len(fractional))
    sub = sp.csr_matrix(sp.diags(sign) @ local[side_row])
    coo = sub.tocoo()
    values = np.rint(coo.data).astype(np.int64)
    odd = (values % 2 != 0) & (position[coo.col] >= 0)
    bits = _pack(coo.row[odd], position[coo.col[odd]], len(side_row), len(fractional))
    flipped = np.rint(sub @ complemented.astype(np.float64)).astype(np.int64)
    parity = (np.rint(rhs).astype(np.int64) - flipped) % 2 == 1
    useful = bits.any(axis=1) | parity
    keep = np.flatnonzero(useful)
    bits, parity, slack = bits[keep], parity[keep], slack[keep]
    sub, rhs = sub[keep], rhs[keep]
    n = len(keep)
    if n == 0:
        return empty
    column_cost = cost[fractional]
    # The most costly columns eliminated first; then in a shuffled order (the same each
    # call), which finds other combinations where the first order's pivots filled rows.
    orders = [np.argsort(-column_cost, kind="stable")]
    shuffled = np.random.default_rng(0)
    orders += [shuffled.permutation(len(fractional)) for _ in range(ELIMINATIONS - 1)]
    met = [
        _eliminate(bits.copy(), parity.copy(), slack.copy(), order, column_cost, reach)
        for order in orders
    ]
    combinations = np.concatenate([m[0] for m in met])
    if len(combinations) == 0:
        return empty
    totals = np.concatenate([m[1] for m in met])
    sizes = np.concatenate([m[2] for m in met])
    # Each combination once (as first met), the least slack first, then the fewest rows.
    as_keys = np.ascontiguousarray(combinations).view(
        np.dtype((np.void, combinations.dtype.itemsize * combinations.shape[1]))
    )
    _, first = np.unique(as_keys.ravel(), return_index=True)
    first = np.sort(first)
    best = first[np.lexsort((sizes[first], totals[first]))][: COMBINATIONS_PER_CUT * most]
    picks = _unpack(combinations[best], n)
    # Each combination's sum of rows, and of right-hand sides.
    alpha = (sp.csr_matrix(picks.astype(np.float64)) @ sub).tocsr()
    beta = picks.astype(np.float64) @ rhs
    alpha.data = np.rint(alpha.data)
    data = alpha.data.astype(np.int64)
    odd_entry = data % 2 != 0
    up_entry = odd_entry & complemented[alpha.indices]
    data = np.where(up_entry, data + 1, np.where(odd_entry, data - 1, data)) // 2
    entry_row = np.repeat(np.arange(alpha.shape[0]), np.diff(alpha.indptr))
    raised = np.bincount(entry_row[up_entry], minlength=alpha.shape[0])
    total = np.rint(beta).astype(np.int64) + raised
    cut = sp.csr_matrix((data.astype(np.float64), alpha.indices, alpha.indptr), alpha.shape)
    cut.eliminate_zeros()
    odd_total = total % 2 != 0
    cut_rhs = ((total - 1) // 2).astype(np.float64)
    violation = cut @ x - cut_rhs
    norm = np.sqrt(np.asarray(cut.multiply(cut).sum(axis=1)).ravel())
    good = np.flatnonzero(odd_total & (violation > MIN_VIOLATION) & (norm > 0))
    if len(good) == 0:
        return empty
    efficacy = violation[good] / norm[good]
    order = good[np.argsort(-efficacy, kind="stable")]
    cut, cut_rhs, violation, norm = cut[order], cut_rhs[order], violation[order], norm[order]
    # Greedy: the most efficacious first, each next one only if not too parallel to any
    # kept: the kept ones dense over the columns the cuts use, each candidate's cosines with
    # them one product (the cosines of every pair, sparse, took most of a call: most
    # candidates go as parallel to an earlier one).
    normalised = sp.csr_matrix(sp.diags(1.0 / norm) @ cut)
    used = np.unique(normalised.indices)
    place = np.full(cut.shape[1], -1)
    place[used] = np.arange(len(used))
    kept_rows = np.zeros((min(most, len(order)), len(used)))
    kept: list[int] = []
    for i in range(len(order)):
        lo, hi = normalised.indptr[i], normalised.indptr[i + 1]
        columns, values = place[normalised.indices[lo:hi]], normalised.data[lo:hi]
        if kept and (kept_rows[: len(kept), columns] @ values > MOST_PARALLEL).any():
            continue
        kept_rows[len(kept), columns] = values
        kept.append(i)
        if len(kept) >= most:
            break
    pick = np.asarray(kept)
    kept_cuts = sp.csr_matrix(cut[pick])
    full = sp.csr_matrix(
        (kept_cuts.data, free_cols[kept_cuts.indices], kept_cuts.indptr), (len(pick), n_cols)
    )
    # Each cut's rows: its combination (over ``keep``'s rows of ``side_row``), signed.
    summed = sp.csr_matrix(picks[order[pick]])
    summed = sp.csr_matrix(
        (sign[keep][summed.indices], side_row[keep][summed.indices], summed.indptr),
        (len(pick), rows.shape[0]),
    )
    return Cuts(full, cut_rhs[pick], violation[pick], summed)
