"""The matcher's optimum equals an independent solver's, for every policy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from crowdship.core.costs import CostFunction, PreferredCourierTerm, PriorityTerm, RatingTerm
from crowdship.core.feasibility import DirectTimes, all_pairs, evaluate
from crowdship.core.flow import to_units
from crowdship.core.matcher import match
from crowdship.core.model import ModelError, Trips
from crowdship.core.policies import AcceptanceAware, MaxMatches, MinCost, policy_named
from crowdship.core.response import PaperResponse
from crowdship.core.travel import PlanarTravel
from tests.conftest import make_requests, make_trips, random_instance

TRAVEL = PlanarTravel(speed_kmh=40.0, detour_factor=1.2)


def assignment_optimum(n_trips, n_requests, trip, request, cost_units):
    """Max matches then min cost, by SciPy's Hungarian solver on a dense big-M matrix."""
    if len(trip) == 0:
        return 0, 0
    big = 2 * int(np.abs(cost_units).sum()) + 1
    matrix = np.zeros((n_trips, n_requests))
    feasible = np.zeros((n_trips, n_requests), dtype=bool)
    matrix[trip, request] = cost_units - big
    feasible[trip, request] = True
    rows, cols = linear_sum_assignment(matrix)
    chosen = feasible[rows, cols]
    return int(chosen.sum()), int(matrix[rows[chosen], cols[chosen]].sum() + big * chosen.sum())


def max_weight_optimum(n_trips, n_requests, trip, request, weight_units):
    """Largest total weight of a matching (only positive arcs), by the Hungarian solver."""
    matrix = np.zeros((n_trips, n_requests))
    positive = weight_units > 0
    matrix[trip[positive], request[positive]] = -weight_units[positive]
    if matrix.size == 0:
        return 0
    rows, cols = linear_sum_assignment(matrix)
    return int(-matrix[rows, cols].sum())


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_trips=st.integers(0, 25), n_requests=st.integers(0, 25))
def test_max_matches_equals_independent_optimum(seed, n_trips, n_requests):
    """Count and cost of max-matches equal the Hungarian solver's on the all-pairs graph."""
    trips, requests = random_instance(np.random.default_rng(seed), n_trips, n_requests)
    result = match(trips, requests, TRAVEL, policy=MaxMatches())
    pairs = all_pairs(trips, requests, TRAVEL)
    count, cost = assignment_optimum(
        n_trips, n_requests, pairs.trip, pairs.request, to_units(pairs.detour)
    )
    assert result.matched == count
    assert round(result.stats.objective * 1000) == cost
    # Each trip and request at most once, and every match feasible.
    assert len(set(result.assignment.trip_ids)) == result.matched
    assert len(set(result.assignment.request_ids)) == result.matched
    assert result.stats.feasible_pairs == len(pairs)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_trips=st.integers(0, 20), n_requests=st.integers(0, 20))
def test_min_cost_equals_independent_optimum(seed, n_trips, n_requests):
    """min-cost maximises the sum of (value - cost) over served requests."""
    trips, requests = random_instance(np.random.default_rng(seed), n_trips, n_requests)
    result = match(trips, requests, TRAVEL, policy=MinCost())
    pairs = all_pairs(trips, requests, TRAVEL)
    net = to_units(requests.value[pairs.request] - pairs.detour)
    assert round(result.stats.objective * 1000) == max_weight_optimum(
        n_trips, n_requests, pairs.trip, pairs.request, net
    )
    value = dict(zip(requests.ids, requests.value, strict=True))
    assert all(
        value[r] > c
        for r, c in zip(result.assignment.request_ids, result.assignment.cost, strict=True)
    )


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_trips=st.integers(0, 20), n_requests=st.integers(0, 20))
def test_acceptance_aware_equals_independent_optimum(seed, n_trips, n_requests):
    """acceptance-aware maximises the sum of acceptance probabilities."""
    trips, requests = random_instance(np.random.default_rng(seed), n_trips, n_requests)
    result = match(trips, requests, TRAVEL, policy=AcceptanceAware())
    pairs = all_pairs(trips, requests, TRAVEL)
    p = PaperResponse().accept_probability(trips, requests, pairs)
    weight = np.rint(p * 1_000_000).astype(np.int64)
    expected = max_weight_optimum(n_trips, n_requests, pairs.trip, pairs.request, weight)
    assert round(result.stats.objective * 1_000_000) == expected


def test_greedy_would_be_wrong_here(minute_per_km):
    """Taking the cheapest pair first would leave a request unserved; the optimum serves both."""
    trips = make_trips(
        [
            ("a", (0.0, 0.0), (10.0, 0.0), 0.0, 14.0),  # can take r1 (free) or r2 (detour)
            ("b", (0.0, 0.0), (10.0, 0.0), 0.0, 10.5),  # can take only r1
        ]
    )
    requests = make_requests(
        [("r1", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0), ("r2", (4.0, 1.5), (6.0, 1.5), 0.0, 100.0)]
    )
    result = match(trips, requests, minute_per_km)
    assert sorted(zip(result.assignment.trip_ids, result.assignment.request_ids, strict=True)) == [
        ("a", "r2"),
        ("b", "r1"),
    ]
    # r1 rides free with b; r2 costs a: 2 x sqrt(4^2 + 1.5^2) + 2 - 10 minutes.
    assert result.stats.objective == pytest.approx(2 * (4**2 + 1.5**2) ** 0.5 + 2 - 10, abs=1e-3)


