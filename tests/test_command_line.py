"""Command-line values are checked before any work, with the files' limits, and located there.

Every value a command takes besides its files (``--set``, ``--out``, ``--seed``,
``--replications``, ``--workers``, ``--scheduler``) either works or is refused with exit code 2
and one ``error: <command line>: OPTION: ...`` line per problem, all problems at once, nothing
written and nothing run. The examples below are the ones found by trying the command line as a
hostile user would; the property tests at the end drive the same surface with generated values,
as tests/test_fuzz.py does for files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.errors import InputError, Problem
from sim.scenario.loader import parse_overrides
from sim.scenario.options import SEED_LIMIT, WORKERS_PER_CPU, max_workers, usable_cpus
from tests.documents import leaves

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def bomb() -> str:
    """A billion-laughs value: ten levels of ten aliases each (10^10 values if expanded)."""
    lines = ["&l0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 10):
        lines.append(f"&l{n} [{', '.join([f'*l{n - 1}'] * 10)}]")
    return "[" + ", ".join(lines) + "]"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """A one-year variant of the status quo (runs in a fraction of a second)."""
    file = tmp_path / "short.yaml"
    data = {"extends": str(SCENARIOS / "baseline.yaml"), "name": "short", "end": "2026-12-31"}
    file.write_text(yaml.safe_dump(data))
    return file


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Run the command line; it must refuse (exit 2) with one located line per problem."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert lines, captured.err
    assert all(line.startswith("error: ") for line in lines), captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return lines


# --- the cases found by hand -------------------------------------------------------------------

RUN_CASES = [
    (["--set", "start=2025-02-30"], "<command line>: --set start: cannot read '2025-02-30'"),
    (["--set", "end=!!binary aGVsbG8="], "<command line>: --set end: unsupported tag '!!binary'"),
    (["--set", "events=!!set {a, b}"], "<command line>: --set events: unsupported tag '!!set'"),
    (
        ["--set", "end=!!python/object/apply:os.system [echo]"],
        "--set end: unsupported tag '!!python/object/apply:os.system'",
    ),
    (["--set", f"events={bomb()}"], "<command line>: --set events: too many values"),
    (["--set", "end=" + "[" * 200], "<command line>: --set end: nested more than 50 levels"),
    (["--set", "end=[1"], "<command line>: --set end: cannot read the value '[1'"),
    (["--set", "x"], "<command line>: --set: takes PATH=VALUE, got 'x'"),
    (["--set", "=5"], "<command line>: --set: takes PATH=VALUE, got '=5'"),
    (["--set", "a..b=1"], "<command line>: --set a..b: malformed key path 'a..b'"),
    (["--set", "sites.nowhere.group=kia"], "<command line>: --set sites.nowhere.group: no key"),
    (["--set", "end=2300-01-01"], "<command line>: --set end: horizon of 282 years exceeds 100"),
    (["--set", "dispatch_days=0.001"], "<command line>: --set dispatch_days: 13,144,000 dispatch"),
    (["--set", "start=2027-01-01"], "<command line>: --set start: end must be after start"),
    (["--seed", str(SEED_LIMIT)], "<command line>: --seed: must be less than 9223372036854775808"),
    (["--seed", "-1"], "<command line>: --seed: must not be negative"),
    (["--replications", "0"], "<command line>: --replications: must be at least 1"),
    (["--workers", "0"], "<command line>: --workers: must be at least 1"),
    (["--workers", "1000"], f"<command line>: --workers: must be at most {max_workers()}"),
    (["--out", ""], "<command line>: --out: is empty; give a folder name"),
    (["--out", "."], "<command line>: --out: '.' is not a folder name"),
    (["--out", ".."], "<command line>: --out: '..' is not a folder name"),
    (["--out", "x/.."], "<command line>: --out: 'x/..' is not a folder name"),
]


@pytest.mark.parametrize(("extra", "expected"), RUN_CASES, ids=lambda v: str(v)[:40])
def test_run_refuses_bad_values_located_at_the_command_line(
    extra: list[str],
    expected: str,
    scenario: Path,
    work: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = refused(["run", str(scenario), "--replications", "1", "--no-plot", *extra], capsys)
    assert any(expected in line for line in lines), lines
    assert list(work.iterdir()) == [], "nothing written"


def test_every_problem_of_the_command_line_is_reported_at_once(
    scenario: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(scenario), str(scenario), "--seed", "-3", "--workers", "0"]
    argv += ["--out", "x", "--set", "start=2025-02-30", "--set", "end=!!set {}"]
    lines = refused(argv, capsys)
    assert [line.split(": ")[2] for line in lines] == [
        "--out",
        "--seed",
        "--workers",
        "--set start",
        "--set end",
    ]


def test_a_file_at_out_is_refused_and_left_alone(
    scenario: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "notes.txt").write_text("mine")
    for extra in ([], ["--force"]):
        lines = refused(["run", str(scenario), "--out", "notes.txt", *extra], capsys)
        assert lines == ["error: <command line>: --out: notes.txt is a file, not a folder"]
    lines = refused(["run", str(scenario), "--out", "notes.txt/inside"], capsys)
    assert "cannot create notes.txt/inside: notes.txt is a file, not a folder" in lines[0]
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"], "no hidden copy either"
    assert (work / "notes.txt").read_text() == "mine"


def test_an_unwritable_or_read_only_out_is_refused_before_running(
    scenario: Path, work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Permissions and read-only filesystems are simulated (tests may run as root)."""
    real_statvfs = os.statvfs

    class ReadOnly:
        def __init__(self, path: Any) -> None:
            self.f_flag = real_statvfs(path).f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", ReadOnly)
    lines = refused(["run", str(scenario), "--out", "out"], capsys)
    assert lines == [
        f"error: <command line>: --out: cannot create out: {Path()} is on a read-only filesystem"
    ]
    monkeypatch.undo()
    monkeypatch.chdir(work)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    lines = refused(["run", str(scenario), "--out", "out"], capsys)
    assert lines == ["error: <command line>: --out: cannot create out: permission denied in ."]
    monkeypatch.undo()
    monkeypatch.chdir(work)

    def denied(path: Any, mode: int = 0o777) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "mkdir", denied)  # the claim itself, when the checks pass
    lines = refused(["run", str(scenario), "--out", "out"], capsys)
    assert lines == [
        "error: <command line>: --out: out: cannot create the folder: Permission denied"
    ]
    assert list(work.iterdir()) == []


