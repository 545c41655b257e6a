"""Fuzzing the scenario boundary: broken files either run or fail with the project's error.

Random mutations of the bundled scenarios (keys dropped, renamed, retyped; numbers negated,
zeroed, made huge or tiny; dates swapped; references broken) must end in exit code 0 with
complete outputs, or exit code 2 with one-line located messages and no output folder: never
another exception, a hang or a half-written folder. Failures found are kept in
tests/data/fuzz_corpus/ and replayed by ``test_corpus``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.scenario.loader import load_document
from tests.documents import leaves, parent_of

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "data" / "fuzz_corpus"
BASES = {
    name: load_document(ROOT / "scenarios" / f"{name}.yaml")[0]
    for name in ["baseline", "kia_offensive", "us_india_corridor"]
}


NEW_VALUES = [
    "text",
    [],
    {},
    None,
    True,
    3.5,
    -1,
    0,
    1e15,
    1e-12,
    "2024-13-45",
    "nowhere",
    "2200-01-01",
    "1990-01-01",
    {"dist": "uniform", "low": 5, "high": 1},
]


def mutate(data: dict[str, Any], kind: str, pick: int, value_pick: int) -> None:
    paths = leaves(data)
    path = paths[pick % len(paths)]
    parent, key = parent_of(data, path), path[-1]
    current = parent[key]
    if kind == "drop" and isinstance(parent, dict):
        del parent[key]
    elif kind == "rename" and isinstance(parent, dict):
        parent[f"{key}x"] = parent.pop(key)
    elif kind == "number" and isinstance(current, int | float) and not isinstance(current, bool):
        parent[key] = [-current, 0, current * 1e15, current * 1e-12][value_pick % 4]
    elif kind == "swap_dates":
        data["start"], data["end"] = data.get("end"), data.get("start")
    else:
        parent[key] = copy.deepcopy(NEW_VALUES[value_pick % len(NEW_VALUES)])


def check_run(file: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(file), "--replications", "1", "--out", str(out), "--no-plot"])
    err = capsys.readouterr().err
    assert code in (0, 2), f"exit {code}: {err}"
    if code == 0:
        assert (out / "imports.csv").exists()
        assert (out / "manifest.json").exists()
    else:
        assert not out.exists(), "bad input must leave no output folder"
        lines = err.strip().splitlines()
        assert lines, err
        assert all(line.startswith("error: ") for line in lines), err
        assert "Traceback" not in err


mutations = st.lists(
    st.tuples(
        st.sampled_from(["drop", "rename", "retype", "number", "swap_dates"]),
        st.integers(0, 10_000),
        st.integers(0, 100),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(base=st.sampled_from(sorted(BASES)), changes=mutations)
def test_mutated_scenarios_run_or_fail_cleanly(
    base: str,
    changes: list[tuple[str, int, int]],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = copy.deepcopy(BASES[base])
    data["end"] = "2026-12-31"
    data["events"] = {
        k: v for k, v in data.get("events", {}).items() if str(v.get("start", ""))[:4] < "2027"
    }
    for kind, pick, value_pick in changes:
        mutate(data, kind, pick, value_pick)
    folder = tmp_path_factory.mktemp("fuzz")
    file = folder / "mutant.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    check_run(file, folder / "out", capsys)


@pytest.mark.parametrize("file", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.stem)
def test_corpus(file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_run(file, tmp_path / "out", capsys)
