"""The layers are a checked contract: imports go one way only.

core <- sim <- experiments; core <- service base (settings, db, clock, errors, ...) <- service
entities <- service workflows <- routes, deps, scheduler, demo <- app <- web (the pages in
front of the app), cli. An entity may
read another entity's data shapes (``models``, ``lifecycle``, ``schemas``, the ``actor``), never
its repository or service: entities refer to each other by id.

Every ``import`` in ``src/crowdship`` is read with ``ast`` (also those inside functions), so a
lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
SERVICE = "crowdship.service"
BASE = {
    f"{SERVICE}.{name}"
    for name in (
        "cache",
        "clock",
        "context",
        "db",
        "errors",
        "gaps",
        "headers",
        "lock",
        "money",
        "notify",
        "ratelimit",
        "schemas",
        "security",
        "settings",
        "sms",
        "telephony",
    )
}
# Shapes of another entity that an entity may read: its tables, states, API shapes, actor.
SHARED_SHAPES = {"models", "lifecycle", "schemas", "actor"}


def modules() -> dict[str, Path]:
    found = {}
    for path in SRC.joinpath("crowdship").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, module: str) -> set[str]:
    """The crowdship modules ``path`` imports (``from a import b`` counts ``a.b`` when ``b``
    is a module, else ``a``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    known = modules()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("crowdship"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("crowdship"):
                continue
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                out.add(child if child in known else node.module)
    out.discard(module)
    return out


def layer(module: str) -> str:
    if module == "crowdship" or module.startswith("crowdship.core"):
        return "core"
    for top in ("sim", "experiments", "cli", "web"):
        if module.startswith(f"crowdship.{top}"):
            return top
    if module in {"crowdship.tables", "crowdship._csv", "crowdship.roads"}:
        return "tables"
    if module in BASE or module == SERVICE:
        return "base"
    for part in ("entities", "workflows", "routes", "migrations"):
        if module.startswith(f"{SERVICE}.{part}"):
            return part
    if module in {f"{SERVICE}.{m}" for m in ("deps", "scheduler", "demo", "demo_city")}:
        return "front"
    if module == f"{SERVICE}.models":
        return "registry"
    if module == f"{SERVICE}.app":
        return "app"
    raise AssertionError(f"{module} belongs to no layer; add it to tests/test_layers.py")


# Which layers each layer may import (its own is always allowed).
ALLOWED = {
    "core": set(),
    "tables": {"core"},
    "sim": {"core", "tables"},
    "experiments": {"core", "tables", "sim"},
    "base": {"core"},
    "entities": {"core", "base"},
    "registry": {"base", "entities"},
    "migrations": {"base", "registry"},
    "workflows": {"core", "base", "entities"},
    # The living demo plays the simulator's day (sim) on the service.
    "front": {"core", "sim", "base", "entities", "workflows"},
    "routes": {"core", "base", "entities", "workflows", "front"},
    "app": {"core", "base", "entities", "workflows", "front", "routes", "registry"},
    # The pages sit in front of the app (DESIGN.md: ... <- routes/app <- web, cli); they
    # change state only through the API.
    "web": {"core", "base", "entities", "workflows", "front", "routes", "registry", "app"},
    "cli": {"core", "tables", "sim", "experiments", "base", "entities", "workflows", "front"}
    | {"routes", "app", "registry", "web"},
}


def entity_of(module: str) -> str | None:
    prefix = f"{SERVICE}.entities."
    return module[len(prefix) :].split(".")[0] if module.startswith(prefix) else None


def violations() -> list[str]:
    found = []
    for module, path in sorted(modules().items()):
        mine = layer(module)
        for target in sorted(imports(path, module)):
            theirs = layer(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                found.append(f"{module} ({mine}) imports {target} ({theirs})")
            source_entity, target_entity = entity_of(module), entity_of(target)
            if (
                source_entity
                and target_entity
                and source_entity != target_entity
                and target.rsplit(".", 1)[-1] not in SHARED_SHAPES
            ):
                found.append(f"{module} reaches into entity {target_entity}: imports {target}")
    return found


def test_imports_go_one_way():
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("crowdship.core.matcher", "core"),
        ("crowdship.service.entities.orders.repository", "entities"),
        ("crowdship.service.workflows.assignment", "workflows"),
        ("crowdship.service.routes.orders", "routes"),
        ("crowdship.service.context", "base"),
    ],
)
def test_modules_have_layers(module, expected):
    """The checker itself: it places modules where the design says."""
    assert layer(module) == expected


def test_the_checker_sees_a_violation(tmp_path):
    """An entity importing another entity's repository is reported (the test can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from crowdship.service.entities.trips import repository\n")
    module = "crowdship.service.entities.orders.bad"
    targets = imports(bad, module)
    assert targets == {"crowdship.service.entities.trips.repository"}
    assert entity_of(module) != entity_of(next(iter(targets)))
