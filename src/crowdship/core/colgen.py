"""Several requests per trip, priced instead of listed: column generation on the set packing.

The exact method of :mod:`crowdship.core.bundles` lists every trip's feasible bundles and
packs them; on a busy day they number millions (the paper's day at 1000 x 1000, capacity 3:
5 M) to hundreds of millions. Here the packing's LP relaxation is solved over a few of them
and the others are *priced*: a bundle ``b`` of trip ``t`` can improve the LP only if its
reduced cost ``w_b - sum(pi_r for r in b) - mu_t`` is positive, ``pi`` and ``mu`` being the
duals of the requests' and the trips' rows (HiGHS, through ``highspy``, warm started as
columns join).

1. Start: today's capacity-1 optimum (the policy's own solver on the feasible pairs) and a
   few cheap singles.
2. Price: every single (vectorised), and, per trip, pairs and triples of its feasible
   requests in a compiled loop that bounds each bundle *before* its route is searched. The
   bound: a route serving a set also serves each subset (drop the stops: by the triangle
   inequality no leg gets longer, so no stop is reached later, and waiting is allowed),
   so a bundle's detour is at least the largest detour of its members alone (and of its
   pairs, for a triple), its weight at most what that detour allows. A bundle is routed
   only when that bound leaves a positive reduced cost, and once: its best route's
   driving time is remembered for the next rounds (most of a round's bundles were the
   last round's: 1000 x 1000 at capacity 3, pricing 3.7 -> 1.7 s).
3. When pricing finds no bundle with a positive reduced cost, the LP bound holds over
   every feasible bundle (with the duals' leftover, bounded per trip, added): no packing
   does better.
4. Under ``max-matches``, when the weighted bound leaves the most requests served open,
   that number is bounded first by the LP of the requests served over every bundle (its
   leftover per trip priced down to a hundredth of a request over all trips, not
   bounded by the threshold, which over a thousand trips would add a whole request). A
   row caps the requests served at that bound (valid whatever is found) and the LP is
   generated again: the bound on the cost at that count (the LP can no longer trade a
   fraction of a request for detour). When that bound (after the cuts below) allows
   fewer requests than the cap, the cap follows it down and the LP is bounded again.
   When the packing near the LP (6) serves fewer than that, the count LP is solved again
   with the cuts (5), which often bound the count below the next request (then the cap
   follows, and the cuts and the packing near the LP are sought again at that count).
   When the best packing of the bundles generated still serves one fewer than the bound,
   the count is settled as the cost is below (7): every bundle whose reduced cost in the
   count LP leaves room for one more request served is generated, and the 0-1 program of
   the requests served over them says whether any packing serves it.
5. Subset-row cuts (Jepsen et al. 2008) on three or five of the master's rows
   (requests' or trips'): each column counted half the cut's rows it holds, rounded
   down, the sum at most half the cut's rows, rounded down (on three rows: the columns
   covering two or more sum to at most 1; on five, an odd cycle of half bundles sums to
   at most 2). Separated from the LP's support in rounds, the LP generated again after
   each, their duals taken off every single, pair and triple priced (before its route
   is searched: they depend on its rows alone): the LP's half-bundles are cut off and
   its bound falls toward the integer optimum.
6. A packing near the LP: a dive (the columns at 1 and the largest fraction fixed, the LP
   solved again, until none is fractional), a small 0-1 program on the LP's support, and
   a neighbourhood search (rows around an LP column opened, the packing there replaced by
   the best of the generated columns that fit, a small 0-1 program each).
7. The proof. A packing better than one of value ``v`` uses only bundles whose reduced
   cost is at least ``v + 1 - bound`` (its value is at most the duals' sum plus each of
   its bundles' reduced cost): every such bundle is generated (the completion; past
   ``NEAREST_FIRST_AFTER`` bundles, the nearest of them first, alone, and their 0-1
   program solved, so that the completion reaches only as far as its packing needs), the
   search runs again with them, the bundles below the improved packing's reach are held
   at 0, the rows a better packing must fill are made equalities (a row's slack costs a
   packing its dual: rows whose dual passes the room between the bound and the packing).
   The program is closed then (no column will join), so its LP takes rounds of zero-half
   cuts (:mod:`crowdship.core.zerohalf`), each followed by holding at 0 the bundles whose
   reduced cost leaves no room for a better packing, while SCIP starts on the program in
   a process of its own: the rounds often prove the optimum (the LP's bound below the
   packing's next unit, or its solution integral). Where they stop short, the 0-1
   program (from that packing, that SCIP races
   HiGHS's MILP, which runs again with its root restarts in a process of its own past
   ``PROOF_FIRST`` seconds; the first proof ends both) is solved over the rest: its
   optimum is the optimum over every bundle. When the start serves
   fewer requests than the bound allows, or the completion from it would pass
   ``completion_limit`` bundles, the 0-1 program over the bundles so far comes first, and
   the completion from its optimum; past ``LARGE_COMPLETION`` bundles that program runs
   ``PROOF_FIRST`` seconds first for a better start. Each 0-1 program gets
   ``time_limit`` seconds; if the completion's bundles are too many, the answer is the
   best found with its proven gap against the LP bound.

Used by :func:`crowdship.core.bundles.match_routes` where it applies: planar or
great-circle travel (the kernel computes their legs; both are metrics), cost terms that
do not depend on the detour except the detour term itself (weight >= 0), bundles of up to
three requests, and the response models known to accept less with more detour.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit, prange

from crowdship.core._route_kernels import best_order
from crowdship.core.costs import (
    CostFunction,
    DetourTerm,
    PreferredCourierTerm,
    PriorityTerm,
    RatingTerm,
)
from crowdship.core.feasibility import TIME_TOLERANCE, DirectTimes, FeasiblePairs, Limits
from crowdship.core.flow import COST_SCALE
from crowdship.core.model import FloatArray, IntArray, ModelError, Requests, Trips
from crowdship.core.policies import (
    PROBABILITY_SCALE,
    AcceptanceAware,
    MatchingPolicy,
    MaxMatches,
    MinCost,
)
from crowdship.core.response import AlwaysAccept, LogitResponse, PaperResponse
from crowdship.core.travel import EARTH_RADIUS_KM, GreatCircleTravel, PlanarTravel, TravelModel

log = logging.getLogger(__name__)

#: Largest bundle the pricing builds (triples); larger bundles are listed instead.
PRICED_BUNDLE = 3
_PLANAR, _SPHERE = 0, 1
_LINEAR, _ACCEPT = 0, 1
_PAPER, _ALWAYS, _LOGIT = 0, 1, 2
#: A bundle joins the LP when its reduced cost passes this (weight units: 1/1000 minute
#: or one millionth of an acceptance); the LP bound adds at most this per trip.
THRESHOLD = 1e-3
#: Subset-row cuts: rounds, the most added a round, and by how much one must be broken.
#: Rounds end when none is broken, or once one lowers the bound by less than a unit or
#: ``CUT_TAIL`` of what the first did. Each costs a pricing of the LP again (0.2-1 s at
#: 1000 x 1000), but the tail pays: ending at a tenth of the first round's gain left the
#: bound of 1000 x 1000 at capacity 3, seed 9, 3 377 units above its packing and its proof
#: 85 s; every round, 18.5 s (seeds 7 and 11: 18.4 -> 11.5 s, 47.4 -> 22.5 s).
CUT_ROUNDS = 12
CUT_TAIL = 0.0
CUTS_PER_ROUND = 300
CUT_VIOLATION = 1e-3
#: Cuts on five rows: the most broken ones kept a round, and the most sets of five rows
#: looked at (the search is exponential in the rows; this bounds it where the LP's
#: fractional columns are many and alike).
ODD_CUTS_FOUND = 20_000
ODD_CUT_WORK = 5_000_000
#: Large neighbourhood search on the start: rows opened per neighbourhood, seconds per
#: small 0-1 program and in all.
LNS_ROWS = 120
LNS_SECONDS = 2.0
LNS_TOTAL = 5.0
LNS_STALL = 15  # neighbourhoods in a row without a gain end the search
#: The 0-1 program over the completion's bundles nearest the LP (``narrow``), once the
#: completion added this many: those whose reduced cost is within ``NEAR_SHARE`` of the
#: completion's reach, for at most ``NEAR_SECONDS`` (1000 x 1000 at capacity 3, seed 2: in
#: 5 s it came 206 units short of the optimum and the proof took 34.5 s; in 10 s SCIP
#: proved its optimum, the day's, and the proof took 21.9 s).
NEAR_AFTER = 2000
NEAR_SHARE = 0.125
NEAR_SECONDS = 10.0
#: Before a completion of more than this many bundles, that program runs first, over the
#: nearest of them generated alone (``nearest_first``), rather than after it. Not before
#: smaller ones: the paper's 1000 x 1000 at capacity 3 (1 972 bundles, the start already
#: optimal) took 1.8 s longer with it first (the program, and the search when it finds
#: nothing). At or past the completion's limit: never first.
NEAREST_FIRST_AFTER = 10_000
#: Whether the count LP is solved again with the cuts when the packing near the LP serves
#: fewer than its bound (off only in tests of the count's completion).
COUNT_WITH_CUTS = True
#: Priced zero-half cuts on the count LP (``zero_half_count``) where its bound is within
#: this of a unit less, for at most these rounds and seconds, and until a round takes off
#: less than the progress asked this many rounds in a row.
ZERO_HALF_COUNT_REACH = 0.25
ZERO_HALF_COUNT_ROUNDS = 15
ZERO_HALF_COUNT_SECONDS = 10.0
ZERO_HALF_COUNT_PROGRESS = 0.002
ZERO_HALF_COUNT_STALL = 3
#: The weighted LP's rounds by dual simplex on days of at most this many rows (and no
#: zero-half rows: on the count LP's, with its costs of 1 to 3 a bundle, dual simplex
#: took 60 s on one LP of 1000 x 1000 at capacity 3, seed 12), at most
#: ``DUAL_SIMPLEX_SECONDS`` an LP (a stall then falls back to HiGHS's choice, cold).
#: 1000 x 1000 at capacity 3, seed 7: the LP rounds 2.9 -> 1.7 s in all.
DUAL_SIMPLEX_ROWS = 10_000
DUAL_SIMPLEX_SECONDS = 10.0
#: Priced zero-half cuts on the weighted LP before the completion (``zero_half_weighted``)
#: where its bound is this far above the packing, for at most these rounds and seconds,
#: while each round takes off this share of what is left.
ZERO_HALF_WEIGHTED = False
ZERO_HALF_WEIGHTED_GAP = 200.0
ZERO_HALF_WEIGHTED_ROUNDS = 10
ZERO_HALF_WEIGHTED_SECONDS = 8.0
ZERO_HALF_WEIGHTED_PROGRESS = 0.05
#: That count LP comes before the search for a packing near the weighted LP only where the
#: weighted LP serves less than the cap (off only in tests: else wherever the start does).
COUNT_FIRST_ONLY_BELOW_CAP = True
#: Where the weighted LP reaches the cap but the packing after the dive and the support's
#: program does not, the count LP with the cuts before the neighbourhood search if the
#: count LP without them was more than this above the cap (``count_first``).
COUNT_FIRST_ABOVE = 0.5
#: SCIP's parameters in the race: on these programs its aggregation (c-MIR) separator
#: finds nothing and its Gomory cuts cost more LP time than they save (the root closes
#: on zero-half and clique cuts and restarts after reduced-cost fixing). Without the two,
#: the proving programs of 1000 x 1000 at capacity 3 (saved, replayed in the racer) were
#: proven in 6.9 s against 10.1 (seed 4) and 64.2 s against 87.6 (seed 1).
#: One restart only: the first, after the root's reduced-cost fixing, shrinks the program
#: (13 022 -> 3 674 columns on seed 2's proof), and each later one presolved and solved a
#: root again for a few fixings (nine runs: 22.2 -> 14.5 s there; seed 2's whole solve
#: 43.5 -> 31.6 s, seed 3 22.9 -> 18.8 s, the 300 x 300 hard days no slower).
#: Its primal heuristics are all off and its LP prices by the quickstart steepest edge
#: (``lp/pricing = q``): the race starts from a packing, usually the best (its proof is the
#: work), and where it is not, HiGHS's heuristics race and SCIP's search finds better ones
#: as it branches. Saved proving programs replayed in the racer (1000 x 1000 at capacity 3,
#: two runs each at load 2): seed 11 24.1-27.9 -> 16.0-16.1 s, seed 7 4.0-5.5 -> 3.4-3.6 s,
#: the nearest bundles' programs as before (1.5-1.8 s, the better packing found). The two
#: together: the pricing alone took seed 11 31-33 s, the heuristics off alone 21-25 s.
_SCIP_HEURISTICS_OFF = (  # noqa: SIM905 (SCIP 10's names; an unknown one voids the run)
    "actconsdiving adaptivediving alns bound clique coefdiving completesol conflictdiving "
    "crossover dins distributiondiving dks dps dualval farkasdiving feaspump fixandinfer "
    "fracdiving gins guideddiving indicator indicatordiving intdiving intshifting "
    "linesearchdiving localbranching locks lpface mpec multistart mutation nlpdiving "
    "objpscostdiving octane ofins oneopt padm proximity pscostdiving randrounding rens "
    "reoptsols repair rins rootsoldiving rounding scheduler shiftandpropagate shifting "
    "simplerounding subnlp trivial trivialnegation trustregion trysol twoopt undercover "
    "vbounds veclendiving zeroobj zirounding"
).split()
SCIP_SETTINGS = "\n".join(
    (
        "separating/aggregation/freq = -1",
        "separating/gomory/freq = -1",
        "presolving/maxrestarts = 1",
        "lp/pricing = q",
        *(f"heuristics/{name}/freq = -1" for name in _SCIP_HEURISTICS_OFF),
    )
)
#: Seconds for the proving 0-1 program in HiGHS without its root restarts (SCIP racing it
#: on the second core), before HiGHS runs again with them.
PROOF_FIRST = 10.0
#: The proof's zero-half rounds (``_Master.close_by_cuts``): the most cuts a round, and when
#: they stop: the last ``ZERO_HALF_STALL`` rounds took less than ``ZERO_HALF_PROGRESS`` of
#: the gap off between them, or ``ZERO_HALF_SECONDS`` passed (SCIP, beside them, ends
#: them sooner when it proves the program first); then the race on what is left (the
#: columns held at 0 by the rounds' reduced costs stay held).
ZERO_HALF = True  # (off only in tests of the race itself)
ZERO_HALF_CUTS = 200
ZERO_HALF_STALL = 4
ZERO_HALF_PROGRESS = 0.05
ZERO_HALF_SECONDS = 30.0
#: SCIP beside the rounds starts again on what they left once their reduced costs have
#: held at 0 all but this share of the columns it was given: its time grows fast with the
#: columns (1000 x 1000 at capacity 3, seed 11's proof alone: 26 164 columns ~14 s, the
#: 9 956 left after 3 rounds 10.0 s, the 3 997 after 10 rounds 4.2 s). Only while the
#: columns it is spared, at ``SCIP_SECONDS_PER_COLUMN`` each (about what it took there),
#: outweigh the time it has spent already: late, the restart cost more than it saved.
SCIP_AGAIN_SHARE = 0.5
SCIP_SECONDS_PER_COLUMN = 1e-3
#: An LP value this close to 0 or 1 counts as integral (the dive).
INTEGRAL = 1e-6
#: The most bundles the completion generates (past it the answer keeps its proven gap).
#: 1000 x 1000 at capacity 3, seed 7: 218 840 within reach of the start; generated, the
#: search among them and the 0-1 program's own bound take the gap from 0.27 to 0.12 %.
COMPLETION_LIMIT = 400_000
#: Past this many bundles in the completion, the 0-1 program over the bundles so far
#: looks for a better start first (``PROOF_FIRST`` seconds): fewer bundles reach past it.
LARGE_COMPLETION = 100_000
#: Seconds for the small 0-1 program on the LP's support. It first looked for a packing
#: within a gap asked too; past them, without one, the day fell back to the exact search,
#: minutes more at 20000 x 8000 (256 s in all once, when the program needed 15.0 s of 15
#: on a slow machine). That search now stops at its packing near the LP when it is within
#: the gap, and the gap's program has ``GAP_POLISH_SECONDS``.
SMALL_SECONDS = 30.0
#: The same program on the way to a proof (``near``): the neighbourhood search after it
#: and the program over the bundles nearest the LP find what it would (1000 x 1000 at
#: capacity 3, seed 1: 4.1 s of HiGHS for 5 558 637 871 from the dive's 5 553 044 334;
#: stopped at 1 s, the search found 5 558 639 414 from the dive's in 1.7 s; 16.7 -> 13.8 s
#: in all; seeds 2-12 ended it within 1 s anyway).
NEAR_POLISH_SECONDS = 1.0
#: The same program when only a gap is asked, right after the LP: where it does not reach
#: the gap in this time (20000 x 8000 at capacity 2, seed 2: 31 s and still outside 1 %)
#: the cuts, the dive and the search do (0.014 % there, in 15 s).
GAP_POLISH_SECONDS = 10.0
#: Above this many columns that small program runs without HiGHS's presolve, which spends
#: longer there than it saves: 20000 x 8000 at capacity 2 (41 214 columns) 12.8-13.5 s
#: with it, 8.4-10.4 s without, the same packing. On 1000 x 1000 at capacity 3 (about
#: 1 500 columns) presolve wins: seed 7 3.1 s with it, 7.8 s without.
SMALL_PRESOLVE_COLUMNS = 10_000
#: A folder where every raced 0-1 program is written as its racer gets it (an ``.npz``
#: per race, numbered), or None: ``benchmarks/bench_proofs.py`` sets it to replay them.
SAVE_PROGRAMS: Path | None = None
#: The most routed triples remembered per trip across pricing rounds (slots, a power of 2;
#: filled to three quarters).
MEMO_SLOTS = 1024
#: The most pairs' driving times remembered across pricing rounds (all of a trip's or
#: none: 8 bytes each; 1000 x 1000 at capacity 3 needs 5.2 million).
MEMO_PAIRS = 20_000_000
#: Margin in a bundle's bound for the weight's rounding to whole units (once per bundle
#: under the linear policies; acceptances are bounded member by member, already rounded).
_MARGIN = 0.5 + 1e-6


def unsupported(
    trips: Trips,
    travel: TravelModel,
    cost: CostFunction,
    policy: MatchingPolicy,
    max_bundle: int,
) -> str | None:
    """Why column generation does not apply to this matching (None when it does)."""
    if type(travel) not in (PlanarTravel, GreatCircleTravel):
        return f"travel model {type(travel).__name__} (the kernel has planar and great-circle legs)"
    for term in cost.terms:
        if isinstance(term, DetourTerm):
            if term.weight < 0:
                return "a negative detour weight"
        elif not isinstance(term, RatingTerm | PreferredCourierTerm | PriorityTerm):
            return f"cost term {type(term).__name__}"
    if isinstance(policy, AcceptanceAware):
        if not isinstance(policy.response, PaperResponse | AlwaysAccept | LogitResponse):
            return f"response model {type(policy.response).__name__}"
    elif not isinstance(policy, MaxMatches | MinCost):
        return f"policy {policy.name}"
    if max_bundle > PRICED_BUNDLE and int(trips.capacity.max(initial=1)) > PRICED_BUNDLE:
        return f"bundles of more than {PRICED_BUNDLE} requests"
    return None


@njit(cache=True)
def _leg(kind: int, scale: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Minutes from a to b, as PlanarTravel.pairwise / GreatCircleTravel.pairwise."""
    if kind == _PLANAR:
        dx = ax - bx
        dy = ay - by
        return math.sqrt(dx * dx + dy * dy) * scale
    lat1 = np.radians(ax)
    lon1 = np.radians(ay)
    lat2 = np.radians(bx)
    lon2 = np.radians(by)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    h = min(max(h, 0.0), 1.0)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h)) * scale


