"""Several requests per trip: bundles, the exact set packing, and its agreement with
today's matcher at capacity 1 and with brute force on small instances."""

from __future__ import annotations

import io
import itertools
import pickle
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core.bundles import enumerate_bundles, match_routes
from crowdship.core.costs import CostFunction, DetourTerm
from crowdship.core.feasibility import DirectTimes, Limits, feasible_pairs
from crowdship.core.matcher import match
from crowdship.core.model import ModelError, Requests, Trips
from crowdship.core.policies import AcceptanceAware, MinCost
from crowdship.core.response import LogitResponse
from crowdship.core.routes import route_problems
from crowdship.core.travel import PlanarTravel

MINUTE_PER_KM = PlanarTravel(speed_kmh=60.0, detour_factor=1.0)


def instance(
    seed: int, n_trips: int, n_requests: int, capacities: tuple[int, ...] = (1, 2, 3)
) -> tuple[Trips, Requests]:
    """A small random day in a 10 km square, loose enough that bundles exist."""
    rng = np.random.default_rng(seed)
    origin = rng.uniform(0, 10, (n_trips, 2))
    destination = rng.uniform(0, 10, (n_trips, 2))
    direct = np.hypot(*(destination - origin).T)
    departure = rng.uniform(0, 30, n_trips)
    trips = Trips.from_columns(
        [f"t{i}" for i in range(n_trips)],
        origin,
        destination,
        departure,
        departure + direct + rng.uniform(5, 30, n_trips),
        capacity=rng.choice(capacities, n_trips),
    )
    earliest = rng.uniform(0, 40, n_requests)
    requests = Requests.from_columns(
        [f"r{j}" for j in range(n_requests)],
        rng.uniform(0, 10, (n_requests, 2)),
        rng.uniform(0, 10, (n_requests, 2)),
        earliest,
        earliest + rng.uniform(10, 80, n_requests),
        size=rng.choice([1, 1, 1, 2], n_requests),
        value=rng.uniform(0, 20, n_requests),
    )
    return trips, requests


def route_rows(result, trip_id):
    rows = [k for k in range(len(result.routes)) if result.routes.trip_ids[k] == trip_id]
    rows.sort(key=lambda k: result.routes.seq[k])
    return rows


def check_every_route(result, trips, requests, limits=None, travel=MINUTE_PER_KM):
    """Every route the matcher chose keeps the rule (independent checker), and the
    per-request rows agree with the per-stop rows."""
    limits = limits if limits is not None else Limits()
    index = {rid: j for j, rid in enumerate(requests.ids)}
    trip_pos = {tid: i for i, tid in enumerate(trips.ids)}
    for trip_id in set(result.assignment.trip_ids.tolist()):
        rows = route_rows(result, trip_id)
        kinds = [result.routes.kind[k] for k in rows]
        assert kinds[0] == "origin" and kinds[-1] == "destination"
        stops = [(index[result.routes.request_ids[k]], result.routes.kind[k]) for k in rows[1:-1]]
        t = trip_pos[trip_id]
        assert route_problems(trips, requests, travel, t, stops, limits) == []
        assert max(result.routes.load[k] for k in rows) <= trips.capacity[t]
    a = result.assignment
    for k in range(len(a)):
        rows = route_rows(result, a.trip_ids[k])
        seq = {result.routes.seq[i]: i for i in rows}
        pickup, delivery = seq[result.pickup_seq[k]], seq[result.delivery_seq[k]]
        assert result.routes.request_ids[pickup] == a.request_ids[k]
        assert result.routes.kind[pickup] == "pickup"
        assert result.routes.kind[delivery] == "delivery"
        assert result.pickup_seq[k] < result.delivery_seq[k]
        assert a.pickup_time[k] == pytest.approx(result.routes.departure[pickup])
        assert a.delivery_time[k] == pytest.approx(result.routes.arrival[delivery])


def orders(members):
    """Every order of the members' stops with each pickup before its delivery."""
    if not members:
        yield []
        return
    stops = [(r, kind) for r in members for kind in ("pickup", "delivery")]
    for order in itertools.permutations(stops):
        seen: set[int] = set()
        ok = True
        for r, kind in order:
            if kind == "delivery" and r not in seen:
                ok = False
                break
            seen.add(r)
        if ok:
            yield list(order)


def best_driving(trips, requests, t, members):
    """Least driving over every stop order the checker accepts, or None."""
    best = None
    for order in orders(members):
        if route_problems(trips, requests, MINUTE_PER_KM, t, order):
            continue
        points = [trips.origin[t]]
        points += [requests.pickup[r] if k == "pickup" else requests.delivery[r] for r, k in order]
        points.append(trips.destination[t])
        driving = sum(float(np.hypot(*(b - a))) for a, b in itertools.pairwise(points))
        best = driving if best is None else min(best, driving)
    return best


def brute_force(trips, requests, weight):
    """The best assignment of request sets to trips by trying them all: ``weight(t,
    members, detour)`` is a tuple to maximise (lexicographic)."""
    options = []
    for t in range(len(trips)):
        direct = float(np.hypot(*(trips.destination[t] - trips.origin[t])))
        mine = [((), None)]
        for k in range(1, 5):
            for members in itertools.combinations(range(len(requests)), k):
                if int(requests.size[list(members)].sum()) > int(trips.capacity[t]):
                    continue
                driving = best_driving(trips, requests, t, members)
                if driving is not None:
                    mine.append((members, max(driving - direct, 0.0)))
        options.append(mine)

    width = len(weight(0, (0,), 0.0))

    @cache
    def best(t: int, used: frozenset[int]) -> tuple:
        if t == len(trips):
            return (0.0,) * width
        top = best(t + 1, used)
        for members, detour in options[t][1:]:
            if used.isdisjoint(members):
                rest = best(t + 1, used | set(members))
                mine = weight(t, members, detour)
                total = tuple(a + b for a, b in zip(mine, rest, strict=True))
                top = max(top, total)
        return top

    return best(0, frozenset())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 3), n_requests=st.integers(1, 4))
def test_max_matches_equals_brute_force(seed, n_trips, n_requests):
    """The most requests served, then the least total detour: as trying every assignment
    and every stop order; every chosen route passes the checker."""
    trips, requests = instance(seed, n_trips, n_requests)
    result = match_routes(trips, requests, MINUTE_PER_KM)
    served, minus_detour = brute_force(
        trips, requests, lambda t, members, detour: (len(members), -detour)
    )
    assert result.matched == served
    assert result.assignment.total_detour == pytest.approx(-minus_detour, abs=1e-2)
    assert result.solve.exact
    check_every_route(result, trips, requests)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 3), n_requests=st.integers(1, 4))
def test_min_cost_equals_brute_force(seed, n_trips, n_requests):
    """min-cost: the greatest total value minus detour, as brute force finds it."""
    trips, requests = instance(seed, n_trips, n_requests, capacities=(2, 3))
    result = match_routes(trips, requests, MINUTE_PER_KM, policy=MinCost())
    (best,) = brute_force(
        trips,
        requests,
        lambda t, members, detour: (float(requests.value[list(members)].sum()) - detour,),
    )
    assert result.stats.objective == pytest.approx(best, abs=1e-2)
    check_every_route(result, trips, requests)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 3), n_requests=st.integers(1, 4))
def test_acceptance_aware_equals_brute_force(seed, n_trips, n_requests):
    """acceptance-aware: the most expected acceptances, each member judged on its equal
    share of the route's detour."""
    trips, requests = instance(seed, n_trips, n_requests, capacities=(2, 3))
    window = requests.latest_delivery - requests.earliest_pickup

    def expected(t, members, detour):
        share = detour / len(members)
        return (sum(1.0 - min(share / window[r], 1.0) for r in members),)

    result = match_routes(trips, requests, MINUTE_PER_KM, policy=AcceptanceAware())
    (best,) = brute_force(trips, requests, expected)
    assert result.stats.objective == pytest.approx(best, abs=1e-4)
    check_every_route(result, trips, requests)


@pytest.mark.parametrize("seed", range(6))
def test_capacity_one_is_todays_matcher(seed):
    """With every capacity 1 the route matcher returns today's matcher's result."""
    trips, requests = instance(seed, 30, 40, capacities=(1,))
    requests = Requests.from_columns(
        requests.ids,
        requests.pickup,
        requests.delivery,
        requests.earliest_pickup,
        requests.latest_delivery,
        value=requests.value,
    )
    for policy in (None, MinCost(), AcceptanceAware()):
        today = match(trips, requests, MINUTE_PER_KM, policy=policy)
        routed = match_routes(trips, requests, MINUTE_PER_KM, policy=policy)
        assert routed.plain is not None
        for name in ("trip_index", "request_index", "detour", "cost", "pickup_time"):
            assert np.array_equal(getattr(routed.assignment, name), getattr(today.assignment, name))
        assert routed.stats.objective == today.stats.objective
        check_every_route(routed, trips, requests)


