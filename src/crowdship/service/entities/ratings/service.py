"""The courier's Bayesian score from their ratings (rating itself is ``workflows.rating``).

score = (C x m + sum of stars) / (C + n), with prior mean m and weight C from the settings:
a new courier starts at m, and a few ratings move the score only a little."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.ratings import repository
from crowdship.service.entities.ratings.schemas import Score


def bayesian(total: float, n: int, prior_mean: float, prior_weight: float) -> float:
    if n == 0 and prior_weight == 0:
        return prior_mean
    return (prior_weight * prior_mean + total) / (prior_weight + n)


def scores(
    session: Session, context: ServiceContext, courier_ids: Iterable[int]
) -> dict[int, Score]:
    """Every given courier's score (the prior mean for couriers without ratings)."""
    ids = sorted(set(courier_ids))
    s = context.settings
    found = repository.totals(session, ids)
    out = {}
    for courier_id in ids:
        n, total = found.get(courier_id, (0, 0))
        out[courier_id] = Score(
            courier_id=courier_id,
            score=round(bayesian(total, n, s.rating_prior_mean, s.rating_prior_weight), 4),
            ratings=n,
            mean=round(total / n, 4) if n else None,
        )
    return out
