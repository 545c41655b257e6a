"""Absurd work and hostile files are refused before any work starts (docs/errors.md, "Limits").

Soft limits (a horizon of centuries, a million runs, a dispatch every minute) name the key
that set the number and are lifted by ``--allow-large``; hard ones (hostile YAML, a billion
planned runs, expressions deep enough to exhaust the stack) are not.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.scenario.limits import Budget
from sim.sweep.expressions import MAX_NESTING, MAX_TOKENS, ExpressionError, parse
from tests.sweep_files import tiny

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
HINT = "; pass --allow-large if you mean it"


def sweep_file(folder: Path, **changes: Any) -> Path:
    """The CI smoke sweep, tiny (2 samples, 1 replication), with keys replaced."""
    data = {**tiny("ci_smoke"), **changes}
    file = folder / "sweep.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file


def line_of(file: Path, key: str) -> int:
    """The 1-based line where a top-level key is written."""
    lines = file.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(f"{key}:"))


def refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command that must be refused at once (exit 2); its error output."""
    started = time.perf_counter()
    assert main(args) == 2
    assert time.perf_counter() - started < 10, "refused before any work, not after"
    return capsys.readouterr().err


# --- sweeps ------------------------------------------------------------------------------------


def test_a_sweep_of_too_many_runs_is_refused_before_its_design_is_drawn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = sweep_file(tmp_path, samples=250_000)
    out = tmp_path / "out"
    err = refused(["sweep", str(file), "--out", str(out)], capsys)
    at = f"{file}:{line_of(file, 'samples')}: samples: "
    expected = "250,001 runs planned (250,000 samples x 1 replications, plus the baseline's)"
    assert f"{at}{expected} exceed 200,000{HINT}" in err
    assert not out.exists()


def test_a_sweep_of_too_much_simulated_work_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tiny("ci_smoke")
    file = sweep_file(tmp_path, samples=100_000, set={**data["set"], "dispatch_days": 1})
    err = refused(["sweep", str(file), "--out", str(tmp_path / "out")], capsys)
    assert f"{file}:{line_of(file, 'samples')}: samples: " in err
    assert "dispatches in all exceed 500,000,000" in err


def test_parameters_that_make_a_sample_absurd_are_refused_at_the_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_steps = {"dist": "loguniform", "low": 0.0001, "high": 0.001}
    centuries = {"dist": "date_range", "low": "2026-12-31", "high": "2400-01-01"}
    for parameter, message in [
        ({"dispatch_days": tiny_steps}, "dispatches per run exceed 1,000,000"),
        ({"end": centuries}, "a sample's horizon of"),
    ]:
        file = sweep_file(tmp_path, parameters=parameter)
        err = refused(["sweep", str(file), "--out", str(tmp_path / "out")], capsys)
        assert f"{file}:{line_of(file, 'parameters')}: parameters: " in err
        assert message in err
        assert HINT in err


def test_an_absurd_baseline_horizon_is_located_at_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = sweep_file(tmp_path, baseline={"set": {"end": "2400-01-01"}})
    err = refused(["sweep", str(file), "--out", str(tmp_path / "out")], capsys)
    assert f"baseline.set.end: horizon of 377 years exceeds 100{HINT}" in err


def test_allow_large_lifts_the_soft_limits_of_a_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sim.sweep.commands.SOFT_LIMITS", Budget(max_runs=2))
    monkeypatch.setattr("sim.io.plots.save", lambda fig, path: plt.close(fig))
    file = sweep_file(tmp_path)  # 2 samples and the baseline: 3 runs
    assert main(["sweep", str(file), "--out", str(tmp_path / "out")]) == 2
    assert "3 runs planned" in capsys.readouterr().err
    assert main(["sweep", str(file), "--out", str(tmp_path / "out"), "--allow-large"]) == 0


def test_the_hard_bound_on_runs_holds_even_with_allow_large(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = sweep_file(tmp_path, samples=20_000_000)
    err = refused(["sweep", str(file), "--out", str(tmp_path / "o"), "--allow-large"], capsys)
    assert "more than 10,000,000 runs planned" in err


# --- calibrate, compare ------------------------------------------------------------------------


def calibrate(folder: Path, *extra: str) -> list[str]:
    return [
        "calibrate",
        str(SCENARIOS / "historical.yaml"),
        "--params",
        str(SCENARIOS / "world" / "calibrated.yaml"),
        "--out",
        str(folder / "report"),
        *extra,
    ]


def test_absurd_calibration_seeds_are_refused_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = str(SCENARIOS / "targets" / "reported_2024.yaml")
    err = refused(calibrate(tmp_path, "--targets", targets, "--seeds", "1000000"), capsys)
    assert f"<command line>: --seeds: 1,000,000 replications exceed 20,000{HINT}" in err
    # A fit repeats its seeds at every evaluation, a check only once: 10,000 is too much work
    # for a fit, not for a check (which then stops at its missing targets file).
    err = refused(calibrate(tmp_path, "--targets", targets, "--seeds", "10000"), capsys)
    assert "<command line>: --seeds: " in err
    assert "dispatches in all exceed" in err
    assert re.search(r"\(10,000 replications x up to \d+ evaluations\)", err)
    missing = str(tmp_path / "missing.yaml")
    err = refused(calibrate(tmp_path, "--targets", missing, "--seeds", "10000", "--check"), capsys)
    assert "missing.yaml: file not found" in err
    assert "--seeds" not in err
    big = ["--targets", missing, "--seeds", "1000000", "--allow-large"]
    err = refused(calibrate(tmp_path, *big), capsys)
    assert "missing.yaml: file not found" in err
    assert "--seeds" not in err
    assert not (tmp_path / "report").exists()


def test_absurd_compare_replications_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(SCENARIOS / "baseline.yaml"), str(SCENARIOS / "kia_offensive.yaml")]
    out = tmp_path / "cmp"
    err = refused(["compare", *files, "--replications", "99999", "--out", str(out)], capsys)
    assert f"<command line>: --replications: 99,999 replications exceed 20,000{HINT}" in err
    assert not out.exists()


# --- hostile files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n" + "#" * 3_000_000 + "\n", "file is too large"),
        ("parameters: " + "[" * 60 + "]" * 60 + "\n", "nested more than 50 levels deep"),
        ("base: !!python/object/apply:os.system ['touch pwned']\n", "unsupported tag"),
    ],
    ids=["oversized", "deep", "unsafe_tag"],
)
def test_hostile_sweep_files_are_refused_by_the_reader(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "hostile.yaml"
    file.write_text(text)
    err = refused(["sweep", str(file), "--out", str(tmp_path / "out")], capsys)
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1), "nested more than 32"),
        ("not " * (MAX_NESTING + 1) + "x", "nested more than 32"),
        ("-" * (MAX_NESTING + 1) + "x", "nested more than 32"),
        ("abs(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1), "nested more than 32"),
        (" + ".join(["x"] * 300), "more than 400 terms"),
        ("x" * 2001, "longer than 2,000 characters"),
    ],
)
def test_expressions_deep_or_long_enough_to_exhaust_the_stack_are_refused(
    text: str, message: str
) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse(text)


def test_expressions_just_within_the_limits_parse_and_evaluate() -> None:
    deep = parse("(" * MAX_NESTING + "x" + ")" * MAX_NESTING)
    assert deep.evaluate(lambda name: np.array([2.0])) == pytest.approx([2.0])
    long = parse(" + ".join(["x"] * ((MAX_TOKENS + 1) // 2)))
    assert long.evaluate(lambda name: np.array([1.0])) == pytest.approx([(MAX_TOKENS + 1) // 2])
