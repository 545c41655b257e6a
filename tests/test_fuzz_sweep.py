"""Fuzzing the sweep boundary: broken sweep files either run or fail with the project's error.

Random YAML documents and random mutations of the bundled sweep files (keys dropped, renamed,
retyped; numbers negated, zeroed, made huge or tiny; dates swapped; references to files,
scenario entities and KPIs broken; expressions mangled) go through ``sim sweep``. Each example
must end in one of:

- exit 0: a complete sweep folder, every planned run recorded;
- exit 1, only when runs legitimately failed: the folder is complete, the failed runs are
  recorded with their error, and the last line says how many failed (a valid spec whose
  sampled values break a run). Exit 1 for any other reason (an unexpected exception caught by
  the command line's last resort) fails the test;
- exit 2: one ``error: `` line per problem and no output folder.

Never a traceback, a hang (each example is cut off after ``HANG_SECONDS``) or a partial folder.
Before mutating, the bundled files get tiny counts (2 samples, 1 replication) and resolved
paths, so an example runs in well under a second; figures are built but not rendered (that is
``sim.io.plots``' own business, and it dominates the time). Crashers found are kept in
tests/data/fuzz_corpus/sweeps/ and replayed by ``test_corpus``.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.sweep.spec import SweepSpec
from sim.sweep.store import Store
from tests.documents import leaves, parent_of
from tests.sweep_files import SPECS, hang_guard

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "data" / "fuzz_corpus" / "sweeps"
HOSTILE = [
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
    date(2400, 1, 1),
    date(1990, 1, 1),
    "../../outside",
    "/absolute/name",
    "x" * 5000,
    "(" * 300 + "lost_t" + ")" * 300,
    " + ".join(["lost_t"] * 600),
    "line\nbreak",
    {"dist": "uniform", "low": 5, "high": 1},
    {"dist": "choice", "values": [0.5, 0.6], "weights": [1e308, 1e308]},
    {"dist": "truncnormal", "mean": 0, "sd": 1e-300, "low": 0.1, "high": 0.2},
]
"""Replacement values that broke, or could break, some part of the sweep machinery."""
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=12)
    | st.dates()
)
FIELDS = st.sampled_from([*SweepSpec.model_fields, "set", "dist", "low", "high", "expect"])
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(FIELDS | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
VALUES = st.sampled_from(HOSTILE) | DOCUMENTS


# --- mutations ---------------------------------------------------------------------------------


def mutate(data: dict[str, Any], kind: str, pick: int, value: Any) -> None:
    """One change to a sweep document, at the ``pick``-th place it applies to."""
    if kind == "swap_dates":
        swap_dates(data, pick)
    elif kind == "break_reference":
        break_reference(data, pick)
    elif kind == "mangle_text":
        mangle_text(data, pick)
    else:
        paths = leaves(data)
        path = paths[pick % len(paths)]
        parent, key = parent_of(data, path), path[-1]
        current = parent[key]
        if kind == "drop" and isinstance(parent, dict):
            del parent[key]
        elif kind == "rename" and isinstance(parent, dict):
            parent[f"{key}x"] = parent.pop(key)
        elif (
            kind == "number" and isinstance(current, int | float) and not isinstance(current, bool)
        ):
            parent[key] = [-current, 0, current * 1e15, current * 1e-12][pick % 4]
        else:
            parent[key] = copy.deepcopy(value)


def swap_dates(data: dict[str, Any], pick: int) -> None:
    """Swap two dates of the document (a range's low and high, an end and an event's start)."""
    dated = [p for p in leaves(data) if isinstance(parent_of(data, p)[p[-1]], date)]
    if len(dated) < 2:
        return
    a, b = dated[pick % len(dated)], dated[(pick + 1) % len(dated)]
    pa, pb = parent_of(data, a), parent_of(data, b)
    pa[a[-1]], pb[b[-1]] = pb[b[-1]], pa[a[-1]]


def break_reference(data: dict[str, Any], pick: int) -> None:
    """Point a reference at something that does not exist: a scenario file, a scenario entity
    in a parameter path, a KPI in an expression, an analysis pattern."""
    choice = pick % 5
    if choice == 0:
        data["base"] = "missing.yaml"
    elif choice == 1:
        data["baseline"] = {"scenario": "../nowhere.yaml"}
    elif choice == 2 and isinstance(data.get("parameters"), dict) and data["parameters"]:
        path = list(data["parameters"])[pick % len(data["parameters"])]
        parts = path.split(".")
        ghost = ".".join([parts[0], "ghost", *parts[2:]])
        data["parameters"][ghost] = data["parameters"].pop(path)
    elif choice == 3 and isinstance(data.get("kpis"), dict) and data["kpis"]:
        name = list(data["kpis"])[pick % len(data["kpis"])]
        data["kpis"][name] = str(data["kpis"][name]).replace("china", "atlantis", 1)
    else:
        data["analyze"] = ["nothing_like_this.*"]


def mangle_text(data: dict[str, Any], pick: int) -> None:
    """Cut or splice a string (an expression, a path, a name) at some position."""
    texts = [p for p in leaves(data) if isinstance(parent_of(data, p)[p[-1]], str)]
    if not texts:
        return
    path = texts[pick % len(texts)]
    parent = parent_of(data, path)
    text: str = parent[path[-1]]
    at = pick % (len(text) + 1)
    splice = ["", "(", ")", " * ", " < ", "..", "baseline", "not ", "\t"][pick % 9]
    parent[path[-1]] = text[:at] + splice + text[at + pick % 3 :]


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "drop",
                "rename",
                "retype",
                "number",
                "swap_dates",
                "break_reference",
                "mangle_text",
            ]
        ),
        st.integers(0, 10_000),
        VALUES,
    ),
    min_size=1,
    max_size=3,
)


# --- the property ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures are built (their code sees the fuzzed data) but not rasterised."""

    def save(fig: Any, path: str) -> None:
        Path(path).write_bytes(b"")
        plt.close(fig)

    monkeypatch.setattr("sim.io.plots.save", save)


