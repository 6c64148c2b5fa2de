"""Trips and requests as column arrays.

The matcher works on thousands to hundreds of thousands of entities at once, so both are
stored as NumPy columns (struct of arrays), not as lists of objects. Times are minutes after
a reference midnight; locations are points in the coordinate system of the travel model
(``(lat, lon)`` degrees or planar ``(x, y)`` km). Both classes validate themselves on
construction and name the offending entity and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class ModelError(ValueError):
    """An entity breaks a rule of the model (names the entity and the field)."""


# The most minute-equivalents a request's value or priority may hold: the solvers sum costs
# in integer thousandths of a minute (int64), and a value far past any day's minutes would
# overflow there (the request dropped, or the solver refusing the day) instead of counting.
LARGEST_WORTH = 1e9


def format_minutes(minutes: float) -> str:
    """``HH:MM`` for minutes after midnight (hours may pass 24 for multi-day horizons), or
    ``HH:MM:SS`` when the time is not on a whole minute: rounded to the minute, a time
    computed from fractional windows could print outside them (an arrival at 13:25:43
    shown as 13:26 against a latest arrival of 13:25:43)."""
    seconds = int(round(float(minutes) * 60))
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    text = f"{sign}{hours:02d}:{rest // 60:02d}"
    return text if rest % 60 == 0 else f"{text}:{rest % 60:02d}"


def _column(values: ArrayLike, n: int, name: str, dtype: type = np.float64) -> NDArray:
    array: NDArray = np.asarray(values, dtype=dtype)
    if array.shape != (n,):
        raise ModelError(f"{name} must have {n} values, got shape {array.shape}")
    return array


def _points(values: ArrayLike, n: int, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).reshape(-1, 2) if n else np.zeros((0, 2))
    if array.shape != (n, 2):
        raise ModelError(f"{name} must be {n} points of two coordinates, got {array.shape}")
    return array


def _ids(values: Sequence[str] | NDArray) -> NDArray:
    return np.asarray([str(v) for v in values], dtype=object)


def _check_unique(ids: NDArray, kind: str) -> None:
    if ids.ndim != 1:
        raise ModelError(f"{kind} ids must be one column, got shape {ids.shape}")
    if len(set(ids.tolist())) == len(ids):
        return
    seen: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in seen:
            raise ModelError(
                f"{kind} id {value!r} appears twice (entries {seen[value]} and {index})"
            )
        seen[value] = index


def _check_shapes(n: int, points: dict[str, NDArray], columns: dict[str, NDArray]) -> None:
    for name, array in points.items():
        if np.shape(array) != (n, 2):
            raise ModelError(f"{name} must be {n} points of two coordinates, got {np.shape(array)}")
    for name, array in columns.items():
        if np.shape(array) != (n,):
            raise ModelError(f"{name} must have {n} values, got shape {np.shape(array)}")


def _check_finite(kind: str, ids: NDArray, **columns: NDArray) -> None:
    for name, column in columns.items():
        bad = ~np.isfinite(column)
        if column.ndim == 2:
            bad = bad.any(axis=1)
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ModelError(f"{kind} {ids[index]}: {name} is not a finite number")


def _check_order(
    kind: str, ids: NDArray, early: NDArray, late: NDArray, early_name: str, late_name: str
) -> None:
    bad = late < early
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ModelError(
            f"{kind} {ids[i]}: {late_name} {format_minutes(late[i])} is before "
            f"{early_name} {format_minutes(early[i])}"
        )


@dataclass(frozen=True)
class Trips:
    """Couriers' planned journeys: leave ``origin`` no earlier than ``earliest_departure``,
    reach ``destination`` no later than ``latest_arrival``."""

    ids: NDArray
    origin: FloatArray
    destination: FloatArray
    earliest_departure: FloatArray
    latest_arrival: FloatArray
    capacity: IntArray
    courier: NDArray  # courier id per trip (for preferred-courier costs); defaults to the trip id
    rating: FloatArray  # courier rating in [1, 5]; NaN = unrated

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_columns(
        cls,
        ids: Sequence[str] | NDArray,
        origin: ArrayLike,
        destination: ArrayLike,
        earliest_departure: ArrayLike,
        latest_arrival: ArrayLike,
        capacity: ArrayLike | None = None,
        courier: Sequence[str] | NDArray | None = None,
        rating: ArrayLike | None = None,
    ) -> Trips:
        ids_array = _ids(ids)
        n = len(ids_array)
        return cls(
            ids=ids_array,
            origin=_points(origin, n, "origin"),
            destination=_points(destination, n, "destination"),
            earliest_departure=_column(earliest_departure, n, "earliest_departure"),
            latest_arrival=_column(latest_arrival, n, "latest_arrival"),
            capacity=_column(np.ones(n) if capacity is None else capacity, n, "capacity", np.int64),
            courier=np.asarray(
                ids_array if courier is None else [str(c) for c in courier], dtype=object
            ),
            rating=_column(np.full(n, np.nan) if rating is None else rating, n, "rating"),
        )

    def __post_init__(self) -> None:
        # Every way of building trips (from_columns, subset, the constructor) is checked here.
        n = len(self)
        _check_shapes(
            n,
            points={"origin": self.origin, "destination": self.destination},
            columns={
                "earliest_departure": self.earliest_departure,
                "latest_arrival": self.latest_arrival,
                "capacity": self.capacity,
                "courier": self.courier,
                "rating": self.rating,
            },
        )
        _check_unique(self.ids, "trip")
        _check_finite(
            "trip",
            self.ids,
            origin=self.origin,
            destination=self.destination,
            earliest_departure=self.earliest_departure,
            latest_arrival=self.latest_arrival,
        )
        _check_order(
            "trip",
            self.ids,
            self.earliest_departure,
            self.latest_arrival,
            "earliest_departure",
            "latest_arrival",
        )
        bad = self.capacity < 1
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"trip {self.ids[i]}: capacity must be >= 1, got {self.capacity[i]}")
        rated = ~np.isnan(self.rating)
        bad = rated & ((self.rating < 1) | (self.rating > 5))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"trip {self.ids[i]}: rating must be in [1, 5], got {self.rating[i]}")

    def subset(self, index: ArrayLike) -> Trips:
        """The trips at ``index`` (positions), keeping every column aligned."""
        i = np.asarray(index, dtype=np.int64)
        return Trips(
            ids=self.ids[i],
            origin=self.origin[i],
            destination=self.destination[i],
            earliest_departure=self.earliest_departure[i],
            latest_arrival=self.latest_arrival[i],
            capacity=self.capacity[i],
            courier=self.courier[i],
            rating=self.rating[i],
        )


@dataclass(frozen=True)
class Requests:
    """Parcels to move from ``pickup`` (not before ``earliest_pickup``) to ``delivery`` (not
    after ``latest_delivery``)."""

    ids: NDArray
    pickup: FloatArray
    delivery: FloatArray
    earliest_pickup: FloatArray
    latest_delivery: FloatArray
    announced_at: FloatArray
    size: IntArray
    priority: FloatArray  # >= 0; higher means more urgent to serve
    value: FloatArray  # what serving it is worth, in cost units (min-cost policy); NaN = unset
    sender: NDArray  # sender id (for preferred couriers); "" = unknown
    preferred_couriers: tuple[frozenset[str], ...] = field(default=())

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_columns(
        cls,
        ids: Sequence[str] | NDArray,
        pickup: ArrayLike,
        delivery: ArrayLike,
        earliest_pickup: ArrayLike,
        latest_delivery: ArrayLike,
        announced_at: ArrayLike | None = None,
        size: ArrayLike | None = None,
        priority: ArrayLike | None = None,
        value: ArrayLike | None = None,
        sender: Sequence[str] | NDArray | None = None,
        preferred_couriers: Sequence[frozenset[str]] | None = None,
    ) -> Requests:
        ids_array = _ids(ids)
        n = len(ids_array)
        earliest = _column(earliest_pickup, n, "earliest_pickup")
        preferred = tuple(preferred_couriers) if preferred_couriers is not None else ()
        return cls(
            ids=ids_array,
            pickup=_points(pickup, n, "pickup"),
            delivery=_points(delivery, n, "delivery"),
            earliest_pickup=earliest,
            latest_delivery=_column(latest_delivery, n, "latest_delivery"),
            # Unknown announcement time: treat the request as known from the start.
            announced_at=_column(
                np.full(n, -np.inf) if announced_at is None else announced_at, n, "announced_at"
            ),
            size=_column(np.ones(n) if size is None else size, n, "size", np.int64),
            priority=_column(np.zeros(n) if priority is None else priority, n, "priority"),
            value=_column(np.full(n, np.nan) if value is None else value, n, "value"),
            sender=np.asarray(
                [""] * n if sender is None else [str(s) for s in sender], dtype=object
            ),
            preferred_couriers=preferred,
        )

    def __post_init__(self) -> None:
        n = len(self)
        _check_shapes(
            n,
            points={"pickup": self.pickup, "delivery": self.delivery},
            columns={
                "earliest_pickup": self.earliest_pickup,
                "latest_delivery": self.latest_delivery,
                "announced_at": self.announced_at,
                "size": self.size,
                "priority": self.priority,
                "value": self.value,
                "sender": self.sender,
            },
        )
        _check_unique(self.ids, "request")
        if self.preferred_couriers and len(self.preferred_couriers) != n:
            raise ModelError(
                f"preferred_couriers must have {n} entries, got {len(self.preferred_couriers)}"
            )
        _check_finite(
            "request",
            self.ids,
            pickup=self.pickup,
            delivery=self.delivery,
            earliest_pickup=self.earliest_pickup,
            latest_delivery=self.latest_delivery,
            priority=self.priority,
        )
        _check_order(
            "request",
            self.ids,
            self.earliest_pickup,
            self.latest_delivery,
            "earliest_pickup",
            "latest_delivery",
        )
        announced = np.isfinite(self.announced_at)
        bad = announced & (self.announced_at > self.earliest_pickup)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(
                f"request {self.ids[i]}: announced_at {format_minutes(self.announced_at[i])} is "
                f"after earliest_pickup {format_minutes(self.earliest_pickup[i])}"
            )
        bad = self.size < 1
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"request {self.ids[i]}: size must be >= 1, got {self.size[i]}")
        bad = ~((self.priority >= 0) & (self.priority <= LARGEST_WORTH))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(
                f"request {self.ids[i]}: priority must be between 0 and {LARGEST_WORTH:g}, "
                f"got {self.priority[i]:g}"
            )
        bad = np.abs(self.value) > LARGEST_WORTH  # NaN (no value) compares False
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(
                f"request {self.ids[i]}: value must be between -{LARGEST_WORTH:g} and "
                f"{LARGEST_WORTH:g} minutes, got {self.value[i]:g}"
            )

    def subset(self, index: ArrayLike) -> Requests:
        """The requests at ``index`` (positions), keeping every column aligned."""
        i = np.asarray(index, dtype=np.int64)
        return Requests(
            ids=self.ids[i],
            pickup=self.pickup[i],
            delivery=self.delivery[i],
            earliest_pickup=self.earliest_pickup[i],
            latest_delivery=self.latest_delivery[i],
            announced_at=self.announced_at[i],
            size=self.size[i],
            priority=self.priority[i],
            value=self.value[i],
            sender=self.sender[i],
            preferred_couriers=tuple(self.preferred_couriers[j] for j in i)
            if self.preferred_couriers
            else (),
        )
