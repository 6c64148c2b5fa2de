"""Builds the compiled match path (Cython with OpenMP); the rest of the build is in
pyproject.toml.

The loops of the one-parcel match path (the pairs on planar, great-circle and looked-up road
days; the certified matching) are Cython rather than numba: a ``crowdship match`` process
would otherwise pay numba's import and its first compiled call, about 0.4 s, before any work
(docs/benchmarks.md, "The floor of a process" and "The evening round (2026-12-01)").
``CROWDSHIP_BUILD_ONLY=_planar,_paths`` builds only the modules named (while one is being
written): ``CROWDSHIP_BUILD_ONLY=_planar .venv/bin/python setup.py build_ext --inplace``.
``crowdship._csv`` (``src/crowdship/_csv.pyx``, the CSV reader of ``crowdship.tables``) is
built with them, without OpenMP; ``CROWDSHIP_BUILD_ONLY=_csv`` builds it alone.
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

MODULES = ("_planar", "_paths", "_certify", "_sphere", "_network")
# Compiled modules outside crowdship.core (no OpenMP): the CSV reader of crowdship.tables.
TOP_MODULES = ("_csv",)
_ONLY = [name for name in os.environ.get("CROWDSHIP_BUILD_ONLY", "").split(",") if name]
# Plain IEEE arithmetic (no fused multiply-add, no reassociation): the rule's comparisons
# give the answers of the formulas in DESIGN.md, bit for bit, as NumPy computes them.
_COMPILE = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-fopenmp"]

setup(
    ext_modules=cythonize(
        [
            Extension(
                f"crowdship.core.{name}",
                [f"src/crowdship/core/{name}.pyx"],
                extra_compile_args=_COMPILE,
                extra_link_args=["-fopenmp"],
            )
            for name in MODULES
            if not _ONLY or name in _ONLY
        ]
        + [
            Extension(
                f"crowdship.{name}",
                [f"src/crowdship/{name}.pyx"],
                extra_compile_args=[flag for flag in _COMPILE if flag != "-fopenmp"],
            )
            for name in TOP_MODULES
            if not _ONLY or name in _ONLY
        ],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "initializedcheck": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )
)
