"""How couriers answer an offer: the probability that they accept a pair.

The simulator samples from these; the acceptance-aware policy maximises their sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from crowdship.core.feasibility import FeasiblePairs
from crowdship.core.model import FloatArray, Requests, Trips


class CourierResponse(Protocol):
    """Probability that the courier of each pair's trip accepts the offer."""

    @property
    def name(self) -> str: ...

    def accept_probability(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs
    ) -> FloatArray: ...


@dataclass(frozen=True)
class PaperResponse:
    """The paper's model: reject with probability detour / (LA_r - ED_r)."""

    name: str = "paper"

    def accept_probability(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs
    ) -> FloatArray:
        window = (requests.latest_delivery - requests.earliest_pickup)[pairs.request]
        with np.errstate(divide="ignore", invalid="ignore"):
            reject = np.where(
                window > 0, pairs.detour / window, np.where(pairs.detour > 0, 1.0, 0.0)
            )
        return 1.0 - np.clip(reject, 0.0, 1.0)


@dataclass(frozen=True)
class AlwaysAccept:
    """Every offer is accepted."""

    name: str = "always"

    def accept_probability(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs
    ) -> FloatArray:
        return np.ones(len(pairs))


@dataclass(frozen=True)
class LogitResponse:
    """Logit on detour minutes: ``P(accept) = 1 / (1 + exp(-(intercept - slope x detour)))``."""

    intercept: float = 3.0
    slope: float = 0.25  # per detour minute
    name: str = "logit"

    def __post_init__(self) -> None:
        if not np.isfinite(self.intercept) or not np.isfinite(self.slope):
            raise ValueError("logit intercept and slope must be finite numbers")
        if self.slope < 0:
            raise ValueError(f"logit slope must be >= 0 per detour minute, got {self.slope}")

    def accept_probability(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs
    ) -> FloatArray:
        return 1.0 / (1.0 + np.exp(-(self.intercept - self.slope * pairs.detour)))