def test_paper_example_structure(minute_per_km):
    """Morning and evening trips get the requests their windows allow (paper's Table 2/3 shape)."""
    h = 60.0
    trips = make_trips(
        [
            ("t1", (0.0, 0.0), (30.0, 0.0), 7 * h, 8 * h),
            ("t2", (30.0, 0.0), (0.0, 0.0), 17 * h, 19 * h),
            ("t3", (0.0, 10.0), (30.0, 10.0), 10 * h, 11 * h),
            ("t4", (30.0, 10.0), (0.0, 10.0), 17 * h, 19 * h),
        ]
    )
    requests = make_requests(
        [
            ("r1", (25.0, 0.0), (5.0, 0.0), 16 * h, 18 * h),
            ("r2", (10.0, 10.0), (20.0, 10.0), 13 * h, 17 * h),
            ("r3", (25.0, 10.0), (5.0, 10.0), 7 * h, 18 * h),
        ]
    )
    result = match(trips, requests, minute_per_km)
    assert dict(zip(result.assignment.request_ids, result.assignment.trip_ids, strict=True)) == {
        "r1": "t2",
        "r3": "t4",
    }
    assert result.matched == 2


def test_excluded_pairs_are_never_proposed(minute_per_km):
    """A rejected (trip, request) pair is left out; the request goes to another trip."""
    trips = make_trips(
        [("a", (0.0, 0.0), (10.0, 0.0), 0.0, 12.0), ("b", (0.0, 0.0), (10.0, 0.0), 0.0, 14.0)]
    )
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0)])
    first = match(trips, requests, minute_per_km)
    excluded = {(str(first.assignment.trip_ids[0]), "r")}
    second = match(trips, requests, minute_per_km, exclude=excluded)
    assert second.matched == 1
    assert (str(second.assignment.trip_ids[0]), "r") not in excluded


def test_cost_terms_steer_the_choice(minute_per_km):
    """Rating, preferred courier and priority terms change which pair wins."""
    base = [("a", (0.0, 0.0), (10.0, 0.0), 0.0, 20.0), ("b", (0.0, 0.0), (10.0, 0.0), 0.0, 20.0)]
    trips = Trips.from_columns(
        ids=["a", "b"],
        origin=[b[1] for b in base],
        destination=[b[2] for b in base],
        earliest_departure=[0, 0],
        latest_arrival=[20, 20],
        courier=["ann", "ben"],
        rating=[1.0, 5.0],
    )
    requests = make_requests(
        [("r", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0)], preferred_couriers=[frozenset({"ann"})]
    )
    rated = match(trips, requests, minute_per_km, CostFunction.weighted(rating=5.0))
    assert list(rated.assignment.trip_ids) == ["b"]
    preferred = match(
        trips,
        requests,
        minute_per_km,
        CostFunction((RatingTerm(5.0), PreferredCourierTerm(10.0))),
    )
    assert list(preferred.assignment.trip_ids) == ["a"]
    # Priority: one trip, two requests; the urgent one wins even at a larger detour.
    one = make_trips([("a", (0.0, 0.0), (10.0, 0.0), 0.0, 20.0)])
    two = make_requests(
        [
            ("calm", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0),
            ("urgent", (2.0, 1.0), (5.0, 1.0), 0.0, 100.0),
        ],
        priority=[0.0, 3.0],
    )
    assert list(match(one, two, minute_per_km).assignment.request_ids) == ["calm"]
    weighted = CostFunction.weighted(priority=1.0)
    assert list(match(one, two, minute_per_km, weighted).assignment.request_ids) == ["urgent"]
    assert isinstance(weighted.terms[-1], PriorityTerm)


def test_capacity_above_one_is_refused_clearly(minute_per_km):
    """Multi-parcel routes are not implemented: say so instead of matching wrongly."""
    trips = Trips.from_columns(["a"], [(0, 0)], [(10, 0)], [0], [20], capacity=[2])
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0)])
    with pytest.raises(ModelError, match="trip a: capacity 2 is not supported"):
        match(trips, requests, minute_per_km)


def test_min_cost_without_values_names_the_request(minute_per_km):
    """min-cost needs a value for every request."""
    trips = make_trips([("a", (0.0, 0.0), (10.0, 0.0), 0.0, 20.0)])
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0)])
    with pytest.raises(ModelError, match="r has none"):
        match(trips, requests, minute_per_km, policy=MinCost())