def test_workers_are_bounded_by_a_documented_maximum() -> None:
    assert max_workers() == WORKERS_PER_CPU * usable_cpus() >= WORKERS_PER_CPU
    docs = (ROOT / "docs" / "errors.md").read_text()
    assert f"{WORKERS_PER_CPU} per CPU" in docs


SWEEP_CASES = [
    (["--scheduler", "tcp://host:99999"], "--scheduler: port 99999 is not between 1 and 65535"),
    (["--scheduler", "not an address"], "--scheduler: 'not an address' is not an address"),
    (["--scheduler", "gopher://h:1"], "--scheduler: unknown scheme 'gopher://'"),
    (["--scheduler", ""], "--scheduler: '' is not an address"),
    (["--workers", "1000"], f"--workers: must be at most {max_workers()}"),
    (["--resume", "--out", "notes.txt"], "--out: notes.txt is a file, not a folder"),
    (["--out", "."], "--out: '.' is not a folder name"),
]


@pytest.mark.parametrize(("extra", "expected"), SWEEP_CASES, ids=lambda v: str(v)[:40])
def test_sweep_refuses_bad_values_located_at_the_command_line(
    extra: list[str], expected: str, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "notes.txt").write_text("mine")
    spec = SCENARIOS / "sweeps" / "ci_smoke.yaml"
    lines = refused(["sweep", str(spec), *extra], capsys)
    assert any(f"<command line>: {expected}" in line for line in lines), lines
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


