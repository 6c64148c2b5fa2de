"""Plots of the summaries with 95% error bars (matplotlib, no screen needed).

Each function draws on the Axes it is given and returns it; the caller makes the figure
and saves it (``crowdship experiment`` writes PNGs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes  # noqa: E402  (the backend must be chosen first)

from crowdship.experiments.sweeps import policy_label, strategy_label  # noqa: E402

PAPER_BEST_INTERVAL = (40.0, 87.6)  # Figure 6: best interval and its match rate (%)
PAPER_INSTANT = 47.2  # instant matching's match rate (%)


def _variant(row: dict[str, Any]) -> str:
    return str(row.get("variant") or "")


def _label(row: dict[str, Any], variants: bool) -> str:
    if row["strategy"] == "offline" and row["experiment"] == "ratio":
        label = "offline (everything known)"
    elif row["strategy"] == "rolling" and row["experiment"] == "ratio":
        label = strategy_label(row) + " min"
    else:
        label = strategy_label(row)
    return f"{_variant(row)}: {label}" if variants and _variant(row) else label


def _pct(value: float) -> float:
    return 100 * value if not math.isnan(value) else math.nan


def _error(value: float) -> float:
    return 100 * value if not math.isnan(value) else 0.0


def plot_ratio(summary: Sequence[dict[str, Any]], ax: Axes) -> Axes:
    """Figure 5: match rate against the request/trip ratio, one line per strategy (and per
    variant, when the summary holds several)."""
    rows = [r for r in summary if r["experiment"] == "ratio"]
    variants = len({_variant(r) for r in rows}) > 1
    for label in dict.fromkeys(_label(r, variants) for r in rows):
        line = sorted((r for r in rows if _label(r, variants) == label), key=lambda r: r["ratio"])
        ax.errorbar(
            [100 * r["ratio"] for r in line],
            [_pct(r["match_rate_mean"]) for r in line],
            yerr=[_error(r["match_rate_ci95"]) for r in line],
            marker="o",
            markersize=4,
            capsize=3,
            label=label,
        )
    ax.set_xlabel("requests per 100 trips (request/trip ratio, %)")
    ax.set_ylabel("match rate (%)")
    ax.set_title("Match rate vs request/trip ratio (cf. paper Figure 5)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8 if variants else 10)
    return ax


def plot_interval(summary: Sequence[dict[str, Any]], ax: Axes, paper: bool = True) -> Axes:
    """Figure 6: match rate against the planning interval; instant and the offline bound as
    reference lines (with one variant) or markers at the left and right (with several), and
    the paper's reported points."""
    rows = [r for r in summary if r["experiment"] == "interval"]
    variants = len({_variant(r) for r in rows}) > 1
    rolling = [r for r in rows if r["strategy"] == "rolling"]
    colors: dict[tuple[str, str], Any] = {}
    for key in dict.fromkeys((_variant(r), r["policy"]) for r in rolling):
        line = sorted(
            (r for r in rolling if (_variant(r), r["policy"]) == key),
            key=lambda r: r["interval_min"],
        )
        name = f"{key[0]}: rolling" if variants else f"rolling horizon, {key[1]}"
        drawn = ax.errorbar(
            [r["interval_min"] for r in line],
            [_pct(r["match_rate_mean"]) for r in line],
            yerr=[_error(r["match_rate_ci95"]) for r in line],
            marker="o",
            markersize=4,
            capsize=3,
            label=name,
        )
        colors[key] = drawn.lines[0].get_color()
    left = min((r["interval_min"] for r in rolling), default=0.0)
    right = max((r["interval_min"] for r in rolling), default=120.0)
    for row in rows:
        rate = _pct(row["match_rate_mean"])
        color = colors.get((_variant(row), row["policy"]), "grey")
        if variants:
            # Several variants: instant as a triangle left of the curve, the bound right.
            if row["strategy"] == "instant":
                ax.plot(left - 5, rate, marker="<", color=color, linestyle="")
            elif row["strategy"] == "offline":
                ax.plot(right + 5, rate, marker=">", color=color, linestyle="")
            continue
        if row["strategy"] == "instant":
            ax.axhline(
                rate,
                linestyle=":",
                color=color,
                label=f"instant, {row['policy']} ({rate:.1f}%)",
            )
        elif row["strategy"] == "offline":
            ax.axhline(rate, linestyle="--", color="black", label=f"offline bound ({rate:.1f}%)")
    if paper:
        ax.plot(
            *PAPER_BEST_INTERVAL,
            marker="*",
            markersize=12,
            linestyle="",
            color="crimson",
            label="paper: best interval (40 min, 87.6%)",
        )
        ax.axhline(
            PAPER_INSTANT,
            linestyle="-.",
            color="crimson",
            alpha=0.6,
            label=f"paper: instant ({PAPER_INSTANT}%)",
        )
    ax.set_xlabel(
        "planning interval (minutes)" + ("; < instant, > offline bound" if variants else "")
    )
    ax.set_ylabel("match rate (%)")
    ax.set_title("Match rate vs planning interval (cf. paper Figure 6)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7 if variants else 8, loc="lower left")
    return ax


def plot_wait(summary: Sequence[dict[str, Any]], ax: Axes) -> Axes:
    """Every strategy of the ``gap`` experiment: its match rate against its median time
    from announcement to match (both means over the days, with 95% intervals), and the
    offline bound as a line. One colour per policy; the just-in-time points of a policy are
    joined (longer promised waits to the right)."""
    rows = [r for r in summary if r["experiment"] == "gap"]
    markers = {"rolling": "o", "instant": "s", "jit": "D"}
    colors: dict[str, Any] = {}
    lowest = 100.0
    for row in rows:
        rate = _pct(row["match_rate_mean"])
        lowest = min(lowest, rate - _error(row["match_rate_ci95"]))
        if row["strategy"] == "offline":
            ax.axhline(rate, linestyle="--", color="black", label=f"offline bound ({rate:.1f}%)")
            ax.axhspan(rate - 2, rate, color="green", alpha=0.08, label="within 2 pp of it")
            continue
        policy = policy_label(row)
        drawn = ax.errorbar(
            [row["median_wait_min_mean"]],
            [rate],
            xerr=[_error(row["median_wait_min_ci95"]) / 100],
            yerr=[_error(row["match_rate_ci95"])],
            marker=markers.get(row["strategy"], "o"),
            color=colors.get(policy),
            capsize=3,
            linestyle="",
            label=policy if policy not in colors else None,
        )
        colors.setdefault(policy, drawn.lines[0].get_color())
        first = policy == next(iter(colors))
        ax.annotate(
            strategy_label({**row, "policy": "max-matches"}),
            (row["median_wait_min_mean"], rate),
            textcoords="offset points",
            xytext=(5, -11 if first else 5),
            fontsize=7,
            color=colors[policy],
        )
    for policy, color in colors.items():
        jit = sorted(
            (r for r in rows if r["strategy"] == "jit" and policy_label(r) == policy),
            key=lambda r: r["median_wait_min_mean"],
        )
        ax.plot(
            [r["median_wait_min_mean"] for r in jit],
            [_pct(r["match_rate_mean"]) for r in jit],
            color=color,
            alpha=0.5,
        )
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.set_ylim(max(0.0, lowest - 2), 101)
    ax.set_xlabel("median minutes from announcement to match (mean over days)")
    ax.set_ylabel("match rate (%)")
    ax.set_title("Match rate vs time to match (o rolling, s instant, D just-in-time lead/wait)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return ax
