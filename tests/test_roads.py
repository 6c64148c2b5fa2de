"""Road networks read once and kept ready (``crowdship.roads``)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crowdship.core.road import DEFAULT_SPEEDS_KMH, RoadNetworkTravel, bundled_extract
from crowdship.roads import cache_dir, load_road_network, prepared_path


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A private copy of the bundled extract (tests change its modification time)."""
    copy = tmp_path / "city.osm.pbf"
    shutil.copyfile(bundled_extract(), copy)
    return copy


def same_network(a: RoadNetworkTravel, b: RoadNetworkTravel) -> None:
    for name, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[name], err_msg=name)


def refuse_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*args: object, **kwargs: object) -> RoadNetworkTravel:
        raise AssertionError("the extract was parsed again")

    monkeypatch.setattr(RoadNetworkTravel, "from_pbf", parse)


def test_the_second_read_is_the_prepared_copy(extract, tmp_path, monkeypatch):
    """The first read parses the file and keeps a copy; the next gives the same network
    without parsing."""
    folder = tmp_path / "cache"
    built = load_road_network(extract, folder=folder)
    copy = prepared_path(extract, None, folder)
    assert copy.exists() and copy.parent == folder / "roads"
    refuse_to_parse(monkeypatch)
    same_network(load_road_network(extract, folder=folder), built)


def test_a_changed_file_or_other_speeds_are_parsed_again(extract, tmp_path):
    """The copy belongs to the file as it was and to the speeds it was built with."""
    folder = tmp_path / "cache"
    load_road_network(extract, folder=folder)
    first = prepared_path(extract, None, folder)
    stat = extract.stat()
    os.utime(extract, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert prepared_path(extract, None, folder) != first
    slow = dict.fromkeys(DEFAULT_SPEEDS_KMH, 5.0)  # every road without a posted speed
    assert prepared_path(extract, slow, folder) != prepared_path(extract, None, folder)
    fast, crawling = (
        load_road_network(extract, folder=folder),
        load_road_network(extract, slow, folder=folder),
    )
    # Most of the extract's streets post their speed; the others are slower now.
    assert crawling.graph.data.sum() > fast.graph.data.sum()
    assert len(list((folder / "roads").glob("*.npz"))) == 3


@pytest.mark.parametrize("damage", ["garbage", "truncated", "inconsistent"])
def test_a_damaged_copy_is_reported_and_rebuilt(extract, tmp_path, caplog, damage):
    """A copy that cannot be read is never trusted: the file is parsed and the copy
    replaced."""
    folder = tmp_path / "cache"
    built = load_road_network(extract, folder=folder)
    copy = prepared_path(extract, None, folder)
    if damage == "garbage":
        copy.write_bytes(b"not a numpy archive")
    elif damage == "truncated":  # a zip archive cut short: np.load raises BadZipFile
        copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    else:
        np.savez(copy, **{**built.arrays(), "indptr": built.arrays()["indptr"][:-1]})
    with caplog.at_level(logging.WARNING, logger="crowdship"):
        same_network(load_road_network(extract, folder=folder), built)
    assert "cannot be read" in caplog.text and str(copy) in caplog.text
    with np.load(copy) as arrays:  # the copy was written again, whole
        same_network(RoadNetworkTravel.from_arrays(dict(arrays)), built)


def test_a_folder_that_cannot_be_written_costs_only_the_parse(extract, tmp_path, caplog):
    """Where no copy can be kept, the network is still built and the reason logged."""
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    with caplog.at_level(logging.WARNING, logger="crowdship"):
        network = load_road_network(extract, folder=blocked)
    assert network.nodes > 1000
    assert "cannot keep a prepared road network" in caplog.text


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="nowhere.osm.pbf does not exist"):
        load_road_network(tmp_path / "nowhere.osm.pbf", folder=tmp_path)


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CROWDSHIP_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("CROWDSHIP_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "crowdship"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "crowdship"


def test_a_prepared_network_loads_without_pyrosm(extract, tmp_path):
    """A fresh process that finds the copy imports neither pyrosm nor pandas."""
    environment = {**os.environ, "CROWDSHIP_CACHE_DIR": str(tmp_path / "cache")}
    program = (
        "import sys; from crowdship.roads import load_road_network; "
        f"n = load_road_network({str(extract)!r}); "
        "print(n.nodes, 'pyrosm' in sys.modules, 'pandas' in sys.modules)"
    )
    first, second = (
        subprocess.run(
            [sys.executable, "-c", program],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout.split()
        for _ in range(2)
    )
    assert first[1:] == ["True", "True"]
    assert second == [first[0], "False", "False"]