@pytest.mark.parametrize("seed", range(3))
def test_one_request_bundles_alone_agree_with_todays_optimum(seed):
    """Capacity 2 but no pair of requests fits together: the same optimum as today."""
    trips, requests = instance(seed, 20, 25, capacities=(1,))
    wide = Trips.from_columns(
        trips.ids,
        trips.origin,
        trips.destination,
        trips.earliest_departure,
        trips.latest_arrival,
        capacity=np.full(len(trips), 2),
    )
    big = Requests.from_columns(
        requests.ids,
        requests.pickup,
        requests.delivery,
        requests.earliest_pickup,
        requests.latest_delivery,
        size=np.full(len(requests), 2),
    )
    small = Requests.from_columns(
        requests.ids,
        requests.pickup,
        requests.delivery,
        requests.earliest_pickup,
        requests.latest_delivery,
    )
    today = match(trips, small, MINUTE_PER_KM)
    routed = match_routes(wide, big, MINUTE_PER_KM)
    assert routed.matched == today.matched
    assert routed.assignment.total_detour == pytest.approx(today.assignment.total_detour, abs=1e-2)


def test_bundles_grow_only_from_feasible_subsets():
    """Every bundle of k > 1 requests has all its (k - 1)-subsets among the trip's bundles,
    and no bundle's total size passes the capacity."""
    trips, requests = instance(7, 8, 30, capacities=(3, 4))
    direct = DirectTimes.of(trips, requests, MINUTE_PER_KM)
    pairs = feasible_pairs(trips, requests, MINUTE_PER_KM, direct)
    bundles = enumerate_bundles(trips, requests, MINUTE_PER_KM, pairs, direct)
    assert bundles.complete
    sets = {
        (int(bundles.trip[b]), tuple(int(r) for r in bundles.members[b, : bundles.size[b]]))
        for b in range(len(bundles))
    }
    assert max(bundles.size) >= 3
    for t, members in sets:
        assert int(requests.size[list(members)].sum()) <= trips.capacity[t]
        for sub in itertools.combinations(members, len(members) - 1):
            if sub:
                assert (t, sub) in sets


def test_cost_terms_are_charged_per_member():
    """A rating term is paid once per parcel; the detour term sums to the route's detour."""
    trips, requests = instance(11, 3, 5, capacities=(3,))
    plain = match_routes(trips, requests, MINUTE_PER_KM)
    terms = CostFunction.weighted(rating=4.0).terms
    rated = match_routes(trips, requests, MINUTE_PER_KM, cost=CostFunction(terms))
    assert rated.matched == plain.matched
    # Unrated couriers count as 3 stars: 4 x (5 - 3) / 4 = 2 minutes per parcel.
    assert rated.assignment.total_cost == pytest.approx(
        rated.assignment.total_detour + 2.0 * rated.matched, abs=1e-6
    )
    doubled = match_routes(trips, requests, MINUTE_PER_KM, cost=CostFunction((DetourTerm(2.0),)))
    assert doubled.assignment.total_cost == pytest.approx(
        2 * doubled.assignment.total_detour, abs=1e-6
    )


def test_limits_and_exclusions_hold_on_routes():
    """A detour limit binds each whole route; an excluded pair is never proposed."""
    trips, requests = instance(5, 6, 12, capacities=(3,))
    limits = Limits(max_detour_min=4.0)
    result = match_routes(trips, requests, MINUTE_PER_KM, limits=limits)
    check_every_route(result, trips, requests, limits)
    first = match_routes(trips, requests, MINUTE_PER_KM)
    assert first.matched
    banned = (str(first.assignment.trip_ids[0]), str(first.assignment.request_ids[0]))
    again = match_routes(trips, requests, MINUTE_PER_KM, exclude=[banned])
    a = again.assignment
    pairs = set(zip(a.trip_ids.tolist(), a.request_ids.tolist(), strict=True))
    assert banned not in pairs


def test_time_limit_reports_a_gap_or_the_optimum():
    """Under a time limit the result says whether it is proven, and its gap is >= 0."""
    trips, requests = instance(2, 25, 40, capacities=(2, 3))
    result = match_routes(trips, requests, MINUTE_PER_KM, time_limit=1.0)
    assert result.solve.gap >= 0
    assert result.solve.optimal == (result.solve.gap == 0)
    check_every_route(result, trips, requests)


def test_capped_bundles_are_not_called_exact():
    """A per-trip cap on bundles makes the answer optimal over the bundles kept only."""
    trips, requests = instance(7, 8, 30, capacities=(3,))
    result = match_routes(trips, requests, MINUTE_PER_KM, bundles_per_trip=1)
    assert not result.solve.complete and not result.solve.exact
    check_every_route(result, trips, requests)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_limit": 0}, "time limit must be > 0 seconds"),
        ({"max_bundle": 5}, "max bundle must be between 1 and 4"),
        ({"bundles_per_trip": 0}, "bundles per trip must be >= 1"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, message):
    """Bad solver parameters get a short error naming them."""
    trips, requests = instance(1, 3, 4, capacities=(2,))
    with pytest.raises(ValueError, match=message):
        match_routes(trips, requests, MINUTE_PER_KM, **kwargs)


def test_capacity_zero_is_refused_by_the_model():
    """A trip of capacity 0 never reaches the matcher."""
    with pytest.raises(ModelError, match="capacity must be >= 1"):
        Trips.from_columns(["t"], [(0, 0)], [(1, 1)], [0.0], [10.0], capacity=[0])


# Column generation (method="price") against listing every bundle (method="enumerate").


_LISTED: dict[bytes, object] = {}


def every_bundle_listed(trips, requests, travel=MINUTE_PER_KM, **kwargs):
    """``match_routes(method="enumerate")``: the optimum of every bundle listed, that the
    pricing is compared with. Listed once per day and options in this module: the same
    ones give the same answer (HiGHS packs them; it reads none of the colgen settings the
    tests change), and a 25 x 40 day shared by a dozen tests takes 3 s to list."""
    try:
        key = pickle.dumps((trips, requests, travel, sorted(kwargs.items())))
    except (pickle.PicklingError, TypeError, AttributeError):
        return match_routes(trips, requests, travel, method="enumerate", **kwargs)
    if key not in _LISTED:
        _LISTED[key] = match_routes(trips, requests, travel, method="enumerate", **kwargs)
    return _LISTED[key]


def enumerated_and_priced(trips, requests, **kwargs):
    listed = every_bundle_listed(trips, requests, **kwargs)
    priced = match_routes(trips, requests, MINUTE_PER_KM, method="price", **kwargs)
    if int(trips.capacity.max()) > 1:  # else both are today's matcher
        assert priced.solve.method == "price" and listed.solve.method == "enumerate"
    return listed, priced


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 6), n_requests=st.integers(1, 12))
def test_priced_max_matches_equals_every_bundle_listed(seed, n_trips, n_requests):
    """The most served, then the least detour: pricing reaches the optimum that listing
    every bundle and packing them all proves, and proves it too; every route is valid."""
    trips, requests = instance(seed, n_trips, n_requests, capacities=(1, 2, 3))
    listed, priced = enumerated_and_priced(trips, requests)
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 3), n_requests=st.integers(1, 4))
def test_priced_equals_brute_force(seed, n_trips, n_requests):
    """Pricing against trying every assignment and every stop order."""
    trips, requests = instance(seed, n_trips, n_requests)
    result = match_routes(trips, requests, MINUTE_PER_KM, method="price")
    served, minus_detour = brute_force(
        trips, requests, lambda t, members, detour: (len(members), -detour)
    )
    assert result.matched == served
    assert result.assignment.total_detour == pytest.approx(-minus_detour, abs=1e-2)
    assert result.solve.exact
    check_every_route(result, trips, requests)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 5), n_requests=st.integers(1, 10))
def test_priced_other_policies_equal_every_bundle_listed(seed, n_trips, n_requests):
    """min-cost and acceptance-aware (paper and logit responses) reach the same optimum
    both ways."""
    trips, requests = instance(seed, n_trips, n_requests, capacities=(2, 3))
    for policy in (MinCost(), AcceptanceAware(), AcceptanceAware(LogitResponse(1.0, 0.3))):
        listed, priced = enumerated_and_priced(trips, requests, policy=policy)
        assert priced.solve.exact
        assert priced.stats.objective == pytest.approx(listed.stats.objective, abs=1e-5)
        check_every_route(priced, trips, requests)


@pytest.mark.parametrize("seed", range(3))
def test_priced_on_busier_days_with_costs_limits_and_exclusions(seed):
    """A rating term, a detour limit and an excluded pair: the same optimum both ways, on
    days with many bundles per trip (the LP is not always integral there, so the proof
    may need the reduced-cost completion)."""
    trips, requests = instance(seed, 12, 30, capacities=(2, 3))
    cost = CostFunction.weighted(rating=2.0, priority=0.5)
    limits = Limits(max_detour_min=12.0)
    first = match_routes(trips, requests, MINUTE_PER_KM)
    banned = [(str(first.assignment.trip_ids[0]), str(first.assignment.request_ids[0]))]
    listed, priced = enumerated_and_priced(
        trips, requests, cost=cost, limits=limits, exclude=banned
    )
    assert priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_cost == pytest.approx(listed.assignment.total_cost, abs=1e-2)
    check_every_route(priced, trips, requests, limits)
    pairs = set(
        zip(
            priced.assignment.trip_ids.tolist(), priced.assignment.request_ids.tolist(), strict=True
        )
    )
    assert banned[0] not in pairs


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 11])
def test_priced_with_subset_row_cuts_equals_every_bundle_listed(seed):
    """Where the LP packs fractions of bundles, subset-row cuts join it (their duals taken
    off every pair and triple priced after); the optimum stays that of every bundle
    listed, cost included."""
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    listed, priced = enumerated_and_priced(trips, requests)
    assert priced.solve.cuts > 0
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


