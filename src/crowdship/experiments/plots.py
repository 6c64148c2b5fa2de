"""PNG plots of the summaries with 95% error bars (matplotlib, no screen needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

PAPER_BEST_INTERVAL = (40.0, 87.6)  # Figure 6: best interval and its match rate (%)
PAPER_INSTANT = 47.2  # instant matching's match rate (%)


def _label(row: dict[str, Any]) -> str:
    if row["strategy"] == "offline":
        return "offline bound"
    policy = "" if row["policy"] == "max-matches" else f", {row['policy']}"
    if row["strategy"] == "rolling" and row["experiment"] == "ratio":
        return f"rolling {row['interval_min']:g} min{policy}"
    return f"{row['strategy']}{policy}"


def _pct(value: float) -> float:
    return 100 * value if not math.isnan(value) else math.nan


def _error(value: float) -> float:
    return 100 * value if not math.isnan(value) else 0.0


def plot_ratio(summary: Sequence[dict[str, Any]], path: Path) -> None:
    """Figure 5: match rate against the request/trip ratio."""
    rows = [r for r in summary if r["experiment"] == "ratio"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label in dict.fromkeys(_label(r) for r in rows):
        line = sorted((r for r in rows if _label(r) == label), key=lambda r: r["ratio"])
        ax.errorbar(
            [100 * r["ratio"] for r in line],
            [_pct(r["match_rate_mean"]) for r in line],
            yerr=[_error(r["match_rate_ci95"]) for r in line],
            marker="o",
            capsize=3,
            label=label,
        )
    ax.set_xlabel("requests per 100 trips (request/trip ratio, %)")
    ax.set_ylabel("match rate (%)")
    ax.set_title("Match rate vs request/trip ratio (cf. paper Figure 5)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_interval(summary: Sequence[dict[str, Any]], path: Path) -> None:
    """Figure 6: match rate against the planning interval; instant, the offline bound and the
    paper's reported points as reference lines."""
    rows = [r for r in summary if r["experiment"] == "interval"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    rolling = [r for r in rows if r["strategy"] == "rolling"]
    colors: dict[str, Any] = {}
    for policy in dict.fromkeys(r["policy"] for r in rolling):
        line = sorted(
            (r for r in rolling if r["policy"] == policy), key=lambda r: r["interval_min"]
        )
        drawn = ax.errorbar(
            [r["interval_min"] for r in line],
            [_pct(r["match_rate_mean"]) for r in line],
            yerr=[_error(r["match_rate_ci95"]) for r in line],
            marker="o",
            capsize=3,
            label=f"rolling horizon, {policy}",
        )
        colors[policy] = drawn.lines[0].get_color()
    for row in rows:
        if row["strategy"] == "instant":
            ax.axhline(
                _pct(row["match_rate_mean"]),
                linestyle=":",
                color=colors.get(row["policy"], "grey"),
                label=f"instant, {row['policy']} ({_pct(row['match_rate_mean']):.1f}%)",
            )
        elif row["strategy"] == "offline":
            ax.axhline(
                _pct(row["match_rate_mean"]),
                linestyle="--",
                color="black",
                label=f"offline bound ({_pct(row['match_rate_mean']):.1f}%)",
            )
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
    ax.set_xlabel("planning interval (minutes)")
    ax.set_ylabel("match rate (%)")
    ax.set_title("Match rate vs planning interval (cf. paper Figure 6)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
