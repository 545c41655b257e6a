"""Packaging (metadata in pyproject.toml): pure Python, or with ``SIM_COMPILE=1`` the engine's
hot modules compiled by mypyc into C extensions (same sources, same results, faster).

    pip install .                  # pure Python (the default; pip install -e . for development)
    SIM_COMPILE=1 pip install .    # compiled engine: needs a C compiler and Python's headers

The build backend (build_backend/sim_build.py) brings the pinned mypy only when compiling.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED = [
    "sim/model/agenda.py",
    "sim/model/engine.py",
    "sim/model/world.py",
    "sim/model/shipment.py",
    "sim/model/site.py",
    "sim/model/crossing.py",
    "sim/model/capacity.py",
    "sim/model/market.py",
    "sim/model/route.py",
    "sim/model/processor.py",
]
"""The modules compiled: the event loop's hot paths (dispatch, shipments, gates, markets)."""

MYPY_OPTIONS = ["--follow-imports=silent", "--no-warn-unused-ignores"]
"""mypy's options from pyproject.toml, reporting problems in the compiled modules only: the
build's environment has the libraries those use (build_backend/sim_build.py), not every library
the rest of the package does."""

HINT = "unset SIM_COMPILE to install pure Python"


def fail(what: str, exc: BaseException) -> None:
    """Stop the build with one line saying what failed and what to do."""
    lines = str(exc).strip().splitlines()
    detail = lines[-1] if lines else type(exc).__name__
    if len(detail) > 120:  # a compiler's whole command line: its start and its outcome
        detail = f"{detail[:60]} ... {detail[-50:]}"
    sys.exit(f"sim: {what} failed ({detail}); {HINT}")


class BuildCompiled(build_ext):
    """setuptools' build_ext, whose failure (no compiler, no Python headers) says what to do."""

    def run(self) -> None:
        """Build the extensions, or stop with one line on failure."""
        try:
            super().run()
        except Exception as exc:
            fail("compiling the engine's C extensions", exc)


METADATA_ONLY = {"egg_info", "dist_info"}
"""setup.py commands that only write the package's metadata (no extension is built)..."""
BUILDS = {"bdist_wheel", "build", "build_ext", "install", "develop", "editable_wheel"}
"""... unless a command that builds comes with them."""


def ext_modules() -> list[Any]:
    """The engine's modules as mypyc extensions when ``SIM_COMPILE=1``, else none (nor when
    the build only asks for metadata: mypy's pass would be run twice)."""
    if os.environ.get("SIM_COMPILE", "") in ("", "0"):
        return []
    if METADATA_ONLY & set(sys.argv[1:]) and not BUILDS & set(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        fail("importing mypyc (pip install mypy)", exc)
    try:
        return list(mypycify([*MYPY_OPTIONS, *COMPILED], opt_level="3", debug_level="0"))
    except (Exception, SystemExit) as exc:
        fail("type-checking the engine for mypyc", exc)
    return []


setup(ext_modules=ext_modules(), cmdclass={"build_ext": BuildCompiled})