@pytest.mark.parametrize(
    ("seconds", "rows"),
    [(0.0, 120), (5.0, 3), (5.0, 120)],
    ids=["no-search", "small-neighbourhoods", "default"],
)
@pytest.mark.parametrize("seed", [1, 3, 7])
def test_the_proof_holds_whatever_the_start(monkeypatch, seed, seconds, rows):
    """The completion and the 0-1 program prove the optimum from any start: the dive
    alone (no neighbourhood search), a search of tiny neighbourhoods, or the default;
    each ends at the optimum of every bundle listed."""
    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LNS_TOTAL", seconds)
    monkeypatch.setattr(colgen, "LNS_ROWS", rows)
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    listed, priced = enumerated_and_priced(trips, requests)
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert len(set(priced.assignment.request_ids.tolist())) == priced.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


# (seed, limit): the subset-row cuts leave most of these small days proven at the LP,
# with no completion; these take the path, two proven from the program's optimum
@pytest.mark.parametrize(("seed", "limit"), [(7, 5), (11, 5), (12, 5), (28, 60), (7, 200)])
def test_a_start_too_far_for_the_completion_goes_through_the_program_first(
    monkeypatch, caplog, seed, limit
):
    """When the completion from the start would pass its limit (here a few bundles, no
    search so the start stays far), the 0-1 program over the bundles so far comes first
    and the completion starts from its optimum; where even that one is too far, the
    answer keeps its proven gap. Either way, whatever is called optimal is the optimum of
    every bundle listed."""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    monkeypatch.setattr(colgen, "COMPLETION_LIMIT", limit)
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.DEBUG, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    assert listed.solve.exact
    assert priced.matched == listed.matched
    if priced.solve.exact:
        assert priced.assignment.total_detour == pytest.approx(
            listed.assignment.total_detour, abs=1e-2
        )
    else:
        assert priced.assignment.total_detour >= listed.assignment.total_detour - 1e-2
    check_every_route(priced, trips, requests)
    assert "not generated" in caplog.text  # the path under test was taken


# (a day whose completion follows the dive's packing, and whose nearest bundles hold a
# better one at the default share)
@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("share", [0.0, 0.125, 1.0])
def test_a_packing_from_the_nearest_bundles_keeps_the_proof(monkeypatch, caplog, share, first):
    """Before a large completion (here any; ``first``) or after it, the 0-1 program over
    the bundles nearest the LP (reduced cost within ``share`` of the completion's reach:
    none but those at 0, the default, all of them) looks for a better packing before the
    proving program (here from the dive's packing); whatever it finds, the proof ends at
    the optimum of every bundle listed. Run first, only the nearest bundles are generated
    for it, and the completion after it reaches only as far as its packing needs."""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    monkeypatch.setattr(colgen, "NEAR_AFTER", 1)
    monkeypatch.setattr(colgen, "NEAR_SHARE", share)
    monkeypatch.setattr(colgen, "NEAREST_FIRST_AFTER", 1 if first else colgen.COMPLETION_LIMIT)
    trips, requests = instance(29, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.INFO, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    messages = caplog.messages
    (near,) = [line for line in messages if "bundles nearest the LP" in line]
    found, start = re.search(r": (-?[\d.]+) \(.*\), the start (-?[\d.]+)$", near).groups()
    if share == 0.125:
        assert float(found) > float(start)
    completions = [k for k, line in enumerate(messages) if line.startswith("completion: ")]
    (at,) = [k for k, line in enumerate(messages) if "bundles nearest the LP" in line]
    if first:
        # Generated alone first (within share x the reach), then the completion from the
        # better packing: a shorter reach.
        (alone,) = [line for line in messages if line.startswith("the nearest bundles first")]
        assert at < completions[0]
        reach = float(re.search(r"within (-?[\d.]+) of the LP bound", messages[completions[0]])[1])
        assert float(alone.rsplit(" ", 1)[1]) == pytest.approx(
            share * (reach - (float(found) - float(start))), abs=0.5
        )
    else:
        assert completions[0] < at
    # The proof: the zero-half rounds, or the race after them.
    proofs = [line for line in messages if line.startswith(("0-1 program", "zero-half cuts"))]
    assert "(HiGHS and SCIP)" in proofs[-1] or proofs[-1].startswith("zero-half cuts")
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


# (days whose completion starts below the optimum: the rows fixed then must be filled)
@pytest.mark.parametrize("seed", [7, 15, 28, 29])
def test_rows_every_better_packing_fills_are_made_equalities(monkeypatch, seed):
    """After the completion, the rows whose dual passes the room between the bound and
    the packing become equalities for the 0-1 programs that follow (a slack there would
    cost more than the room). Checked against every bundle listed: wherever the packing
    was below the optimum, the listed optimum serves every request and uses every trip
    whose row was fixed; and the proof still ends at that optimum."""
    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)  # a start below the optimum
    monkeypatch.setattr(colgen, "NEAR_AFTER", 1)
    fixings: list[tuple[float, np.ndarray]] = []
    fix, solve = colgen._Master.fix_tight_rows, colgen.solve

    def recorded_fix(master, y, bound, chosen):
        fixed = fix(master, y, bound, chosen)
        lp = master.h.getLp()
        equal = np.flatnonzero(np.asarray(lp.row_lower_) == np.asarray(lp.row_upper_))
        start = float(np.asarray(lp.col_cost_) @ chosen[: lp.num_col_])
        fixings.append((start, equal[equal < master.n_rows_cut]))
        return fixed

    finals: list[float] = []

    def recorded_solve(*args, **kwargs):
        found = solve(*args, **kwargs)
        finals.append(found.value)
        return found

    monkeypatch.setattr(colgen._Master, "fix_tight_rows", recorded_fix)
    monkeypatch.setattr(colgen, "solve", recorded_solve)
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    listed, priced = enumerated_and_priced(trips, requests)
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    n_requests = len(requests.ids)
    filled = {int(r[1:]) for r in listed.assignment.request_ids.tolist()}
    filled |= {n_requests + int(t[1:]) for t in listed.assignment.trip_ids.tolist()}
    below = [rows for start, rows in fixings if start < finals[-1] - 0.5]
    assert below and all(len(rows) for rows in below)  # the case under test was met
    for rows in below:
        assert set(rows.tolist()) <= filled


WIDE_WINDOWS = {"departure_profile": "commuter", "flexibility": 0.6}


def proven_like_every_bundle_listed(caplog, seed, n_trips, n_requests, path, **extra):
    """A generated day (capacities 2 and 3) priced and listed: both proven, the same most
    served (which the priced bound reaches) and least detour; ``path``: a colgen log line
    that shows the case under test was met."""
    import logging

    from crowdship.sim.scenarios import ScenarioParams, generate_scenario

    params = ScenarioParams(
        trips=n_trips, requests=n_requests, trip_capacity=(0.0, 0.5, 0.5), **extra
    )
    day = generate_scenario(params, seed)
    with caplog.at_level(logging.DEBUG, logger="crowdship.core.colgen"):
        priced = match_routes(day.trips, day.requests, day.travel, method="price")
    listed = every_bundle_listed(day.trips, day.requests, day.travel)
    assert path.format(served=listed.matched) in caplog.text
    assert listed.solve.exact and priced.solve.exact
    assert priced.solve.served_bound == priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, day.trips, day.requests, travel=day.travel)


@pytest.mark.parametrize(
    ("seed", "wide"), [(76, False), (78, False), (36, True), (62, True)], ids=str
)
def test_the_weighted_bound_caps_the_requests_served_below_the_count_lp(caplog, seed, wide):
    """Days where the requests served's LP allows one more than any packing serves, and
    the weighted LP, once capped there and cut, bounds the count one lower: the cap follows
    it down, and the optimum is proven (before, pricing ended unproven with the count's
    gap, and ``auto`` listed every bundle instead: 37 s at 150 x 200)."""
    extra = WIDE_WINDOWS if wide else {}
    proven_like_every_bundle_listed(caplog, seed, 60, 90, ": at most {served} served", **extra)


def test_zero_half_cuts_on_the_count_lp_bound_the_count_below_the_next_request(caplog):
    """A day whose count LP, with the subset-row cuts, allows one more request served
    than any packing serves (80 x 120, wide windows, seed 10: 75 served, the LP at
    76.010): priced zero-half cuts on the count LP take its bound below 76 (75.677, one
    round; their rows gone after), and the optimum is proven and that of every bundle
    listed."""
    import re

    proven_like_every_bundle_listed(caplog, 10, 80, 120, "zero-half cuts: ", **WIDE_WINDOWS)
    rounds = re.findall(
        r"count LP with \d+ zero-half cuts: ([\d.]+) \(to pass below (\d+)\)", caplog.text
    )
    assert rounds and float(rounds[-1][0]) < int(rounds[-1][1]) == 76


