"""Regression: engine optimisations must not change results.

tests/data/golden_world.yaml is a frozen, resolved world (independent of calibration) that
exercises most mechanisms; its imports and events at seed 1 must stay the same. When a change
alters behaviour on purpose, re-record with ``python -m tests.test_golden`` and say in the
commit message what changed and why.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import load_scenario, run

DATA = Path(__file__).resolve().parent / "data"


def test_outputs_match_the_recorded_golden_run() -> None:
    result = run(load_scenario(DATA / "golden_world.yaml"), seed=1)
    expected_imports = pd.read_csv(DATA / "golden_imports.csv")
    got = result.imports.reset_index(drop=True)
    got["month"] = got["month"].astype(str)  # a monthly Period in the table, YYYY-MM in files
    pd.testing.assert_frame_equal(
        got.drop(columns="tonnes"), expected_imports.drop(columns="tonnes"), check_dtype=False
    )
    diff = (got["tonnes"] - expected_imports["tonnes"]).abs()
    assert diff.max() < 1e-5, f"largest change {diff.max()} t"
    expected_events = pd.read_csv(DATA / "golden_events.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(
        result.events.reset_index(drop=True), expected_events, check_dtype=False
    )


def record() -> None:
    """Re-record the golden files from the current engine (a deliberate behaviour change)."""
    result = run(load_scenario(DATA / "golden_world.yaml"), seed=1)
    result.imports.to_csv(DATA / "golden_imports.csv", index=False, float_format="%.6f")
    result.events.to_csv(DATA / "golden_events.csv", index=False)


if __name__ == "__main__":
    record()