def test_result_reports_phases_and_pairs(minute_per_km):
    """The result carries feasible pairs, objective and per-phase timings."""
    trips, requests = random_instance(np.random.default_rng(3), 30, 30)
    result = match(trips, requests, TRAVEL)
    assert set(result.stats.timings) == {"direct", "pairs", "cost", "solve"}
    assert result.stats.feasible_pairs >= result.matched
    assert result.assignment.total_cost == pytest.approx(result.stats.objective, abs=0.01)
    records = result.assignment.matches()
    assert [m.trip_id for m in records] == list(result.assignment.trip_ids)
    assert all(m.pickup_time <= m.delivery_time <= m.arrival_time for m in records)
    # The matched pairs' times are the rule's, as the all-pairs reference computes them.
    reference = all_pairs(trips, requests, TRAVEL)
    times = {
        (int(t), int(r)): (p, d, a)
        for t, r, p, d, a in zip(
            reference.trip,
            reference.request,
            *evaluate_times(trips, requests, reference),
            strict=True,
        )
    }
    for k in range(result.matched):
        expected = times[
            (int(result.assignment.trip_index[k]), int(result.assignment.request_index[k]))
        ]
        got = (
            result.assignment.pickup_time[k],
            result.assignment.delivery_time[k],
            result.assignment.arrival_time[k],
        )
        assert got == pytest.approx(expected, abs=1e-9)
        t, r = int(result.assignment.trip_index[k]), int(result.assignment.request_index[k])
        assert requests.earliest_pickup[r] <= got[0]
        assert got[1] <= requests.latest_delivery[r] + 1e-6
        assert got[2] <= trips.latest_arrival[t] + 1e-6


def evaluate_times(trips, requests, pairs):
    """Pickup, delivery and arrival of the given pairs by the NumPy rule itself."""
    direct = DirectTimes.of(trips, requests, TRAVEL)
    to_pickup = TRAVEL.pairwise(trips.origin[pairs.trip], requests.pickup[pairs.request])
    from_delivery = TRAVEL.pairwise(requests.delivery[pairs.request], trips.destination[pairs.trip])
    _, _, pickup, delivery, arrival = evaluate(
        trips, requests, direct, pairs.trip, pairs.request, to_pickup, from_delivery
    )
    return pickup, delivery, arrival


def test_unknown_policy_lists_the_choices():
    """A wrong policy name says which ones exist."""
    with pytest.raises(ValueError, match="max-matches, min-cost, acceptance-aware"):
        policy_named("fastest")


def test_brute_force_on_tiny_instances():
    """On tiny instances, enumerate every matching and compare max-matches' answer."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        trips, requests = random_instance(rng, 4, 4)
        pairs = all_pairs(trips, requests, TRAVEL)
        cost = dict(
            zip(
                zip(pairs.trip.tolist(), pairs.request.tolist(), strict=True),
                to_units(pairs.detour).tolist(),
                strict=True,
            )
        )
        best = (0, 0)
        for k in range(1, 5):
            for chosen in itertools.combinations(cost, k):
                if len({t for t, _ in chosen}) == k and len({r for _, r in chosen}) == k:
                    total = sum(cost[c] for c in chosen)
                    best = max(best, (k, -total))
        result = match(trips, requests, TRAVEL)
        assert (result.matched, -round(result.stats.objective * 1000)) == best


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_trips=st.integers(0, 30),
    n_requests=st.integers(0, 30),
    keep=st.integers(1, 3),
)
def test_certified_sparse_solve_equals_independent_optimum(seed, n_trips, n_requests, keep):
    """Solving on few arcs plus the dual certificate still gives the exact optimum."""
    trips, requests = random_instance(np.random.default_rng(seed), n_trips, n_requests)
    policy = MaxMatches(certify_above=0, keep_per_node=keep)
    result = match(trips, requests, TRAVEL, policy=policy)
    pairs = all_pairs(trips, requests, TRAVEL)
    count, cost = assignment_optimum(
        n_trips, n_requests, pairs.trip, pairs.request, to_units(pairs.detour)
    )
    assert (result.matched, round(result.stats.objective * 1000)) == (count, cost)


def test_certificate_adds_back_arcs_when_the_small_problem_is_wrong():
    """With one arc per node the small problem misses arc (t1, r1); the loop adds it back."""
    from crowdship.core.flow import certified_max_matching_min_cost

    # t0-r0 and t2-r2 are forced; t1-r1 is neither t1's nor r1's cheapest arc, so keeping
    # one arc per node drops it and the small problem has only 2 matches. The optimum has 3.
    trip = np.array([0, 1, 1, 2, 2])
    request = np.array([0, 0, 1, 1, 2])
    cost = np.array([1, 2, 50, 3, 4])
    solution, arcs = certified_max_matching_min_cost(trip, request, cost, 3, 3, keep_per_node=1)
    assert sorted(solution.selected.tolist()) == [0, 2, 4]
    assert solution.total_cost == 1 + 50 + 4
    assert arcs == 5  # the dropped arc came back


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.integers(-2000, 2000).map(lambda k: k / 1000 + 0.0005),  # exact halves
        ),
        max_size=50,
    )
)
def test_cost_units_round_like_numpy(minutes):
    """The compiled conversion to integer cost units rounds exactly as NumPy does."""
    values = np.array(minutes, dtype=np.float64)
    assert to_units(values).tolist() == np.rint(values * 1000).astype(np.int64).tolist()
