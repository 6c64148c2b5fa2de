"""The command's own conversion of plain option values equals Typer's (pydantic) conversion."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pytest
import typer.main
from typer._coercion import build_runtime_param

from crowdship.cli import _QuickParam, app

VALUES = {
    bool: [True, False, "true", "0", "maybe"],
    float: ["50", "1.3", "-2", "0", "0.0", "1e1", "1_000", " 7", "abc", "inf", "-0.5"],
    int: ["3", "0", "-4", "007", "+5", "2.0", "x"],
    Path: ["trips.csv", "a/b/c.json", ".", "-", "helsinki"],
}


def match_params():
    """The match command's options, its ``--help`` and the group's flags, as a run sets them."""
    group = typer.main.get_command(app)
    context = group.make_context("crowdship", ["match"])
    command = group.get_command(context, "match")  # type: ignore[attr-defined]
    command.make_context("match", ["--trips", "t.csv", "--requests", "r.csv"], parent=context)
    params = [*command.params, command.get_help_option(context), *group.params]
    return command, [p for p in params if hasattr(p, "type_descriptor")]


def typer_own(param, value):
    try:
        return ("ok", build_runtime_param(param.type_descriptor)._coerce_value(value, param, None))
    except Exception as error:  # Typer's BadParameter, with its message
        return ("error", type(error).__name__, str(error))


def ours(param, value):
    try:
        return ("ok", param._runtime_param._coerce_value(value, param, None))
    except Exception as error:
        return ("error", type(error).__name__, str(error))


def test_every_plain_option_converts_quickly():
    _, params = match_params()
    quick = {p.name for p in params if isinstance(p._runtime_param, _QuickParam)}
    assert {"trips", "requests", "coords", "speed_kmh", "policy", "bundles_per_trip"} <= quick
    assert {"help", "verbose", "version"} <= quick


@pytest.mark.parametrize("kind", [bool, float, int, Path, "enum"])
def test_quick_conversion_equals_typers(kind):
    _, params = match_params()
    checked = 0
    for param in params:
        annotation = param.type_descriptor.annotation
        if kind == "enum":
            if not (isinstance(annotation, type) and issubclass(annotation, Enum)):
                continue
            values = [m.value for m in annotation] + [m.value.upper() for m in annotation]
            values += ["nope", *list(annotation)]
        elif annotation is kind:
            values = VALUES[kind]
        else:
            continue
        for value in values:
            got, want = ours(param, value), typer_own(param, value)
            assert got == want, (param.name, value)
            if got[0] == "ok":
                assert type(got[1]) is type(want[1])
            checked += 1
    assert checked
