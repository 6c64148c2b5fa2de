"""The pure core: model, travel models, feasibility and cost, policies, matcher.

Nothing here touches a database, a file, the wall clock or the terminal.
"""

from crowdship.core.costs import CostFunction
from crowdship.core.feasibility import Limits, Schedule, schedule
from crowdship.core.matcher import Assignment, MatchResult, MatchStats, match
from crowdship.core.model import ModelError, Requests, Trips
from crowdship.core.policies import AcceptanceAware, MaxMatches, MinCost, policy_named
from crowdship.core.travel import GreatCircleTravel, PlanarTravel, TravelModel

__all__ = [
    "AcceptanceAware",
    "Assignment",
    "CostFunction",
    "GreatCircleTravel",
    "Limits",
    "MatchResult",
    "MatchStats",
    "MaxMatches",
    "MinCost",
    "ModelError",
    "PlanarTravel",
    "Requests",
    "Schedule",
    "TravelModel",
    "Trips",
    "match",
    "policy_named",
    "schedule",
]