@pytest.mark.parametrize(
    ("seed", "n_trips", "n_requests", "above", "lowered"),
    [(39, 80, 120, None, False), (22, 60, 90, 0.0, True)],
    ids=str,
)
def test_the_count_with_the_cuts_before_the_search_where_the_lp_is_far_above_the_cap(
    monkeypatch, caplog, seed, n_trips, n_requests, above, lowered
):
    """Where the weighted LP reaches the cap, the packing after the dive and the support's
    program does not, and the count LP without the cuts was more than ``COUNT_FIRST_ABOVE``
    above the cap, the count LP with the cuts comes before the neighbourhood search: where
    it lowers the cap, the LP and the packing near it at the new cap; where the cap holds,
    the search put off then (80 x 120, wide windows, seed 39; a day this small has no
    neighbourhood to search; 60 x 90, seed 22, lowers it, with ``COUNT_FIRST_ABOVE`` 0).
    Either way the optimum is proven and that of every bundle listed."""
    from crowdship.core import colgen

    if above is not None:
        monkeypatch.setattr(colgen, "COUNT_FIRST_ABOVE", above)
    proven_like_every_bundle_listed(
        caplog, seed, n_trips, n_requests, "(the count's cuts before the search)", **WIDE_WINDOWS
    )
    after = caplog.text.split("(the count's cuts before the search)")[-1]
    assert "count LP with " in after
    assert ("; packing near it: " in after) == lowered  # (the LP at the lower cap)


# (days where they cut: the LP's bound 300 units above the packing -> 62; 122 -> 0.1,
# proven by them; two rounds, 3622 -> 2866, on wide windows)
@pytest.mark.parametrize(
    ("seed", "n_trips", "n_requests", "wide"),
    [(13, 60, 90, False), (1, 100, 150, False), (2, 100, 150, True)],
)
def test_zero_half_cuts_on_the_weighted_lp_keep_the_optimum_of_every_bundle_listed(
    monkeypatch, caplog, seed, n_trips, n_requests, wide
):
    """Priced zero-half cuts on the weighted LP before the completion (off by default):
    the costs shifted by the units per request, the count row an equality, the rows
    priced in the completion and kept for the 0-1 programs; the optimum is that of every
    bundle listed."""
    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "ZERO_HALF_WEIGHTED", True)
    monkeypatch.setattr(colgen, "ZERO_HALF_WEIGHTED_GAP", 0.0)
    extra = WIDE_WINDOWS if wide else {}
    proven_like_every_bundle_listed(caplog, seed, n_trips, n_requests, "zero-half cuts: ", **extra)
    assert "zero-half cuts: " in caplog.text and "above the packing (" in caplog.text  # (ran)


@pytest.mark.parametrize(
    ("seed", "n_trips", "n_requests"), [(70, 40, 60), (118, 40, 60), (22, 60, 90), (54, 60, 90)]
)
def test_the_count_completion_proves_no_packing_serves_one_more(
    monkeypatch, caplog, seed, n_trips, n_requests
):
    """Days where even the weighted bound leaves room for one more request served than
    the best packing of the bundles generated: every bundle that could be in a packing
    serving one more (its reduced cost in the count LP) is generated and the 0-1 program
    of the requests served says none does; the cost is then proven at that count. The
    optimum is that of every bundle listed (before: an unproven answer). The program is
    raced, SCIP against HiGHS. (The count LP with the cuts, off here, settles these days
    before: the next test.)"""
    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "COUNT_WITH_CUTS", False)
    path = "at most {served} served (optimal, "
    proven_like_every_bundle_listed(caplog, seed, n_trips, n_requests, path, **WIDE_WINDOWS)


@pytest.mark.parametrize(
    ("seed", "n_trips", "n_requests"), [(70, 40, 60), (118, 40, 60), (54, 60, 90)]
)
def test_the_count_lp_with_the_cuts_bounds_the_count_below_the_next_request(
    caplog, seed, n_trips, n_requests
):
    """The same days: the start serves fewer than the count LP allows, and the count LP
    solved again with the weighted LP's cuts, before the search for a packing near the
    LP, bounds the count below the next request (70: 48.04 -> 47.68), so the cap follows
    it down with no count completion, and the optimum is that of every bundle listed."""
    path = "LP at most {served} served: "
    proven_like_every_bundle_listed(caplog, seed, n_trips, n_requests, path, **WIDE_WINDOWS)
    assert "count completion" not in caplog.text


@pytest.mark.parametrize("seed", [2, 19])
def test_the_count_lp_that_leaves_the_cap_hands_the_weighted_lp_its_own_basis_back(
    monkeypatch, caplog, seed
):
    """The count LP with the cuts run wherever the start serves fewer than the cap (not
    only where the weighted LP does): where it leaves the cap, the weighted LP is solved
    again from the basis it had (the columns the count LP added at 0), and the day still
    ends at the optimum of every bundle listed."""
    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "COUNT_FIRST_ONLY_BELOW_CAP", False)
    path = "LP at most {served} served still: "
    proven_like_every_bundle_listed(caplog, seed, 40, 60, path, **WIDE_WINDOWS)


# (its root LP stopped after one pivot too: with the master's cuts the root LP of these
# small days is often integral, and SCIP proved it there before HiGHS's process began)
SCIP_ROOT_ONLY = (
    "limits/totalnodes = 1\npresolving/maxrestarts = 0\nseparating/maxroundsroot = 0\n"
    "lp/rootiterlim = 1"
)


def cripple_the_race(monkeypatch, highs: bool, scip: bool) -> None:
    """In the race of the proving 0-1 program, HiGHS and/or SCIP stop after their root
    node (HiGHS with its cuts, neither with restarts, SCIP without cuts)."""
    scip_root_only = scip
    from crowdship.core import colgen

    race = colgen._Master.race
    highs_root_only = {"mip_max_nodes": 1, "mip_allow_restart": False}

    def crippled_race(
        self, start, time_limit, scip_settings="", highs_options=None, first=0.0, scip=None
    ):
        assert scip is None  # (no SCIP started before the race: the zero-half rounds are off)
        return race(
            self,
            start,
            time_limit,
            SCIP_ROOT_ONLY if scip_root_only else scip_settings,
            highs_root_only if highs else highs_options,
            first,
        )

    monkeypatch.setattr(colgen._Master, "race", crippled_race)
    # The proof's zero-half rounds first would prove these days before the race.
    monkeypatch.setattr(colgen, "ZERO_HALF", False)


@pytest.mark.parametrize("winner", ["HiGHS", "SCIP"])
def test_a_proof_out_of_time_in_highs_races_scip(monkeypatch, caplog, winner):
    """The proving 0-1 program runs in SCIP (a process of its own) from the start, and in
    HiGHS without its root restarts; out of its ``PROOF_FIRST`` seconds (here none)
    HiGHS runs again with them, from the packing it had. Whichever can prove it (the
    other stops after its root here) ends the race with the optimum of every bundle
    listed."""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "PROOF_FIRST", 1e-6)
    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    # (the nearest bundles' program first would leave the proof little to do)
    monkeypatch.setattr(colgen, "NEAREST_FIRST_AFTER", colgen.COMPLETION_LIMIT)
    cripple_the_race(monkeypatch, highs=winner == "SCIP", scip=winner == "HiGHS")
    # (a day whose program HiGHS's root alone does not close, as in
    # test_a_proof_cut_short_keeps_the_programs_own_bound; on seed 7's, since the
    # weighted LP's rounds went by dual simplex, it sometimes did, and came first under
    # load)
    trips, requests = instance(28, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.DEBUG, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    programs = [line for line in caplog.messages if line.startswith("0-1 program")]
    assert "(HiGHS and SCIP)" in programs[-1] and f"(optimal, {winner} first)" in programs[-1]
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


@pytest.mark.parametrize("seed", [7, 11, 15])
def test_a_large_completion_looks_for_a_better_start_first(monkeypatch, caplog, seed):
    """When more bundles than ``LARGE_COMPLETION`` are within reach of the search's
    packing, the 0-1 program over the bundles so far looks for a better one first, and
    the completion from it proves the optimum of every bundle listed."""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LARGE_COMPLETION", 5)
    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    # (the nearest bundles' program first would find the better packing)
    monkeypatch.setattr(colgen, "NEAREST_FIRST_AFTER", colgen.COMPLETION_LIMIT)
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.DEBUG, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    messages = caplog.messages
    first = messages.index("completion: more than 5 columns; a better start first")
    assert messages[first + 1].startswith("rows fixed by their duals: ")
    assert messages[first + 2].startswith("0-1 program (HiGHS) over")
    assert any(line.startswith("completion: ") for line in messages[first + 3 :])
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


@pytest.mark.parametrize("winner", ["HiGHS", "SCIP"])
def test_a_count_left_open_is_settled_by_a_race(monkeypatch, caplog, winner):
    """When the best packing of the bundles generated serves one fewer request than the
    count LP allows, every bundle that could serve one more is generated and the 0-1
    program of the requests served over them is raced (SCIP and HiGHS, as the proof is):
    here it proves that none serves more (the other solver stops after its root), and the
    answer is the optimum of every bundle listed. (A day of pickup points, 60 x 60, of
    capacity 2 and 3: the count LP allows 53, the most served is 52.)"""
    import logging

    from crowdship.core import colgen
    from crowdship.sim.scenarios import ScenarioParams, generate_scenario

    monkeypatch.setattr(colgen, "PROOF_FIRST", 1e-6)
    # (the count LP with the cuts would settle it before: 53.01 -> 52.51)
    monkeypatch.setattr(colgen, "COUNT_WITH_CUTS", False)
    cripple_the_race(monkeypatch, highs=winner == "SCIP", scip=winner == "HiGHS")
    params = ScenarioParams(
        trips=60,
        requests=60,
        trip_capacity=(0.0, 0.5, 0.5),
        departure_profile="commuter",
        flexibility=0.6,
        pickup_points=4,
        pickup_point_share=0.9,
    )
    day = generate_scenario(params, 8)
    with caplog.at_level(logging.INFO, logger="crowdship.core.colgen"):
        priced = match_routes(day.trips, day.requests, day.travel, method="price")
    listed = every_bundle_listed(day.trips, day.requests, day.travel)
    (settled,) = [line for line in caplog.messages if line.startswith("count completion")]
    assert settled.endswith(f"at most 52 served (optimal, {winner} first)")
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched == 52
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, day.trips, day.requests, travel=day.travel)


