"""The Result: streamed or in memory, the same tables and files; a notebook-friendly face."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.results import files
from sim.results.runner import run as run_here
from sim.results.tally import run_replications

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
TABLES = [
    "imports.csv",
    "imports_by_scope.csv",
    "flows.csv",
    "timeline.csv",
    "events.csv",
    "kpis.json",
]


@pytest.fixture(scope="module")
def kia() -> object:
    return load_scenario(SCENARIOS / "kia_offensive.yaml")


def same_files(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_streamed_run_writes_the_files_a_saved_result_writes(kia: object, tmp_path: Path) -> None:
    held = run(kia, seed=3, replications=3)
    held.save(tmp_path / "saved")
    streamed = run(kia, seed=3, replications=3, out=tmp_path / "streamed", plot=False)
    assert streamed.folder == tmp_path / "streamed"
    same_files(tmp_path / "saved", tmp_path / "streamed")
    assert streamed.arrays.events is None, "a streamed run keeps no flows, timeline, events"
    assert streamed.arrays.flows is None
    assert streamed.arrays.timeline is None
    pd.testing.assert_frame_equal(streamed.imports, held.imports, check_dtype=False)
    pd.testing.assert_frame_equal(streamed.kpis, held.kpis)
    pd.testing.assert_frame_equal(streamed.import_band(), held.import_band())
    pd.testing.assert_frame_equal(streamed.events, held.events, check_dtype=False)
    flows = held.flows.assign(month=held.flows.month.astype(str))
    pd.testing.assert_frame_equal(
        streamed.flows.assign(month=streamed.flows.month.astype(str)), flows, check_dtype=False
    )


def test_a_run_that_keeps_no_tables_still_has_its_series(kia: object) -> None:
    kept = run(kia, seed=3, replications=2)
    light = run_here(kia, seed=3, replications=2, keep_tables=False)
    pd.testing.assert_frame_equal(light.imports, kept.imports)
    pd.testing.assert_frame_equal(
        light.monthly("china", "myanmar"), kept.monthly("china", "myanmar")
    )
    pd.testing.assert_frame_equal(light.quad_monthly(), kept.quad_monthly())
    with pytest.raises(LookupError, match="kept no flows"):
        light.flows  # noqa: B018


@pytest.mark.parametrize(
    "rows", [5, 24, 100], ids=["a replication at a time", "two replications", "two months"]
)
def test_imports_written_a_block_at_a_time_give_the_same_bytes(
    kia: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    result = run(kia, seed=2, replications=3)
    result.save(tmp_path / "whole")
    monkeypatch.setattr(files, "BLOCK_ROWS", rows)  # 36 rows a month
    monkeypatch.setattr(files, "FLUSH_REPLICATIONS", 2)
    result.save(tmp_path / "blocks")
    same_files(tmp_path / "whole", tmp_path / "blocks")


def test_replications_are_taken_in_order_whatever_order_they_finish(kia: object) -> None:
    serial = run(kia, seed=4, replications=9)
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = run(kia, seed=4, replications=9, executor=pool)
    pd.testing.assert_frame_equal(serial.flows, threaded.flows)
    pd.testing.assert_frame_equal(serial.timeline, threaded.timeline)
    assert serial.simpy_events == threaded.simpy_events


def test_the_writer_refuses_replications_out_of_order(kia: object, tmp_path: Path) -> None:
    _, second = run_replications(kia, 1, [0, 1])  # type: ignore[arg-type]
    writer = files.RunWriter(tmp_path, kia, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="replication 1 arrived, 0 expected"):
        writer.add(second)


def test_months_are_periods_in_tables_and_text_in_files(kia: object, tmp_path: Path) -> None:
    result = run(kia, replications=2)
    for table in (result.imports, result.flows, result.timeline):
        assert isinstance(table["month"].dtype, pd.PeriodDtype)
    assert str(result.imports["month"].iloc[0]) == "2026-01"
    result.save(tmp_path / "r")
    assert (tmp_path / "r" / "imports.csv").read_text().splitlines()[1].startswith("2026-01,0,")


def test_kpis_are_tidy_and_keep_their_dotted_names(kia: object) -> None:
    result = run(kia, replications=3)
    kpis = result.kpis
    assert list(kpis.columns) == [
        "name",
        "kpi",
        "importer",
        "origin",
        "product",
        "year",
        "replication",
        "value",
    ]
    row = kpis[(kpis.name == "imports.china.myanmar.mhree.2026") & (kpis.replication == 1)]
    assert row[["kpi", "importer", "origin", "product", "year"]].iloc[0].tolist() == [
        "imports",
        "china",
        "myanmar",
        "mhree",
        2026,
    ]
    totals = kpis[kpis.kpi == "lost_t"]
    assert len(totals) == 3
    assert totals[["importer", "year"]].isna().all().all()
    wide = result.wide_kpis()
    assert wide.shape[0] == 3
    assert wide.loc[1, "imports.china.myanmar.mhree.2026"] == pytest.approx(row.value.iloc[0])


def test_the_kpi_summary_has_a_statistic_column(kia: object) -> None:
    result = run(kia, replications=4)
    summary = result.kpi_summary()
    assert set(summary.statistic) == {"mean", "p5", "p95"}
    mean = summary[(summary.name == "mined_t") & (summary.statistic == "mean")].value.iloc[0]
    assert mean == pytest.approx(result.wide_kpis()["mined_t"].mean())
    p5, p95 = (
        summary[(summary.name == "mined_t") & (summary.statistic == s)].value.iloc[0]
        for s in ("p5", "p95")
    )
    assert p5 <= mean <= p95


def test_annual_sums_the_months_of_each_year(kia: object) -> None:
    result = run(kia, replications=2)
    annual = result.annual()
    china = annual[
        (annual.year == 2026) & (annual.importer == "china") & (annual.origin == "myanmar")
    ]
    per_rep = china.groupby("replication").tonnes.sum()
    kpi = result.wide_kpis()["imports.china.myanmar.all.2026"]
    np.testing.assert_allclose(per_rep.to_numpy(), kpi.to_numpy())


def test_a_result_shows_itself_briefly(kia: object) -> None:
    result = run(kia, seed=7, replications=2)
    text = repr(result)
    assert text.startswith("<Result kia_offensive: 2 replication(s), seed 7, 2026-01 to 2030-12")
    assert len(text) < 120
    page = result._repr_html_()
    assert "<table>" in page
    assert "china from myanmar" in page
    assert "2026" in page


def test_save_replaces_a_folder_whole(kia: object, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "stale.txt").write_text("from before")
    run(kia, replications=1).save(target)
    assert not (target / "stale.txt").exists()
    assert {p.name for p in target.iterdir()} == {*TABLES, "manifest.json"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "nothing left beside it"
