"""Experiment runs: the same seeds give the same rows on every executor, and the summary's
intervals are right."""

from __future__ import annotations

import csv
import math

import pytest
from distributed import LocalCluster
from scipy import stats

from crowdship.experiments.executors import execute
from crowdship.experiments.runs import RUN_COLUMNS, TIMING_COLUMNS, run, with_counts
from crowdship.experiments.sweeps import (
    PARAMS_FILE,
    Variant,
    csv_row,
    gap_specs,
    interval_specs,
    mean_ci95,
    ratio_specs,
    specs_from_runs,
    strategy_label,
    summarize,
    write_params,
    write_runs,
)
from crowdship.sim.scenarios import MAX_PER_DAY, ScenarioParams

ISSUE_COLUMNS = [
    "experiment",
    "strategy",
    "interval_min",
    "ratio",
    "repetition",
    "seed",
    "trips",
    "requests",
    "matched",
    "match_rate",
    "rejections",
    "mean_detour_min",
    "wall_s",
]

SMALL = ScenarioParams(city_km=15)


def _specs():
    specs = ratio_specs(SMALL, 80, [0.3, 0.8], 2, seed=5)
    specs += interval_specs(
        SMALL, 80, [20.0, 60.0], 2, seed=5, policies=["max-matches", "acceptance-aware"]
    )
    return specs


def _without_timings(rows):
    """The rows as runs.csv writes them, less the columns that measure elapsed time."""
    return [{k: v for k, v in csv_row(row).items() if k not in TIMING_COLUMNS} for row in rows]


def test_specs_cover_the_experiments_with_common_days() -> None:
    specs = _specs()
    assert len(specs) == 2 * 2 + 2 * (2 * (2 + 1) + 1)
    interval = [s for s in specs if s.experiment == "interval"]
    # Every strategy of one repetition simulates the same day.
    for repetition in (0, 1):
        assert len({s.seed for s in interval if s.repetition == repetition}) == 1
    assert {s.seed for s in interval if s.repetition == 0} != {
        s.seed for s in interval if s.repetition == 1
    }
    assert {s.params.requests for s in specs if s.experiment == "ratio"} == {24, 64}


def test_columns_start_with_the_issues_list(tmp_path) -> None:
    assert list(RUN_COLUMNS[: len(ISSUE_COLUMNS)]) == ISSUE_COLUMNS
    rows = [run(spec) for spec in _specs()[:3]]
    write_runs(tmp_path / "runs.csv", rows)
    with (tmp_path / "runs.csv").open() as handle:
        assert next(csv.reader(handle)) == list(RUN_COLUMNS)


@pytest.fixture(scope="module")
def in_process_rows():
    return execute(_specs(), workers=1)


def test_a_spec_gives_the_same_row_every_time(in_process_rows) -> None:
    again = execute(_specs(), workers=1)
    assert _without_timings(again) == _without_timings(in_process_rows)
    assert all(row["wall_s"] > 0 for row in again)
    assert any(row["mean_wait_min"] != row["mean_wait_min"] for row in again)  # NaN offline


def test_local_worker_processes_give_the_same_rows(in_process_rows) -> None:
    ticks = []
    rows = execute(_specs(), workers=2, progress=lambda: ticks.append(1))
    assert len(ticks) == len(rows) == len(in_process_rows)
    assert _without_timings(rows) == _without_timings(in_process_rows)


def test_a_dask_cluster_gives_the_same_rows(in_process_rows) -> None:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        rows = execute(_specs(), cluster=cluster.scheduler_address)
    assert _without_timings(rows) == _without_timings(in_process_rows)


def test_offline_is_the_bound_on_every_day(in_process_rows) -> None:
    bound = {
        row["seed"]: row["matched"]
        for row in in_process_rows
        if row["experiment"] == "interval" and row["strategy"] == "offline"
    }
    online = [
        r for r in in_process_rows if r["experiment"] == "interval" and r["strategy"] != "offline"
    ]
    assert online and all(row["matched"] <= bound[row["seed"]] for row in online)
    assert {r["policy"] for r in online} == {"max-matches", "acceptance-aware"}


def test_mean_and_95_percent_interval() -> None:
    values = [0.8, 0.9, 0.85, 0.95]
    mean, half = mean_ci95(values)
    low, high = stats.t.interval(0.95, 3, loc=mean, scale=stats.sem(values))
    assert mean == pytest.approx(0.875)
    assert half == pytest.approx((high - low) / 2)
    assert mean_ci95([0.5])[0] == 0.5 and math.isnan(mean_ci95([0.5])[1])
    assert math.isnan(mean_ci95([float("nan")])[0])


def test_summary_groups_runs_and_pairs_the_gap_to_the_bound() -> None:
    def row(strategy, seed, rate, interval=None):
        return {
            "experiment": "interval",
            "strategy": strategy,
            "policy": "max-matches",
            "interval_min": interval,
            "ratio": 0.4,
            "seed": seed,
            "match_rate": rate,
            "matched": round(rate * 100),
            "rejections": 1,
            "mean_detour_min": 2.0,
            "mean_wait_min": 10.0,
            "wall_s": 0.1,
        }

    rows = [
        row("offline", 1, 0.99),
        row("offline", 2, 0.95),
        row("rolling", 1, 0.90, 40.0),
        row("rolling", 2, 0.80, 40.0),
    ]
    summary = {s["strategy"]: s for s in summarize(rows)}
    assert summary["rolling"]["runs"] == 2
    assert summary["rolling"]["match_rate_mean"] == pytest.approx(0.85)
    # Gaps per day: 9 and 15 percentage points.
    assert summary["rolling"]["gap_to_offline_mean"] == pytest.approx(12.0)
    assert summary["rolling"]["gap_to_offline_ci95"] == pytest.approx(mean_ci95([9.0, 15.0])[1])
    assert summary["offline"]["gap_to_offline_mean"] == 0.0


