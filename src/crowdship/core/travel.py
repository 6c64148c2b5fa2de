"""Travel models: driving minutes between locations, ``d(a, b)``.

Every model answers two questions: a matrix between two point sets, and values for aligned
pairs. For the candidate index each model also gives an *embedding* into Euclidean space
(km) and a rate such that ``d(a, b) >= minutes_per_km * |embed(a) - embed(b)|`` always
holds; the index prunes with that lower bound, so it can never drop a feasible pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from crowdship.core.model import FloatArray

EARTH_RADIUS_KM = 6371.0088
# The lower bound is shaved by this relative margin so that rounding in two different
# formulas (chord vs. haversine, say) can never turn a true bound into a false one.
BOUND_SLACK = 1e-9


@runtime_checkable
class TravelModel(Protocol):
    """Driving minutes between points, plus a Euclidean lower bound for indexing."""

    @property
    def minutes_per_km(self) -> float:
        """``d(a, b) >= minutes_per_km * |embed(a) - embed(b)|`` for all points a, b."""
        ...

    @property
    def embedding_is_exact(self) -> bool:
        """True when that bound is an equality (then the index's legs are the true times)."""
        ...

    def matrix(self, a: FloatArray, b: FloatArray) -> FloatArray:
        """Minutes from every point of ``a`` to every point of ``b``: shape ``(len(a), len(b))``."""
        ...

    def pairwise(self, a: FloatArray, b: FloatArray) -> FloatArray:
        """Minutes from ``a[i]`` to ``b[i]`` for each ``i``."""
        ...

    def embed(self, points: FloatArray) -> FloatArray:
        """Euclidean coordinates in km used by the lower bound."""
        ...

    def invalid_point(self, points: FloatArray) -> tuple[int, str] | None:
        """The first point this model cannot use, with the reason, or None."""
        ...

    def minutes(self, start: tuple[float, float], end: tuple[float, float]) -> float:
        """Minutes for one leg from ``start`` to ``end``."""
        ...


class OneLeg:
    """``minutes(start, end)`` for one leg, from the model's ``pairwise``; the service asks
    for single legs (a trip's direct drive, an order's pickup to delivery)."""

    def pairwise(self, a: FloatArray, b: FloatArray) -> FloatArray:  # pragma: no cover
        raise NotImplementedError

    def minutes(self, start: tuple[float, float], end: tuple[float, float]) -> float:
        a = np.array([start], dtype=np.float64)
        b = np.array([end], dtype=np.float64)
        return float(self.pairwise(a, b)[0])


def _check_speed(speed_kmh: float, detour_factor: float) -> None:
    if not speed_kmh > 0 or not np.isfinite(speed_kmh):
        raise ValueError(f"speed must be > 0 km/h, got {speed_kmh}")
    if not detour_factor >= 1 or not np.isfinite(detour_factor):
        raise ValueError(f"detour factor must be >= 1, got {detour_factor}")


@dataclass(frozen=True)
class GreatCircleTravel(OneLeg):
    """Minutes = haversine km x detour factor / speed x 60, on WGS84 ``(lat, lon)`` degrees."""

    speed_kmh: float = 30.0
    detour_factor: float = 1.3
    embedding_is_exact: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_speed(self.speed_kmh, self.detour_factor)

    @property
    def minutes_per_km(self) -> float:
        return self.detour_factor / self.speed_kmh * 60.0 * (1 - BOUND_SLACK)

    def _scale(self) -> float:
        return self.detour_factor / self.speed_kmh * 60.0

    def matrix(self, a: FloatArray, b: FloatArray) -> FloatArray:
        return self._haversine_km(a[:, None, :], b[None, :, :]) * self._scale()

    def pairwise(self, a: FloatArray, b: FloatArray) -> FloatArray:
        return self._haversine_km(a, b) * self._scale()

    @staticmethod
    def _haversine_km(a: FloatArray, b: FloatArray) -> FloatArray:
        lat1, lon1 = np.radians(a[..., 0]), np.radians(a[..., 1])
        lat2, lon2 = np.radians(b[..., 0]), np.radians(b[..., 1])
        h = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))

    def embed(self, points: FloatArray) -> FloatArray:
        # Points on a sphere in 3-D: the chord is never longer than the great-circle arc.
        lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
        return EARTH_RADIUS_KM * np.column_stack(
            (np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat))
        )

    def invalid_point(self, points: FloatArray) -> tuple[int, str] | None:
        return invalid_latlon(points)


def invalid_latlon(points: FloatArray) -> tuple[int, str] | None:
    """First ``(lat, lon)`` point out of range, with the reason, or None."""
    lat, lon = points[:, 0], points[:, 1]
    bad_lat = ~((lat >= -90) & (lat <= 90))
    bad_lon = ~((lon >= -180) & (lon <= 180))
    if bad_lat.any() or bad_lon.any():
        first_lat = int(np.argmax(bad_lat)) if bad_lat.any() else len(points)
        first_lon = int(np.argmax(bad_lon)) if bad_lon.any() else len(points)
        if first_lat <= first_lon:
            return first_lat, f"latitude {lat[first_lat]} is outside [-90, 90]"
        return first_lon, f"longitude {lon[first_lon]} is outside [-180, 180]"
    return None


@dataclass(frozen=True)
class PlanarTravel(OneLeg):
    """Minutes = Euclidean km x detour factor / speed x 60, on planar ``(x, y)`` km."""

    speed_kmh: float = 30.0
    detour_factor: float = 1.3
    embedding_is_exact: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_speed(self.speed_kmh, self.detour_factor)

    @property
    def minutes_per_km(self) -> float:
        return self._scale()

    def _scale(self) -> float:
        return self.detour_factor / self.speed_kmh * 60.0

    def matrix(self, a: FloatArray, b: FloatArray) -> FloatArray:
        delta = a[:, None, :] - b[None, :, :]
        return np.hypot(delta[..., 0], delta[..., 1]) * self._scale()

    def pairwise(self, a: FloatArray, b: FloatArray) -> FloatArray:
        delta = a - b
        return np.sqrt((delta**2).sum(axis=1)) * self._scale()

    def embed(self, points: FloatArray) -> FloatArray:
        return np.asarray(points, dtype=np.float64)

    def invalid_point(self, points: FloatArray) -> tuple[int, str] | None:
        return None
