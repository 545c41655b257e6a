"""What a sweep worker runs: one run (or a batch) of a scenario, reduced to plain data.

Kept apart from the streaming loop and the store so that a worker process imports only the
engine and ``sim.results.kpis`` (numpy), not pandas, pyarrow or matplotlib: each worker stays small,
whatever the run count (see bench/bench_sweep.py).
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.context import BaseContext
from typing import Any

import numpy as np

from sim.errors import describe
from sim.model.clock import Clock
from sim.model.engine import simulate
from sim.results.kpis import PRODUCTS, QUAD, Axes, reduce
from sim.scenario.loader import derive
from sim.scenario.schema import Scenario
from sim.sweep.expressions import parse


@functools.lru_cache(maxsize=8)
def _scenario(text: str) -> Scenario:
    return Scenario.model_validate_json(text)


@functools.lru_cache(maxsize=32)
def _kpi_expressions(items: tuple[tuple[str, str], ...]) -> list[tuple[str, Any]]:
    return [(name, parse(text)) for name, text in items]


def run_one(
    scenario: Scenario | str,
    seed: int,
    replication: int,
    sample: int,
    overrides: dict[str, Any] | None = None,
    custom_kpis: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Simulate one run and reduce it to plain data: KPIs and the monthly import cube.

    ``scenario`` is a Scenario or its JSON; ``overrides`` (the sample's parameter values) are
    applied with ``derive``. An exception inside the run is recorded (status "failed" and the
    error), not raised, so one bad run never stops a sweep. A KPI that comes out infinite or
    not a number (a custom KPI dividing by zero) is a failure of that KPI in that run: left
    out of ``kpis``, with the reason in ``kpi_errors``.
    """
    started = time.perf_counter()
    record: dict[str, Any] = {
        "sample": sample,
        "replication": replication,
        "params": overrides or {},
        "status": "ok",
        "error": "",
        "simpy_events": 0,
        "kpis": {},
        "kpi_errors": {},
        "imports": None,
        "axes": None,
    }
    try:
        base = _scenario(scenario) if isinstance(scenario, str) else scenario
        s = derive(base, overrides) if overrides else base
        rep = simulate(s, seed, replication)
        reduced = reduce(s, rep)
        kpis = dict(reduced.kpis)
        for name, expression in _kpi_expressions(tuple((custom_kpis or {}).items())):
            value = expression.evaluate(lambda k: kpis.get(k, math.nan))
            kpis[name] = float(value)
        errors = non_finite(kpis, custom_kpis or {})
        axes = Axes.of(s, Clock(s.start, s.end))
        imports, importers = reduced.imports, list(axes.importers)
        if axes.destinations:  # the Quad's monthly imports, each tonne once, as importer "quad"
            imports = np.concatenate([imports, reduced.quad.sum(axis=0, keepdims=True)])
            importers.append(QUAD)
        record.update(
            kpis={k: v for k, v in kpis.items() if k not in errors},
            kpi_errors=errors,
            imports=imports,
            axes=(importers, axes.origins, PRODUCTS, axes.months),
            simpy_events=int(rep.simpy_events),
        )
    except Exception as exc:
        record.update(status="failed", error=describe(exc))
    record["seconds"] = time.perf_counter() - started
    return record


def run_batch(
    scenario_json: str,
    seed: int,
    items: list[tuple[int, int, dict[str, Any]]],
    custom_kpis: dict[str, str],
) -> list[dict[str, Any]]:
    """Several runs of one scenario, each with its own (sample, replication, overrides)."""
    return [
        run_one(scenario_json, seed, rep, sample, values, custom_kpis)
        for sample, rep, values in items
    ]


def non_finite(kpis: dict[str, float], custom: dict[str, str]) -> dict[str, str]:
    """Each KPI whose value is not a finite number, with why (for a custom KPI, its formula)."""
    errors = {}
    for name, value in kpis.items():
        if math.isfinite(value):
            continue
        what = "not a number" if math.isnan(value) else f"{value} (a division by zero?)"
        formula = f" = {custom[name]}" if name in custom else ""
        errors[name] = f"{name}{formula} is {what}"
    return errors


def start_worker(parent: int) -> None:
    """Initialise a worker process: Ctrl-C is left to the sweep process (which stops submitting
    and keeps results), and the worker exits by itself if the sweep process dies without
    shutting the pool down (SIGKILL, the out-of-memory killer), instead of lingering."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int, every: float = 0.5) -> None:
    """Poll (seconds) whether the sweep process still lives; end this worker when it does not."""
    while True:
        time.sleep(every)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def lean_context() -> BaseContext:
    """Start workers from a fresh 'forkserver' that has imported only this module.

    Forked straight from the sweep process, a worker would inherit its pandas, pyarrow and
    plotting libraries and, as Python touches their objects, copy their pages: ~150 MB a
    worker instead of ~50 MB.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context
