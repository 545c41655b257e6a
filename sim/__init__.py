"""sim: a discrete-event simulator of rare-earth supply from Myanmar under disruption.

from sim import load_scenario, run
result = run(load_scenario("scenarios/baseline.yaml"))
result.imports  # monthly tonnes by importer, origin and product
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["InputError", "Result", "RunError", "derive", "load_scenario", "run"]

if TYPE_CHECKING:
    from sim.errors import InputError, RunError
    from sim.results.result import Result
    from sim.results.runner import run
    from sim.scenario.loader import derive, load_scenario


def __getattr__(name: str) -> Any:
    """Import lazily, so ``import sim`` stays cheap for worker processes and the CLI."""
    if name in {"load_scenario", "derive"}:
        from sim.scenario import loader

        return getattr(loader, name)
    if name == "run":
        from sim.results.runner import run

        return run
    if name == "Result":
        from sim.results.result import Result

        return Result
    if name in {"InputError", "RunError"}:
        from sim import errors

        return getattr(errors, name)
    raise AttributeError(name)
