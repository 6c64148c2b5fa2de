"""The pure core: model, travel models, feasibility and cost, policies, matcher.

Nothing here touches a database, a file, the wall clock or the terminal.
"""

import os

# Between parallel loops, OpenMP's threads (the compiled modules' and numba's "omp" layer)
# spin by default, holding a core while the main thread runs the serial code between
# them; on a machine whose cores are busy with other work that starved the matcher (the
# service batch took 343-358 ms, 190-205 ms with passive waiting, at load 3.6-3.9 on 2
# cores; a whole ``crowdship match`` of the paper's day 4.3-5.9 s against 3.6-4.8 s).
# Sleeping threads wake in microseconds, and a matching runs a few dozen parallel loops.
# OpenMP reads this when its library loads, with the first compiled module (the package
# runs before any of its modules); a value already set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
