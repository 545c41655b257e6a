"""Calibration and backtesting: fit a scenario's free parameters to reported figures, and replay
it against them (``calibrate``, ``backtest``; both return a ``Report``).

``sim.calibrate(...)`` is ``calibrate(...)``: the package is callable (see
sim/callable_package.py); typed code imports ``from sim.calibrate import calibrate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.callable_package import make_callable

__all__ = ["Report", "backtest", "calibrate", "load_targets"]

if TYPE_CHECKING:
    from sim.calibrate.calibration import backtest, calibrate
    from sim.calibrate.report import Report
    from sim.calibrate.targets import load_targets


def __getattr__(name: str) -> Any:
    """Import lazily: the CLI and sweep workers import this package without needing scipy."""
    if name in {"calibrate", "backtest"}:
        from sim.calibrate import calibration

        return getattr(calibration, name)
    if name == "Report":
        from sim.calibrate.report import Report

        return Report
    if name == "load_targets":
        from sim.calibrate.targets import load_targets

        return load_targets
    raise AttributeError(name)


make_callable(__name__, "calibrate")