@njit(cache=True)
def _probability(response: int, a: float, b: float, window: float, share: float) -> float:
    """The response model's acceptance probability at a detour share (as response.py)."""
    if response == _ALWAYS:
        return 1.0
    if response == _LOGIT:
        return 1.0 / (1.0 + math.exp(-(a - b * share)))
    reject = share / window if window > 0 else (1.0 if share > 0 else 0.0)
    return 1.0 - min(max(reject, 0.0), 1.0)


@njit(cache=True)
def _route(
    kind: int,
    scale: float,
    ends: FloatArray,
    pickup: FloatArray,
    delivery: FloatArray,
    earliest: FloatArray,
    latest: FloatArray,
    size: IntArray,
    members: IntArray,
    k: int,
    departure: float,
    arrival_by: float,
    capacity: int,
    max_driving: float,
    dist: FloatArray,
    points: IntArray,
    sub_e: FloatArray,
    sub_l: FloatArray,
    sub_s: IntArray,
    order: IntArray,
) -> float:
    """The best route's driving time for ``members[:k]`` on one trip (inf if none)."""
    n = 2 + 2 * k
    xs = np.empty(n)
    ys = np.empty(n)
    xs[0], ys[0], xs[1], ys[1] = ends[0], ends[1], ends[2], ends[3]
    for x in range(k):
        r = members[x]
        xs[2 + 2 * x], ys[2 + 2 * x] = pickup[r, 0], pickup[r, 1]
        xs[3 + 2 * x], ys[3 + 2 * x] = delivery[r, 0], delivery[r, 1]
        sub_e[x] = earliest[r]
        sub_l[x] = latest[r]
        sub_s[x] = size[r]
        points[2 * x] = 2 + 2 * x
        points[2 * x + 1] = 3 + 2 * x
    for a in range(n):
        for b in range(n):
            dist[a, b] = 0.0 if a == b else _leg(kind, scale, xs[a], ys[a], xs[b], ys[b])
    return best_order(
        dist[:n, :n],
        points[: 2 * k],
        sub_e[:k],
        sub_l[:k],
        sub_s[:k],
        departure,
        arrival_by,
        capacity,
        max_driving,
        TIME_TOLERANCE,
        order[: 2 * k],
    )


@njit(cache=True)
def _weight(
    mode: int,
    big: float,
    beta: float,
    h: FloatArray,
    response: int,
    ra: float,
    rb: float,
    window: FloatArray,
    slots: IntArray,
    k: int,
    detour: float,
) -> float:
    """A bundle's weight (integer units) given its detour; ``slots`` index the singles."""
    if mode == _LINEAR:
        total = 0.0
        for x in range(k):
            total += h[slots[x]]
        return big * k + np.rint(COST_SCALE * total - beta * detour)
    share = detour / k
    out = 0.0
    for x in range(k):
        p = _probability(response, ra, rb, window[slots[x]], share)
        out += np.rint(p * PROBABILITY_SCALE)
    return out