@pytest.mark.parametrize("solver", ["HiGHS", "HiGHS apart"])
def test_a_proof_cut_short_keeps_the_programs_own_bound(monkeypatch, caplog, solver):
    """A proving 0-1 program stopped early (here after its root node: HiGHS in its first
    run, here, or in its second, in a process of its own after its first ``PROOF_FIRST``
    seconds; SCIP after its root in both) still bounds every packing better than its
    start (they are all packings of its bundles): that bound, tighter than the LP's, is
    the one reported, and it holds against every bundle listed."""
    import logging
    import math

    from crowdship.core import colgen

    cripple_the_race(monkeypatch, highs=True, scip=True)
    monkeypatch.setattr(colgen, "PROOF_FIRST", math.inf if solver == "HiGHS" else 1e-6)
    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    # (the nearest bundles' program first would leave the proof little to do)
    monkeypatch.setattr(colgen, "NEAREST_FIRST_AFTER", colgen.COMPLETION_LIMIT)
    trips, requests = instance(28, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.INFO, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    assert "not proven: the 0-1 program bounds every packing" in caplog.text
    programs = [line for line in caplog.messages if line.startswith("0-1 program")]
    assert "(HiGHS and SCIP)" in programs[-1]
    assert listed.solve.exact and not priced.solve.exact
    assert priced.matched == listed.matched == priced.solve.served_bound
    # The least detour lies between the bound reported and the packing found.
    optimum = listed.assignment.total_detour
    assert priced.solve.objective_bound <= optimum + 1e-2
    assert optimum <= priced.assignment.total_detour + 1e-2
    found = priced.assignment.total_detour
    gap = (found - priced.solve.objective_bound) / found
    # (the reported gap is in whole cost units, each bundle's detour rounded to 0.001 min;
    # ``gap`` here is from the unrounded minutes: they part by a few units at most)
    assert 0 < priced.solve.gap == pytest.approx(gap, rel=1e-3, abs=1e-5)
    check_every_route(priced, trips, requests)


def random_pairs_master(seed: int):
    """A master of 120 random pairs of 30 requests on 12 trips, weights 1-49 (drawn with
    ``seed``), for the 0-1 programs' racers: the master and the weights."""
    from crowdship.core.colgen import _Master

    rng = np.random.default_rng(seed)
    n_r, n_t, k = 30, 12, 120
    trip = rng.integers(0, n_t, k)
    members = np.array([rng.choice(n_r, 2, replace=False) for _ in range(k)], np.int64)
    weight = rng.integers(1, 50, k).astype(np.float64)
    master = _Master(n_r, n_t)
    master.add(trip, members, weight)
    return master, weight


def test_scip_takes_every_setting_of_the_race():
    """SCIP answers ``invalid_solver_parameters`` (and nothing else) to a parameter name it
    does not know: the race would go on with HiGHS alone. Every name in ``SCIP_SETTINGS``
    (its heuristics among them) is SCIP's, and with them SCIP proves a small packing's
    optimum, here from an empty start (its heuristics off, its search finds the packing)."""
    from crowdship.core.colgen import SCIP_SETTINGS, _FreeProgram, _Racer

    master, weight = random_pairs_master(3)
    k = len(weight)
    picked, highs_optimal, _ = master.milp(np.zeros(k), None)
    best = float(weight[picked].sum())
    racer = _Racer("scip", _FreeProgram(master), np.zeros(k), 30.0, {"parameters": SCIP_SETTINGS})
    chosen, optimal, status = racer.result()
    assert highs_optimal and optimal and status == "optimal"
    assert float(weight[chosen].sum()) == best > 0
    wrong = _Racer("scip", _FreeProgram(master), np.zeros(k), 30.0, {"parameters": "no/such = 1"})
    assert "invalid" in wrong.result()[2]  # what a name SCIP does not know gives


def test_a_raced_program_is_saved_as_its_racer_gets_it(tmp_path, monkeypatch):
    """With ``SAVE_PROGRAMS`` set, each race writes its program (numbered) as the SCIP racer
    reads it: replayed through the racer, it reaches the optimum the race did
    (``benchmarks/bench_proofs.py`` replays them so)."""
    import subprocess
    import sys

    from crowdship.core import colgen

    master, weight = random_pairs_master(5)
    k = len(weight)
    monkeypatch.setattr(colgen, "SAVE_PROGRAMS", tmp_path)
    chosen, optimal, _ = master.race(np.zeros(k), 30.0)
    master.race(np.zeros(k), 30.0)
    saved = sorted(path.name for path in tmp_path.iterdir())
    assert optimal and saved == ["program-001.npz", "program-002.npz"]
    racer = Path(colgen.__file__).with_name("_racer.py")
    payload = (tmp_path / "program-001.npz").read_bytes()
    done = subprocess.run([sys.executable, str(racer), "scip"], input=payload, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    answer = np.load(io.BytesIO(done.stdout))
    assert bool(answer["optimal"])
    assert float(weight @ answer["values"]) == float(weight[chosen].sum()) > 0


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_a_racer_answers_whatever_its_solver_prints(tmp_path, monkeypatch, solver):
    """The racer's answer is read whatever its solver writes to its stdout (file
    descriptor 1, as C's printf does: SciPy's HiGHS prints some lines whatever its
    ``output_flag``, which once came before the answer and made the race fail with
    "This file contains pickled (object) data")."""
    import json
    import subprocess
    import sys

    from crowdship.core import colgen

    master, weight = random_pairs_master(6)
    k = len(weight)
    monkeypatch.setattr(colgen, "SAVE_PROGRAMS", tmp_path)
    chosen, optimal, _ = master.race(np.zeros(k), 30.0)
    program = dict(np.load(tmp_path / "program-001.npz"))
    if solver == "highs":
        program["options"] = json.dumps({})
    payload = io.BytesIO()
    np.savez(payload, **program)
    racer = Path(colgen.__file__).with_name("_racer.py")
    noisy = (  # the solver wrapped in one that prints, through Python and past it
        "import os, runpy, sys\n"
        f"racer = runpy.run_path({str(racer)!r})\n"
        f"solve = racer[{solver!r}]\n"
        "def loud(data, options):\n"
        "    print('before the answer', flush=True)\n"
        "    os.write(1, b'HighsMipSolverData::transformNewIntegerFeasibleSolution\\n')\n"
        "    return solve(data, options)\n"
        f"racer['main'].__globals__[{solver!r}] = loud\n"
        "racer['main']()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", noisy, solver], input=payload.getvalue(), capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"transformNewIntegerFeasibleSolution" in done.stderr
    answer = np.load(io.BytesIO(done.stdout))
    assert optimal and bool(answer["optimal"])
    assert float(weight @ answer["values"]) == float(weight[chosen].sum()) > 0


def test_rows_are_fixed_from_a_start_found_before_columns_joined():
    """``fix_tight_rows`` takes a start found before more columns joined the master (the
    count LP's pricing adds some): the columns after it count as 0. Only rows the start
    fills and whose dual passes the room are made equalities."""
    from crowdship.core.colgen import _Master

    n_r, n_t = 4, 2
    master = _Master(n_r, n_t)
    # Two singles (request 0 on trip 0, request 2 on trip 1), then a pair joins.
    master.add(np.array([0, 1]), np.array([[0, -1], [2, -1]]), np.array([10.0, 10.0]))
    start = np.array([True, True])
    master.add(np.array([1]), np.array([[1, 3]]), np.array([15.0]))
    y = np.zeros(n_r + n_t)
    y[0], y[2], y[1], y[n_r + 1] = 9.0, 9.0, 0.5, 9.0  # row 1: the start leaves it empty
    fixed = master.fix_tight_rows(y, bound=21.0, chosen=start)  # room: 21 - 20 - 1 = 0
    lp, _ = master.matrix()
    lower, upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    assert fixed == 3
    assert (lower[[0, 2, n_r + 1]] == 1).all() and lower[1] < 0 and lower[n_r] < 0
    assert (upper == 1).all()


def test_a_highs_run_asked_to_stop_ends_there():
    """``_Master.milp`` asks ``stop`` as HiGHS goes (between its nodes, and in its LPs'
    iterations; the race's first HiGHS run asks whether SCIP has proved the optimum):
    once it says so, the run ends, not optimal; the next run, not asked, goes on."""
    from crowdship.core.colgen import _Master

    rng = np.random.default_rng(5)
    n_r, n_t, k = 40, 20, 150
    trip = rng.integers(0, n_t, k)
    members = np.array([rng.choice(n_r, 3, replace=False) for _ in range(k)], np.int64)
    master = _Master(n_r, n_t)
    master.add(trip, members, rng.uniform(1, 2, k))
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) >= 3

    chosen, optimal, status = master.milp(np.zeros(k), None, stop=stop)
    assert not optimal and "interrupt" in status and len(asked) >= 3
    rows = np.zeros(n_r + n_t, np.int64)  # the packing returned is one
    np.add.at(rows, np.concatenate([members[chosen].ravel(), n_r + trip[chosen]]), 1)
    assert rows.max(initial=0) <= 1
    seen = len(asked)
    _, optimal, status = master.milp(np.zeros(k), 0.3)
    assert "interrupt" not in status and len(asked) == seen


def every_bundle(
    n_r: int, n_t: int, sizes: tuple[int, ...]
) -> tuple[list[tuple[int, tuple[int, ...]]], np.ndarray, np.ndarray]:
    """Every (trip, bundle) of ``n_t`` trips over ``n_r`` requests with the ``sizes`` given,
    as the master takes columns: the list, each one's trip, its members (-1 past its size,
    one column to spare)."""
    columns = [
        (t, b) for t in range(n_t) for k in sizes for b in itertools.combinations(range(n_r), k)
    ]
    trip = np.array([t for t, _ in columns], np.int64)
    members = np.full((len(columns), max(sizes) + 1), -1, np.int64)
    for row, (_, bundle) in enumerate(columns):
        members[row, : len(bundle)] = bundle
    return columns, trip, members


def test_subset_row_cuts_in_the_master_and_the_pricing():
    """Each cut on three or five rows (requests', or a trip's) counts half the rows a
    column holds of it, rounded down: once for two or three, twice for four, never for
    fewer than two; in the master's columns, in the compiled pricing of pairs and
    triples, and in the singles' penalty."""
    from crowdship.core.colgen import _cut_penalty, _Master

    rng = np.random.default_rng(3)
    n_r, n_t = 8, 3
    cuts = set()
    while len(cuts) < 60:
        rows = rng.choice(n_r + n_t, 3 if len(cuts) % 2 else 5, replace=False)
        cuts.add(tuple(sorted(rows.tolist())))
    cuts = sorted(cuts)
    columns, trip, members = every_bundle(n_r, n_t, (1, 2, 3))
    master = _Master(n_r, n_t)
    half = len(columns) // 2  # columns before the cuts, and after
    master.add(trip[:half], members[:half], np.zeros(half))
    master.add_cuts(cuts, trip[:half], members[:half])
    master.add(trip[half:], members[half:], np.zeros(len(columns) - half))
    covers = [{n_r + t, *b} for t, b in columns]
    times = [[len(set(cut) & rows) // 2 for cut in cuts] for rows in covers]
    assert any(2 in row for row in times)  # a trip's triple inside a cut on five rows
    lp = master.h.getLp()
    a = lp.a_matrix_
    matrix = scipy.sparse.csc_matrix(
        (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
        shape=(lp.num_row_, lp.num_col_),
    ).toarray()
    np.testing.assert_array_equal(matrix[master.cut_rows].T, times)
    assert np.asarray(lp.row_upper_)[master.cut_rows].tolist() == [len(c) // 2 for c in cuts]
    held_rows = [[r in rows for r in range(n_r + n_t)] for rows in covers]
    np.testing.assert_array_equal(matrix[: n_r + n_t].T, held_rows)
    hits = [tuple(hit) for hit in master.hits(trip, members).tolist()]
    assert sorted(hits) == sorted(
        (row, k, n) for row, ns in enumerate(times) for k, n in enumerate(ns) if n
    )
    # Each column's cuts in the order its rows meet them, the least row first (the order
    # HiGHS gets them in: another order is another matrix to pivot on).
    met = [min(set(cuts[k]) & covers[row]) for row, k, _ in hits]
    assert [(row, m, k) for (row, k, _), m in zip(hits, met, strict=True)] == sorted(
        (row, m, k) for (row, k, _), m in zip(hits, met, strict=True)
    )
    assert master.cut_rhs().tolist() == [len(cut) // 2 for cut in cuts]
    y = np.zeros(master.n_rows)
    sigma = rng.uniform(0.1, 2.0, len(cuts))
    sigma[::7] = 0.0  # cuts without a dual leave the pricing's lists
    y[master.cut_rows] = sigma
    arrays = master.cut_arrays(y)
    singles = [row for row, (_, b) in enumerate(columns) if len(b) == 1]
    penalty = master.single_penalty(y, trip[singles], members[singles, 0])
    assert penalty == pytest.approx([sigma @ times[row] for row in singles], abs=1e-12)
    for (t, bundle), ns in zip(columns, times, strict=True):
        rows = np.array([n_r + t, *bundle, -1, -1][:4], np.int64)
        scratch = np.zeros(0, np.int64), np.zeros(0, np.int64)  # (no zero-half cuts)
        pen = _cut_penalty(rows, 1 + len(bundle), arrays, *scratch)
        assert pen == pytest.approx(sigma @ ns, abs=1e-12)
    assert master.column_rc(y, trip, members, np.zeros(len(trip))) == pytest.approx(
        -(np.array(times) @ sigma), abs=1e-12
    )


def test_zero_half_cuts_in_the_master_and_the_pricing():
    """A zero-half cut sums rows (requests', trips') and subset-row cuts and halves the
    sum, rounded down, on every column: in the master's columns (joined before the cut
    and after), in the compiled pricing of pairs and triples (its subset-row cuts counted
    there even where their own dual is 0), in the singles' penalty and the reduced costs;
    and its rows go again, leaving the master as before."""
    from crowdship.core.colgen import _cut_penalty, _Master

    rng = np.random.default_rng(5)
    n_r, n_t = 8, 3
    cuts = sorted(
        {tuple(sorted(rng.choice(n_r + n_t, 3, replace=False).tolist())) for _ in range(30)}
    )
    columns, trip, members = every_bundle(n_r, n_t, (1, 2, 3))
    covers = [{n_r + t, *b} for t, b in columns]
    on_cut = np.array([[len(set(cut) & rows) // 2 for cut in cuts] for rows in covers])
    zero_half = []
    while len(zero_half) < 40:
        base = rng.choice(n_r + n_t, int(rng.integers(0, 6)), replace=False)
        parents = rng.choice(len(cuts), int(rng.integers(0, 4)), replace=False)
        if (len(base) + len(parents)) % 2 == 1:  # (each cut's right-hand side is 1)
            zero_half.append((np.sort(base), np.sort(parents)))
    rhs = np.array([(len(b) + len(p)) // 2 for b, p in zero_half], np.float64)
    coefficient = np.array(
        [
            [(len(set(b.tolist()) & rows) + on_cut[c, p].sum()) // 2 for b, p in zero_half]
            for c, rows in enumerate(covers)
        ]
    )
    assert coefficient.max() >= 2 and (coefficient[:, [len(p) > 0 for _, p in zero_half]] > 0).any()
    master = _Master(n_r, n_t)
    half = len(columns) // 2
    master.add(trip[:half], members[:half], np.zeros(half))
    master.add_cuts(cuts, trip[:half], members[:half])
    before = master.n_rows
    master.add_zero_half(
        [b for b, _ in zero_half], [p for _, p in zero_half], rhs, trip[:half], members[:half]
    )
    master.add(trip[half:], members[half:], np.zeros(len(columns) - half))
    lp, matrix = master.matrix()
    np.testing.assert_array_equal(matrix.toarray()[master.zh_rows].T, coefficient)
    assert np.asarray(lp.row_upper_)[master.zh_rows].tolist() == rhs.tolist()
    y = np.zeros(master.n_rows)
    sigma = rng.uniform(0.1, 2.0, len(cuts))
    sigma[::3] = 0.0
    zh_sigma = rng.uniform(0.1, 2.0, len(zero_half))
    zh_sigma[::4] = 0.0
    y[master.cut_rows] = sigma
    y[master.zh_rows] = zh_sigma
    penalty = on_cut @ sigma + coefficient @ zh_sigma
    arrays = master.cut_arrays(y)
    scratch = np.zeros(len(zero_half), np.int64), np.zeros(len(zero_half), np.int64)
    for (t, bundle), expected in zip(columns, penalty, strict=True):
        rows = np.array([n_r + t, *bundle, -1, -1][:4], np.int64)
        assert _cut_penalty(rows, 1 + len(bundle), arrays, *scratch) == pytest.approx(expected)
        assert not scratch[0].any()  # (left at zeros for the next column)
    singles = [row for row, (_, b) in enumerate(columns) if len(b) == 1]
    single = master.single_penalty(y, trip[singles], members[singles, 0])
    assert single == pytest.approx(penalty[singles])
    rc = master.column_rc(y, trip, members, np.zeros(len(trip)))
    assert rc == pytest.approx(-penalty)
    assert master.cut_dual_sum(y) == pytest.approx(sigma @ master.cut_rhs() + zh_sigma @ rhs)
    master.drop_zero_half()
    assert master.n_rows == before and not master.zh_rows
    assert master.matrix()[1].shape == (before, len(columns))
    master.add(trip[:1], members[:1], np.zeros(1))  # (columns join without the cuts' rows)
    assert master.matrix()[1].shape == (before, len(columns) + 1)


def test_the_master_shifted_by_the_units_solves_the_same_lp():
    """Costs less the units per request and the count row an equality at its cap: the
    same LP optimum in the weights, the same dual bound (the count row's dual given back
    its units), and the weighted LP again after the shift is undone."""
    from crowdship.core.colgen import _Master

    rng = np.random.default_rng(8)
    n_r, n_t, units, cap = 7, 3, 1e6, 5
    _, trip, members = every_bundle(n_r, n_t, (1, 2, 3))
    size = (members >= 0).sum(axis=1)
    weight = units * size - rng.integers(0, 300, len(trip))
    master = _Master(n_r, n_t)
    master.add(trip, members, weight)
    master.cap_count(size, cap)

    def solved() -> tuple[float, float]:
        y = master.lp()
        x = master.values()
        assert size @ x == pytest.approx(cap)
        rhs = np.r_[np.ones(n_r + n_t), cap]
        return float(weight @ x), float(y[: n_r + n_t + 1] @ rhs)

    value, bound = solved()
    assert value == pytest.approx(bound)
    master.shift(units, weight)
    assert np.asarray(master.h.getLp().col_cost_) == pytest.approx(weight - units * size)
    assert solved() == pytest.approx((value, bound))
    master.shift(0.0, weight)
    assert np.asarray(master.h.getLp().row_lower_)[master.count_row] < -1e300
    assert solved() == pytest.approx((value, bound))


def test_a_zero_half_round_adds_the_cuts_the_separator_finds_priced_on_every_column():
    """The master's round of zero-half cuts (its LP's solution, its rows and subset-row
    cuts) adds exactly the cuts :func:`zerohalf.separate` finds without complements, each
    as rows and subset-row cuts summed: their coefficients on the columns so far are the
    separator's, the LP's solution breaks each, and a column joining later gets the same
    rule's coefficient as one that was there."""
    from crowdship.core import zerohalf
    from crowdship.core.colgen import _Master

    rng = np.random.default_rng(11)
    n_r, n_t = 9, 4
    columns, trip, members = every_bundle(n_r, n_t, (1, 2, 3))
    for _ in range(50):  # a day whose LP (with subset-row cuts) such cuts break
        weight = rng.uniform(1.0, 3.0, len(columns)) * (members >= 0).sum(axis=1)
        early = np.flatnonzero(rng.random(len(columns)) < 0.3)
        late = np.setdiff1d(np.arange(len(columns)), early)
        master = _Master(n_r, n_t)
        master.add(trip[early], members[early], weight[early])
        cuts = {tuple(sorted(rng.choice(n_r + n_t, 3, replace=False).tolist())) for _ in range(12)}
        master.add_cuts(sorted(cuts), trip[early], members[early])
        master.lp()
        x = master.values()
        lp, matrix = master.matrix()
        lower, upper = master.row_bounds(lp)
        rows = np.r_[np.arange(n_r + n_t), master.cut_rows].astype(np.int64)
        expected = zerohalf.separate(
            matrix.tocsr()[rows], lower[rows], upper[rows], x, ~master.held, 50, complement=False
        )
        if len(expected) and len(scipy.sparse.csr_matrix(expected.rows)[:, n_r + n_t :].data):
            break
    else:
        raise AssertionError("no day with zero-half cuts over subset-row cuts found")
    added = master.zero_half_round(trip[early], members[early], 50)
    assert added == len(expected)
    _, after = master.matrix()
    found = after.tocsr()[master.zh_rows]
    np.testing.assert_array_equal(found.toarray(), expected.matrix.toarray())
    assert (found @ x > expected.rhs + zerohalf.MIN_VIOLATION).all()
    master.add(trip[late], members[late], weight[late])
    _, full = master.matrix()
    summed = scipy.sparse.csr_matrix(expected.rows) @ full.tocsr()[rows]
    np.testing.assert_array_equal(
        full.tocsr()[master.zh_rows].toarray(), np.floor(summed.toarray() / 2)
    )


@pytest.mark.parametrize("seed", range(6))
def test_cuts_on_five_rows_found_are_every_one_broken(seed):
    """The search for cuts on five rows finds exactly the sets of five rows, connected
    through fractional columns, whose columns (each counted half the rows it holds of the
    set, rounded down) sum past 2: checked against every set of five rows. The columns
    hold two to four rows, their values within each row's 1, with odd cycles planted."""
    from crowdship.core.colgen import CUT_VIOLATION, _broken_odd_cuts

    rng = np.random.default_rng(seed)
    n_rows = 12
    rows, x = [], []
    for _ in range(2):  # a cycle of five columns at 0.45, each holding two of its rows
        cycle = rng.choice(n_rows, 5, replace=False).tolist()
        rows.extend(sorted((cycle[i], cycle[(i + 1) % 5])) for i in range(5))
        x.extend([0.45] * 5)
    for _ in range(40):
        rows.append(sorted(rng.choice(n_rows, int(rng.integers(2, 5)), replace=False).tolist()))
        x.append(float(rng.choice([0.0, 1.0, rng.uniform(0.0, 1.0)])))
    activity = np.zeros(n_rows)
    for c, r in enumerate(rows):  # within every row's 1, the cycles first
        x[c] = max(0.0, min(x[c], 1.0 - activity[r].max()))
        activity[r] += x[c]
    keep = np.array(x) > 1e-6
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    x = np.array(x)[keep]
    found = dict(_broken_odd_cuts(x, rows, n_rows, 5))

    fractional = [set(r) for r, v in zip(rows, x, strict=True) if v < 1 - 1e-6]

    def connected(cut):
        reached, todo = {cut[0]}, [cut[0]]
        while todo:
            a = todo.pop()
            for held in fractional:
                if a in held:
                    for b in held & set(cut):
                        if b not in reached:
                            reached.add(b)
                            todo.append(b)
        return len(reached) == len(cut)

    expected = {}
    for cut in itertools.combinations(range(n_rows), 5):
        total = sum(v * (len(set(cut) & set(r)) // 2) for r, v in zip(rows, x, strict=True))
        if total > 2 + CUT_VIOLATION and connected(cut):
            expected[cut] = total
    assert expected  # the planted cycles break some
    assert set(found) == set(expected)
    for cut, total in expected.items():
        assert found[cut] == pytest.approx(total, abs=1e-9)


def test_priced_within_a_gap_says_so():
    """Asked for a gap only, the answer is within it, proven against the LP bound over
    every bundle, and no better than the proven optimum."""
    trips, requests = instance(4, 20, 50, capacities=(2, 3))
    exact = match_routes(trips, requests, MINUTE_PER_KM, method="price")
    loose = match_routes(trips, requests, MINUTE_PER_KM, method="price", gap=0.05)
    assert exact.solve.exact
    assert loose.solve.gap <= 0.05
    assert loose.matched <= exact.matched
    if loose.matched == exact.matched:
        assert loose.assignment.total_detour >= exact.assignment.total_detour - 1e-6
    check_every_route(loose, trips, requests)


def test_a_packing_near_the_cut_lp_within_the_gap_ends_the_solve(monkeypatch, caplog):
    """Asked for a gap, when the small program right after the LP does not reach it (here
    given no time), the cuts, the dive and the search find a packing near the LP; within
    the gap, that is the answer: no 0-1 program over every column follows (at 20000 x
    8000, capacity 2, seed 2, its root LP alone took 57 s only to prove it again)."""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "GAP_POLISH_SECONDS", 1e-6)
    trips, requests = instance(6, 20, 50, capacities=(2, 3))
    exact = match_routes(trips, requests, MINUTE_PER_KM, method="price")
    with caplog.at_level(logging.INFO, logger="crowdship.core.colgen"):
        loose = match_routes(trips, requests, MINUTE_PER_KM, method="price", gap=0.01)
    assert any(line.startswith("LP over every bundle") for line in caplog.messages)
    assert not any(line.startswith("0-1 program") for line in caplog.messages)
    assert loose.solve.status == "within the gap asked" and 0 < loose.solve.gap <= 0.01
    assert exact.solve.exact and loose.matched == exact.matched
    assert loose.assignment.total_detour >= exact.assignment.total_detour - 1e-6
    check_every_route(loose, trips, requests)


def test_pricing_falls_back_to_listing_where_it_does_not_apply():
    """Bundles of four, or a per-trip cap, are listed; asking to price them is refused."""
    trips, requests = instance(7, 6, 12, capacities=(4,))
    auto = match_routes(trips, requests, MINUTE_PER_KM)
    assert auto.solve.method == "enumerate"
    with pytest.raises(ModelError, match="bundles of more than 3 requests"):
        match_routes(trips, requests, MINUTE_PER_KM, method="price")
    three = match_routes(trips, requests, MINUTE_PER_KM, max_bundle=3)
    assert three.solve.method == "price"
    capped = match_routes(trips, requests, MINUTE_PER_KM, max_bundle=3, bundles_per_trip=2)
    assert capped.solve.method == "enumerate"
    with pytest.raises(ValueError, match="method must be"):
        match_routes(trips, requests, MINUTE_PER_KM, method="guess")


def test_the_kernel_legs_are_the_travel_models():
    """The pricing kernel's legs equal the travel models' own (planar and great-circle)."""
    from crowdship.core.colgen import _leg
    from crowdship.core.travel import GreatCircleTravel

    rng = np.random.default_rng(3)
    a = np.column_stack((rng.uniform(59, 61, 50), rng.uniform(23, 26, 50)))
    b = np.column_stack((rng.uniform(59, 61, 50), rng.uniform(23, 26, 50)))
    for kind, travel in ((0, MINUTE_PER_KM), (1, GreatCircleTravel())):
        expected = travel.pairwise(a, b)
        got = [_leg(kind, travel._scale(), *a[k], *b[k]) for k in range(50)]
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize(("seed", "by_cuts"), [(7, False), (11, True), (29, True)])
def test_the_proof_by_zero_half_cuts_ends_at_the_optimum_of_every_bundle_listed(
    monkeypatch, caplog, seed, by_cuts
):
    """The closed proving program's LP with rounds of zero-half cuts, the columns whose
    reduced cost leaves no room held at 0 after each, SCIP started on the program beside
    them: where the LP's bound falls below the packing's next unit, or its solution is
    integral (seeds 11 and 29: a packing better than the start, the optimum), the day is
    proven without the race; where the rounds stop short (seed 7), the race goes on with
    that SCIP. Either way the answer is the optimum of every bundle listed."""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    # (the nearest bundles' program first would leave the proof little to do)
    monkeypatch.setattr(colgen, "NEAREST_FIRST_AFTER", colgen.COMPLETION_LIMIT)
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.INFO, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    assert any(line.startswith("zero-half cuts: ") for line in caplog.messages)
    proofs = [m for m in caplog.messages if m.startswith(("0-1 program", "proven by the zero"))]
    if by_cuts:
        assert proofs[-1].startswith("proven by the zero-half cuts")
    else:
        assert "(HiGHS and SCIP)" in proofs[-1]
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


@pytest.mark.parametrize("seed", [15, 7])
def test_scip_started_again_on_what_the_zero_half_rounds_left_ends_at_the_optimum(
    monkeypatch, caplog, seed
):
    """SCIP beside the rounds starts again on the columns they have not held at 0, with the
    day's weights and without their cuts, whenever they hold any (``SCIP_AGAIN_SHARE`` 1):
    the program it gets has the master's rows before the cuts, and the day still ends at
    the optimum of every bundle listed, by the rounds (seed 15) or the race (seed 7).
    (Whatever the time SCIP has spent: ``SCIP_SECONDS_PER_COLUMN`` huge.)"""
    import logging

    from crowdship.core import colgen

    monkeypatch.setattr(colgen, "LNS_TOTAL", 0.0)
    monkeypatch.setattr(colgen, "NEAREST_FIRST_AFTER", colgen.COMPLETION_LIMIT)
    monkeypatch.setattr(colgen, "SCIP_AGAIN_SHARE", 1.0)
    monkeypatch.setattr(colgen, "SCIP_SECONDS_PER_COLUMN", 1e6)
    given: list[tuple[int, int]] = []
    runner = colgen._Master.scip_runner

    def scip_runner(master, start, time_limit, scip_settings="", program=None, save=True):
        racer = runner(master, start, time_limit, scip_settings, program, save)
        given.append((racer.program.matrix.shape[0], master.n_rows))
        return racer

    monkeypatch.setattr(colgen._Master, "scip_runner", scip_runner)
    trips, requests = instance(seed, 25, 40, capacities=(2, 3))
    with caplog.at_level(logging.INFO, logger="crowdship.core.colgen"):
        listed, priced = enumerated_and_priced(trips, requests)
    again = [m for m in caplog.messages if m.startswith("SCIP again")]
    assert again
    # The first SCIP has every row; the later ones the rows before the rounds' cuts.
    first_rows = given[0][0]
    assert given[0][0] == given[0][1]
    assert all(rows == first_rows and master_rows > rows for rows, master_rows in given[1:])
    assert listed.solve.exact and priced.solve.exact
    assert priced.matched == listed.matched
    assert priced.assignment.total_detour == pytest.approx(listed.assignment.total_detour, abs=1e-2)
    check_every_route(priced, trips, requests)


@pytest.mark.parametrize(("pairs", "slots"), [(0, 0), (60, 2), (10**9, 1024)])
def test_the_routes_remembered_across_pricing_rounds_leave_the_optimum_unchanged(
    monkeypatch, pairs, slots
):
    """Pricing remembers each pair's and triple's best route across its rounds: with no
    memo, a memo for a few trips (the smallest, ``MEMO_PAIRS``) and triples' tables
    that fill at once (``MEMO_SLOTS`` 2), or room for all, the optimum is every bundle
    listed's; with room for all, fewer routes are searched than with none."""
    from crowdship.core import colgen

    searched = {}
    for memo in ("none", "given"):
        if memo == "none":
            monkeypatch.setattr(colgen, "MEMO_PAIRS", 0)
            monkeypatch.setattr(colgen, "MEMO_SLOTS", 0)
        else:
            monkeypatch.setattr(colgen, "MEMO_PAIRS", pairs)
            monkeypatch.setattr(colgen, "MEMO_SLOTS", slots)
        searched[memo] = 0
        for seed in (15, 28):
            trips, requests = instance(seed, 25, 40, capacities=(2, 3))
            listed, priced = enumerated_and_priced(trips, requests)
            assert listed.solve.exact and priced.solve.exact
            assert priced.matched == listed.matched
            assert priced.assignment.total_detour == pytest.approx(
                listed.assignment.total_detour, abs=1e-2
            )
            check_every_route(priced, trips, requests)
            searched[memo] += priced.solve.routed
    if pairs > 10**6:
        assert searched["given"] < searched["none"]


def packing_lp_optimum(n_r, n_t, columns, weight) -> float:
    """The LP of packing ``columns`` ((trip, bundle) pairs, ``every_bundle``'s) with these
    weights, by an independent LP solver (SciPy's ``linprog``): its optimum."""
    from scipy.optimize import linprog

    rows = np.zeros((n_r + n_t, len(columns)))
    for c, (t, bundle) in enumerate(columns):
        rows[list(bundle), c] = 1.0
        rows[n_r + t, c] = 1.0
    reference = linprog(-weight, A_ub=rows, b_ub=np.ones(n_r + n_t), method="highs")
    assert reference.status == 0
    return float(-reference.fun)


def test_an_lp_highs_ends_without_a_verdict_is_solved_again_from_scratch(caplog):
    """Where HiGHS ends the master's LP without an optimum (here: under a time limit an
    earlier run left, already passed; dual simplex on every LP once ended a wide-windows
    day's "Unknown"), the LP is solved again from no basis and without limits, and its
    optimum is the LP's (an independent LP solver's over the same columns)."""
    from crowdship.core.colgen import _Master

    rng = np.random.default_rng(5)
    n_r, n_t = 12, 4
    columns, trip, members = every_bundle(n_r, n_t, (1, 2))
    weight = rng.integers(1, 60, len(columns)).astype(np.float64)
    half = len(columns) // 2
    master = _Master(n_r, n_t)
    master.add(trip[:half], members[:half], weight[:half])
    master.lp()
    master.add(trip[half:], members[half:], weight[half:])  # warm: columns joined
    master.h.setOptionValue("time_limit", master.h.getRunTime())  # a limit left behind
    with caplog.at_level("WARNING", logger="crowdship.core.colgen"):
        master.lp()
    assert any("solved again from scratch" in m for m in caplog.messages)
    value = float(master.h.getInfo().objective_function_value)
    assert value == pytest.approx(packing_lp_optimum(n_r, n_t, columns, weight), abs=1e-6)
    master.lp()  # and the next LP runs as before, without the limit
    assert master.h.getInfo().objective_function_value == pytest.approx(value, abs=1e-6)


def test_a_dual_simplex_lp_out_of_its_time_is_solved_again_as_highs_chooses(monkeypatch, caplog):
    """The weighted LP's rounds by dual simplex (``lp(dual=True)``) have at most
    ``DUAL_SIMPLEX_SECONDS`` (after every earlier run: HiGHS's clock sums them); past it
    (here 0 s) the LP is solved again from no basis as HiGHS chooses, to the optimum of an
    independent LP solver over the same columns, and the next LP has no limit left."""
    from crowdship.core import colgen

    rng = np.random.default_rng(8)
    n_r, n_t = 12, 4
    columns, trip, members = every_bundle(n_r, n_t, (1, 2, 3))
    weight = rng.integers(1, 60, len(columns)).astype(np.float64)
    master = colgen._Master(n_r, n_t)
    half = len(columns) // 2
    master.add(trip[:half], members[:half], weight[:half])
    master.lp(dual=True)  # in its time: no warning
    assert master.h.getModelStatus() == master.hp.HighsModelStatus.kOptimal
    master.add(trip[half:], members[half:], weight[half:])
    monkeypatch.setattr(colgen, "DUAL_SIMPLEX_SECONDS", 0.0)
    with caplog.at_level("WARNING", logger="crowdship.core.colgen"):
        master.lp(dual=True)
    assert any("time limit" in m.lower() and "from scratch" in m for m in caplog.messages)
    optimum = packing_lp_optimum(n_r, n_t, columns, weight)
    assert master.h.getInfo().objective_function_value == pytest.approx(optimum, abs=1e-6)
    assert master.h.getOptionValue("time_limit")[1] == master.hp.kHighsInf