def test_compare_and_calibrate_check_their_values_the_same_way(
    scenario: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = refused(["compare", str(scenario), "--seed", str(2**64), "--workers", "999"], capsys)
    assert [line.split(": ")[2] for line in lines] == ["--seed", "--workers"]
    targets = SCENARIOS / "targets" / "reported_2024.yaml"
    lines = refused(["calibrate", str(scenario), "--targets", str(targets), "--seeds", "0"], capsys)
    assert lines == ["error: <command line>: --seeds: must be at least 1"]


def test_set_values_are_read_like_files() -> None:
    """Numbers, dates, lists and mappings, as YAML; an empty value is null."""
    values = parse_overrides(["a=5", "b=2025-03-01", "c=[1, 2]", "d={x: 1}", "e=", "f= # note"])
    assert [type(v).__name__ for v in values.values()] == [
        "int",
        "date",
        "list",
        "dict",
        "NoneType",
        "NoneType",
    ]
    with pytest.raises(InputError) as caught:
        parse_overrides(["a=!!timestamp 2025-13-01", "b=*undefined", "c=x" * 1_100_000])
    assert [p.path for p in caught.value.problems] == ["--set a", "--set b", "--set c"]


# --- generated values ----------------------------------------------------------------------------

BASE = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())
PATHS = sorted({".".join(map(str, p)) for p in leaves(BASE)} | {"start", "end", "seed"})
HOSTILE_TEXT = [
    "",
    "2025-02-30",
    "!!binary aGVsbG8=",
    "!!set {a}",
    "!!python/name:os.system",
    "*nowhere",
    "&a [*a]",
    "[" * 60,
    "{a: 1, a: 2}",
    "<<: {a: 1}",
    ".inf",
    "-.nan",
    "1e400",
    "99999999999999999999999999",
    "- a\n- b",
    "\x00",
    "\t",
    "'unterminated",
    "2025-01-01T25:00:00",
    "~",
]
SET_VALUES = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=30) | st.integers().map(str)
SET_PAIRS = st.tuples(
    st.sampled_from(PATHS) | st.text(max_size=15), st.sampled_from(["=", "", "=="]), SET_VALUES
).map("".join)
NAMES = st.sampled_from(
    [
        "",
        ".",
        "..",
        "a/..",
        "/",
        "x" * 300,
        "out",
        "out/sub",
        "notes.txt",
        "notes.txt/x",
        "-",
        "--",
        " ",
        "a\nb",
        "\x00",
        "~",
    ]
)
OUTS = NAMES | st.text(max_size=20)
INTS = st.sampled_from([-(2**70), -1, 0, 1, 2, SEED_LIMIT - 1, SEED_LIMIT, 2**64, 10**30])
COUNTS = st.integers(-3, 2) | INTS
ADDRESSES = st.sampled_from(
    [
        "tcp://127.0.0.1:1",
        "tcp://[::1]:8786",
        "localhost",
        "h:0",
        "tcp://",
        "inproc://",
        "tls://a.b:70000",
        "127.0.0.1:8786",
        "tcp://h:p",
        "x" * 500,
        "",
        " tcp://h:1",
    ]
) | st.text(max_size=25)


def check_clean(code: int, err: str, out_dir: Path, before: set[str]) -> None:
    """Exit 0 with complete results, or 2 with located one-line problems and nothing new."""
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert lines, err
        assert all(line.startswith("error: ") for line in lines), err
        assert {p.name for p in out_dir.iterdir()} == before, "nothing written"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sets=st.lists(SET_PAIRS, max_size=3),
    out=st.none() | OUTS,
    seed=st.none() | INTS | st.integers(0, 2**63),
    replications=st.none() | COUNTS.filter(lambda n: n <= 2),
    workers=st.none() | st.integers(-2, 2) | INTS,
)
def test_generated_run_command_lines_run_or_fail_cleanly(
    sets: list[str],
    out: str | None,
    seed: int | None,
    replications: int | None,
    workers: int | None,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    scenario = folder / "short.yaml"
    data = {"extends": str(SCENARIOS / "baseline.yaml"), "name": "short", "end": "2026-12-31"}
    scenario.write_text(yaml.safe_dump(data))
    (folder / "notes.txt").write_text("mine")
    argv = ["run", str(scenario), "--no-plot"]
    argv += [f"--set={pair}" for pair in sets]
    for option, value in (
        ("--out", out),
        ("--seed", seed),
        ("--replications", replications),
        ("--workers", workers),
    ):
        if value is not None:
            argv.append(f"{option}={value}")
    if replications is None:
        argv.append("--replications=1")
    before = {p.name for p in folder.iterdir()}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(argv)
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    check_clean(code, captured.err, folder, before)
    if code == 0:
        assert (folder / "notes.txt").read_text() == "mine"
        written = sorted({p.name for p in folder.iterdir()} - before)
        assert len(written) == 1, written
        assert list(folder.rglob("manifest.json")), "a complete result folder"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    scheduler=ADDRESSES,
    out=st.none() | OUTS,
    workers=st.none() | st.integers(-2, 2) | INTS,
    resume=st.booleans(),
    force=st.booleans(),
)
def test_generated_sweep_command_lines_fail_cleanly(
    scheduler: str,
    out: str | None,
    workers: int | None,
    resume: bool,
    force: bool,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No cluster answers in the tests: an address of the right form is refused as unreachable
    (at once), so every command line here ends in exit 2, before any run."""
    from sim.sweep import execute

    def unreachable(address: str) -> Any:
        raise InputError([Problem("cannot reach the Dask scheduler", "<command line>")])

    monkeypatch.setattr(execute, "DaskCluster", unreachable)
    folder = tmp_path_factory.mktemp("cli_sweep")
    (folder / "notes.txt").write_text("mine")
    argv = ["sweep", str(SCENARIOS / "sweeps" / "ci_smoke.yaml"), f"--scheduler={scheduler}"]
    argv += [f"--out={out}"] if out is not None else []
    argv += [f"--workers={workers}"] if workers is not None else []
    argv += ["--resume"] * resume + ["--force"] * force
    before = {p.name for p in folder.iterdir()}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(argv)
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    assert code == 2, captured
    check_clean(code, captured.err, folder, before)
