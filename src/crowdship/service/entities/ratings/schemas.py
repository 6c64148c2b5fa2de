from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.schemas import JSON_INT, Text


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: Annotated[int, Field(ge=1, le=5), JSON_INT]
    comment: Text = Field(default="", max_length=500)


class RatingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    courier_id: int
    rater_role: str
    stars: int
    comment: str
    created_at: datetime


class Score(BaseModel):
    courier_id: int
    score: float = Field(
        description="Bayesian average: (prior_weight x prior_mean + sum) / (prior_weight + n)"
    )
    ratings: int
    mean: float | None = Field(description="plain mean of the ratings, None if none")
