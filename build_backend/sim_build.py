"""The build backend: setuptools', with the compiled engine opt-in (``SIM_COMPILE=1``).

Installs are pure Python unless ``SIM_COMPILE=1`` is set: only then does the build ask for mypy
(pinned below, so that a given source always compiles the same way, with the libraries
whose types it reads) and ``setup.py`` compile
the engine's hot modules with mypyc. A pure install never fetches or runs mypy.

An editable install is always pure: its modules are the working tree's, and a compiled module
(``world.cpython-311-x86_64-linux-gnu.so``) sitting next to ``world.py`` is what Python
imports, so a developer's edits would silently not run. ``SIM_COMPILE=1`` with ``pip install
-e`` is refused, and every build first removes compiled modules left in the working tree (a
``mypyc`` run by hand) and in setuptools' ``build/lib*`` folders (which a later pure wheel would
otherwise pick up).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the hooks this module does not change)

COMPILING = ["mypy==2.4.1", "numpy>=1.26", "simpy>=4.1", "pydantic>=2.6"]
"""What a compiled build needs besides setuptools: mypy (and so mypyc), pinned since it decides
the generated C, and the libraries whose types the compiled modules use (without them mypy
would type their values ``Any``, and mypyc compile generic code for them)."""

ROOT = Path(__file__).resolve().parent.parent

Settings = dict[str, Any] | None


def compiling() -> bool:
    """Whether this build compiles the engine (``SIM_COMPILE=1``)."""
    return os.environ.get("SIM_COMPILE", "") not in ("", "0")


def remove_compiled() -> None:
    """Remove compiled modules from the working tree and setuptools' build folders."""
    for found in [*ROOT.glob("sim/**/*.so"), *ROOT.glob("sim/**/*.pyd"), *ROOT.glob("*__mypyc*")]:
        found.unlink()
    for lib in ROOT.glob("build/lib*"):
        shutil.rmtree(lib, ignore_errors=True)


def get_requires_for_build_wheel(config_settings: Settings = None) -> list[str]:
    """Setuptools' requirements, and the pinned mypy when compiling (setuptools asks setup.py
    for its requirements, which must not compile before mypy is there)."""
    if not compiling():
        return list(_setuptools.get_requires_for_build_wheel(config_settings))
    os.environ["SIM_COMPILE"] = "0"
    try:
        found = list(_setuptools.get_requires_for_build_wheel(config_settings))
    finally:
        os.environ["SIM_COMPILE"] = "1"
    return [*found, *COMPILING]


def get_requires_for_build_editable(config_settings: Settings = None) -> list[str]:
    """Setuptools' requirements; an editable install never compiles (see the module)."""
    if compiling():
        raise SystemExit(
            "SIM_COMPILE=1 needs a regular install (pip install .): compiled modules in an "
            "editable install would shadow the edited sources; unset SIM_COMPILE for pip install -e"
        )
    return list(_setuptools.get_requires_for_build_editable(config_settings))


def build_wheel(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    """Setuptools' wheel, built after removing compiled modules left by an earlier build."""
    remove_compiled()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    """Setuptools' editable wheel (pure), after removing compiled modules from the tree."""
    get_requires_for_build_editable(config_settings)  # refuses SIM_COMPILE, whichever hook ran
    remove_compiled()
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))
