"""Sweep files for tests: a small sweep over the KIA offensive (``SPEC``, ``write_spec``), the
bundled sweep files cut down to two runs (``tiny``, ``SPECS``), running a sweep without its
analysis (``run_api``), comparing two sweep folders, and a guard that turns a hang into an
error. A helper module, imported by test modules (which never import each other)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario.loader import read_yaml
from sim.sweep.execute import Inline, LocalPool, execute, plan
from sim.sweep.loading import load_sweep
from sim.sweep.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SWEEPS = SCENARIOS / "sweeps"
HANG_SECONDS = 30

SPEC = f"""\
name: test_sweep
description: A small sweep over the KIA offensive, four years.
base: {SCENARIOS / "kia_offensive.yaml"}
set:
  end: 2028-12-31
baseline:
  scenario: {SCENARIOS / "baseline.yaml"}
parameters:
  events.kia_bhamo_offensive.capture_probability: {{dist: uniform, low: 0.2, high: 1.0}}
  events.china_ultimatum.fraction: {{dist: uniform, low: 0.2, high: 1.0}}
  events.kanpiketi_closed.days: {{dist: loguniform, low: 20, high: 120}}
  events.kia_bhamo_offensive.start: {{dist: date_range, low: 2026-04-01, high: 2026-06-30}}
method: latin_hypercube
samples: {{samples}}
replications: 3
seed: 77
kpis:
  china_2026_27: imports.china.myanmar.all.2026 + imports.china.myanmar.all.2027
analyze: [china_2026_27]
expectations:
  - name: offensive_lowers_china
    expect: china_2026_27 < baseline
  - name: impossible
    expect: imports.china.myanmar.all.2026 < 0
    over: runs
discover:
  - name: deep_cut
    outcome: china_2026_27 < 0.8 * baseline
"""


def write_spec(folder: Path, samples: int = 20, **replace: str) -> Path:
    text = SPEC.replace("{samples}", str(samples))
    for old, new in replace.items():
        text = text.replace(old, new)
    path = folder / "spec.yaml"
    path.write_text(text)
    return path


def tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Runs (without timings), KPIs and imports of a sweep folder, in a canonical order."""
    store = Store(folder)
    runs = store.runs().drop(columns=["seconds"])
    imports = pd.concat(list(store.imports()), ignore_index=True)
    keys = ["sample", "replication", "importer", "origin", "product", "month"]
    imports = imports.sort_values(keys).reset_index(drop=True)
    return runs, store.kpis(), imports


def assert_same_results(a: Path, b: Path) -> None:
    for left, right in zip(tables(a), tables(b), strict=True):
        pd.testing.assert_frame_equal(left, right)


def run_api(spec: Path, out: Path, workers: int = 1) -> None:
    """A sweep through the Python API, without the analysis (fast comparisons)."""
    sweep = load_sweep(spec)
    store = Store.create(out, sweep, spec.read_text())
    chosen = LocalPool(workers) if workers > 1 else Inline()
    try:
        outcome = execute(sweep, store, chosen, plan(sweep), progress=False)
    finally:
        chosen.close(cancel=False)
    assert not outcome.interrupted
    assert outcome.failed == 0


END = {"ci_smoke": date(2026, 12, 31), "kia_uncertainty": date(2028, 12, 31)}
"""The shortest horizon that keeps every KPI each bundled sweep names."""
HANG_SECONDS = 30


def tiny(name: str) -> dict[str, Any]:
    """A bundled sweep file as data: 2 samples, 1 replication, a short horizon, and its
    scenario paths made absolute so that the file runs from any folder."""
    data: dict[str, Any] = read_yaml(SWEEPS / f"{name}.yaml")[0]
    data["base"] = str((SWEEPS / data["base"]).resolve())
    baseline = data.get("baseline") or {}
    if baseline.get("scenario"):
        baseline["scenario"] = str((SWEEPS / baseline["scenario"]).resolve())
    data["samples"], data["replications"] = 2, 1
    data.setdefault("set", {})["end"] = END[name]
    return data


SPECS = {name: tiny(name) for name in END}


@contextlib.contextmanager
def hang_guard(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Turn a hang into an exception (and so into a failed example)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