@njit(cache=True)
def _cut_penalty(rows: IntArray, n: int, cuts: Any, acc: IntArray, touched: IntArray) -> float:
    """The duals of the cuts met by a column covering ``rows[:n]`` (its trip's row and
    its requests'). Subset-row cuts: each cut's dual times half the column's rows it
    holds, rounded down; ``cut_ptr``/``cut_id`` list, per row, the cuts holding it (those
    with a dual, and those a zero-half cut with a dual sums), ``cut_members`` each cut's
    rows (-1 past its size); a cut is counted at the first of the column's rows it holds.
    Zero-half cuts (``_Master.add_zero_half``): each one's dual times half, rounded down,
    of the column's coefficients summed over its rows (``zh_ptr``/``zh_id``, per row) and
    its subset-row cuts (``par_ptr``/``par_id``, per subset-row cut). ``cuts``: those
    arrays (``_Master.cut_arrays``). ``acc`` (zeros, one per zero-half cut) and
    ``touched`` are scratch; ``acc`` is zeros again after."""
    cut_ptr, cut_id, cut_members, sigma, zh_ptr, zh_id, par_ptr, par_id, zh_sigma = cuts
    pen = 0.0
    width = cut_members.shape[1]
    n_touched = 0
    for i in range(n):
        for e in range(zh_ptr[rows[i]], zh_ptr[rows[i] + 1]):
            z = zh_id[e]
            if acc[z] == 0:
                touched[n_touched] = z
                n_touched += 1
            acc[z] += 1
        for e in range(cut_ptr[rows[i]], cut_ptr[rows[i] + 1]):
            k = cut_id[e]
            held = 0
            first = True
            for j in range(n):
                inside = False
                for m in range(width):
                    if cut_members[k, m] == rows[j]:
                        inside = True
                        break
                if inside:
                    if j < i:
                        first = False
                        break
                    held += 1
            if first and held >= 2:
                half = held // 2
                pen += half * sigma[k]
                for f in range(par_ptr[k], par_ptr[k + 1]):
                    z = par_id[f]
                    if acc[z] == 0:
                        touched[n_touched] = z
                        n_touched += 1
                    acc[z] += half
    for a in range(n_touched):
        z = touched[a]
        pen += (acc[z] // 2) * zh_sigma[z]
        acc[z] = 0
    return pen


@njit(cache=True)
def _odd_row_sets(
    adj_ptr: IntArray,
    adj: IntArray,
    row_ptr: IntArray,
    row_cols: IntArray,
    held_rows: IntArray,
    x: FloatArray,
    slack: FloatArray,
    size: int,
    violation: float,
    work_limit: int,
    out_sets: IntArray,
    out_lhs: FloatArray,
) -> int:
    """Subset-row cuts on ``size`` (odd) rows the LP solution ``x`` breaks: the sets of
    rows connected through fractional columns (``adj_ptr``/``adj``) whose columns
    (``row_ptr``/``row_cols``: each row's columns in ``x``'s support, ``held_rows[c]``
    how many rows column ``c`` holds in the set, scratch) counted half the rows they hold,
    rounded down, sum past ``size // 2`` by more than ``violation``. Each connected set
    is visited once (ESU, Wernicke 2006: grown from its least row by the neighbours of
    the row just added that no earlier member touches). Only sets whose rows' slack sums
    below 1 can break a cut (twice the cut's sum is the rows' sum less the columns
    holding an odd number of them): the search prunes on it. Stops after ``work_limit``
    sets or when ``out_sets`` is full; returns how many were found."""
    n = len(adj_ptr) - 1
    rhs = size // 2
    near = np.zeros(n, np.int64)  # how many of the set's rows each row is adjacent to
    inside = np.zeros(n, np.bool_)
    sub = np.zeros(size, np.int64)
    spent = np.zeros(size)  # the set's slack so far, per depth
    room = 4096
    ext = np.zeros((size, room), np.int64)
    ext_len = np.zeros(size, np.int64)
    stamp = np.zeros(len(x), np.int64)
    tick = 0
    found = 0
    work = 0
    for v in range(n):
        if slack[v] >= 1.0 or adj_ptr[v] == adj_ptr[v + 1]:
            continue
        sub[0] = v
        spent[0] = slack[v]
        inside[v] = True
        ext_len[0] = 0
        for e in range(adj_ptr[v], adj_ptr[v + 1]):
            u = adj[e]
            near[u] += 1
            if u > v and ext_len[0] < room:
                ext[0, ext_len[0]] = u
                ext_len[0] += 1
        depth = 0
        while depth >= 0:
            if ext_len[depth] == 0:
                w = sub[depth]
                inside[w] = False
                for e in range(adj_ptr[w], adj_ptr[w + 1]):
                    near[adj[e]] -= 1
                depth -= 1
                continue
            ext_len[depth] -= 1
            w = ext[depth, ext_len[depth]]
            if spent[depth] + slack[w] >= 1.0:
                continue
            d1 = depth + 1
            sub[d1] = w
            if d1 == size - 1:
                work += 1
                tick += 1
                for a in range(size):
                    r = sub[a]
                    for e in range(row_ptr[r], row_ptr[r + 1]):
                        c = row_cols[e]
                        if stamp[c] != tick:
                            stamp[c] = tick
                            held_rows[c] = 0
                        held_rows[c] += 1
                lhs = 0.0
                for a in range(size):
                    r = sub[a]
                    for e in range(row_ptr[r], row_ptr[r + 1]):
                        c = row_cols[e]
                        if stamp[c] == tick:
                            stamp[c] = -tick
                            lhs += (held_rows[c] // 2) * x[c]
                if lhs > rhs + violation:
                    out_sets[found, :] = sub
                    out_lhs[found] = lhs
                    found += 1
                    if found == len(out_lhs):
                        return found
                if work >= work_limit:
                    return found
                continue
            spent[d1] = spent[depth] + slack[w]
            count = ext_len[depth]
            ext[d1, :count] = ext[depth, :count]
            for e in range(adj_ptr[w], adj_ptr[w + 1]):
                u = adj[e]
                if u > v and near[u] == 0 and not inside[u] and count < room:
                    ext[d1, count] = u
                    count += 1
            ext_len[d1] = count
            inside[w] = True
            for e in range(adj_ptr[w], adj_ptr[w + 1]):
                near[adj[e]] += 1
            depth = d1
    return found


def _broken_odd_cuts(
    x: FloatArray, rows: list[list[int]], n_rows: int, size: int
) -> list[tuple[tuple[int, ...], float]]:
    """The subset-row cuts on ``size`` (odd) rows of ``n_rows`` that the columns of values
    ``x``, holding ``rows`` each (sorted), break; with each cut's sum (``_odd_row_sets``).
    """
    if not rows:
        return []
    width = np.array([len(r) for r in rows], np.int64)
    col_rows = np.fromiter(itertools.chain.from_iterable(rows), np.int64, int(width.sum()))
    owner = np.repeat(np.arange(len(rows)), width)
    activity = np.bincount(col_rows, weights=x[owner], minlength=n_rows)
    slack = np.maximum(1.0 - activity, 0.0)
    order = np.argsort(col_rows, kind="stable")
    row_ptr = np.r_[0, np.cumsum(np.bincount(col_rows, minlength=n_rows))]
    # Rows adjacent through a fractional column (both directions, once each).
    edges = [
        pair
        for c in np.flatnonzero(x < 1.0 - INTEGRAL).tolist()
        for pair in itertools.permutations(rows[c], 2)
    ]
    if not edges:
        return []
    pair = np.unique(np.array(edges, np.int64) @ np.array([n_rows, 1], np.int64))
    source, target = pair // n_rows, pair % n_rows
    adj_ptr = np.r_[0, np.cumsum(np.bincount(source, minlength=n_rows))]
    out_sets = np.zeros((ODD_CUTS_FOUND, size), np.int64)
    out_lhs = np.zeros(ODD_CUTS_FOUND)
    found = _odd_row_sets(
        adj_ptr.astype(np.int64),
        target.astype(np.int64),
        row_ptr.astype(np.int64),
        owner[order].astype(np.int64),
        np.zeros(len(x), np.int64),
        np.ascontiguousarray(x, dtype=np.float64),
        slack,
        size,
        CUT_VIOLATION,
        ODD_CUT_WORK,
        out_sets,
        out_lhs,
    )
    sets = np.sort(out_sets[:found], axis=1)
    return [(tuple(s), float(v)) for s, v in zip(sets.tolist(), out_lhs[:found], strict=True)]


@njit(cache=True)
def _keep(
    t: int,
    rc: float,
    weight: float,
    driving: float,
    members: IntArray,
    k: int,
    order: IntArray,
    offset: IntArray,
    room: IntArray,
    stored: IntArray,
    out_rc: FloatArray,
    out_weight: FloatArray,
    out_driving: FloatArray,
    out_members: IntArray,
    out_order: IntArray,
) -> None:
    """Keep a column among trip t's best ``room[t]`` by reduced cost."""
    if room[t] == 0:
        return
    base = offset[t]
    if stored[t] < room[t]:
        at = base + stored[t]
        stored[t] += 1
    else:
        at = base
        for s in range(base + 1, base + room[t]):
            if out_rc[s] < out_rc[at]:
                at = s
        if out_rc[at] >= rc:
            return
    out_rc[at] = rc
    out_weight[at] = weight
    out_driving[at] = driving
    out_members[at, :] = -1
    out_order[at, :] = -1
    for x in range(k):
        out_members[at, x] = members[x]
    for x in range(2 * k):
        out_order[at, x] = order[x]


@njit(cache=True)
def _memo_slot(keys: IntArray, base: int, size: int, key: int) -> int:
    """Where ``key`` sits in a trip's part of the triples' memo (``size`` slots from
    ``base``, a power of 2, open addressing), or the empty slot it would take; -1 when
    the part is full without it."""
    at = (key * 2654435761) & (size - 1)
    for _ in range(size):
        here = keys[base + at]
        if here == key or here == 0:
            return base + at
        at = (at + 1) & (size - 1)
    return -1


@njit(cache=True, parallel=True)
def _price(
    kind: int,
    scale: float,
    mode: int,
    big: float,
    beta: float,
    nu: float,
    margin_b: float,
    response: int,
    ra: float,
    rb: float,
    starts: IntArray,
    s_request: IntArray,
    s_detour: FloatArray,
    h: FloatArray,
    window: FloatArray,
    pi: FloatArray,
    mu: FloatArray,
    ends: FloatArray,
    departure: FloatArray,
    arrival_by: FloatArray,
    capacity: IntArray,
    max_driving: FloatArray,
    direct: FloatArray,
    pickup: FloatArray,
    delivery: FloatArray,
    earliest: FloatArray,
    latest: FloatArray,
    size: IntArray,
    max_bundle: int,
    cuts: Any,
    threshold: float,
    stop_after: int,
    offset: IntArray,
    room: IntArray,
    trip_order: IntArray,
    found: IntArray,
    finished: np.ndarray,
    routed: IntArray,
    out_rc: FloatArray,
    out_weight: FloatArray,
    out_driving: FloatArray,
    out_members: IntArray,
    out_order: IntArray,
    memo_base: IntArray,
    memo_size: IntArray,
    memo_key: IntArray,
    memo_driving: FloatArray,
    memo_count: IntArray,
    pair_base: IntArray,
    pair_memo: FloatArray,
) -> None:
    """Price every pair and triple of each trip's feasible requests (singles are priced
    in NumPy): keep each trip's best ``room[t]`` with a reduced cost above ``threshold``
    (the cuts' duals, ``cuts`` (``_cut_penalty``), taken off, which only lowers it, so
    the bounds before routing hold);
    ``found[t]`` counts them all, ``finished[t]`` says every bundle of the trip was
    either bounded or routed (False when ``stop_after`` cut the scan short).
    ``memo_*``: the triples routed in earlier calls (their best route's driving time, inf
    when none) per trip, kept across calls: a route does not depend on the duals, and
    most triples one call routes the next routes again (1000 x 1000 at capacity 3: about
    110 000 a call, most of its time)."""
    stored = np.zeros(len(mu), np.int64)
    any_cut = len(cuts[3]) > 0 or len(cuts[8]) > 0  # (subset-row or zero-half cuts)
    for q in prange(len(trip_order)):
        t = trip_order[q]
        lo, hi = starts[t], starts[t + 1]
        m = hi - lo
        cap = capacity[t]
        finished[t] = True
        if cap < 2 or m < 2 or max_bundle < 2:
            continue
        dist = np.zeros((8, 8))
        points = np.zeros(6, np.int64)
        sub_e = np.zeros(3)
        sub_l = np.zeros(3)
        sub_s = np.zeros(3, np.int64)
        order = np.zeros(6, np.int64)
        members = np.zeros(3, np.int64)
        slots = np.zeros(3, np.int64)
        rows = np.zeros(4, np.int64)  # the master's rows a bundle covers: trip, requests
        acc = np.zeros(len(cuts[8]), np.int64)  # (scratch of ``_cut_penalty``)
        touched = np.zeros(len(cuts[8]), np.int64)
        rows[0] = len(pi) + t
        # Per member: the most its share of any bundle of 2 (3) can be worth, less its dual.
        a2 = np.empty(m)
        a3 = np.empty(m)
        for i in range(m):
            s = lo + i
            r = s_request[s]
            if mode == _LINEAR:
                a2[i] = big - nu + COST_SCALE * h[s] - pi[r]
                a3[i] = a2[i]
            else:
                a2[i] = (
                    np.rint(
                        _probability(response, ra, rb, window[s], s_detour[s] / 2)
                        * PROBABILITY_SCALE
                    )
                    - pi[r]
                )
                a3[i] = (
                    np.rint(
                        _probability(response, ra, rb, window[s], s_detour[s] / 3)
                        * PROBABILITY_SCALE
                    )
                    - pi[r]
                )
        ends_t = ends[t]
        rank = np.argsort(-a2)
        margin = margin_b - mu[t] - threshold
        stop = False
        # Pairs (and, for triples, every pair's best route, inf when infeasible).
        triples = cap >= 3 and max_bundle >= 3 and m >= 3
        # Remembered across calls where the memo has room for the trip (NaN: not routed).
        remembered = pair_base[t] >= 0
        if remembered:
            pair_driving = pair_memo[pair_base[t] : pair_base[t] + m * m].reshape((m, m))
        else:
            pair_driving = np.full((m, m), np.nan) if triples else np.zeros((1, 1))
        for x in range(m - 1):
            i = rank[x]
            if a2[i] + a2[rank[x + 1]] + margin <= 0:
                break
            for y in range(x + 1, m):
                j = rank[y]
                if a2[i] + a2[j] - beta * s_detour[lo + i] + margin <= 0:
                    break
                lower = max(s_detour[lo + i], s_detour[lo + j])
                if a2[i] + a2[j] - beta * lower + margin <= 0:
                    continue
                if size[s_request[lo + i]] + size[s_request[lo + j]] > cap:
                    continue
                members[0] = s_request[lo + i]
                members[1] = s_request[lo + j]
                # The cuts' duals depend on the rows alone: taken off before routing.
                pen = 0.0
                if any_cut:
                    rows[1], rows[2] = members[0], members[1]
                    pen = _cut_penalty(rows, 3, cuts, acc, touched)
                    if a2[i] + a2[j] - beta * lower + margin - pen <= 0:
                        continue
                known = remembered and not np.isnan(pair_driving[i, j])
                if known:
                    driving = pair_driving[i, j]
                else:
                    driving = _route(
                        kind,
                        scale,
                        ends_t,
                        pickup,
                        delivery,
                        earliest,
                        latest,
                        size,
                        members,
                        2,
                        departure[t],
                        arrival_by[t],
                        cap,
                        max_driving[t],
                        dist,
                        points,
                        sub_e,
                        sub_l,
                        sub_s,
                        order,
                    )
                    routed[t] += 1
                    if triples or remembered:
                        pair_driving[i, j] = driving
                        pair_driving[j, i] = driving
                if driving == np.inf:
                    continue
                detour = max(driving - direct[t], 0.0)
                slots[0] = lo + i
                slots[1] = lo + j
                weight = _weight(mode, big, beta, h, response, ra, rb, window, slots, 2, detour)
                rc = weight - pi[members[0]] - pi[members[1]] - mu[t] - 2 * nu - pen
                if rc > threshold:
                    if known:  # the memo has no stop order: route it again
                        _route(
                            kind,
                            scale,
                            ends_t,
                            pickup,
                            delivery,
                            earliest,
                            latest,
                            size,
                            members,
                            2,
                            departure[t],
                            arrival_by[t],
                            cap,
                            max_driving[t],
                            dist,
                            points,
                            sub_e,
                            sub_l,
                            sub_s,
                            order,
                        )
                    found[t] += 1
                    _keep(
                        t,
                        rc,
                        weight,
                        driving,
                        members,
                        2,
                        order,
                        offset,
                        room,
                        stored,
                        out_rc,
                        out_weight,
                        out_driving,
                        out_members,
                        out_order,
                    )
                    if stop_after > 0 and found[t] >= stop_after:
                        stop = True
                        break
            if stop:
                break
        if stop:
            finished[t] = False
            continue
        if not triples:
            continue
        rank = np.argsort(-a3)
        margin = margin_b - mu[t] - threshold
        for x in range(m - 2):
            i = rank[x]
            if a3[i] + a3[rank[x + 1]] + a3[rank[x + 2]] + margin <= 0:
                break
            for y in range(x + 1, m - 1):
                j = rank[y]
                if a3[i] + a3[j] + a3[rank[y + 1]] - beta * s_detour[lo + i] + margin <= 0:
                    break
                if size[s_request[lo + i]] + size[s_request[lo + j]] >= cap:
                    continue  # no room left for a third (sizes are >= 1)
                for z in range(y + 1, m):
                    u = rank[z]
                    lower = max(s_detour[lo + i], s_detour[lo + j])
                    if a3[i] + a3[j] + a3[u] - beta * lower + margin <= 0:
                        break
                    lower = max(lower, s_detour[lo + u])
                    if a3[i] + a3[j] + a3[u] - beta * lower + margin <= 0:
                        continue
                    ri, rj, ru = s_request[lo + i], s_request[lo + j], s_request[lo + u]
                    if size[ri] + size[rj] + size[ru] > cap:
                        continue
                    pen = 0.0
                    if any_cut:
                        rows[1], rows[2], rows[3] = ri, rj, ru
                        pen = _cut_penalty(rows, 4, cuts, acc, touched)
                        if a3[i] + a3[j] + a3[u] - beta * lower + margin - pen <= 0:
                            continue
                    # Each pair inside must be feasible; its detour bounds the triple's.
                    ok = True
                    for w in range(3):
                        p = i if w < 2 else j
                        q2 = j if w == 0 else u
                        if np.isnan(pair_driving[p, q2]):
                            members[0] = s_request[lo + p]
                            members[1] = s_request[lo + q2]
                            d2 = _route(
                                kind,
                                scale,
                                ends_t,
                                pickup,
                                delivery,
                                earliest,
                                latest,
                                size,
                                members,
                                2,
                                departure[t],
                                arrival_by[t],
                                cap,
                                max_driving[t],
                                dist,
                                points,
                                sub_e,
                                sub_l,
                                sub_s,
                                order,
                            )
                            routed[t] += 1
                            pair_driving[p, q2] = d2
                            pair_driving[q2, p] = d2
                        if pair_driving[p, q2] == np.inf:
                            ok = False
                            break
                        lower = max(lower, pair_driving[p, q2] - direct[t])
                    if not ok or a3[i] + a3[j] + a3[u] - beta * lower + margin - pen <= 0:
                        continue
                    members[0], members[1], members[2] = ri, rj, ru
                    # (The memo's key: the three singles in increasing order.)
                    a, c = min(i, j, u), max(i, j, u)
                    b = i + j + u - a - c
                    key = (a * m + b) * m + c + 1
                    slot = -1
                    routed_now = False
                    if memo_size[t] > 0:
                        slot = _memo_slot(memo_key, memo_base[t], memo_size[t], key)
                    if slot >= 0 and memo_key[slot] == key:
                        driving = memo_driving[slot]
                    else:
                        driving = _route(
                            kind,
                            scale,
                            ends_t,
                            pickup,
                            delivery,
                            earliest,
                            latest,
                            size,
                            members,
                            3,
                            departure[t],
                            arrival_by[t],
                            cap,
                            max_driving[t],
                            dist,
                            points,
                            sub_e,
                            sub_l,
                            sub_s,
                            order,
                        )
                        routed[t] += 1
                        routed_now = True
                        if slot >= 0 and 4 * memo_count[t] < 3 * memo_size[t]:
                            memo_key[slot] = key
                            memo_driving[slot] = driving
                            memo_count[t] += 1
                    if driving == np.inf:
                        continue
                    detour = max(driving - direct[t], 0.0)
                    slots[0], slots[1], slots[2] = lo + i, lo + j, lo + u
                    weight = _weight(mode, big, beta, h, response, ra, rb, window, slots, 3, detour)
                    rc = weight - pi[ri] - pi[rj] - pi[ru] - mu[t] - 3 * nu - pen
                    if rc > threshold:
                        if not routed_now:  # the memo has no stop order: route it again
                            _route(
                                kind,
                                scale,
                                ends_t,
                                pickup,
                                delivery,
                                earliest,
                                latest,
                                size,
                                members,
                                3,
                                departure[t],
                                arrival_by[t],
                                cap,
                                max_driving[t],
                                dist,
                                points,
                                sub_e,
                                sub_l,
                                sub_s,
                                order,
                            )
                        found[t] += 1
                        _keep(
                            t,
                            rc,
                            weight,
                            driving,
                            members,
                            3,
                            order,
                            offset,
                            room,
                            stored,
                            out_rc,
                            out_weight,
                            out_driving,
                            out_members,
                            out_order,
                        )
                        if stop_after > 0 and found[t] >= stop_after:
                            stop = True
                            break
                if stop:
                    break
            if stop:
                break
        if stop:
            finished[t] = False


def _route_memo(
    singles: IntArray, capacity: IntArray, max_bundle: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray, IntArray, IntArray, FloatArray]:
    """An empty memo of the bundles routed, for ``_price`` (its ``memo_*`` and ``pair_*``
    arguments). Triples: per trip that can carry three (``singles`` feasible requests
    each), a power of 2 of slots, twice its triples up to ``MEMO_SLOTS``: the parts'
    starts and sizes, the keys (0: empty), driving times and entries per trip. Pairs:
    each trip's part's start (-1: none) and the driving times (NaN: not routed yet)."""
    triples = singles * (singles - 1) * (singles - 2) // 6
    wanted = np.minimum(2 * triples, MEMO_SLOTS)
    size = np.where(
        (capacity >= 3) & (singles >= 3) & (max_bundle >= 3) & (wanted >= 1),
        1 << np.ceil(np.log2(np.maximum(wanted, 1))).astype(np.int64),
        0,
    ).astype(np.int64)
    base = np.zeros(len(size), np.int64)
    base[1:] = np.cumsum(size)[:-1]
    total = int(size.sum())
    # Pairs: every pair of each trip's singles (m x m), the smallest trips first while
    # ``MEMO_PAIRS`` allows (the others route their pairs again in each call).
    square = np.where((capacity >= 2) & (singles >= 2) & (max_bundle >= 2), singles**2, 0)
    by_size = np.argsort(square, kind="stable")
    fits = np.cumsum(square[by_size]) <= MEMO_PAIRS
    remembered = np.zeros(len(square), bool)
    remembered[by_size[fits]] = True
    remembered &= square > 0
    pair_size = np.where(remembered, square, 0)
    pair_base = np.where(remembered, np.cumsum(pair_size) - pair_size, -1).astype(np.int64)
    return (
        base,
        size,
        np.zeros(total, np.int64),
        np.zeros(total),
        np.zeros(len(size), np.int64),
        pair_base,
        np.full(int(pair_size.sum()), np.nan),
    )


@dataclass
class ColumnResult:
    """The generated bundles (columns), the packing chosen among them and its proof.

    ``weight`` is each column's weight in the policy's integer units (``max-matches``:
    ``big x size - cost units``); ``bound`` bounds every packing of every feasible bundle
    in the same units; ``optimal`` says the packing chosen is proven optimal over every
    feasible bundle."""

    trip: IntArray
    size: IntArray
    members: IntArray  # (n, width), -1 past size
    detour: FloatArray
    order: IntArray  # (n, 2 width), -1 past 2 size
    weight: FloatArray
    chosen: IntArray
    value: float
    bound: float
    optimal: bool
    big: float
    most: float
    least: float
    status: str
    served_bound: int = 0  # no packing of every feasible bundle serves more
    rounds: int = 0
    routed: int = 0
    completed: int = 0  # columns added by the reduced-cost completion (0: not needed)
    cuts: int = 0  # subset-row cuts added to the LP
    timings: dict[str, float] = field(default_factory=dict)


class _Master:
    """The set packing over the generated columns in HiGHS: one row per request and per
    trip (at most one), one column per bundle, and, once the most requests served is
    proven, a row capping the requests served at that number; the LP first (warm started
    as columns join), then the 0-1 program."""

    def __init__(self, n_requests: int, n_trips: int) -> None:
        # HiGHS as SciPy ships it (scipy is pinned exactly): the ``highspy`` wheel cannot
        # live in one process with OR-Tools, whose library exports HiGHS symbols of
        # another version (whichever loads second fails on an undefined symbol).
        from scipy.optimize._highspy import _core as highspy

        self.hp = highspy
        self.h = highspy._Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("presolve", "off")  # presolve would lose the warm basis
        self.h.setOptionValue("solver", "simplex")  # (IPM would start afresh each time)
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        n = n_requests + n_trips
        empty = np.zeros(0, np.int32)
        self.h.addRows(n, np.full(n, -highspy.kHighsInf), np.ones(n), 0, empty, empty, np.zeros(0))
        self.n_requests = n_requests
        self.n_rows_cut = n  # the rows a cut may hold: the requests' and the trips'
        self.n_rows = n
        self.n_cols = 0
        self.count_row = -1
        self.most_served = 0  # the count row's cap
        self.integral = False
        self.dual_bound = math.inf  # the last 0-1 program's bound on its optimum
        self.held = np.zeros(0, bool)  # each column: held at 0 (``hold``)
        self.size = np.zeros(0, np.int64)  # each column's requests
        self.units = 0.0  # taken off each column's cost per request (``shift``)
        # Subset-row cuts: three or five rows each (requests', or a trip's), each column
        # counted half the rows it holds, rounded down, at most half the rows rounded
        # down in all.
        self.cuts: list[tuple[int, ...]] = []
        self.cut_rows: list[int] = []
        # Rows x cuts, 1 where a cut holds a row, and its (row, cut) keys sorted (``hits``).
        self._membership: tuple[Any, IntArray] | None = None
        # Zero-half cuts (``add_zero_half``): rows (requests', trips') and subset-row cuts
        # summed, halved, rounded down (the count LP's: deleted after it, ``drop_zero_half``).
        self.zh_base: list[IntArray] = []  # each one's rows
        self.zh_parents: list[IntArray] = []  # each one's subset-row cuts (their numbers)
        self.zh_rhs: list[float] = []
        self.zh_rows: list[int] = []
        # Rows x zero-half cuts and subset-row cuts x zero-half cuts (``zero_half_hits``).
        self._zh_matrices: tuple[Any, Any] | None = None

    def add(self, trip: IntArray, members: IntArray, weight: FloatArray) -> None:
        n = len(trip)
        if n == 0:
            return
        valid = members >= 0
        size = valid.sum(axis=1)
        rows = np.where(valid, members, -1)
        extra = [(self.n_requests + trip)[:, None]]
        if self.count_row >= 0:
            extra.append(np.full((n, 1), self.count_row))
        index = np.concatenate([rows, *extra], axis=1)
        values = np.ones(index.shape)
        if self.count_row >= 0:
            values[:, -1] = size
        keep = index >= 0
        column = np.broadcast_to(np.arange(n)[:, None], index.shape)[keep]
        index, values = index[keep], values[keep]
        if self.cuts or self.zh_rows:
            # The cuts' coefficients go in with the columns: one ``changeCoeff`` each
            # costs HiGHS a pass over its matrix (minutes for a completion's 100 000s).
            hits = self.hits(trip, members)
            cut_rows = np.asarray(self.cut_rows, dtype=np.int64)
            column = np.concatenate([column, hits[:, 0]])
            index = np.concatenate([index, cut_rows[hits[:, 1]]])
            values = np.concatenate([values, hits[:, 2].astype(np.float64)])
            if self.zh_rows:
                zh = self.zero_half_hits(trip, members, hits)
                column = np.concatenate([column, zh[:, 0]])
                index = np.concatenate([index, np.asarray(self.zh_rows, np.int64)[zh[:, 1]]])
                values = np.concatenate([values, zh[:, 2].astype(np.float64)])
            order = np.argsort(column, kind="stable")
            column, index, values = column[order], index[order], values[order]
        starts = np.searchsorted(column, np.arange(n)).astype(np.int32)
        self.h.addCols(
            n,
            np.asarray(weight, dtype=np.float64) - self.units * size,
            np.zeros(n),
            np.full(n, self.hp.kHighsInf),
            len(index),
            starts,
            index.astype(np.int32),
            values,
        )
        if self.integral:
            kind = np.full(n, self.hp.HighsVarType.kInteger)
            self.h.changeColsIntegrality(n, np.arange(self.n_cols, self.n_cols + n), kind)
        self.n_cols += n
        self.held = np.r_[self.held, np.zeros(n, bool)]
        self.size = np.r_[self.size, size]

    def _sorted_rows(self, trip: IntArray, members: IntArray) -> IntArray:
        """Each column's rows among the requests' and the trips', sorted, padded at the end
        with ``n_rows_cut`` (no row)."""
        rows = np.concatenate([members, (self.n_requests + trip)[:, None]], axis=1)
        # (int64: the row x cut keys in ``hits`` pass 2**31 on large days)
        return np.sort(np.where(rows >= 0, rows, self.n_rows_cut).astype(np.int64), axis=1)

    def rows_of(self, trip: IntArray, members: IntArray) -> list[list[int]]:
        """Each column's rows among the requests' and the trips' (sorted)."""
        rows = self._sorted_rows(trip, members)
        held = rows < self.n_rows_cut
        flat = rows[held].tolist()
        ends = np.cumsum(held.sum(axis=1)).tolist()
        return [flat[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def hits(self, trip: IntArray, members: IntArray) -> IntArray:
        """(column, cut, coefficient) for every cut a column holds two or more rows of:
        half the rows it holds, rounded down. By a sparse product (columns x rows, rows x
        cuts: how many of each cut's rows each column holds), not a loop per column: a
        completion's 100 000 columns meet the cuts in a few milliseconds."""
        from scipy.sparse import csr_matrix

        if not self.cuts or len(trip) == 0:
            return np.zeros((0, 3), np.int64)
        n_cuts = len(self.cuts)
        if self._membership is None:
            width = [len(cut) for cut in self.cuts]
            rows = np.fromiter(itertools.chain.from_iterable(self.cuts), np.int64, sum(width))
            cut_of = np.repeat(np.arange(n_cuts), width)
            matrix = csr_matrix(
                (np.ones(len(rows), np.int32), (rows, cut_of)), (self.n_rows_cut, n_cuts)
            )
            self._membership = matrix, np.sort(rows * n_cuts + cut_of)  # (row, cut) keys
        membership, known = self._membership
        rows = self._sorted_rows(trip, members)
        counts = (self._held(rows) @ membership).tocoo()
        two = counts.data >= 2
        column, cut = counts.row[two].astype(np.int64), counts.col[two].astype(np.int64)
        # Each column's cuts in the order its rows meet them (the least row first, then
        # the cut's number), as HiGHS has always been given them: the same matrix, the
        # same pivots.
        first = np.full(len(cut), self.n_rows_cut, np.int64)
        for position in range(rows.shape[1] - 1, -1, -1):
            row = rows[column, position]
            at = np.minimum(np.searchsorted(known, row * n_cuts + cut), len(known) - 1)
            first = np.where(known[at] == row * n_cuts + cut, row, first)
        order = np.lexsort((cut, first, column))
        coefficient = counts.data[two].astype(np.int64)[order] // 2
        return np.column_stack([column[order], cut[order], coefficient])

    def add_cuts(self, cuts: list[tuple[int, ...]], trip: IntArray, members: IntArray) -> None:
        """Add subset-row cuts (sorted sets of three or five rows) over the columns so far
        (``trip``, ``members``): each column counted half the cut's rows it holds, rounded
        down, the sum at most half the cut's rows, rounded down (1 for three rows: two
        columns holding two each would share a row; 2 for five). Valid for every packing
        (the rows' sum halved, rounded down), not for every LP solution: the LP bound falls
        toward the integer optimum."""
        first = len(self.cuts)
        for k, cut in enumerate(cuts, start=first):
            self.cuts.append(cut)
            self.cut_rows.append(self.n_rows + k - first)
        self._membership = None
        self._zh_matrices = None
        n = len(cuts)
        hits = self.hits(trip, members)
        hits = hits[hits[:, 1] >= first]
        hits = hits[np.lexsort((hits[:, 0], hits[:, 1]))]  # row by row, as HiGHS takes them
        starts = np.searchsorted(hits[:, 1], np.arange(first, first + n)).astype(np.int32)
        rhs = np.array([len(cut) // 2 for cut in cuts], dtype=np.float64)
        self.h.addRows(
            n,
            np.full(n, -self.hp.kHighsInf),
            rhs,
            len(hits),
            starts,
            hits[:, 0].astype(np.int32),
            hits[:, 2].astype(np.float64),
        )
        self.n_rows += n

    def _held(self, rows: IntArray) -> Any:
        """Columns x rows (requests', trips'), 1 where a column holds a row; ``rows`` each
        column's (``_sorted_rows``)."""
        from scipy.sparse import csr_matrix

        keep = rows < self.n_rows_cut
        column = np.broadcast_to(np.arange(len(rows))[:, None], rows.shape)[keep]
        shape = (len(rows), self.n_rows_cut)
        return csr_matrix((np.ones(len(column), np.int32), (column, rows[keep])), shape)

    def zero_half_hits(
        self, trip: IntArray, members: IntArray, sr: IntArray | None = None
    ) -> IntArray:
        """(column, zero-half cut, coefficient) for every zero-half cut whose coefficient
        on a column is positive: half, rounded down, of the column's rows among the cut's
        plus its coefficients on the cut's subset-row cuts (two sparse products). ``sr``:
        the columns' ``hits``, where the caller has them already."""
        from scipy.sparse import csr_matrix

        n_zh = len(self.zh_rows)
        if n_zh == 0 or len(trip) == 0:
            return np.zeros((0, 3), np.int64)
        if self._zh_matrices is None:

            def incidence(parts: list[IntArray], n_rows: int) -> Any:
                """``n_rows`` x zero-half cuts, 1 where a cut sums a row (a cut)."""
                width = [len(part) for part in parts]
                entries = (np.concatenate(parts), np.repeat(np.arange(n_zh), width))
                return csr_matrix((np.ones(sum(width)), entries), (n_rows, n_zh))

            self._zh_matrices = (
                incidence(self.zh_base, self.n_rows_cut),
                incidence(self.zh_parents, len(self.cuts)),
            )
        base, parents = self._zh_matrices
        n = len(trip)
        total = self._held(self._sorted_rows(trip, members)) @ base
        sr = self.hits(trip, members) if sr is None else sr
        if len(sr) and parents.nnz:
            on_cuts = csr_matrix(
                (sr[:, 2].astype(np.float64), (sr[:, 0], sr[:, 1])), (n, len(self.cuts))
            )
            total = total + on_cuts @ parents
        total = total.tocoo()
        half = np.rint(total.data).astype(np.int64) // 2
        keep_hit = half > 0
        out = np.column_stack([total.row[keep_hit], total.col[keep_hit], half[keep_hit]]).astype(
            np.int64
        )
        return out[np.lexsort((out[:, 1], out[:, 0]))]

    def add_zero_half(
        self,
        base: list[IntArray],
        parents: list[IntArray],
        rhs: FloatArray,
        trip: IntArray,
        members: IntArray,
    ) -> None:
        """Add zero-half cuts over the columns so far (``trip``, ``members``): each sums
        the rows ``base[k]`` (requests', trips') and the subset-row cuts ``parents[k]``
        with multiplier 1/2 and rounds down, its right-hand side ``rhs[k]`` (the sum of
        theirs, odd, halved, rounded down). No column's upper bound is used, so the cut's
        coefficient on a column priced later is the same rule's: the pricing takes their
        duals off (``_cut_penalty``), and the LP bound over every bundle holds."""
        first = len(self.zh_rows)
        n = len(rhs)
        self.zh_base += [np.asarray(b, np.int64) for b in base]
        self.zh_parents += [np.asarray(c, np.int64) for c in parents]
        self.zh_rhs += [float(v) for v in rhs]
        self.zh_rows += list(range(self.n_rows, self.n_rows + n))
        self._zh_matrices = None
        hits = self.zero_half_hits(trip, members)
        hits = hits[hits[:, 1] >= first]
        hits = hits[np.lexsort((hits[:, 0], hits[:, 1]))]  # row by row, as HiGHS takes them
        starts = np.searchsorted(hits[:, 1], np.arange(first, first + n)).astype(np.int32)
        self.h.addRows(
            n,
            np.full(n, -self.hp.kHighsInf),
            np.asarray(rhs, dtype=np.float64),
            len(hits),
            starts,
            hits[:, 0].astype(np.int32),
            hits[:, 2].astype(np.float64),
        )
        self.n_rows += n

    def zero_half_round(self, trip: IntArray, members: IntArray, most: int) -> int:
        """Zero-half cuts the LP's last solution breaks (:mod:`crowdship.core.zerohalf`,
        no complements: priceable), summing requests', trips' rows and subset-row cuts,
        added (``add_zero_half``; the columns so far ``trip``, ``members``); how many."""
        from scipy.sparse import csr_matrix

        from crowdship.core import zerohalf

        lp, matrix = self.matrix()
        lower, upper = self.row_bounds(lp)
        # Rank 2 at most: rows and subset-row cuts, never the count's row (dense) nor an
        # earlier zero-half cut (its coefficient on a column is no rows' sum).
        rows = np.r_[np.arange(self.n_rows_cut), np.asarray(self.cut_rows, np.int64)]
        rows = rows.astype(np.int64)
        found = zerohalf.separate(
            csr_matrix(matrix)[rows],
            lower[rows],
            upper[rows],
            self.values(),
            ~self.held,
            most,
            complement=False,
        )
        if len(found) == 0:
            return 0
        combination = csr_matrix(found.rows)
        if (combination.data < 0).any():  # (every row here is "at most")
            raise RuntimeError("a zero-half cut sums a row from below")
        base, parents = [], []
        for k in range(len(found)):
            summed = combination.indices[combination.indptr[k] : combination.indptr[k + 1]]
            base.append(summed[summed < self.n_rows_cut])
            parents.append(summed[summed >= self.n_rows_cut] - self.n_rows_cut)
        self.add_zero_half(base, parents, found.rhs, trip, members)
        return len(found)

    def drop_zero_half(self) -> None:
        """Delete the zero-half cuts' rows (the last rows: none joined after them)."""
        if not self.zh_rows:
            return
        rows = np.asarray(self.zh_rows, np.int32)
        if rows[0] != self.n_rows - len(rows) or rows[-1] != self.n_rows - 1:
            raise RuntimeError("zero-half rows are not the master's last rows")
        self.h.deleteRows(len(rows), rows)
        self.n_rows -= len(rows)
        self.zh_base, self.zh_parents, self.zh_rhs, self.zh_rows = [], [], [], []
        self._zh_matrices = None

    def cut_dual_sum(self, y: FloatArray) -> float:
        """The cuts' rows' duals times their right-hand sides (their share of the LP's
        dual bound)."""
        total = 0.0
        if self.cut_rows:
            total += float(y[np.asarray(self.cut_rows)] @ self.cut_rhs())
        if self.zh_rows:
            total += float(y[np.asarray(self.zh_rows)] @ np.asarray(self.zh_rhs))
        return total

    def cut_rhs(self) -> FloatArray:
        """Each cut's right-hand side (half its rows, rounded down)."""
        return np.array([len(cut) // 2 for cut in self.cuts], dtype=np.float64)

    def column_rc(
        self, y: FloatArray, trip: IntArray, members: IntArray, weight: FloatArray
    ) -> FloatArray:
        """Every column's reduced cost under the duals ``y`` (the columns being ``trip``,
        ``members``, ``weight``, in the master's order)."""
        valid = members >= 0
        rc = weight - np.where(valid, y[np.maximum(members, 0)], 0.0).sum(axis=1)
        rc = rc - y[self.n_requests + trip]
        if self.count_row >= 0:
            rc = rc - y[self.count_row] * valid.sum(axis=1)
        hits = self.hits(trip, members)
        if len(hits):
            cut_dual = y[np.asarray(self.cut_rows, dtype=np.int64)]
            np.subtract.at(rc, hits[:, 0], hits[:, 2] * cut_dual[hits[:, 1]])
        zh = self.zero_half_hits(trip, members, hits)
        if len(zh):
            zh_dual = y[np.asarray(self.zh_rows, dtype=np.int64)]
            np.subtract.at(rc, zh[:, 0], zh[:, 2] * zh_dual[zh[:, 1]])
        return np.asarray(rc, dtype=np.float64)

    def single_penalty(self, y: FloatArray, trip: IntArray, request: IntArray) -> FloatArray:
        """The cuts' duals each single (trip, request) meets: the subset-row cuts that
        hold both its trip's row and its request's (one half of two rows each), and the
        zero-half cuts (``zero_half_hits``)."""
        out = np.zeros(len(trip))
        if self.zh_rows:
            single = np.full((len(trip), 1), -1, np.int64)
            single[:, 0] = request
            zh = self.zero_half_hits(trip, single)
            zh_dual = np.maximum(y[np.asarray(self.zh_rows, dtype=np.int64)], 0.0)
            np.add.at(out, zh[:, 0], zh[:, 2] * zh_dual[zh[:, 1]])
        if not self.cuts:
            return out
        key: dict[int, float] = {}
        for k, cut in enumerate(self.cuts):
            trips = [r for r in cut if r >= self.n_requests]
            for t in trips:
                for r in cut:
                    if r < self.n_requests:
                        pair = (t - self.n_requests) * self.n_requests + r
                        key[pair] = key.get(pair, 0.0) + max(float(y[self.cut_rows[k]]), 0.0)
        if not key:
            return out
        keys = np.fromiter(key.keys(), np.int64, len(key))
        values = np.fromiter(key.values(), np.float64, len(key))
        order = np.argsort(keys)
        keys, values = keys[order], values[order]
        wanted = trip.astype(np.int64) * self.n_requests + request
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return out + np.where(keys[at] == wanted, values[at], 0.0)

    def hold(self, columns: IntArray) -> None:
        """Hold these columns at 0 (no packing better than the one known can use them)."""
        n = len(columns)
        self.h.changeColsBounds(n, columns.astype(np.int32), np.zeros(n), np.zeros(n))
        self.held[columns] = True

    def matrix(self) -> tuple[Any, Any]:
        """HiGHS's copy of the program and its constraint matrix (SciPy, sparse)."""
        from scipy.sparse import csc_matrix, csr_matrix

        lp = self.h.getLp()
        a = lp.a_matrix_
        shape = (lp.num_row_, lp.num_col_)
        parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
        rowwise = a.format_ == self.hp.MatrixFormat.kRowwise
        return lp, csr_matrix(parts, shape=shape) if rowwise else csc_matrix(parts, shape=shape)

    def row_bounds(self, lp: Any) -> tuple[FloatArray, FloatArray]:
        """The rows' bounds of HiGHS's copy ``lp`` (``matrix``), its infinities as NumPy's."""
        lower = np.asarray(lp.row_lower_, dtype=np.float64)
        upper = np.asarray(lp.row_upper_, dtype=np.float64)
        inf = self.hp.kHighsInf
        return np.where(lower <= -inf, -np.inf, lower), np.where(upper >= inf, np.inf, upper)

    def fix_tight_rows(self, y: FloatArray, bound: float, chosen: np.ndarray) -> int:
        """Make rows equalities where no better packing can leave room: a packing of value
        ``w`` is at most ``bound - sum(y_i * s_i)`` (``s_i`` its rows' integral slacks), so
        one better than the start ``chosen`` by a unit leaves ``s_i = 0`` on every row
        whose dual ``y_i`` passes the room (the bound less the start's value and the unit;
        half a unit to spare, weights being whole units). Only rows the start fills are
        fixed, so the start stays a packing of the program. The program then holds the
        packings better than the start only: its LP is no bound over every packing, so no
        LP is solved on the master after this (the 0-1 programs alone). Returns how many
        rows were fixed."""
        lp, matrix = self.matrix()
        upper = np.asarray(lp.row_upper_)
        lower = np.asarray(lp.row_lower_)
        start = np.zeros(lp.num_col_)  # (columns may have joined since the start was found)
        start[: len(chosen)] = chosen[: lp.num_col_]
        room = bound - float(np.asarray(lp.col_cost_) @ start) - 1.0
        activity = matrix @ start
        fix = np.flatnonzero(
            (y[: len(upper)] > room + 0.5) & (np.abs(activity - upper) < 1e-9) & (lower < upper)
        )
        for row in fix.tolist():
            self.h.changeRowBounds(row, float(upper[row]), float(upper[row]))
        return len(fix)

    def release(self, columns: IntArray) -> None:
        """Free these columns again (held at 0 for a program over the others)."""
        n = len(columns)
        inf = np.full(n, self.hp.kHighsInf)
        self.h.changeColsBounds(n, columns.astype(np.int32), np.zeros(n), inf)
        self.held[columns] = False

    def close_by_cuts(
        self,
        value: float,
        keep: np.ndarray,
        seconds: float,
        stop: Callable[[], bool] | None = None,
        held_more: Callable[[int], None] | None = None,
    ) -> tuple[float, int, np.ndarray | None]:
        """Rounds of zero-half cuts (:mod:`crowdship.core.zerohalf`) on the LP of the closed
        program (every bundle a packing better than ``value`` could use, the rows it must
        fill fixed), each followed by holding at 0 the columns whose reduced cost leaves
        no room for a packing of ``value + 1`` (those in ``keep``, the start's, stay free,
        so the start stays a packing of the program). The cuts hold for every packing of
        the program, not for new columns: only once no column will join. Until the bound
        is below ``value + 1`` (no better packing: proven), a round finds no cut, the last
        ``ZERO_HALF_STALL`` rounds took less than ``ZERO_HALF_PROGRESS`` of the gap off, or
        ``seconds`` pass, or ``stop`` says so. The cuts are taken out again at the end (the
        columns held stay held). ``held_more``: told, after a round has held columns, how
        many of the program's last rows are the rounds' cuts. Returns the LP bound reached,
        the cuts added, and the LP's packing when its solution is integral (then optimal:
        its value is the bound), else None."""
        from scipy.sparse import vstack

        from crowdship.core import zerohalf

        if self.integral:
            self.set_integral(False)
        began = time.perf_counter()
        lp, matrix = self.matrix()
        rows = matrix.tocsr()
        inf = self.hp.kHighsInf
        lower, upper = self.row_bounds(lp)
        added, bounds = 0, list[float]()
        try:
            while True:
                # First by primal simplex (the weights may have changed: the basis is still
                # primal feasible), then dual (rows join: it stays dual feasible).
                self.h.setOptionValue("simplex_strategy", 1 if bounds else 4)
                self.h.run()
                if self.h.getModelStatus() != self.hp.HighsModelStatus.kOptimal:
                    return (bounds[-1] if bounds else math.inf), added, None
                bound = float(self.h.getInfo().objective_function_value)
                bounds.append(bound)
                if bound < value + 1.0 - 1e-6:
                    return bound, added, None
                x, rc = self.values(), self.reduced_costs()
                if not ((x > INTEGRAL) & (x < 1.0 - INTEGRAL)).any():
                    # (1000 x 1000 at capacity 3, seed 5: after 22 rounds, the optimum, 226
                    # units above the packing the proof started from.)
                    return bound, added, x > 0.5
                room = bound + rc < value + 1.0 - 1e-6
                gone = np.flatnonzero(room & (x < INTEGRAL) & ~self.held & ~keep)
                if len(gone):
                    self.hold(gone)
                    if held_more is not None:
                        held_more(added)
                earlier = bounds[-1 - ZERO_HALF_STALL] if len(bounds) > ZERO_HALF_STALL else None
                stalled = earlier is not None and (
                    earlier - bound < ZERO_HALF_PROGRESS * (earlier - value)
                )
                if stalled or time.perf_counter() - began > seconds or (stop and stop()):
                    return bound, added, None
                separated = time.perf_counter()
                cuts = zerohalf.separate(rows, lower, upper, x, ~self.held, ZERO_HALF_CUTS)
                log.debug(
                    "zero-half round %d: LP %.1f above the packing, %d columns held, %d cuts "
                    "(%.2f s to separate, %.2f s so far)",
                    len(bounds),
                    bound - value,
                    int(self.held.sum()),
                    len(cuts),
                    time.perf_counter() - separated,
                    time.perf_counter() - began,
                )
                if not len(cuts):
                    return bound, added, None
                cut = cuts.matrix
                self.h.addRows(
                    len(cuts),
                    np.full(len(cuts), -inf),
                    cuts.rhs,
                    cut.nnz,
                    cut.indptr[:-1].astype(np.int32),
                    cut.indices.astype(np.int32),
                    cut.data.astype(np.float64),
                )
                rows = vstack([rows, cut], format="csr")
                lower = np.r_[lower, np.full(len(cuts), -np.inf)]
                upper = np.r_[upper, cuts.rhs]
                self.n_rows += len(cuts)
                added += len(cuts)
        finally:
            self.h.setOptionValue("simplex_strategy", 4)
            # The cuts go again (the columns they held stay held): for a 0-1 solver after
            # them, thousands of dense rows cost more than they give (1000 x 1000 at
            # capacity 3, seed 5, after 12 rounds: SCIP 32.2 -> 14.4 s, HiGHS 51.6 ->
            # 14.2 s without them).
            if added:
                first = self.n_rows - added
                self.h.deleteRows(added, np.arange(first, self.n_rows, dtype=np.int32))
                self.n_rows = first

    def cut_arrays(self, y: FloatArray) -> tuple[Any, ...]:
        """The cuts for the pricing kernel (``_cut_penalty``'s arrays): per row (CSR) the
        subset-row cuts holding it, only those with a dual in ``y`` or summed by a
        zero-half cut with one (the others cost no column anything); each cut's rows (-1
        past its size); their duals. Then the zero-half cuts with a dual: per row (CSR)
        those summing it, per subset-row cut those summing it, and their duals."""
        n = self.n_rows_cut
        n_cuts = len(self.cuts)
        zh_sigma = np.zeros(0)
        if self.zh_rows:
            zh_sigma = np.maximum(y[np.asarray(self.zh_rows, dtype=np.int64)], 0.0)
        live = np.flatnonzero(zh_sigma > 0.0)

        def by_owner(owner: IntArray, item: IntArray, n_owners: int) -> tuple[IntArray, IntArray]:
            order = np.argsort(owner, kind="stable")
            ptr = np.zeros(n_owners + 1, np.int64)
            np.add.at(ptr, owner + 1, 1)
            return np.cumsum(ptr), item[order].astype(np.int64)

        def listed(parts: list[IntArray]) -> tuple[IntArray, IntArray]:
            """Each live zero-half cut's ``parts`` flat, with its number beside."""
            chosen = [parts[z] for z in live.tolist()]
            width = [len(p) for p in chosen]
            flat = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
            return flat.astype(np.int64), np.repeat(live, width).astype(np.int64)

        base_rows, base_of = listed(self.zh_base)
        zh_ptr, zh_id = by_owner(base_rows, base_of, n)
        parent_cuts, parent_of = listed(self.zh_parents)
        par_ptr, par_id = by_owner(parent_cuts, parent_of, n_cuts)
        members = np.full((n_cuts, 5), -1, np.int64)
        for row, cut in enumerate(self.cuts):
            members[row, : len(cut)] = cut
        sigma = np.zeros(0)
        if n_cuts:
            sigma = np.maximum(y[np.asarray(self.cut_rows)], 0.0)
        needed = sigma > 0.0
        needed[parent_cuts] = True
        priced = members.copy()
        priced[~needed] = -1
        cut_of, position = np.nonzero(priced >= 0)
        cut_ptr, cut_id = by_owner(priced[cut_of, position], cut_of, n)
        return cut_ptr, cut_id, members, sigma, zh_ptr, zh_id, par_ptr, par_id, zh_sigma

    def cap_count(self, size: IntArray, most: int) -> None:
        """Add the row: requests served <= ``most``."""
        index = np.arange(self.n_cols, dtype=np.int32)
        self.h.addRow(-self.hp.kHighsInf, float(most), self.n_cols, index, size.astype(float))
        self.count_row = self.n_rows
        self.most_served = most
        self.n_rows += 1

    def lower_cap(self, most: int) -> None:
        """The requests served row's cap, lowered to ``most`` (or lifted, for the count
        LP)."""
        self.h.changeRowBounds(self.count_row, -self.hp.kHighsInf, float(most))
        self.most_served = most

    def fix_count(self, exact: bool) -> None:
        """The requests-served row as an equality at its cap (``exact``), or a cap again."""
        lower = float(self.most_served) if exact else -self.hp.kHighsInf
        self.h.changeRowBounds(self.count_row, lower, float(self.most_served))

    def basis(self) -> Any:
        """The LP's basis, for ``restore``."""
        return self.h.getBasis()

    def restore(self, basis: Any) -> None:
        """The LP's basis back to ``basis`` (``basis()``), the columns joined since
        nonbasic at 0: so is the LP's solution, and its duals (which the completion and
        the search read: another of the degenerate LP's dual solutions can put many
        more bundles within the completion's reach)."""
        joined = self.n_cols - len(basis.col_status)
        if joined:
            basis.col_status = list(basis.col_status) + [self.hp.HighsBasisStatus.kLower] * joined
        self.h.setBasis(basis)

    def objective(self, weight: FloatArray) -> None:
        cost = weight.astype(np.float64) - self.units * self.size
        self.h.changeColsCost(self.n_cols, np.arange(self.n_cols), cost)

    def shift(self, units: float, weight: FloatArray) -> None:
        """Each column's cost less ``units`` per request it serves, the count row an
        equality at its cap (``units`` > 0; 0: back). Where a packing serving the cap is
        known and the units outweigh any cost difference, the same LP (its optimum serves
        the cap) and the same reduced costs, the count row's dual less ``units`` (added
        back in ``duals``): but costs of a few thousand, not billions, which HiGHS's dual
        simplex does not stall on once zero-half cuts join (their rows are degenerate).
        ``weight``: every column's weight in the master's objective."""
        self.units = units
        self.fix_count(units > 0)
        self.objective(weight)

    def reduced_costs(self) -> FloatArray:
        return np.asarray(self.h.getSolution().col_dual, dtype=np.float64)

    def values(self) -> FloatArray:
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)

    def set_integral(self, integral: bool) -> None:
        kind = self.hp.HighsVarType.kInteger if integral else self.hp.HighsVarType.kContinuous
        self.h.changeColsIntegrality(
            self.n_cols, np.arange(self.n_cols), np.full(self.n_cols, kind)
        )
        self.integral = integral

    def duals(self) -> FloatArray:
        """The rows' duals in the last LP solution (>= 0: every row is <=; the count
        row's with the units ``shift`` took off)."""
        y = np.asarray(self.h.getSolution().row_dual, dtype=np.float64).copy()
        if self.units:
            y[self.count_row] += self.units
        return np.maximum(y, 0.0)

    def lp(self, dual: bool = False) -> FloatArray:
        """The LP over the columns so far; its duals. ``dual``: by dual simplex (for at
        most ``DUAL_SIMPLEX_SECONDS``; then as HiGHS chooses, from no basis)."""
        if self.n_cols == 0:
            return np.zeros(self.n_rows)
        if self.integral:
            self.set_integral(False)
        # HiGHS chooses: primal simplex where the basis is primal feasible (columns
        # joined: dual simplex re-solved nearly from scratch, 12k+ iterations a round at
        # 20000 x 8000 against tens), dual where it is not (cuts joined: the LP's
        # solution breaks them, its basis stays dual feasible; a cold start).
        # Always primal after the first solve cost 1000 x 1000 at capacity 3 twice the
        # LP's time (seed 8: 5.7 -> 3.7 s; seed 6: 5.8 -> 2.8 s), and 20000 x 8000 at
        # capacity 2 is faster too (33 -> 21 s in all). The caller may ask for dual
        # simplex all the same: on a few thousand rows its iterations cost a fraction of
        # primal's, whose pricing runs over every column.
        self.h.setOptionValue("simplex_strategy", 1 if dual else 0)
        if dual:  # (HiGHS's LP time limit is on its clock summed over every run)
            self.h.setOptionValue("time_limit", self.h.getRunTime() + DUAL_SIMPLEX_SECONDS)
        try:
            self.h.run()
        finally:
            if dual:
                self.h.setOptionValue("time_limit", self.hp.kHighsInf)
        status = self.h.getModelStatus()
        if status != self.hp.HighsModelStatus.kOptimal:
            # HiGHS may end a warm-started LP without a verdict (dual simplex every time
            # ended a 300 x 300 wide-windows day's LP "Unknown"; from no basis it solved
            # it), or under a limit an earlier run left: once more from no basis, without
            # limits (the LP of a packing always has a solution: every column at 0).
            log.warning(
                "HiGHS ended the LP %s: solved again from scratch",
                self.h.modelStatusToString(status),
            )
            self.h.clearSolver()
            self.h.setOptionValue("time_limit", self.hp.kHighsInf)
            self.h.setOptionValue("simplex_strategy", 0)
            self.h.run()
            status = self.h.getModelStatus()
        if status != self.hp.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS LP ended {self.h.modelStatusToString(status)}")
        return self.duals()

    def dive(self) -> np.ndarray:
        """A packing by diving on the LP over the columns so far (its last solution):
        the columns at 1 and the fractional one of largest value are fixed at 1 and the
        LP solved again (dual simplex from the last basis: a few dozen pivots), until no
        column is fractional; a fixing that leaves the LP infeasible is undone and that
        column held at 0 instead. The bounds are restored after. A packing near the LP
        in a second or so, where HiGHS's 0-1 program spends most of its time finding
        its first good one."""
        if self.n_cols == 0:
            return np.zeros(0, bool)
        if self.integral:
            self.set_integral(False)
        inf = self.hp.kHighsInf
        self.h.setOptionValue("simplex_strategy", 1)
        x = self.values()
        basis = self.h.getBasis()
        fixed = np.zeros(self.n_cols, bool)
        held: list[int] = []
        while True:
            frac = np.flatnonzero((x > INTEGRAL) & (x < 1 - INTEGRAL))
            if len(frac) == 0:
                break
            top = int(frac[np.argmax(x[frac])])
            pick = np.append(np.flatnonzero((x >= 1 - INTEGRAL) & ~fixed), top).astype(np.int32)
            fixed[pick] = True
            self.h.changeColsBounds(len(pick), pick, np.ones(len(pick)), np.full(len(pick), inf))
            self.h.run()
            if self.h.getModelStatus() != self.hp.HighsModelStatus.kOptimal:
                fixed[top] = False
                held.append(top)
                self.h.changeColBounds(top, 0.0, 0.0)
                self.h.run()
                if self.h.getModelStatus() != self.hp.HighsModelStatus.kOptimal:
                    break
            x = self.values()
        chosen = np.asarray(x > 0.5, dtype=bool)
        loose = np.r_[np.flatnonzero(fixed), held].astype(np.int32)
        self.h.changeColsBounds(len(loose), loose, np.zeros(len(loose)), np.full(len(loose), inf))
        # The LP's optimal basis back: the next LP starts from it, not from the dive's end
        # (1000 x 1000 at capacity 3, seed 8: the count LP after it 4.1 s from there).
        self.h.setBasis(basis)
        self.h.setOptionValue("simplex_strategy", 4)
        return chosen

    def milp(
        self,
        start: np.ndarray,
        time_limit: float | None,
        abs_gap: float = 0.0,
        restart: bool = True,
        options: dict[str, Any] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> tuple[np.ndarray, bool, str]:
        """The 0-1 program over the columns (those held at 0 stay so) from the packing
        ``start``: the packing found, whether optimal, HiGHS's status; ``dual_bound``
        set. ``options``: more HiGHS options for this run only; ``stop``: asked as HiGHS
        goes (between its nodes, and in its LPs' iterations), it ends the run when true."""
        if self.n_cols == 0:
            return np.zeros(0, bool), True, "optimal"
        if not self.integral:
            self.set_integral(True)
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.h.setOptionValue("mip_abs_gap", max(float(abs_gap), 1e-6))
        self.h.setOptionValue("time_limit", float(time_limit) if time_limit else self.hp.kHighsInf)
        solution = self.hp.HighsSolution()
        solution.col_value = np.asarray(start, dtype=np.float64).tolist()
        solution.value_valid = True
        self.h.setSolution(solution)
        self.h.setOptionValue("presolve", "on")
        self.h.setOptionValue("mip_allow_restart", restart)
        before = {name: self.h.getOptionValue(name)[1] for name in options or {}}
        for name, value in (options or {}).items():
            self.h.setOptionValue(name, value)
        asked = (self.hp.cb.kCallbackMipInterrupt, self.hp.cb.kCallbackSimplexInterrupt)
        if stop is not None:

            def interrupt(kind: int, message: str, out: Any, into: Any, user: Any) -> None:
                if stop():
                    into.user_interrupt = True

            self.h.setCallback(interrupt, None)
            for kind in asked:
                self.h.startCallback(kind)
        try:
            self.h.run()
        finally:
            if stop is not None:
                for kind in asked:
                    self.h.stopCallback(kind)
        for name, value in before.items():
            self.h.setOptionValue(name, value)
        self.h.setOptionValue("presolve", "off")
        self.h.setOptionValue("time_limit", self.hp.kHighsInf)
        self.dual_bound = float(self.h.getInfo().mip_dual_bound)
        status = self.h.getModelStatus()
        values = np.asarray(self.h.getSolution().col_value, dtype=np.float64)
        chosen = values > 0.5 if len(values) == self.n_cols else start > 0.5
        optimal = status == self.hp.HighsModelStatus.kOptimal
        return chosen, optimal, self.h.modelStatusToString(status).lower()

    def scip_runner(
        self,
        start: np.ndarray,
        time_limit: float | None,
        scip_settings: str = "",
        program: _FreeProgram | None = None,
        save: bool = True,
    ) -> _Racer:
        """SCIP on the 0-1 program (the columns not held at 0, or ``program``) in a process
        of its own; ``save``: written to ``SAVE_PROGRAMS`` (if set) as every race's is."""
        parameters = f"{SCIP_SETTINGS}\n{scip_settings}"
        options = {"parameters": parameters}
        program = _FreeProgram(self) if program is None else program
        return _Racer(_SCIP_RACER, program, start, time_limit, options, save)

    def race(
        self,
        start: np.ndarray,
        time_limit: float | None,
        scip_settings: str = "",
        highs_options: dict[str, Any] | None = None,
        first: float = 0.0,
        scip: _Racer | None = None,
    ) -> tuple[np.ndarray, bool, str]:
        """The 0-1 program in SCIP from the start, against HiGHS: here without its root
        restarts for ``first`` seconds (the packing is near the bound, and each restart
        solved the root again for a few units: 4.4 -> 3.1 s on the paper's 1000 x 1000),
        then, if neither has proved it, with its restarts. The first to prove the
        optimum stops the other; out of time the tighter bound and the better packing of
        the two are kept. Neither wins everywhere: on large roots SCIP's cuts (clique,
        zero-half) and restarts close the bound where HiGHS's stall (1000 x 1000 at
        capacity 3, seed 7: SCIP 68 s, HiGHS 1354 units short after 150 s), while its
        root LP is solved cold (no basis passes through OR-Tools) and HiGHS's restarts
        finish first elsewhere (300 x 300 pickup points, seed 5: HiGHS 49 s, SCIP 71 s).
        SCIP runs from the start, in a process of its own (``_Racer``), because it wins
        on many larger days (seeds 3 and 4 of the paper's day: the 0-1 program 26.5 ->
        14.7 s and 20.0 -> 10.7 s when it no longer waits for HiGHS's first seconds).
        HiGHS's second run is in a process of its own too: it heeds an interrupt only
        between nodes, and a program whose root took it the whole limit kept the race
        going 120 s after SCIP's proof at 24 s; its first run is short, and here (so a
        program it proves in a moment pays for no process but SCIP's start), and asks
        through its interrupt callbacks whether SCIP has proved it.
        ``scip_settings``: more SCIP parameters (after ``SCIP_SETTINGS``), one
        ``name = value`` a line;
        ``highs_options``: more HiGHS options (both runs);
        ``scip``: SCIP already running on this program, or on one with more columns free
        (``scip_runner``), instead of a new one."""
        began = time.perf_counter()
        options = highs_options or {}
        program = _FreeProgram(self)
        if scip is None:
            scip = self.scip_runner(start, time_limit, scip_settings)
        highs: _Racer | None = None
        try:
            limit = math.inf if time_limit is None else time_limit
            if first > 0 and limit > 0:
                chosen, optimal, status = self.milp(
                    start,
                    min(first, limit),
                    restart=False,
                    options=options,
                    stop=scip.proved,
                )
                highs_bound = self.dual_bound
            else:
                chosen, optimal, status = start > 0.5, False, "time limit reached"
                highs_bound = math.inf
            left = limit - (time.perf_counter() - began)
            if not optimal and not scip.proved() and "time limit" in status and left > 0:
                # HiGHS again, with its restarts, apart.
                highs = _Racer(_HIGHS_RACER, program, chosen, left, options)
            # Until one proves it, or both have ended: one out of time (or stopped short)
            # without a proof leaves the other its time.
            while not optimal and not scip.proved():
                if highs is not None and highs.proved():
                    break
                if scip.done() and (highs is None or highs.done()):
                    break
                time.sleep(0.02)
        finally:
            for racer in (highs, scip):
                if racer is not None and not racer.done():
                    racer.stop()
        scip_chosen, scip_optimal, _ = scip.result()
        if scip_optimal and not optimal:
            self.dual_bound = scip.bound
            return scip_chosen, True, "optimal, SCIP first"
        if highs is not None:
            chosen, optimal, status = highs.result()
            highs_bound = highs.bound
        self.dual_bound = highs_bound
        if optimal:
            return chosen, True, "optimal, HiGHS first"
        cost = program.cost
        if cost[scip_chosen].sum() > cost[chosen].sum():
            chosen = scip_chosen
        self.dual_bound = min(self.dual_bound, scip.bound)
        return chosen, False, status


class _FreeProgram:
    """The master's 0-1 program over the columns not held at 0, read from HiGHS's copy:
    each racer solves it apart from the master."""

    def __init__(
        self, master: _Master, rows: int | None = None, cost: FloatArray | None = None
    ) -> None:
        """``rows``: the master's first rows only (rows added after them for a while, the
        proof's zero-half cuts, left out); ``cost``: the columns' weights, where HiGHS's
        copy has others for a while (the proof's rounds take the count's units out)."""
        lp, matrix = master.matrix()
        rows = lp.num_row_ if rows is None else rows
        self.free = np.flatnonzero(np.asarray(lp.col_upper_) > 0.5)
        self.cost = np.asarray(lp.col_cost_ if cost is None else cost, dtype=np.float64)
        if rows < lp.num_row_:
            matrix = matrix.tocsr()[:rows]
        self.matrix = matrix.tocsc()[:, self.free]
        lower, upper = master.row_bounds(lp)
        self.row_lower, self.row_upper = lower[:rows], upper[:rows]

    def packing(self, values: FloatArray) -> np.ndarray:
        """The master's columns picked by ``values`` over the free ones."""
        picked = np.zeros(len(self.cost), dtype=bool)
        picked[self.free] = values > 0.5
        return picked

    def kept_bound(self, bound: float, chosen: np.ndarray) -> float:
        """A racer's bound, if it reached one: stopped before its root a solver answers
        its infinity (1e20 for SCIP) or a number no bound can be (below the packing
        ``chosen``); then none (inf)."""
        if abs(bound) < 1e19 and bound >= self.cost[chosen].sum() - 0.5:
            return bound
        return math.inf


#: The racers: ``_racer.py`` (run by path) with the solver's name.
_HIGHS_RACER = "highs"
_SCIP_RACER = "scip"


class _Racer:
    """A ``_FreeProgram`` solved in a process of its own (``_racer.py``, which loads NumPy
    and the solver alone) by ``solver`` (``_HIGHS_RACER`` or ``_SCIP_RACER``), from the
    packing ``start``, with more ``options`` for it; ``stop`` ends it at once. ``save``:
    written to ``SAVE_PROGRAMS`` when that is set (SCIP's only; HiGHS gets the same)."""

    def __init__(
        self,
        solver: str,
        program: _FreeProgram,
        start: np.ndarray,
        time_limit: float | None,
        options: dict[str, Any],
        save: bool = True,
    ) -> None:
        import io
        import json
        import subprocess
        import sys
        import threading

        self.solver = solver
        self.program = program
        self.start = np.asarray(start > 0.5, dtype=bool)
        self.bound = math.inf
        matrix = program.matrix
        payload = io.BytesIO()
        np.savez(
            payload,
            n_col=len(program.free),
            n_row=matrix.shape[0],
            cost=program.cost[program.free],
            row_lower=program.row_lower,
            row_upper=program.row_upper,
            start=matrix.indptr.astype(np.int32),
            index=matrix.indices.astype(np.int32),
            value=matrix.data.astype(np.float64),
            start_values=self.start[program.free].astype(np.float64),
            time_limit=float(time_limit) if time_limit and math.isfinite(time_limit) else 1e30,
            options=json.dumps(options),
        )
        if SAVE_PROGRAMS is not None and solver == _SCIP_RACER and save:  # (HiGHS: the same)
            saved = len(list(SAVE_PROGRAMS.glob("program-*.npz")))
            (SAVE_PROGRAMS / f"program-{saved + 1:03d}.npz").write_bytes(payload.getvalue())
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_racer.py")), solver],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.stopped = False
        self.answer: tuple[bytes, bytes] = (b"", b"")
        self.answered: tuple[np.ndarray, bool, str] | None = None
        data = payload.getvalue()

        def talk() -> None:
            try:
                self.answer = self.process.communicate(data)
            except (BrokenPipeError, ValueError, OSError):  # stopped before it read it all
                self.process.wait()

        self.thread = threading.Thread(target=talk, name=f"crowdship-{solver}", daemon=True)
        self.thread.start()

    def done(self) -> bool:
        return not self.thread.is_alive()

    def proved(self) -> bool:
        """Whether it has ended with the optimum proven."""
        return self.done() and self.result()[1]

    def stop(self) -> None:
        self.stopped = True
        self.process.kill()
        self.thread.join()

    def result(self) -> tuple[np.ndarray, bool, str]:
        """The packing (the start if the solver found none better), whether optimal, the
        status; ``bound`` set."""
        import io

        if self.answered is not None:
            return self.answered
        self.thread.join()
        out, err = self.answer
        if self.stopped:
            return self.start, False, "stopped"
        if self.process.returncode != 0 or not out:
            raise RuntimeError(
                f"the {self.solver} racer ended with {self.process.returncode}: "
                f"{err.decode()[-2000:]}"
            )
        data = np.load(io.BytesIO(out))
        chosen = self.program.packing(np.asarray(data["values"]))
        cost = self.program.cost
        if cost[chosen].sum() < cost[self.start].sum():
            chosen = self.start
        self.bound = self.program.kept_bound(float(data["bound"]), chosen)
        self.answered = chosen, bool(data["optimal"]), str(data["status"])
        return self.answered


@njit(cache=True)
def _top_per_group(group: IntArray, score: FloatArray, n_groups: int, keep: int) -> IntArray:
    """Positions of each group's ``keep`` highest scores (one pass, no sort)."""
    best = np.full((n_groups, keep), -1, np.int64)
    for i in range(len(group)):
        g = group[i]
        worst = 0
        for k in range(keep):
            if best[g, k] < 0:
                worst = k
                break
            if score[best[g, k]] < score[best[g, worst]]:
                worst = k
        if best[g, worst] < 0 or score[i] > score[best[g, worst]]:
            best[g, worst] = i
    out = best.ravel()
    return np.sort(out[out >= 0])


def _top_per_trip(trip: IntArray, score: FloatArray, keep: int) -> IntArray:
    """Positions of each trip's ``keep`` highest scores."""
    if len(trip) == 0:
        return np.zeros(0, np.int64)
    if len(trip) > 100_000:
        return _top_per_group(
            np.ascontiguousarray(trip, dtype=np.int64),
            np.ascontiguousarray(score, dtype=np.float64),
            int(trip.max()) + 1,
            keep,
        )
    order = np.lexsort((-score, trip))
    t = trip[order]
    first = np.r_[0, np.flatnonzero(np.diff(t)) + 1]
    rank = np.arange(len(t)) - np.repeat(first, np.diff(np.r_[first, len(t)]))
    return order[rank < keep]


def solve(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    pairs: FeasiblePairs,
    direct: DirectTimes,
    limits: Limits,
    cost: CostFunction,
    policy: MatchingPolicy,
    max_bundle: int,
    time_limit: float | None = None,
    gap: float = 0.0,
    width: int = 4,
    keep: int = 4,
    stop_after: int = 16,
    completion_limit: int | None = None,
) -> ColumnResult:
    """Column generation for the set packing (see the module's text); ``pairs`` are the
    feasible singles (already fitted to capacity and cleared of excluded pairs).
    ``completion_limit``: the most bundles generated to prove the optimum (past it the
    answer keeps its proven gap: a 0-1 program over more takes HiGHS many minutes)."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    completion_limit = COMPLETION_LIMIT if completion_limit is None else completion_limit

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = timings.get(phase, 0.0) + now - clock
        clock = now

    n_t, n_r = len(trips), len(requests)
    order = np.lexsort((pairs.request, pairs.trip))
    singles = pairs.select(order)
    s_trip, s_request, s_detour = singles.trip, singles.request, singles.detour
    starts = np.searchsorted(s_trip, np.arange(n_t + 1)).astype(np.int64)
    wd = float(sum(t.weight for t in cost.terms if isinstance(t, DetourTerm)))
    beta = wd * COST_SCALE
    big, most, least = 0.0, 0.0, 0.0
    window = np.ascontiguousarray((requests.latest_delivery - requests.earliest_pickup)[s_request])
    response, ra, rb = _PAPER, 0.0, 0.0
    member_cost = cost(trips, requests, singles)
    if isinstance(policy, AcceptanceAware):
        mode = _ACCEPT
        h = np.zeros(len(singles))
        beta = 0.0
        if isinstance(policy.response, AlwaysAccept):
            response = _ALWAYS
        elif isinstance(policy.response, LogitResponse):
            response, ra, rb = _LOGIT, policy.response.intercept, policy.response.slope
        probability = policy.response.accept_probability(trips, requests, singles)
        w_single = np.rint(probability * PROBABILITY_SCALE)
    else:
        mode = _LINEAR
        zero = FeasiblePairs(s_trip, s_request, np.zeros(len(singles)), singles.candidates)
        g = np.array(cost(trips, requests, zero), dtype=np.float64)  # every term but detour
        if isinstance(policy, MinCost):
            if np.isnan(requests.value).any():
                first = requests.ids[int(np.flatnonzero(np.isnan(requests.value))[0])]
                raise ModelError(
                    f"policy min-cost needs a value for every request; {first} has none"
                )
            h = requests.value[s_request] - g
        else:
            h = -g
            # big x one more request served beats any two packings' cost difference.
            slack = np.clip(
                np.minimum(
                    trips.latest_arrival - trips.earliest_departure - direct.trip,
                    limits.allowed_detour(direct.trip),
                ),
                0.0,
                None,
            )
            has = np.diff(starts) > 0
            g_hi = np.zeros(n_t)
            g_lo = np.zeros(n_t)
            if len(singles):
                np.maximum.at(g_hi, s_trip, g)
                np.minimum.at(g_lo, s_trip, g)
            cap = trips.capacity.astype(np.float64)
            most = float(
                (
                    (COST_SCALE * (wd * (slack + 1.0) + cap * np.maximum(g_hi, 0.0)) + cap + 1)
                    * has
                ).sum()
            )
            least = float(((COST_SCALE * cap * np.minimum(g_lo, 0.0) - cap - 1) * has).sum())
            big = float(math.ceil(most - least) + 1)
        h = np.ascontiguousarray(h, dtype=np.float64)
        w_single = big + np.rint(COST_SCALE * h - beta * s_detour)
    lap("weights")

    # The start: today's capacity-1 optimum on the singles, and each request's and trip's
    # best singles.
    outcome = policy.choose(trips, requests, singles, member_cost)
    start_single = np.asarray(outcome.selected, dtype=np.int64)
    lap("capacity 1")
    best_of_request = _top_per_trip(s_request, w_single, 3)
    best_of_trip = _top_per_trip(s_trip, w_single, 2)
    first = np.unique(np.concatenate((start_single, best_of_request, best_of_trip)))
    first = first[w_single[first] > 0]

    cols_trip: list[IntArray] = [np.zeros(0, np.int64)]
    cols_members: list[IntArray] = [np.zeros((0, width), np.int64)]
    cols_detour: list[FloatArray] = [np.zeros(0)]
    cols_order: list[IntArray] = [np.zeros((0, 2 * width), np.int64)]
    cols_weight: list[FloatArray] = [np.zeros(0)]
    seen: set[tuple[int, ...]] = set()
    in_master = np.zeros(len(singles), bool)
    single_column = np.full(len(singles), -1, np.int64)
    master = _Master(n_r, n_t)

    def add_singles(pos: IntArray, weight: FloatArray) -> int:
        """Add singles (positions) with their weight in the master's current objective."""
        fresh = ~in_master[pos]
        pos, weight = pos[fresh], weight[fresh]
        if len(pos) == 0:
            return 0
        in_master[pos] = True
        single_column[pos] = master.n_cols + np.arange(len(pos))
        members = np.full((len(pos), width), -1, np.int64)
        members[:, 0] = s_request[pos]
        orders = np.full((len(pos), 2 * width), -1, np.int64)
        orders[:, :2] = (0, 1)
        cols_trip.append(s_trip[pos])
        cols_members.append(members)
        cols_detour.append(s_detour[pos])
        cols_order.append(orders)
        cols_weight.append(w_single[pos])
        master.add(s_trip[pos], members, weight)
        return len(pos)

    def add_bundles(columns: tuple[np.ndarray, ...], counting: bool) -> int:
        trip, members, driving, orders, weight = columns[:5]
        fresh = []
        for k in range(len(trip)):
            key = (int(trip[k]), *sorted(int(r) for r in members[k] if r >= 0))
            if key not in seen:
                seen.add(key)
                fresh.append(k)
        if not fresh:
            return 0
        pick = np.asarray(fresh, dtype=np.int64)
        wide = np.full((len(pick), width), -1, np.int64)
        wide[:, : members.shape[1]] = members[pick]
        wide_order = np.full((len(pick), 2 * width), -1, np.int64)
        wide_order[:, : orders.shape[1]] = orders[pick]
        size = (wide >= 0).sum(axis=1)
        if counting:  # the weighted objective's weight, recomputed from the route
            detour = np.maximum(driving[pick] - direct.trip[trip[pick]], 0.0)
            total_h = np.zeros(len(pick))
            for x in range(members.shape[1]):
                slot = np.searchsorted(
                    s_trip * (n_r + 1) + s_request, trip[pick] * (n_r + 1) + members[pick, x]
                )
                total_h += np.where(members[pick, x] >= 0, h[np.minimum(slot, len(h) - 1)], 0.0)
            weighted = weigh_bundles(size, total_h, detour, trip[pick], members[pick])
        else:
            weighted = weight[pick]
        cols_trip.append(trip[pick])
        cols_members.append(wide)
        cols_detour.append(np.maximum(driving[pick] - direct.trip[trip[pick]], 0.0))
        cols_order.append(wide_order)
        cols_weight.append(weighted)
        master.add(trip[pick], wide, size.astype(np.float64) if counting else weight[pick])
        return len(pick)

    def weigh_bundles(
        size: IntArray, total_h: FloatArray, detour: FloatArray, trip: IntArray, members: IntArray
    ) -> FloatArray:
        if mode == _LINEAR:
            return np.asarray(
                big * size + np.rint(COST_SCALE * total_h - beta * detour), np.float64
            )
        out = np.zeros(len(size))
        for x in range(members.shape[1]):
            there = members[:, x] >= 0
            share = FeasiblePairs(
                trip[there], members[there, x], detour[there] / size[there], pairs.candidates
            )
            assert isinstance(policy, AcceptanceAware)
            p = policy.response.accept_probability(trips, requests, share)
            out[there] += np.rint(p * PROBABILITY_SCALE)
        return out

    add_singles(first, w_single[first])
    lap("lp")

    kind = _SPHERE if isinstance(travel, GreatCircleTravel) else _PLANAR
    tscale = travel._scale()  # type: ignore[attr-defined]
    ends = np.ascontiguousarray(np.hstack((trips.origin, trips.destination)), dtype=np.float64)
    max_driving = direct.trip + limits.allowed_detour(direct.trip)
    pickup = np.ascontiguousarray(requests.pickup, dtype=np.float64)
    delivery = np.ascontiguousarray(requests.delivery, dtype=np.float64)
    t_departure = trips.earliest_departure.astype(np.float64)
    t_arrival = trips.latest_arrival.astype(np.float64)
    t_capacity = trips.capacity.astype(np.int64)
    r_earliest = requests.earliest_pickup.astype(np.float64)
    r_latest = requests.latest_delivery.astype(np.float64)
    r_size = requests.size.astype(np.int64)
    # Busy trips first, so the threads share the work.
    trip_order = np.argsort(-np.diff(starts), kind="stable").astype(np.int64)
    zeros_h = np.zeros(len(singles))
    can_bundle = (trips.capacity >= 2) & (np.diff(starts) >= 2) & (max_bundle >= 2)
    # (Routes do not depend on the duals: a bundle routed once is not routed again.)
    memo = _route_memo(np.diff(starts), t_capacity, max_bundle)

    def price(
        y: FloatArray, counting: bool, threshold: float, stop: int, room: IntArray
    ) -> tuple[IntArray, np.ndarray, IntArray, tuple[np.ndarray, ...]]:
        pi, mu = y[:n_r], y[n_r : n_r + n_t]
        nu = float(y[master.count_row]) if master.count_row >= 0 else 0.0
        offset = np.zeros(n_t, np.int64)
        offset[1:] = np.cumsum(room)[:-1]
        total = int(room.sum())
        found = np.zeros(n_t, np.int64)
        finished = np.zeros(n_t, np.bool_)
        routed = np.zeros(n_t, np.int64)
        out_rc = np.full(total, -np.inf)
        out_weight = np.zeros(total)
        out_driving = np.zeros(total)
        out_members = np.full((total, PRICED_BUNDLE), -1, np.int64)
        out_order = np.full((total, 2 * PRICED_BUNDLE), -1, np.int64)
        cuts = master.cut_arrays(y)
        _price(
            kind,
            tscale,
            _LINEAR if counting else mode,
            1.0 if counting else big,
            0.0 if counting else beta,
            nu,
            1e-6 if counting or mode == _ACCEPT else _MARGIN,
            response,
            ra,
            rb,
            starts,
            s_request,
            s_detour,
            zeros_h if counting else h,
            window,
            pi,
            mu,
            ends,
            t_departure,
            t_arrival,
            t_capacity,
            max_driving,
            direct.trip,
            pickup,
            delivery,
            r_earliest,
            r_latest,
            r_size,
            max_bundle,
            cuts,
            threshold,
            stop,
            offset,
            room,
            trip_order,
            found,
            finished,
            routed,
            out_rc,
            out_weight,
            out_driving,
            out_members,
            out_order,
            *memo,
        )
        stored = out_rc > -np.inf
        owner = np.repeat(np.arange(n_t), room)
        columns = (
            owner[stored],
            out_members[stored],
            out_driving[stored],
            out_order[stored],
            out_weight[stored],
            out_rc[stored],
        )
        return found, finished, routed, columns

    def single_rc(y: FloatArray, counting: bool) -> FloatArray:
        nu = float(y[master.count_row]) if master.count_row >= 0 else 0.0
        weight = 1.0 if counting else w_single
        penalty = master.single_penalty(y, s_trip, s_request)
        return weight - y[s_request] - y[n_r + s_trip] - nu - penalty

    state = {"rounds": 0, "routed": 0}

    def generate(counting: bool) -> tuple[FloatArray, float]:
        """Column generation to the LP optimum of the master's objective (the requests
        served when ``counting``, else the policy's weight); the duals and the LP bound
        over every feasible bundle."""
        full = False
        room = np.full(n_t, keep, np.int64)
        first_round = state["rounds"]
        while True:
            state["rounds"] += 1
            y = master.lp(
                dual=not counting and master.n_rows <= DUAL_SIMPLEX_ROWS and not master.zh_rows
            )
            lap("lp")
            rc = single_rc(y, counting)
            new = np.flatnonzero((rc > THRESHOLD) & ~in_master)
            new = new[_top_per_trip(s_trip[new], rc[new], keep)]
            found, finished, routed, columns = price(
                y, counting, THRESHOLD, 0 if full else stop_after, room
            )
            state["routed"] += int(routed.sum())
            lap("pricing")
            added = add_singles(new, np.ones(len(new)) if counting else w_single[new])
            added += add_bundles(columns, counting)
            lap("lp")
            if added:
                full = False
                continue
            if not full and not finished.all():
                full = True
                continue
            # The LP bound over every bundle: the duals' sum (with the count row's), plus
            # per trip the largest reduced cost left (a trip takes one bundle): priced ones
            # exactly, bounded ones at most the threshold. Counting requests, that is up
            # to a thousandth of a request per trip, a whole request over a thousand
            # trips: one more pass then finds each trip's largest above a hundredth of a
            # request over all trips. (Not above 0: the duals are degenerate, so many
            # bundles have a reduced cost of exactly 0, and routing them all took 16 s
            # at 1000 x 1000, capacity 3.)
            excess = np.zeros(n_t)
            if len(singles):
                np.maximum.at(excess, s_trip, rc)
            if counting:
                small = min(THRESHOLD, 0.01 / max(int(can_bundle.sum()), 1))
                _, _, _, columns = price(y, counting, small, 0, can_bundle.astype(np.int64))
                lap("pricing")
                leftover = np.where(can_bundle, small, 0.0)
            else:
                leftover = np.where(can_bundle, THRESHOLD, 0.0)
            bundle_rc = np.full(n_t, -np.inf)
            if len(columns[0]):
                np.maximum.at(bundle_rc, columns[0], columns[5])
            excess = np.maximum(excess, np.where(can_bundle, np.maximum(bundle_rc, leftover), 0.0))
            dual = float(y[: n_r + n_t].sum())
            if master.count_row >= 0:
                dual += float(y[master.count_row]) * master.most_served
            dual += master.cut_dual_sum(y)
            log.debug(
                "%s LP: %d rounds, %d columns, bound %.3f",
                "count" if counting else "weighted",
                state["rounds"] - first_round,
                master.n_cols,
                dual + float(np.maximum(excess, 0.0).sum()),
            )
            return y, dual + float(np.maximum(excess, 0.0).sum())

    def all_columns() -> tuple[IntArray, IntArray, FloatArray]:
        return (
            np.concatenate(cols_trip),
            np.concatenate(cols_members),
            np.concatenate(cols_weight),
        )

    count_lp: list = []  # the count LP's duals and bound, once solved
    count_lp_cut: list[bool] = []  # not empty once it was solved with the cuts
    y, bound = generate(counting=False)
    # The integer packing over the generated bundles, from the capacity-1 optimum.
    start = np.zeros(master.n_cols)
    on = single_column[start_single]
    start[on[on >= 0]] = 1.0

    def allowed_gap(bound: float, served: int) -> float:
        """The MILP's absolute gap (weight units) that keeps the relative gap asked."""
        if gap <= 0:
            return 0.0
        if mode == _LINEAR and big > 0:
            return gap * max(big * served - bound, 0.0)
        return gap * abs(bound)

    def gap_now(bound: float, value: float, served: int, served_bound: int) -> float:
        if mode == _LINEAR and big > 0:
            if served_bound > served:
                return (served_bound - served) / served_bound
            cost = big * served - value
            return max(cost - (big * served - bound), 0.0) / max(abs(cost), 1e-9)
        return (bound - value) / max(abs(bound), 1e-9)

    def served_of(chosen: np.ndarray) -> int:
        return int((np.concatenate(cols_members)[chosen > 0.5] >= 0).sum())

    # A second start: the LP's columns taken greedily by value, the requests they leave
    # matched to the trips they leave by the capacity-1 optimum.
    x = master.values()
    lp_rc = master.reduced_costs()[: len(x)]
    col_trip, col_members, col_weight = all_columns()
    rounded = np.zeros(len(x), bool)
    taken_r: set[int] = set()
    taken_t: set[int] = set()
    for c in np.flatnonzero(x > 1e-6)[np.argsort(-x[x > 1e-6], kind="stable")].tolist():
        members = [int(r) for r in col_members[c] if r >= 0]
        t = int(col_trip[c])
        if t in taken_t or any(r in taken_r for r in members):
            continue
        rounded[c] = True
        taken_t.add(t)
        taken_r.update(members)
    taken = np.zeros(n_r, bool)
    taken[col_members[rounded][col_members[rounded] >= 0]] = True
    busy = np.zeros(n_t, bool)
    busy[col_trip[rounded]] = True
    free = np.flatnonzero(~taken[s_request] & ~busy[s_trip])
    rest = policy.choose(trips, requests, singles.select(free), member_cost[free])
    extra = free[np.asarray(rest.selected, dtype=np.int64)]
    add_singles(extra, w_single[extra])
    col_trip, col_members, col_weight = all_columns()
    second = np.zeros(master.n_cols, bool)
    second[: len(rounded)] = rounded
    second[single_column[extra]] = True
    start = np.concatenate((start, np.zeros(master.n_cols - len(start))))
    if col_weight[second].sum() > col_weight[start > 0.5].sum():
        start = second.astype(np.float64)

    def polish(
        start: np.ndarray,
        x: FloatArray,
        lp_rc: FloatArray,
        within: float,
        seconds: float = SMALL_SECONDS,
    ) -> np.ndarray:
        """The packing over the LP's support (its columns above 0 and those of reduced
        cost near 0) and the start's columns, a small 0-1 program solved to ``within``
        weight units: usually close to the best, in a fraction of the whole program's time."""
        col_trip, col_members, col_weight = all_columns()
        near = lp_rc >= -0.01 * within
        near = np.r_[near | (x > 1e-6), np.zeros(len(col_weight) - len(x), bool)]
        support = np.flatnonzero(near | (start > 0.5))
        small = _Master(n_r, n_t)
        small.add(col_trip[support], col_members[support], col_weight[support])
        picked, _, _ = small.milp(
            start[support],
            min(time_limit or seconds, seconds),
            within,
            options={"presolve": "off"} if len(support) > SMALL_PRESOLVE_COLUMNS else None,
        )
        if col_weight[support][picked].sum() > col_weight[start > 0.5].sum():
            start = np.zeros(len(col_weight))
            start[support[picked]] = 1.0
        return start

    def improve(chosen: np.ndarray, x: FloatArray, seconds: float) -> np.ndarray:
        """Large neighbourhood search on a packing: from a column the LP uses and the
        packing does not, the rows around it (through the LP's and the packing's columns)
        are opened until ``LNS_ROWS``, the packing's columns on them taken out, and the
        best packing of every generated column that fits in the opened rows and the free
        ones put back (a small 0-1 program), if better. Seeded, so a day's answer stays
        the same; for ``seconds``, until every such column was tried, or ``LNS_STALL`` in a
        row gained nothing."""
        col_trip, col_members, col_weight = all_columns()
        n = len(col_weight)
        chosen = np.r_[chosen, np.zeros(n - len(chosen), bool)]
        if n_r + n_t <= 2 * LNS_ROWS:
            return chosen  # a neighbourhood would be most of the day: left to the 0-1 program
        x = np.r_[x, np.zeros(n - len(x))]
        rows = np.concatenate((col_members, (n_r + col_trip)[:, None]), axis=1)
        valid = rows >= 0
        # Per row, the columns the LP or the packing use on it (CSR).
        used = np.flatnonzero((x > INTEGRAL) | chosen)
        owner_col = np.repeat(used, valid[used].sum(axis=1))
        owner_row = rows[used][valid[used]]
        order = np.argsort(owner_row, kind="stable")
        owner_col, owner_row = owner_col[order], owner_row[order]
        ptr = np.searchsorted(owner_row, np.arange(n_r + n_t + 1))
        rng = np.random.default_rng(0)
        seeds = np.flatnonzero((x > INTEGRAL) & ~chosen)
        rng.shuffle(seeds)
        deadline = time.perf_counter() + seconds
        tried = last_gain = 0
        for seed_col in seeds.tolist():
            if time.perf_counter() > deadline:
                break
            if chosen[seed_col]:
                continue
            tried += 1
            opened: set[int] = set()
            queue = [int(r) for r in rows[seed_col][valid[seed_col]]]
            while queue and len(opened) < LNS_ROWS:
                r = queue.pop(0)
                if r in opened:
                    continue
                opened.add(r)
                for c in owner_col[ptr[r] : ptr[r + 1]].tolist():
                    queue.extend(int(q) for q in rows[c][valid[c]] if q not in opened)
            taken = np.zeros(n_r + n_t, bool)
            taken[rows[chosen][valid[chosen]]] = True
            open_mask = np.zeros(n_r + n_t, bool)
            open_mask[list(opened)] = True
            # The packing's columns on the opened rows come out, with all their rows.
            out = chosen & (open_mask[np.maximum(rows, 0)] & valid).any(axis=1)
            open_mask[rows[out][valid[out]]] = True
            blocked = taken & ~open_mask
            fits = ~(blocked[np.maximum(rows, 0)] & valid).any(axis=1)
            fits &= (open_mask[np.maximum(rows, 0)] & valid).any(axis=1)
            candidates = np.flatnonzero(fits)
            small = _Master(n_r, n_t)
            small.add(col_trip[candidates], col_members[candidates], col_weight[candidates])
            picked, _, _ = small.milp(out[candidates].astype(np.float64), LNS_SECONDS)
            gain = col_weight[candidates][picked].sum() - col_weight[out].sum()
            if gain > 0.5:
                chosen[out] = False
                chosen[candidates[picked]] = True
                last_gain = tried
            elif tried - last_gain >= LNS_STALL:
                break
        log.debug(
            "improved: %.1f after %d neighbourhoods (the last gain at %d)",
            col_weight[chosen].sum(),
            tried,
            last_gain,
        )
        return chosen

    def fix_rows(chosen: np.ndarray) -> None:
        """Fill the rows every packing better than ``chosen`` fills (``fix_tight_rows``)."""
        fixed = master.fix_tight_rows(y, bound, chosen)
        log.info("rows fixed by their duals: %d of %d", fixed, master.n_rows)

    def narrow(chosen: np.ndarray, rc: FloatArray, need: float) -> np.ndarray:
        """A better packing from the bundles nearest the LP: the 0-1 program over those
        whose reduced cost is at least ``NEAR_SHARE`` times ``need`` (the completion's
        reach; and the packing's own), the others held at 0 for it, SCIP racing HiGHS for
        at most ``NEAR_SECONDS``. A better packing's bundles mostly come from there: on
        1000 x 1000 at capacity 3 the optimum's lowest reduced cost was 115 and 181 units
        where the completion reached 1590 and 1090, and the program over the 2 400
        bundles of reduced cost above 100 found the optimum in 1-2 s, where the search
        before took 5 s to come 347 and 619 units short. Held at the optimum, the proving
        program keeps 6 400 bundles, not 22 000. Where it finds no better packing, the
        neighbourhood search from the LP's last solution."""
        col_trip, col_members, col_weight = all_columns()
        near = (rc >= NEAR_SHARE * need) | chosen
        held = np.flatnonzero(~near & ~master.held)
        master.hold(held)
        try:
            limit = min(NEAR_SECONDS, time_limit or math.inf)
            picked, _, status = master.race(chosen.astype(np.float64), limit)
        finally:
            master.release(held)
        lap("milp")
        log.info(
            "the 0-1 program over the %d bundles nearest the LP: %.1f (%s), the start %.1f",
            int(near.sum()),
            col_weight[picked].sum(),
            status,
            col_weight[chosen].sum(),
        )
        if col_weight[picked].sum() > col_weight[chosen].sum():
            return picked
        found = improve(chosen, lp_x, LNS_TOTAL)
        lap("search")
        return found

    def nearest_first(chosen: np.ndarray, need: float) -> np.ndarray:
        """Before a large completion (reach ``need``), the bundles of reduced cost at
        least ``NEAR_SHARE`` times ``need`` generated and their 0-1 program solved
        (``narrow``): the program that would follow the completion, run before it, so
        that the completion reaches only as far as the better packing needs (1000 x 1000
        at capacity 3, seed 7: 396 bundles generated for it, the same packing found, the
        completion after it 3 206 bundles within 622 units instead of 30 468 within
        1 603; its time 1.9 -> 0.9 s)."""
        added = complete(y, False, NEAR_SHARE * need)
        lap("completion")
        if added is None:
            return chosen
        log.info("the nearest bundles first: %d columns within %.1f", added, NEAR_SHARE * need)
        chosen = np.r_[chosen, np.zeros(master.n_cols - len(chosen), bool)]
        col_trip, col_members, col_weight = all_columns()
        rc = master.column_rc(y, col_trip, col_members, col_weight)
        fix_rows(chosen)
        return narrow(chosen, rc, need)

    def program(
        chosen: np.ndarray,
        abs_gap: float = 0.0,
        restart: bool = True,
        seconds: float | None = None,
        race: bool = False,
        scip: _Racer | None = None,
    ) -> tuple[np.ndarray, bool, str, float, int]:
        """The 0-1 program over the master's columns (those held at 0 stay so), from the
        packing ``chosen``: the packing found, whether optimal, the solver's status, its
        value and the requests it serves. ``restart``: HiGHS may start its root again when
        its reduced costs fix many columns. ``race``: SCIP against HiGHS (without its
        restarts for ``PROOF_FIRST`` seconds, then with them: ``_Master.race``)."""
        start = np.zeros(master.n_cols)
        start[: len(chosen)] = chosen
        limit = min(seconds, time_limit or math.inf) if seconds is not None else time_limit
        if race:
            picked, optimal, status = master.race(start, limit, first=PROOF_FIRST, scip=scip)
        else:
            picked, optimal, status = master.milp(start, limit, abs_gap, restart)
        _, col_members, col_weight = all_columns()
        value = float(col_weight[picked].sum())
        lap("milp")
        served = int((col_members[picked] >= 0).sum())
        log.info(
            "0-1 program (%s) over %d columns: %.1f, %d served (%s), %.1f s in 0-1 programs so far",
            "HiGHS and SCIP" if race else "HiGHS",
            master.n_cols,
            value,
            served,
            status,
            timings["milp"],
        )
        return picked, optimal, status, value, served

    def prove(
        chosen: np.ndarray, scip: _Racer | None = None
    ) -> tuple[np.ndarray, bool, str, float, int]:
        """The 0-1 program that should settle the day: SCIP and HiGHS race on it
        (``_Master.race``): on days of many alike bundles (pickup points) HiGHS's
        restarts after reduced-cost fixing are what ends the search (300 x 300, seed 2:
        proven in 23 s with them, not in 60 s without), SCIP's cuts close large roots
        that HiGHS's leave open. ``scip``: SCIP already running (``close``)."""
        return program(chosen, race=True, scip=scip)

    def close(chosen: np.ndarray) -> tuple[np.ndarray, bool, str, float, int]:
        """The proof once the program is closed (every bundle a better packing could use
        generated). SCIP starts on it at once, in a process of its own, as the race would
        (``prove``); beside it, rounds of zero-half cuts on its LP
        (``_Master.close_by_cuts``), which often bring the bound below the packing's next
        unit first (or make the LP integral: its packing is the optimum). Where they stop
        short, the race goes on with that SCIP and HiGHS on what the rounds left (the
        columns they held at 0 held, the cuts out). On 1000 x 1000 at capacity 3 the rounds
        alone proved seeds 1 and 5 (838 and 1437 units of the LP's gap closed) where SCIP
        took 9.6 and 48 s; on seeds 2 and 9 they stopped 79 and more units short after 10
        s, and SCIP, started with them on the whole program, proved them as before, where
        the race started after them on what they left did not in 60 s (seed 9: their
        cuts, thousands of rows, slowed both solvers).

        Under ``max-matches`` every better packing serves as many requests as the cap
        (the packing does, and one unit of the count outweighs any detour), so for the
        rounds the count row is an equality and the weights lose the count's units
        (``big`` per request): left in, they made each bundle's weight millions of units
        where the LP's gaps are a few, and HiGHS's LP on seed 1's program took 4.4-6.5 s
        cold, its rounds tens of seconds, and once ended "optimal" 67 units below the
        packing, which is in the program; without them 1.3 s, and tenths of a second a
        round. The weights are put back for the race."""
        chosen = np.r_[chosen, np.zeros(master.n_cols - len(chosen), bool)]
        _, members, weight = all_columns()
        value = float(weight[chosen].sum())
        served = served_of(chosen)
        counted = mode == _LINEAR and big > 0
        exact_count = counted and master.count_row >= 0 and served == master.most_served
        if not ZERO_HALF or (counted and not exact_count):
            # (The count's units left in the weights, the rounds' LP would be unsafe.)
            return prove(chosen)
        start = np.zeros(master.n_cols)
        start[chosen] = 1.0
        began = time.perf_counter()
        scip = master.scip_runner(start, time_limit)
        scip_columns, scip_began = int((~master.held).sum()), began

        def scip_again(cuts: int) -> None:
            """SCIP once more, on what the rounds have left (``SCIP_AGAIN_SHARE``), with the
            weights it had and without the rounds' ``cuts`` (the last rows): SCIP's time
            grows with the columns faster than its restart costs."""
            nonlocal scip, scip_columns, scip_began
            free, now = int((~master.held).sum()), time.perf_counter()
            spared = SCIP_SECONDS_PER_COLUMN * (scip_columns - free)
            if free > SCIP_AGAIN_SHARE * scip_columns or now - scip_began > spared or scip.done():
                return
            left = None if time_limit is None else time_limit - (now - began)
            if left is not None and left <= 0:
                return
            program = _FreeProgram(master, rows=master.n_rows - cuts, cost=weight)
            scip.stop()
            log.info("SCIP again, on the %d of %d columns the rounds left", free, scip_columns)
            # (Not saved: ``bench_proofs.py`` replays each day's last program as the proof.)
            scip = master.scip_runner(start, left, program=program, save=False)
            scip_columns = free
            scip_began = time.perf_counter()

        shift = big * served if exact_count else 0.0
        if exact_count:
            master.shift(big, weight)
        try:
            reached, added, packing = master.close_by_cuts(
                value - shift,
                chosen,
                ZERO_HALF_SECONDS,
                stop=lambda: scip.done(),
                held_more=scip_again,
            )
        except BaseException:
            scip.stop()
            raise
        finally:
            if exact_count:
                master.shift(0.0, weight)
        lap("zero-half")
        log.info(
            "zero-half cuts: %d in %d columns left; the LP %.1f above the packing%s",
            added,
            int((~master.held).sum()),
            reached - (value - shift),
            ", integral" if packing is not None else "",
        )
        if packing is not None and float(weight[packing].sum()) > value:
            chosen, value, served = packing, float(weight[packing].sum()), served_of(packing)
        if reached < value - shift + 1.0 - 1e-6 or packing is not None:
            scip.stop()
            master.dual_bound = value
            log.info("proven by the zero-half cuts: %.1f, %d served", value, served)
            return chosen, True, "optimal, zero-half cuts", value, served
        return prove(chosen, scip)

    def separate(x: FloatArray) -> list[tuple[int, ...]]:
        """Subset-row cuts the LP solution ``x`` breaks, most broken first (at most
        ``CUTS_PER_ROUND``): on triples of rows (requests', or a trip's) whose columns
        covering two or more of them sum past 1 (only a triple two of whose pairs share a
        column in ``x`` can break one), and on five rows (``_odd_row_sets``): the odd
        cycles of half bundles that cuts on three rows leave (the LP's bound 2238 units
        above the optimum of 1000 x 1000 at capacity 3, seed 7, after cuts on triples;
        927 after one round on five and seven rows, offline)."""
        col_trip, col_members, _ = all_columns()
        used = np.flatnonzero(x > 1e-6)
        rows_used = master.rows_of(col_trip[used], col_members[used])
        columns_of: dict[tuple[int, int], list[int]] = {}
        for c, rows in zip(used.tolist(), rows_used, strict=True):
            for pair in itertools.combinations(rows, 2):
                columns_of.setdefault(pair, []).append(c)
        near: dict[int, set[int]] = {}
        for a, b in columns_of:
            near.setdefault(a, set()).add(b)
            near.setdefault(b, set()).add(a)
        known = set(master.cuts)
        broken: dict[tuple[int, ...], float] = {}
        for a, b in columns_of:
            for k in near[a] | near[b]:
                if k in (a, b):
                    continue
                i, j, m = sorted((a, b, k))
                cut: tuple[int, ...] = (i, j, m)
                if cut in known or cut in broken:
                    continue
                hit = set(columns_of.get((i, j), ()))
                hit.update(columns_of.get((i, m), ()), columns_of.get((j, m), ()))
                total = float(x[list(hit)].sum())
                if total > 1.0 + CUT_VIOLATION:
                    broken[cut] = total - 1.0
        for cut, lhs in _broken_odd_cuts(x[used], rows_used, master.n_rows_cut, 5):
            if cut not in known:
                broken[cut] = lhs - 2.0
        ranked = sorted(broken, key=lambda cut: -broken[cut])
        return ranked[:CUTS_PER_ROUND]

    def tighten(y: FloatArray, bound: float) -> tuple[FloatArray, float]:
        """Subset-row cuts (Jepsen et al. 2008), rounds of them with the LP generated
        again after each: the LP's fractional packings (half of two bundles sharing
        a request each with a third) are cut off, and the bound falls toward the integer
        optimum, so the 0-1 program and the completion have less to prove."""
        first: float | None = None  # what the first round took off the bound
        for _ in range(CUT_ROUNDS):
            cuts = separate(master.values())
            if not cuts:
                break
            col_trip, col_members, _ = all_columns()
            master.add_cuts(cuts, col_trip, col_members)
            before = bound
            y, bound = generate(counting=False)
            lap("cuts")
            log.debug("%d cuts: LP bound %.1f -> %.1f", len(master.cuts), before, bound)
            first = first if first is not None else before - bound
            if before - bound < max(1.0, CUT_TAIL * first):
                break
        return y, bound

    def complete(
        y_now: FloatArray, counting: bool, need: float, most: int | None = None
    ) -> int | None:
        """The completion: every column whose reduced cost under the duals ``y_now`` (the
        count LP's when ``counting``) is at least ``need`` joins the master; how many
        did, or None (and none) when they would pass ``most`` (``completion_limit``).
        Counted with each trip's scan cut short past its share of the limit first: when
        they are far too many (1.6 M at 1000 x 1000, capacity 3) that says so in a
        fraction of a full count's time (18 s there)."""
        most = completion_limit if most is None else most
        rc = single_rc(y_now, counting)
        count_single = int(((rc >= need) & ~in_master).sum())
        share = max(1, 2 * most // max(n_t, 1))
        found, finished, _, _ = price(y_now, counting, need, share, np.zeros(n_t, np.int64))
        if count_single + int(found.sum()) <= most and not finished.all():
            found, _, _, _ = price(y_now, counting, need, 0, np.zeros(n_t, np.int64))
        if count_single + int(found.sum()) > most:
            return None
        pos = np.flatnonzero((rc >= need) & ~in_master)
        added = add_singles(pos, w_single[pos])
        _, _, _, columns = price(y_now, counting, need, 0, found.astype(np.int64))
        return added + add_bundles(columns, counting)

    def near(chosen: np.ndarray) -> tuple[np.ndarray, FloatArray, bool]:
        """A packing near the LP's last solution (from the packing ``chosen``): a dive
        from it, the 0-1 program on its support, then the neighbourhood search (unless
        ``count_first`` says the count comes first); the LP's solution; whether the
        search ran."""
        begin = np.zeros(master.n_cols)
        begin[: len(chosen)] = chosen
        lp_x = master.values()
        lp_rc = master.reduced_costs()[: len(lp_x)]
        dived = master.dive()
        col_trip, col_members, col_weight = all_columns()
        begin_value, dived_value = col_weight[begin > 0.5].sum(), col_weight[dived].sum()
        log.debug(
            "dive: %.1f (%d served), start %.1f, LP bound %.1f",
            dived_value,
            served_of(dived),
            begin_value,
            bound,
        )
        if dived_value > begin_value:
            begin, begin_value = dived.astype(np.float64), dived_value
        began = time.perf_counter()
        chosen = polish(begin, lp_x, lp_rc, 0.0, NEAR_POLISH_SECONDS) > 0.5
        log.debug(
            "the 0-1 program on the LP's support: %.1f -> %.1f in %.2f s",
            begin_value,
            col_weight[chosen].sum(),
            time.perf_counter() - began,
        )
        lap("rounding")
        if count_first(chosen):
            return chosen, lp_x, False
        chosen = improve(chosen, lp_x, LNS_TOTAL)
        lap("search")
        return chosen, lp_x, True

    def count_first(chosen: np.ndarray) -> bool:
        """Whether the count LP with the cuts should come before the neighbourhood search
        from ``chosen``, which serves fewer requests than the cap, though the weighted LP
        reaches it (else it came before ``near``): where the count LP without cuts was
        far above the cap (more than ``COUNT_FIRST_ABOVE``), the cuts may bring it below
        (1000 x 1000 at capacity 3, seed 12: 996.910 without, 995.985 with them and the
        zero-half cuts; the search had spent 6 s toward 996)."""
        return (
            COUNT_WITH_CUTS
            and gap == 0
            and bool(count_lp)
            and not count_lp_cut
            and served_of(chosen) < served_bound
            and count_lp[1] - served_bound > COUNT_FIRST_ABOVE
        )

    def lp_count() -> float:
        """The requests the master LP's last solution serves (fractional)."""
        x = master.values()
        return float(x @ (np.concatenate(cols_members)[: len(x)] >= 0).sum(axis=1))

    def zero_half_count(count_bound: float, target: int) -> float:
        """Rounds of priced zero-half cuts on the count LP (its solution in the master),
        each followed by the count LP generated again, until its bound falls below
        ``target`` (then no packing serves ``target``), stalls, or runs out of rounds or
        time; the cuts' rows go again after (the count LP's basis before them back), so
        the weighted LP never carries them (its costs' large units stalled HiGHS's dual
        simplex on such rows). The least bound reached, valid over every bundle: each
        round's cuts sum rows and subset-row cuts with no column's upper bound, so the
        pricing counts them on every bundle (``_cut_penalty``). 1000 x 1000 at capacity
        3, seed 12: the count LP with subset-row cuts at 996.037, 995 served; the weighted
        0-1 program could not say in 60 s whether any packing serves 996."""
        basis = master.basis()
        began = time.perf_counter()
        best, stalled = count_bound, 0
        for _ in range(ZERO_HALF_COUNT_ROUNDS):
            col_trip, col_members, _ = all_columns()
            if not master.zero_half_round(col_trip, col_members, ZERO_HALF_CUTS):
                break
            _, now = generate(counting=True)
            lap("zero-half")
            log.info(
                "count LP with %d zero-half cuts: %.4f (to pass below %d)",
                len(master.zh_rows),
                now,
                target,
            )
            stalled = stalled + 1 if now > best - ZERO_HALF_COUNT_PROGRESS else 0
            best = min(best, now)
            if best + 1e-6 < target or stalled >= ZERO_HALF_COUNT_STALL:
                break
            if time.perf_counter() - began > ZERO_HALF_COUNT_SECONDS:
                break
        master.drop_zero_half()
        master.restore(basis)
        return best

    def zero_half_weighted(y: FloatArray, bound: float, value: float) -> tuple[FloatArray, float]:
        """Rounds of priced zero-half cuts on the weighted LP (a packing ``value`` serving
        the cap known: the costs shifted by the units, the count row an equality, so HiGHS
        works on costs of thousands), each followed by the LP generated again, while the
        bound falls by enough; the duals and bound (valid over every bundle) for the
        completion, which then holds fewer bundles. The costs stay shifted until
        ``unshift``; the rows stay in the 0-1 programs after (valid for every packing).
        Off by default: 1000 x 1000 at capacity 3 (seeds 1-12), seed 5 20.1 -> 15.9 s
        (its proof closed at once), but seeds 1, 2, 7, 9, 11 slower by 2-11 s (the 0-1
        programs with these rows and the costs' large units again)."""
        master.shift(big, np.concatenate(cols_weight))
        master.lp()  # (the same optimum: from its basis, in a few pivots)
        began = time.perf_counter()
        for _ in range(ZERO_HALF_WEIGHTED_ROUNDS):
            col_trip, col_members, _ = all_columns()
            if not master.zero_half_round(col_trip, col_members, ZERO_HALF_CUTS):
                break
            before = bound
            y, bound = generate(counting=False)
            lap("zero-half")
            log.info(
                "LP with %d zero-half cuts: %.1f above the packing (%.1f)",
                len(master.zh_rows),
                bound - value,
                before - value,
            )
            if bound < value + 1.0 - 1e-6:
                break
            if before - bound < ZERO_HALF_WEIGHTED_PROGRESS * (before - value):
                break
            if time.perf_counter() - began > ZERO_HALF_WEIGHTED_SECONDS:
                break
        return y, bound

    def unshift() -> None:
        """The costs back to the weights after ``zero_half_weighted`` (the count row a cap
        again); the zero-half rows stay."""
        master.shift(0.0, np.concatenate(cols_weight))

    def count_with_cuts(served_bound: int) -> int:
        """The count LP over every bundle with the master's cuts, its cap lifted (a cap
        it reaches makes every bundle's reduced cost 0: duals of no use to the count's
        completion). Its duals and bound go to ``count_lp``; the cap goes back to the bound
        on the requests served, at most ``served_bound``, which is returned."""
        col_members = np.concatenate(cols_members)
        master.objective((col_members >= 0).sum(axis=1).astype(np.float64))
        master.lower_cap(n_r + 1)
        count_duals, count_bound = generate(counting=True)
        log.info(
            "count LP with %d cuts: %.3f (%.3f without)", len(master.cuts), count_bound, count_lp[1]
        )
        count_lp[:] = [count_duals, count_bound]
        count_lp_cut.append(True)
        target = min(served_bound, int(math.floor(count_bound + 1e-6)))
        if ZERO_HALF_COUNT_ROUNDS and count_bound - target < ZERO_HALF_COUNT_REACH:
            # Within reach of a unit less: the zero-half cuts' bound (``count_lp`` keeps
            # the duals without them, which the count's completion prices with).
            count_bound = min(count_bound, zero_half_count(count_bound, target))
        master.objective(np.concatenate(cols_weight))
        most_served = min(served_bound, int(math.floor(count_bound + 1e-6)))
        master.lower_cap(most_served)
        return most_served

    def capped(most_served: int) -> tuple[FloatArray, float]:
        """The requests served capped at ``most_served``: the weighted LP generated again,
        with cut rounds for it; its duals and bound."""
        master.lower_cap(most_served)
        y, bound = generate(counting=False)
        return tighten(y, bound)

    def settle_count(chosen: np.ndarray, served: int) -> np.ndarray | None:
        """Whether any packing serves one more request than ``chosen`` (which serves
        ``served``, below the count LP's bound): such a packing uses only bundles whose
        reduced cost in the count LP is at least ``served + 1 -`` its bound (as in the
        completion below); every such bundle is generated and the 0-1 program of the
        requests served solved over them and the rest. A packing serving one more, or an
        empty array when none exists (the count is proven), or None when that completion
        would pass ``completion_limit`` bundles or the program its time."""
        duals, count_bound = count_lp
        y_count = np.zeros(master.n_rows)  # the rows added since (cap, cuts) at 0
        y_count[: len(duals)] = duals
        need = served + 1.0 - count_bound - 1e-6
        # At most ``LARGE_COMPLETION``: the count LP's duals are degenerate (many bundles
        # at a reduced cost of 0) and the count's weights do not bound a bundle before its
        # route is searched, so counting to 400 000 took 30 s (1000 x 1000 at capacity 3,
        # seed 12) only to give up; a count program over 100 000 bundles would be hard too.
        most = min(completion_limit, LARGE_COMPLETION)
        added = complete(y_count, True, need, most)
        if added is None:
            lap("completion")
            log.info("count completion: more than %d columns, not generated", most)
            return None
        _, col_members, col_weight = all_columns()
        size = (col_members >= 0).sum(axis=1)
        master.objective(size.astype(np.float64))
        start = np.zeros(master.n_cols)
        start[: len(chosen)] = chosen
        # Raced, as the proof is (the paper's settings at 300 x 300, seed 6: 9 559 bundles,
        # HiGHS alone 7.8 s to prove that none serves 264, SCIP first in the race 2.3 s).
        picked, optimal, status = master.race(start, time_limit, first=PROOF_FIRST)
        master.objective(col_weight)
        lap("completion")
        most_served = int(size[picked].sum())
        log.info(
            "count completion: %d columns within %.2f of the count LP's bound; at most %d "
            "served (%s)",
            added,
            need,
            most_served,
            status,
        )
        if not optimal:
            return None
        return picked if most_served > served else np.zeros(0, bool)

    if gap > 0 and gap_now(bound, float(col_weight[start > 0.5].sum()), served_of(start), 0) > gap:
        # Asked for a gap only: the small program on the LP's support is usually within
        # it (half the gap: the small program's own bound is below the LP bound over all).
        start = polish(
            start, x, lp_rc, 0.5 * allowed_gap(bound, served_of(start)), GAP_POLISH_SECONDS
        )
    lap("rounding")
    served_bound = len(np.unique(s_request))
    if mode == _LINEAR and big > 0:
        served_bound = min(served_bound, int(math.floor((bound + most) / big + 1e-9)))
    chosen = start > 0.5
    value = float(col_weight[chosen].sum())
    served = int((col_members[chosen] >= 0).sum())
    optimal, status = False, "start"
    straight = False  # see the completion below
    lp_x = np.zeros(0)  # the LP's last solution before the integer packings
    if value >= math.floor(bound + 1e-6):
        optimal, status = True, "optimal"
    elif gap > 0 and gap_now(bound, value, served, served_bound) <= gap:
        status = "within the gap asked"
    else:
        if mode == _LINEAR and big > 0 and served_bound > served:
            # The weighted bound leaves the most requests served open: settle it on its
            # own, by the LP of the requests served over every bundle (cheap).
            master.objective((np.concatenate(cols_members) >= 0).sum(axis=1).astype(np.float64))
            count_duals, count_bound = generate(counting=True)
            count_lp[:] = [count_duals, count_bound]
            served_bound = min(served_bound, int(math.floor(count_bound + 1e-6)))
            col_trip, col_members, col_weight = all_columns()
            master.objective(col_weight)
        if mode == _LINEAR and big > 0:
            # No packing serves more than that: cap the requests served at it, so the LP
            # no longer trades a fraction of a request for detour, and bound the cost.
            master.cap_count((col_members >= 0).sum(axis=1), served_bound)
            y, bound = generate(counting=False)
        y, bound = tighten(y, bound)
        if mode == _LINEAR and big > 0:
            # The cap and the cuts lowered the weighted bound: it may now bound the
            # requests served below the count LP's bound. Then cap lower, and bound again.
            while (lower := int(math.floor((bound + most) / big + 1e-9))) < served_bound:
                log.debug("weighted bound %.1f: at most %d served", bound, lower)
                served_bound = lower
                y, bound = capped(lower)
        if (
            COUNT_WITH_CUTS
            and gap == 0
            and count_lp
            and served < served_bound
            and (lp_count() < served_bound - 1e-6 or not COUNT_FIRST_ONLY_BELOW_CAP)
        ):
            # The count LP with the cuts before the packing near the LP is sought: where
            # it bounds the count lower, the search near an LP that serves more than any
            # packing can was wasted (1000 x 1000 at capacity 3, seeds 6 and 8: 5-7 s of
            # the neighbourhood search toward 990 served where 989 was the most). Only
            # where the weighted LP serves less than the cap (the count LP serves at
            # least as much: where the weighted one reaches the cap, so does it); where it
            # does not bound it lower, the weighted LP is solved again from its own basis
            # (from the count's it took thousands of pivots, and ended at other duals).
            weighted = master.basis()
            if (lower := count_with_cuts(served_bound)) < served_bound:
                served_bound = lower
                y, bound = capped(lower)
                log.info("LP at most %d served: %.1f, before the search", served_bound, bound)
            else:
                master.restore(weighted)
                y, bound = generate(counting=False)
                log.info("LP at most %d served still: %.1f, its own basis", served_bound, bound)
        chosen, lp_x, searched_near = near(chosen)
        col_trip, col_members, col_weight = all_columns()
        value = float(col_weight[chosen].sum())
        served = int((col_members[chosen] >= 0).sum())
        log.info(
            "LP over every bundle: %.1f, at most %d served (%d columns, %d cuts); "
            "packing near it: %.1f, %d served%s",
            bound,
            served_bound,
            master.n_cols,
            len(master.cuts),
            value,
            served,
            "" if searched_near else " (the count's cuts before the search)",
        )
        # The packing serves fewer than the bound allows: the count LP again, with the
        # cuts (its bound before them holds none): 1000 x 1000 at capacity 3, seed 6:
        # 989.61 -> 988.77, so no packing serves more than the 988 found and the count is
        # settled without its completion (more than 400 000 bundles).
        if (
            COUNT_WITH_CUTS
            and value < math.floor(bound + 1e-6)
            and count_lp
            and served < served_bound
            and (lower := count_with_cuts(served_bound)) < served_bound
        ):
            # The LP at that count is another: cuts for it, and a packing near it.
            served_bound = lower
            y, bound = capped(lower)
            again, lp_x, _ = near(chosen)
            col_trip, col_members, col_weight = all_columns()
            chosen = np.r_[chosen, np.zeros(len(again) - len(chosen), bool)]
            if col_weight[again].sum() > col_weight[chosen].sum():
                chosen = again
            value, served = float(col_weight[chosen].sum()), served_of(chosen)
            log.info(
                "LP at most %d served: %.1f; packing near it: %.1f", served_bound, bound, value
            )
        elif not searched_near:
            # The count held: the search put off for it now.
            chosen = improve(chosen, lp_x, LNS_TOTAL)
            lap("search")
            col_trip, col_members, col_weight = all_columns()
            value, served = float(col_weight[chosen].sum()), served_of(chosen)
        if value >= math.floor(bound + 1e-6):
            optimal, status = True, "optimal"
        elif gap > 0 and gap_now(bound, value, served, served_bound) <= gap:
            # Within the gap asked already: a 0-1 program would only prove it again (its
            # root LP over 188 527 columns took 57 s at 20000 x 8000, capacity 2, seed 2).
            status = "within the gap asked"
        elif gap == 0 and (served >= served_bound or big == 0):
            # The start serves all it can: straight to the completion (a 0-1 program over
            # the bundles so far would mostly prove again what the completion's proves).
            straight = True
            if ZERO_HALF_WEIGHTED and big > 0 and bound - value > ZERO_HALF_WEIGHTED_GAP:
                y, bound = zero_half_weighted(y, bound, value)
        else:
            chosen, optimal, status, value, served = program(chosen, allowed_gap(bound, served))
            if optimal and big > 0 and served < served_bound and count_lp and gap == 0:
                more = settle_count(chosen, served)
                if more is None:
                    pass  # too many bundles to decide it: the count's gap stays
                elif more.any():  # one more request served: the weighted program from there
                    chosen, optimal, status, value, served = program(more)
                else:  # no packing serves more: cap there, bound the cost again
                    served_bound = served
                    master.lower_cap(served)
                    y, bound = generate(counting=False)
    proven = optimal and (served >= served_bound or big == 0) and value >= math.floor(bound + 1e-6)
    completed = 0
    within = gap > 0 and gap_now(bound, value, served, served_bound) <= gap
    searched = False  # the 0-1 program over the bundles so far ran for a better start
    # Whether the nearest bundles' program ran before the completion (or never will).
    neared = completion_limit <= NEAREST_FIRST_AFTER
    narrowed = False  # it ran before the completion: not again after it
    while (
        (optimal or straight) and not proven and (served >= served_bound or big == 0) and not within
    ):
        # A packing better than this one (by at least one unit) uses only bundles whose
        # reduced cost is at least value + 1 - bound: generate them all, then solve again.
        need = value + 1.0 - bound - 1e-6
        large = not searched and completion_limit > LARGE_COMPLETION
        most = LARGE_COMPLETION if large else completion_limit
        # First only counted past NEAREST_FIRST_AFTER (the count is cut short): a
        # completion that large gets the nearest bundles' program first.
        added = complete(y, False, need, most if neared else min(most, NEAREST_FIRST_AFTER))
        lap("completion")
        if master.units:  # the 0-1 programs after go without the shift (weights' values)
            unshift()
        if added is None and not neared:
            neared = narrowed = True
            chosen = nearest_first(chosen, need)
            value = float(all_columns()[2][chosen].sum())
            served = served_of(chosen)
            continue
        neared = True
        if added is None and large:
            # So many bundles within reach of this packing that their 0-1 program would be
            # hard: a better packing first, from the 0-1 program over the bundles so far
            # for ``PROOF_FIRST`` seconds (1000 x 1000 at capacity 3, seed 11: the search's
            # packing 3404 units below the bound, HiGHS's in 10 s 2427; the completion
            # from the search's 305 678 bundles, too many to prove in 120 s).
            searched = True
            log.info("completion: more than %d columns; a better start first", LARGE_COMPLETION)
            # Its rows fixed as for the proof (seed 11: the packing found in the 10 s
            # 196 units nearer the bound, the completion 76 667 -> 59 263 bundles).
            fix_rows(chosen)
            better = program(chosen, restart=False, seconds=PROOF_FIRST)
            if better[3] > value:
                chosen, value, served = better[0], better[3], better[4]
            continue
        if added is None:
            log.info("completion: more than %d columns, not generated", completion_limit)
            if not straight:
                break
            # The start is too far from the bound: the best packing of the bundles so
            # far first (in the time given), then the completion from it if optimal.
            straight = False
            chosen, optimal, status, value, served = prove(chosen)
            proven = optimal and value >= math.floor(bound + 1e-6)
        else:
            completed = added
            log.info("completion: %d columns within %.1f of the LP bound", completed, need)
            chosen = np.r_[chosen, np.zeros(master.n_cols - len(chosen), bool)]
            col_trip, col_members, col_weight = all_columns()
            rc = master.column_rc(y, col_trip, col_members, col_weight)
            # A packing nearer the bound first, from the completion's bundles: it leaves
            # fewer of them to the 0-1 program (a few hundred leave it little to branch
            # on: the search would take longer than the program saves). Where the
            # nearest bundles' program finds none in its time, the neighbourhood search.
            # Rows a better packing must fill (by their duals) become equalities: the
            # nearest bundles' program and the proof have less to branch on (1000 x 1000
            # at capacity 3, seeds 1-4 and 7: 1118-1147 of 2601-3201 rows; the 0-1
            # programs 4.6-16.1 s -> 3.1-11.9 s, whole solves 11.4-27.6 -> 9.9-24.0 s).
            fix_rows(chosen)
            if completed >= NEAR_AFTER and not narrowed:
                chosen = narrow(chosen, rc, need)
            lap("search")
            # The bundles whose reduced cost is below that of the start cannot be in a
            # better packing: held at 0, the 0-1 program has fewer to branch on.
            below = rc < max(need, float(col_weight[chosen].sum()) + 1.0 - bound - 1e-6)
            master.hold(np.flatnonzero(below & ~chosen))
            fix_rows(chosen)  # the better packing found fixes more
            chosen, optimal, status, value, served = close(chosen)
            # Optimal over every bundle a better packing than the start could use.
            proven = optimal
            if proven:
                bound = value
            else:
                # Out of time: every packing better than the start is a packing of this
                # program, so its own bound (the solver's, after its cuts and branching)
                # bounds them all, tighter than the LP's (a unit's margin for tolerances).
                if math.isfinite(master.dual_bound) and master.dual_bound + 1.0 < bound:
                    log.info(
                        "not proven: the 0-1 program bounds every packing at %.1f (the LP at %.1f)",
                        master.dual_bound + 1.0,
                        bound,
                    )
                    bound = max(master.dual_bound + 1.0, value)
            break
    col_trip, col_members, col_weight = all_columns()
    size = (col_members >= 0).sum(axis=1).astype(np.int64)
    return ColumnResult(
        trip=col_trip,
        size=size,
        members=col_members,
        detour=np.concatenate(cols_detour),
        order=np.concatenate(cols_order),
        weight=col_weight,
        chosen=np.flatnonzero(chosen).astype(np.int64),
        value=value,
        bound=max(bound, value),
        optimal=proven,
        big=big,
        most=most,
        least=least,
        status=status,
        served_bound=served_bound,
        rounds=state["rounds"],
        routed=state["routed"],
        completed=completed,
        cuts=len(master.cuts),
        timings=timings,
    )
