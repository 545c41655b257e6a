"""SALib's designs, and the one-at-a-time swings of a tornado chart, in the unit cube.

Every design here is a set of points u in [0, 1]^d, mapped to parameter values by
``sim.sweep.sampling.transform`` (each parameter's inverse CDF), so any distribution, a list of
levels or a choice of values can be swept with any design.

sobol   Saltelli's design as SALib draws it (``SALib.sample.sobol``, a scrambled Sobol'
        sequence): N base points and their cross-combinations, N x (d + 2) points without the
        second-order terms. ``SALib.analyze.sobol`` estimates first-order (S1) and total (ST)
        indices with bootstrap confidence intervals from exactly these points, in this order.
morris  r Morris trajectories on a grid of ``levels`` (``SALib.sample.morris``): each moves
        one parameter at a time, r x (d + 1) points; ``SALib.analyze.morris`` screens them
        (mu*, sigma).
swings  the centre (every parameter at its median) and, for each parameter in turn, the
        centre with that parameter at its 10th and at its 90th percentile (or at each of its
        levels when they are neither numbers nor dates): what a tornado chart draws.

SALib seeds numpy's global generator; it is saved and restored around every call, and the
designs are seeded from the sweep's master seed (with their own key), so the same spec gives
the same design everywhere.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from sim.sweep.spec import swing_values


@contextlib.contextmanager
def quiet_salib() -> Iterator[None]:
    """SALib's calls with numpy's global generator and the warning filters left as found."""
    state = np.random.get_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        np.random.set_state(state)


def problem(names: list[str]) -> dict[str, Any]:
    """SALib's problem over the unit cube (values come from the inverse CDFs)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _salib() -> None:
    """Saltelli's and Morris's designs need SALib (the ``sensitivity`` extra)."""
    import importlib.util

    from sim.errors import InputError, Problem

    if importlib.util.find_spec("SALib") is None:
        message = "methods sobol and morris need SALib: pip install 'rare-earth-sim[sensitivity]'"
        raise InputError([Problem(message, path="method")])


def saltelli(n: int, names: list[str], seed: int) -> np.ndarray:
    """Saltelli's design for first-order and total indices: n x (d + 2) points."""
    _salib()
    from SALib.sample import sobol

    with quiet_salib():
        points = sobol.sample(problem(names), n, calc_second_order=False, seed=seed)
    return np.asarray(np.clip(np.asarray(points, dtype=float), 0.0, 1.0))


def morris(r: int, names: list[str], levels: int, seed: int) -> np.ndarray:
    """Morris's ``r`` trajectories on ``levels`` levels: r x (d + 1) points."""
    _salib()
    from SALib.sample import morris as sample

    with quiet_salib():
        points = sample.sample(problem(names), r, num_levels=levels, seed=seed)
    return np.asarray(np.clip(np.asarray(points, dtype=float), 0.0, 1.0))


def swings(parameters: dict[str, Any]) -> list[dict[str, float | int]]:
    """The swing points, as {parameter: unit point, or a level's index}: the centre first,
    then each parameter low and high (or at each level), in the spec's order."""
    centre: dict[str, float | int] = {name: 0.5 for name in parameters}
    points = [dict(centre)]
    for name, parameter in parameters.items():
        for k, u in enumerate(swing_values(parameter)):
            points.append({**centre, name: k if u is None else u})
    return points