def test_gap_specs_put_every_strategy_on_the_same_days() -> None:
    specs = gap_specs(SMALL, 80, 2, seed=5, intervals=[40.0], max_waits=[60.0, None])
    # Per day: 2 policies x (rolling 40 + instant + jit 15/60 + jit 15/-) + offline.
    assert len(specs) == 2 * (2 * 4 + 1)
    for repetition in (0, 1):
        assert len({s.seed for s in specs if s.repetition == repetition}) == 1
    jit = [s for s in specs if s.strategy == "jit"]
    assert {(s.lead_min, s.max_wait_min, s.policy) for s in jit} == {
        (15.0, w, p) for w in (60.0, None) for p in ("max-matches", "anticipatory")
    }
    with pytest.raises(ValueError, match="just-in-time lead"):
        gap_specs(SMALL, 80, 1, seed=5, leads=[-5.0])
    # One anticipatory version per phantom weight; the labels name the weight if not 0.3.
    weighed = gap_specs(
        SMALL, 80, 1, seed=5, intervals=[40.0], max_waits=[60.0], phantom_weights=[0.1, 0.3]
    )
    assert len(weighed) == 3 * 3 + 1
    assert {s.phantom_weight for s in weighed if s.policy == "anticipatory"} == {0.1, 0.3}
    assert {s.phantom_weight for s in weighed if s.policy != "anticipatory"} == {None}
    labels = {strategy_label(vars(s)) for s in weighed if s.strategy == "instant"}
    assert labels == {"instant", "instant, anticipatory", "instant, anticipatory 0.1"}
    with pytest.raises(ValueError, match="phantom weight"):
        gap_specs(SMALL, 80, 1, seed=5, phantom_weights=[1.0])


def test_a_variant_changes_the_settings_and_keeps_the_counts() -> None:
    base = interval_specs(SMALL, 80, [30.0], 1, seed=2)
    changed = Variant("wide", {"city_km": 50.0}, rejection="exclude").apply(base)
    assert all(s.params.city_km == 50.0 and s.params.trips == 80 for s in changed)
    assert {(s.variant, s.rejection) for s in changed} == {("wide", "exclude")}
    assert [s.seed for s in changed] == [s.seed for s in base]  # common random numbers


def test_runs_and_params_describe_every_run_again(tmp_path) -> None:
    specs = Variant("late trips", {"trip_announcement_lead": (30.0, 60.0)}).apply(
        gap_specs(SMALL, 60, 1, seed=3, intervals=[40.0], max_waits=[60.0])
    )
    rows = [run(spec) for spec in specs]
    write_runs(tmp_path / "runs.csv", rows)
    write_params(tmp_path / PARAMS_FILE, specs)
    again = specs_from_runs(tmp_path)
    assert again == specs
    assert _without_timings([run(s) for s in again]) == _without_timings(rows)


def test_plots_draw_on_the_axes_they_are_given(in_process_rows) -> None:
    import matplotlib.pyplot as plt

    from crowdship.experiments.plots import plot_interval, plot_ratio, plot_wait

    summary = summarize(in_process_rows)
    gap_summary = summarize([run(s) for s in gap_specs(SMALL, 60, 1, seed=1, max_waits=[60.0])])
    figure, axes = plt.subplots(1, 3)
    try:
        assert plot_ratio(summary, axes[0]) is axes[0]
        assert plot_interval(summary, axes[1]) is axes[1]
        assert plot_wait(gap_summary, axes[2]) is axes[2]
        assert all(ax.lines or ax.collections for ax in axes)
        assert "request/trip ratio" in axes[0].get_xlabel()
    finally:
        plt.close(figure)


def test_a_day_holds_the_requests_it_draws_not_the_unrounded_product() -> None:
    """The limit on a day's requests is checked once, by ScenarioParams, on the count the
    day draws: ratio x trips rounded to the nearest whole count. 1000.0004 x 1000 trips is
    1000000.4, a day of MAX_PER_DAY requests (refused before as "1000000 requests a day; a
    day holds at most 1000000")."""
    assert MAX_PER_DAY == 1_000_000
    assert with_counts(ScenarioParams(), 1000, 1000.0004).requests == MAX_PER_DAY
    assert with_counts(ScenarioParams(), 3, 0.5).requests == 2  # 1.5 to even, as round does
    specs = ratio_specs(ScenarioParams(), 1000, [1000.0004], 1, 0)
    assert [spec.params.requests for spec in specs] == [MAX_PER_DAY]
    for trips, ratio, message in (
        (
            1000,
            1000.0006,
            "request/trip ratio 1000 with 1000 trips: a day holds at most 1000000 trips and "
            "1000000 requests, got 1000 trips, 1000001 requests",
        ),
        (2_000_000, 0.1, "got 2000000 trips, 200000 requests"),
        (40, 1e308, "request/trip ratio 1e+308 with 40 trips gives more requests than a day"),
    ):
        with pytest.raises(ValueError, match="^request/trip ratio") as refused:
            with_counts(ScenarioParams(), trips, ratio)
        assert message in str(refused.value)