def check_sweep(file: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> int:
    """Run ``sim sweep`` on a file and check that it ended in one of the three clean ways."""
    with hang_guard():
        code = main(["sweep", str(file), "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code in (0, 1, 2), f"exit {code}: {err}"
    if code == 2:
        assert not out.exists(), "bad input must leave no output folder"
        lines = err.strip().splitlines()
        assert lines, err
        assert all(line.startswith("error: ") for line in lines), err
        return code
    runs = Store(out).runs()
    assert (out / "analysis" / "summary.md").is_file(), err
    assert len(runs) == Store(out).meta()["runs"], "every planned run is recorded"
    failed = runs[runs.status != "ok"]
    if code == 1:
        assert len(failed) > 0, f"exit 1 without a recorded failed run: {err}"
        assert (failed.error.str.len() > 0).all()
        assert re.search(r"^error: \d+ run\(s\) failed", err, re.MULTILINE), err
    else:
        assert failed.empty, err
    return code


def write(folder: Path, data: Any) -> Path:
    file = folder / "mutant.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return file


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(sorted(SPECS)), changes=MUTATIONS)
def test_mutated_sweep_files_run_or_fail_cleanly(
    name: str,
    changes: list[tuple[str, int, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = copy.deepcopy(SPECS[name])
    for kind, pick, value in changes:
        mutate(data, kind, pick, value)
    folder = tmp_path_factory.mktemp("fuzz_sweep")
    check_sweep(write(folder, data), folder / "out", capsys)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=st.dictionaries(FIELDS, DOCUMENTS, max_size=8) | DOCUMENTS | st.binary())
def test_random_documents_fail_cleanly(
    document: Any, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path_factory.mktemp("random_sweep")
    file = folder / "random.yaml"
    if isinstance(document, bytes):
        file.write_bytes(document)
    else:
        file = write(folder, document)
    assert check_sweep(file, folder / "out", capsys) == 2


def test_the_tiny_bundled_sweeps_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The starting points of the mutations are valid: the fuzzing explores near real files."""
    for name, data in SPECS.items():
        folder = tmp_path / name
        folder.mkdir()
        assert check_sweep(write(folder, data), folder / "out", capsys) == 0


# --- the corpus --------------------------------------------------------------------------------


def expected_exit(file: Path) -> int:
    """A corpus file's first line says how it must end: ``# exit N: why``."""
    match = re.match(r"# exit (\d): ", file.read_text(encoding="utf-8", errors="replace"))
    assert match, f"{file.name} must start with '# exit N: why'"
    return int(match.group(1))


@pytest.mark.parametrize("file", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.stem)
def test_corpus(file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_sweep(file, tmp_path / "out", capsys) == expected_exit(file)
