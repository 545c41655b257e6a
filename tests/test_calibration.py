"""Calibration: targets are computed right, the fit recovers known parameters, the bundled
calibrated world still meets the reported figures (the CI regression test), bad target files
are located, and the fitted-parameter file is written whole without losing anything."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibrate import calibrate
from sim.calibrate.fitting import (
    REQUIRED_STEEPNESS,
    evaluate,
    fit,
    in_sample,
    residual,
    residuals,
    steepened,
)
from sim.calibrate.measures import observe
from sim.calibrate.params import write_params
from sim.calibrate.report import Report
from sim.calibrate.targets import Resolved, Target, Tolerance, load_targets
from sim.cli import main
from sim.errors import InputError
from sim.model.clock import DAYS_PER_MONTH
from sim.model.engine import simulate
from sim.scenario.loader import derive
from sim.scenario.schema import Scenario
from tests.builders import build, one_site

ROOT = Path(__file__).resolve().parent.parent


def shared(name: str) -> Path:
    """A folder of the shared material beside the repository (or beside a folder holding it:
    a worktree), see docs/data.md."""
    for folder in ROOT.parents:
        if (folder / "shared" / name).is_dir():
            return folder / "shared" / name
    return ROOT.parent / "shared" / name


SEEDS = shared("seeds")
"""The source documents the targets quote."""
DATA = shared("data")
"""The reported figures the targets encode (reported_2018_2024.csv)."""
OTHER_LREE = 2000.0
"""Tonnes per month of light product China imports from elsewhere in the small world."""
SOURCE = {"seed": "000_test.txt", "quote": "synthetic"}
TRUTH = {
    "sites.mine.capacity_tpm.mhree": 3000.0,
    "sites.mine.capacity_tpm.lree": 1000.0,
    "other_supply.rest.levels.0.tpm.lree": OTHER_LREE,
}
FREE = {
    "sites.mine.capacity_tpm.mhree": {"low": 1000, "high": 6000, "why": "test"},
    "sites.mine.capacity_tpm.lree": {"low": 200, "high": 3000, "why": "test"},
    "other_supply.rest.levels.0.tpm.lree": {"low": 500, "high": 6000, "why": "test"},
}
SCOPES = {
    "myanmar": [
        {"start": "2024-01-01", "mhree": {"oxide": 0.75}, "lree": {"oxide": 0.75}},
        {"start": "2024-07-01", "mhree": {"oxide": 0.25}, "lree": {"carbonate": 0.5}},
    ],
    "other": [{"start": "2024-01-01", "lree": {"ore": 0.25}}],
}


def small_world(**events: dict[str, Any]) -> dict[str, Any]:
    """The one-site world with both product classes, other supply, customs scopes and declared
    free parameters."""
    data = one_site(**events)
    data["sites"]["mine"]["capacity_tpm"] = {"mhree": 3000, "lree": 1000}
    data["other_supply"] = {
        "rest": {
            "importer": "china",
            "origin": "other",
            "levels": [{"start": "2024-01-01", "tpm": {"mhree": 0, "lree": OTHER_LREE}}],
        }
    }
    data["customs_scopes"] = SCOPES
    data["free"] = FREE
    return data


def stochastic_world() -> Scenario:
    """A small world whose June fighting lasts a random 10-40 days: the mean over seeds matters."""
    fighting = {
        "kind": "offensive",
        "attacker": "bgf",
        "sites": ["mine"],
        "start": "2024-06-01",
        "days": {"dist": "uniform", "low": 10, "high": 40},
        "capture_probability": 0.0,
    }
    return build(small_world(fighting=fighting))


def quantity(dotted: str) -> dict[str, str]:
    """importer.origin.product.scope.period as a quantity mapping."""
    importer, origin, product, scope, period = dotted.split(".", 4)
    return {
        "importer": importer,
        "origin": origin,
        "product": product,
        "scope": scope,
        "period": period,
    }


UNIT = {"level": "t", "share": "share", "ratio": "ratio", "change": "%"}


def target(
    tid: str,
    dotted: str,
    value: float,
    tolerance: dict[str, Any],
    versus: dict[str, Any] | None = None,
    kind: str = "level",
    weight: float = 1.0,
) -> Resolved:
    """A target (with its tolerance resolved) from a dotted quantity."""
    data: dict[str, Any] = {
        "id": tid,
        "description": tid,
        "outlet": "test",
        "confidence": "single",
        "kind": kind,
        "quantity": quantity(dotted),
        "value": value,
        "unit": UNIT[kind],
        "tolerance": tolerance,
        "tolerance_why": "test",
        "source": SOURCE,
        "reported_scope": "synthetic",
    }
    if versus is not None:
        data["versus"] = versus
    t = Target.model_validate(data)
    assert t.tolerance is not None
    return Resolved(t, t.tolerance, weight, "test.yaml")


def with_values(targets: list[Resolved], values: np.ndarray) -> list[Resolved]:
    out = []
    for r, v in zip(targets, values, strict=True):
        t = r.target.model_copy(update={"value": float(v)})
        out.append(Resolved(t, r.tolerance, r.weight, r.file))
    return out


# --- (1) the fit is real: it recovers known parameters ------------------------------------------


def test_fit_recovers_known_parameters_from_synthetic_targets() -> None:
    truth = derive(stochastic_world(), TRUTH)
    shapes = [
        target("mhree", "china.myanmar.mhree.compounds.2024", 1, {"rel": 0.01}),
        target("lree", "china.myanmar.lree.compounds.2024", 1, {"rel": 0.01}),
        target("total", "china.all.all.all.2024", 1, {"rel": 0.01}),
        target("june", "china.myanmar.all.compounds.2024-06", 1, {"rel": 0.05}),
        target(
            "share", "china.myanmar.all.all.2024", 0.5, {"abs": 0.02}, {"origin": "all"}, "share"
        ),
    ]
    observed = evaluate(truth, shapes, k=3).values
    assert np.ptp(observed[:, 3]) > 0, "June must vary over seeds"
    targets = with_values(shapes, observed.mean(axis=0))
    elsewhere = {
        "sites.mine.capacity_tpm.mhree": 5000.0,
        "sites.mine.capacity_tpm.lree": 2500.0,
        "other_supply.rest.levels.0.tpm.lree": 800.0,
    }
    start = derive(truth, elsewhere)
    assert np.abs(residuals(evaluate(start, targets, k=3))).max() > 1

    result = fit(start, targets, k=3)

    for path, true_value in TRUTH.items():
        span = FREE[path]["high"] - FREE[path]["low"]
        assert abs(result.fitted[path] - true_value) < 0.002 * span, (path, result.fitted)
    assert np.abs(residuals(evaluate(derive(start, result.fitted), targets, k=3))).max() <= 1


# --- (2) target values on known cases -----------------------------------------------------------


def values_of(targets: list[Resolved]) -> np.ndarray:
    scenario = build(small_world())
    return evaluate(scenario, targets, 1).values[0]


def test_levels_read_the_scoped_series_by_origin_product_and_period() -> None:
    other_year = OTHER_LREE * 366 / DAYS_PER_MONTH
    got = values_of(
        [
            target("o", "china.other.lree.all.2024", 1, {"rel": 0.1}),
            target("ore", "china.other.lree.ore.2024", 1, {"rel": 0.1}),
            target("oc", "china.other.lree.other_compound.2024", 1, {"rel": 0.1}),
            target("ox", "china.myanmar.mhree.oxide.2024-H1", 1, {"rel": 0.1}),
            target("mh", "china.myanmar.mhree.all.2024-H1", 1, {"rel": 0.1}),
            target("cb", "china.myanmar.lree.carbonate.2024-H2", 1, {"rel": 0.1}),
            target("lh2", "china.myanmar.lree.compounds.2024-07..2024-12", 1, {"rel": 0.1}),
            target("comp", "china.all.all.compounds.2024", 1, {"rel": 0.1}),
            target("all", "china.all.all.all.2024", 1, {"rel": 0.1}),
        ]
    )
    o, ore, oc, ox, mh, cb, lh2, comp, total = got
    assert o == pytest.approx(other_year)
    assert ore == pytest.approx(0.25 * other_year)
    assert oc == pytest.approx(0.75 * other_year)
    assert ox == pytest.approx(0.75 * mh)
    assert cb == pytest.approx(0.5 * lh2)
    assert comp == pytest.approx(total - ore)


def test_shares_ratios_and_changes_compare_monthly_rates() -> None:
    june = target("jun", "china.myanmar.all.all.2024-06", 1, {"rel": 0.1})
    year = target("yr", "china.myanmar.all.all.2024", 1, {"rel": 0.1})
    total = target("tot", "china.all.all.all.2024", 1, {"rel": 0.1})
    jun, yr, tot = values_of([june, year, total])
    got = values_of(
        [
            target(
                "s", "china.myanmar.all.all.2024", 0.5, {"abs": 0.1}, {"origin": "all"}, "share"
            ),
            target(
                "r", "china.myanmar.all.all.2024-06", 1, {"rel": 0.5}, {"period": "2024"}, "ratio"
            ),
            target(
                "c", "china.myanmar.all.all.2024-06", -5, {"abs": 10}, {"period": "2024"}, "change"
            ),
            target(
                "h",
                "china.myanmar.all.all.2024-H1",
                1,
                {"rel": 0.5},
                {"period": "2024-Q3"},
                "ratio",
            ),
        ]
    )
    assert got[0] == pytest.approx(yr / tot)
    assert got[1] == pytest.approx(jun / (yr / 12))
    assert got[2] == pytest.approx(100 * (jun / (yr / 12) - 1))
    assert got[3] > 0


def test_a_ratio_over_an_empty_denominator_is_undefined_and_never_passes() -> None:
    empty = target("e", "china.myanmar.all.ore.2024", 1, {"rel": 0.5}, {"scope": "ore"}, "ratio")
    zero_over = target(
        "z", "china.myanmar.all.all.2024", 1, {"rel": 0.5}, {"scope": "ore"}, "ratio"
    )
    got = values_of([empty, zero_over])
    assert np.isnan(got).all()
    assert residual(zero_over, float("nan")) >= 10


def test_residuals_are_in_units_of_the_tolerance_on_each_side_and_weighted() -> None:
    band = target("d", "china.myanmar.all.all.2024-12", 300, {"band": [150, 600]})
    assert residual(band, 450) == pytest.approx(0.5)
    assert residual(band, 225) == pytest.approx(-0.5)
    rel = target("y", "china.myanmar.all.all.2024", 44000, {"rel": 0.03})
    assert residual(rel, 44000 * 1.03) == pytest.approx(1.0)
    change = target(
        "c", "china.myanmar.all.all.2024-07", -33, {"abs": 10}, {"period": "2024-06"}, "change"
    )
    assert residual(change, -38) == pytest.approx(-0.5)
    heavy = target("w", "china.myanmar.all.all.2024", 1, {"rel": 0.5}, weight=4.0)
    ev = evaluate(build(small_world()), [heavy], 1)
    plain = residual(heavy, float(ev.means[0]))
    assert residuals(ev)[0] == pytest.approx(2.0 * plain)


def test_a_required_target_costs_more_only_outside_its_tolerance() -> None:
    assert steepened(0.8) == 0.8
    assert steepened(-1.0) == -1.0
    assert steepened(1.2) == pytest.approx(1.0 + REQUIRED_STEEPNESS * 0.2)
    assert steepened(-1.5) == pytest.approx(-(1.0 + REQUIRED_STEEPNESS * 0.5))


def test_train_until_splits_targets_by_the_last_day_they_cover() -> None:
    h1 = target("a", "china.myanmar.all.all.2024-H1", 1, {"rel": 0.1})
    dec = target("b", "china.myanmar.all.all.2024-12", 1, {"rel": 0.1})
    yoy = target(
        "c", "china.myanmar.all.all.2024-03", 1, {"rel": 0.1}, {"period": "2024-09"}, "ratio"
    )
    assert in_sample([h1, dec, yoy], date(2024, 6, 30)) == [True, False, False]
    assert in_sample([h1, dec, yoy], None) == [True, True, True]


def test_peak_stock_and_mining_are_read_from_the_ledger() -> None:
    closure = {"kind": "border_closure", "crossing": "gate", "start": "2024-03-01", "days": 31}
    scenario = build(small_world(shut=closure))
    observed = observe(scenario, [simulate(scenario, 1, 0)])
    o = observed.axes.origins.index("myanmar")
    daily = 4000 / DAYS_PER_MONTH
    assert observed.stock[0, o, 2] == pytest.approx(31 * daily, rel=0.05)
    assert observed.stock[0, o, 5] < daily * 2
    assert observed.mined[0, o].sum() == pytest.approx(4000 * 366 / DAYS_PER_MONTH, rel=1e-6)


def test_run_outputs_split_imports_by_customs_scope(tmp_path: Path) -> None:
    scenario = build(small_world())
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(scenario.model_dump(mode="json")))
    assert main(["run", str(tmp_path / "w.yaml"), "--out", str(tmp_path / "o"), "--no-plot"]) == 0
    scoped = pd.read_csv(tmp_path / "o" / "imports_by_scope.csv")
    imports = pd.read_csv(tmp_path / "o" / "imports.csv")
    keys = ["month", "replication", "importer", "origin", "product"]
    total = scoped.groupby(keys)["tonnes"].sum()
    assert np.allclose(total.reindex(imports.set_index(keys).index).fillna(0), imports["tonnes"])
    july = scoped[(scoped.month == "2024-07") & (scoped.origin == "myanmar")]
    by_scope = july.groupby("scope")["tonnes"].sum()
    lree = july[july["product"] == "lree"].groupby("scope")["tonnes"].sum()
    mhree = july[july["product"] == "mhree"].groupby("scope")["tonnes"].sum()
    assert lree["carbonate"] == pytest.approx(lree["other_compound"])
    assert mhree["oxide"] == pytest.approx(mhree["other_compound"] / 3)
    assert by_scope["carbonate"] == pytest.approx(lree.sum() / 2)
    assert set(scoped.scope) == {"oxide", "carbonate", "other_compound", "ore"}


# --- (3) the bundled calibrated world meets the reported figures (CI regression) ----------------


def test_bundled_calibrated_world_passes_check(tmp_path: Path) -> None:
    code = main(
        [
            "calibrate",
            str(ROOT / "scenarios" / "historical.yaml"),
            "--targets",
            str(ROOT / "scenarios" / "targets" / "reported_2024.yaml"),
            "--seeds",
            "2",
            "--check",
            "--out",
            str(tmp_path / "cal"),
        ]
    )
    assert code == 0
    assert {p.name for p in (tmp_path / "cal").iterdir()} == {
        "report.md",
        "report.csv",
        "backtest.png",
    }


def test_bundled_history_passes_check_on_every_reported_figure(tmp_path: Path) -> None:
    """The history 2018-2024 at its fitted values meets both targets files' rules: every 2024
    seed target within its tolerance and 80% of the other reported figures (one replication:
    the history has no random events)."""
    code = main(
        [
            "calibrate",
            str(ROOT / "scenarios" / "history.yaml"),
            "--targets",
            str(ROOT / "scenarios" / "targets"),
            "--seeds",
            "1",
            "--check",
            "--out",
            str(tmp_path / "cal"),
        ]
    )
    assert code == 0


def test_every_quoted_sentence_is_verbatim_in_its_seed_document() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    targets = load_targets(ROOT / "scenarios" / "targets")
    sources = [r.target.source for r in targets.resolved]
    sources += [n.source for _, n in targets.not_targeted]
    quoted = [s for s in sources if hasattr(s, "quote")]
    assert quoted
    for source in quoted:
        text = " ".join((SEEDS / source.seed).read_text(encoding="utf-8").split())
        assert " ".join(source.quote.split()) in text, source.quote


def test_every_reported_figure_is_a_target_or_left_out_with_its_value() -> None:
    table = DATA / "reported_2018_2024.csv"
    if not table.is_file():
        pytest.skip(f"data table not found at {table}")
    rows = pd.read_csv(table, dtype=str, keep_default_na=False).set_index("id")
    targets = load_targets(ROOT / "scenarios" / "targets" / "reported_2018_2024.yaml")
    by_id = {r.id: r for r in targets.resolved}
    left_out = dict(targets.not_targeted)
    assert set(rows.index) <= set(by_id) | set(left_out), (
        set(rows.index) - set(by_id) - set(left_out)
    )
    assert not set(by_id) & set(left_out)
    for rid, row in rows.iterrows():
        if rid in left_out:
            value = left_out[rid].value
            assert str(value) == row["value"] or float(value) == float(row["value"]), rid
            continue
        r = by_id[rid]
        try:
            assert r.target.value == pytest.approx(float(row["value"])), rid
        except ValueError:  # a reported range, 3000-4000: the band must cover it
            low, high = (float(x) for x in row["value"].split("-"))
            assert r.limits()[0] <= low, rid
            assert high <= r.limits()[1], rid
        if row["confidence"] == "conflict":
            assert r.target.tolerance is not None, rid
            assert r.target.tolerance.band is not None, rid
    for rid, r in by_id.items():
        source = r.target.source
        named = [rid] if rid in rows.index else getattr(source, "derived_from", [])
        assert named, f"{rid}: which rows does it come from?"
        assert set(named) <= set(rows.index), f"{rid}: which rows does it come from?"


# --- (4) bad targets files are located ----------------------------------------------------------

GOOD_TARGET = """\
confidence:
  single: {rel: 0.1, points: 5, weight: 1, why: test}
targets:
  mine_2024:
    description: test
    outlet: test
    confidence: single
    quantity: {importer: china, origin: myanmar, scope: compounds, period: "2024"}
    value: 1000
    unit: t
    source: {seed: 000_test.txt, quote: synthetic}
    reported_scope: synthetic
"""


def _calibrate_check(tmp_path: Path, text: str) -> tuple[int, Path]:
    targets = tmp_path / "targets.yaml"
    targets.write_text(text)
    code = main(
        [
            "calibrate",
            str(ROOT / "scenarios" / "historical.yaml"),
            "--targets",
            str(targets),
            "--check",
            "--seeds",
            "1",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    return code, targets


def test_bad_tolerance_exits_2_with_file_line_and_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GOOD_TARGET.replace("unit: t\n", "unit: t\n    tolerance: {rel: -0.03}\n")
    text = text.replace(
        "reported_scope: synthetic", "reported_scope: synthetic\n    tolerance_why: x"
    )
    code, file = _calibrate_check(tmp_path, text)
    assert code == 2
    err = capsys.readouterr().err
    assert f"{file}:11: targets.mine_2024.tolerance.rel: must be greater than 0" in err
    assert not (tmp_path / "out").exists()


def test_unknown_key_and_unknown_origin_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, file = _calibrate_check(tmp_path, GOOD_TARGET.replace("unit: t", "units: t"))
    assert code == 2
    assert f"{file}:10: targets.mine_2024.units: unknown key 'units'" in capsys.readouterr().err
    code, file = _calibrate_check(tmp_path, GOOD_TARGET.replace("myanmar", "laos"))
    assert code == 2
    assert f"{file}:8: targets.mine_2024.quantity.origin: unknown origin 'laos'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("scope: compounds, ", ""), "targets.mine_2024.quantity: imports need a scope"),
        (('period: "2024"', 'period: "2024-13"'), "targets.mine_2024.quantity.period: "),
        (('period: "2024"', 'period: "2019"'), "period 2019 is not wholly inside the horizon"),
        (
            ("confidence: single\n    q", "confidence: multi\n    q"),
            "confidence 'multi' is not declared",
        ),
        (("unit: t", "unit: '%'"), "a level figure is in 't'"),
    ],
)
def test_targets_that_cannot_be_read_are_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], message: str
) -> None:
    code, file = _calibrate_check(tmp_path, GOOD_TARGET.replace(*change))
    assert code == 2
    err = capsys.readouterr().err
    assert str(file) in err, err
    assert message in err, err


def test_a_scoped_figure_needs_the_origins_customs_scopes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build(small_world())
    data = world.model_dump(mode="json")
    data["customs_scopes"] = {"myanmar": data["customs_scopes"]["myanmar"]}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(data))
    text = GOOD_TARGET.replace("origin: myanmar", "origin: all")
    (tmp_path / "t.yaml").write_text(text)
    args = ["calibrate", str(tmp_path / "w.yaml"), "--targets", str(tmp_path / "t.yaml")]
    assert main([*args, "--check", "--seeds", "1", "--out", str(tmp_path / "o")]) == 2
    assert "quantity.scope: scope compounds needs customs_scopes for other" in (
        capsys.readouterr().err
    )


def test_ids_are_unique_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text(GOOD_TARGET)
    (tmp_path / "b.yaml").write_text(GOOD_TARGET)
    args = ["calibrate", str(ROOT / "scenarios" / "historical.yaml"), "--targets", str(tmp_path)]
    assert main([*args, "--check", "--seeds", "1", "--out", str(tmp_path / "o")]) == 2
    assert "b.yaml:4: targets.mine_2024: id 'mine_2024' is already used in" in (
        capsys.readouterr().err
    )


# --- (5) passing rules ---------------------------------------------------------------------------


def test_a_file_passes_when_its_required_targets_and_its_share_of_the_others_pass(
    tmp_path: Path,
) -> None:
    scenario = build(small_world())
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(scenario.model_dump(mode="json")))
    year = float(
        evaluate(scenario, [target("y", "china.myanmar.all.all.2024", 1, {"rel": 1})], 1).values[
            0, 0
        ]
    )

    def entry(value: float, required: bool = False) -> dict[str, Any]:
        return {
            "description": "t",
            "outlet": "t",
            "confidence": "single",
            "required": required,
            "quantity": quantity("china.myanmar.all.all.2024"),
            "value": value,
            "unit": "t",
            "source": SOURCE,
            "reported_scope": "t",
        }

    def report(share: float, required_hit: bool) -> Report:
        doc = {
            "confidence": {"single": {"rel": 0.05, "weight": 1, "why": "t"}},
            "passing": {"share": share},
            "targets": {
                "hit": entry(year),
                "miss": entry(year * 2),
                "req": entry(year if required_hit else year * 3, required=True),
            },
        }
        (tmp_path / "t.yaml").write_text(yaml.safe_dump(doc))
        return calibrate(tmp_path / "w.yaml", tmp_path / "t.yaml", seeds=1, out=None, check=True)

    assert report(0.5, True).passed
    assert not report(0.6, True).passed
    assert not report(0.0, False).passed
    assert "2 of 3 targets within tolerance" in repr(report(0.5, True))
    assert "passes its rules" in repr(report(0.5, True))


# --- (6) the fitted-parameter file is written whole ---------------------------------------------

PARAMS = """\
# An old header, replaced.
extends: myanmar.yaml
set:
  a.b: 1
  keep.me: [1, 2]
  c.d: 2.5
"""


def test_params_file_is_written_whole_keeping_entries_it_does_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "calibrated.yaml"
    path.write_text(PARAMS)
    write_params(path, {"c.d": 3.25, "a.b": 10.0, "new.one": 7.0}, command="sim calibrate x")
    text = path.read_text()
    assert text.startswith("# The calibrated world")
    assert "# Written by: sim calibrate x\n" in text
    assert "  keep.me: [1, 2]  # kept from the previous file, not fitted\n" in text
    assert yaml.safe_load(text) == {
        "extends": "myanmar.yaml",
        "set": {"c.d": 3.25, "a.b": 10, "new.one": 7, "keep.me": [1, 2]},
    }
    again = path.read_text()
    write_params(path, {"c.d": 3.25, "a.b": 10.0, "new.one": 7.0}, command="sim calibrate x")
    assert path.read_text() == again, "a refit with the same values changes nothing"


def test_params_file_without_extends_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calibrated.yaml"
    path.write_text("set: {a: 1}\n")
    with pytest.raises(Exception, match="needs extends"):
        write_params(path, {"a": 2.0})


def test_calibrate_command_fits_and_writes_the_world_file(tmp_path: Path) -> None:
    """End to end on the small world: files in, fitted world file and report out."""
    world = build(small_world()).model_dump(mode="json", exclude={"free"})
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(world, sort_keys=False))
    start = "\n".join(f"  {p}: {v}" for p, v in zip(FREE, (5000, 2500, 800), strict=True))
    (tmp_path / "calibrated.yaml").write_text(f"# fitted\nextends: world.yaml\nset:\n{start}\n")
    scenario = {"extends": "calibrated.yaml", "name": "small", "free": FREE}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    truth = derive(build(small_world()), TRUTH)
    shapes = {
        "mhree": "china.myanmar.mhree.compounds.2024",
        "lree": "china.myanmar.lree.compounds.2024",
        "total": "china.all.all.all.2024",
    }
    values = evaluate(truth, [target(k, q, 1, {"rel": 0.01}) for k, q in shapes.items()], 1)
    doc = {
        "confidence": {"single": {"rel": 0.01, "weight": 1, "why": "synthetic"}},
        "targets": {
            tid: {
                "description": tid,
                "outlet": "test",
                "confidence": "single",
                "quantity": quantity(q),
                "value": float(v),
                "unit": "t",
                "source": SOURCE,
                "reported_scope": "synthetic",
            }
            for (tid, q), v in zip(shapes.items(), values.values[0], strict=True)
        },
    }
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    args = ["calibrate", str(tmp_path / "small.yaml"), "--targets", str(tmp_path / "targets.yaml")]
    out = ["--params", str(tmp_path / "calibrated.yaml"), "--out", str(tmp_path / "report")]
    assert main([*args, *out, "--seeds", "1"]) == 0
    text = (tmp_path / "calibrated.yaml").read_text()
    fitted = yaml.safe_load(text)
    assert fitted["extends"] == "world.yaml"
    assert "# fitted, bounds 1000 to 6000" in text
    for path, true_value in TRUTH.items():
        assert fitted["set"][path] == pytest.approx(true_value, abs=15), path
    assert main([*args, *out, "--seeds", "1", "--check"]) == 0
    assert (tmp_path / "report" / "backtest.png").stat().st_size < 300_000
    before = (tmp_path / "calibrated.yaml").read_text()
    assert main([*args, *out, "--seeds", "1", "--dry-run"]) == 0
    assert (tmp_path / "calibrated.yaml").read_text() == before, "--dry-run writes no params"


def test_tolerances_contain_their_value() -> None:
    assert Tolerance(band=(150, 600)).limits(300) == (150, 600)
    with pytest.raises(ValueError, match="must contain the value"):
        target("x", "china.myanmar.all.all.2024", 700, {"band": [150, 600]})


# --- (7) synthetic recovery on a multi-year history ----------------------------------------------

HISTORY_TRUTH = {
    "sites.mine.capacity_tpm.mhree": 3000.0,
    "haulage.release_surge": 0.8,
    "other_supply.rest.levels.0.tpm.lree": 2000.0,
    "customs_scopes.myanmar.1.mhree.oxide": 0.6,
}
HISTORY_FREE = {
    "sites.mine.capacity_tpm.mhree": {"low": 1000, "high": 6000, "why": "test"},
    "haulage.release_surge": {"low": 0.1, "high": 3.0, "why": "test"},
    "other_supply.rest.levels.0.tpm.lree": {"low": 500, "high": 6000, "why": "test"},
    "customs_scopes.myanmar.1.mhree.oxide": {"low": 0.0, "high": 1.0, "why": "test"},
}


def multi_year_world() -> Scenario:
    """2019-2024 in small: one mine, a four-month closure in 2021 whose start varies by a few
    days, a paced release of the backlog, other supply, and a change of customs scopes."""
    closure = {
        "kind": "border_closure",
        "crossing": "gate",
        "start": {"dist": "uniform", "low": "2021-07-10", "high": "2021-07-20"},
        "days": 130,
        "in_transit": "turn_back",
    }
    data = small_world(closure=closure)
    data.update(start="2019-01-01", end="2024-12-31", dispatch_days=7)
    data["sites"]["mine"]["capacity_tpm"] = {"mhree": 3000, "lree": 0}
    data["other_supply"]["rest"]["levels"][0]["start"] = "2019-01-01"
    data["customs_scopes"] = {
        "myanmar": [
            {"start": "2019-01-01", "mhree": {"oxide": 0.3, "carbonate": 0.5}},
            {"start": "2022-01-01", "mhree": {"oxide": 0.6}},
        ],
        "other": [{"start": "2019-01-01", "lree": {"carbonate": 0.5}}],
    }
    data["haulage"] = {"release_surge": 0.8}
    data["free"] = HISTORY_FREE
    return build(data)


def test_fit_recovers_known_parameters_of_a_multi_year_history() -> None:
    """Known parameters -> every kind of figure over six years -> a fit from far away finds
    the parameters again (to 0.5% of their ranges)."""
    truth = derive(multi_year_world(), HISTORY_TRUTH)
    shapes = [
        target("y2019", "china.myanmar.all.compounds.2019", 1, {"rel": 0.01}),
        target("y2023", "china.myanmar.all.oxide.2023-01..2023-09", 1, {"rel": 0.01}),
        target(
            "catchup",
            "china.myanmar.all.oxide.2021-12",
            1,
            {"rel": 0.02},
            {"period": "2021-H1"},
            "ratio",
        ),
        target(
            "dip",
            "china.myanmar.all.compounds.2021-08",
            -50,
            {"abs": 2},
            {"period": "2021-06"},
            "change",
        ),
        target(
            "share",
            "china.myanmar.all.compounds.2022",
            0.5,
            {"abs": 0.01},
            {"origin": "all"},
            "share",
        ),
        target("carbonate", "china.all.all.carbonate.2020-H2", 1, {"rel": 0.02}),
    ]
    observed = evaluate(truth, shapes, k=2)
    assert np.ptp(observed.values[:, 2]) > 0, "the catch-up must vary with the closure's start"
    targets = with_values(shapes, observed.means)
    start = derive(
        truth,
        {
            "sites.mine.capacity_tpm.mhree": 5000.0,
            "haulage.release_surge": 2.5,
            "other_supply.rest.levels.0.tpm.lree": 900.0,
            "customs_scopes.myanmar.1.mhree.oxide": 0.2,
        },
    )
    assert np.abs(residuals(evaluate(start, targets, k=2))).max() > 1

    result = fit(start, targets, k=2)

    for path, true_value in HISTORY_TRUTH.items():
        span = HISTORY_FREE[path]["high"] - HISTORY_FREE[path]["low"]
        assert abs(result.fitted[path] - true_value) < 0.005 * span, (path, result.fitted)


def test_a_parameter_no_fitted_figure_moves_keeps_its_value() -> None:
    """With --train-until 2021-12-31 the 2022 customs scope moves no fitted figure: it keeps
    its start value exactly (it does not wander with the others' steps), while the parameters
    the early figures do identify are still recovered."""
    truth = derive(multi_year_world(), HISTORY_TRUTH)
    shapes = [
        target("y2019", "china.myanmar.all.compounds.2019", 1, {"rel": 0.01}),
        target("other2020", "china.other.all.all.2020", 1, {"rel": 0.01}),
        target("oxide2023", "china.myanmar.all.oxide.2023", 1, {"rel": 0.01}),
    ]
    targets = with_values(shapes, evaluate(truth, shapes, k=1).means)
    start_values = {
        "sites.mine.capacity_tpm.mhree": 5000.0,
        "other_supply.rest.levels.0.tpm.lree": 900.0,
        "customs_scopes.myanmar.1.mhree.oxide": 0.2,
    }
    start = derive(truth, start_values)
    fitted = in_sample(targets, date(2021, 12, 31))
    assert fitted == [True, True, False]

    result = fit(start, targets, k=1, fitted=fitted)

    scope = "customs_scopes.myanmar.1.mhree.oxide"
    assert scope in result.inert
    assert result.fitted[scope] == 0.2
    assert "sites.mine.capacity_tpm.mhree" not in result.inert
    assert abs(result.fitted["sites.mine.capacity_tpm.mhree"] - 3000.0) < 0.005 * 5000


def test_each_fitted_parameter_goes_to_the_first_params_file_whose_chain_holds_it(
    tmp_path: Path,
) -> None:
    """World parameters to the world's file, a scenario's own (an event's length) to a file
    only that scenario extends."""
    world = build(small_world()).model_dump(mode="json", exclude={"free", "events"})
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(world, sort_keys=False))
    (tmp_path / "calibrated.yaml").write_text("extends: world.yaml\nset: {}\n")
    closure = {"kind": "border_closure", "crossing": "gate", "start": "2024-03-10", "days": 20}
    events = {"extends": "calibrated.yaml", "events": {"shut": closure}}
    (tmp_path / "events.yaml").write_text(yaml.safe_dump(events))
    (tmp_path / "fitted.yaml").write_text("extends: events.yaml\nset: {}\n")
    free = {
        "sites.mine.capacity_tpm.mhree": {"low": 1000, "high": 6000},
        "events.shut.days": {"low": 5, "high": 60},
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"extends": "fitted.yaml", "free": free}))
    truth = derive(build(small_world(shut=closure)), {"events.shut.days": 35.0})
    shapes = [
        target("y", "china.myanmar.mhree.all.2024", 1, {"rel": 0.005}),
        target("m", "china.myanmar.mhree.all.2024-04", 1, {"rel": 0.01}),
    ]
    values = evaluate(truth, shapes, 1).values[0]
    entries = {}
    for r, v in zip(shapes, values, strict=True):
        entry = r.target.model_dump(mode="json", exclude_none=True)
        entry.pop("id")
        entries[r.id] = {**entry, "value": float(v), "tolerance": {"rel": 0.01}}
    doc = {"confidence": {"single": {"rel": 0.01, "weight": 1, "why": "t"}}, "targets": entries}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(doc))
    params = [str(tmp_path / "calibrated.yaml"), str(tmp_path / "fitted.yaml")]
    report = calibrate(tmp_path / "s.yaml", tmp_path / "t.yaml", seeds=1, out=None, params=params)
    assert report.params_files == [Path(p) for p in params]
    world_set = yaml.safe_load((tmp_path / "calibrated.yaml").read_text())["set"]
    own_set = yaml.safe_load((tmp_path / "fitted.yaml").read_text())["set"]
    assert list(world_set) == ["sites.mine.capacity_tpm.mhree"]
    assert list(own_set) == ["events.shut.days"]
    fitted = {p.path: p.value for p in report.parameters}
    assert own_set["events.shut.days"] == fitted["events.shut.days"] != 20
    assert world_set["sites.mine.capacity_tpm.mhree"] == fitted["sites.mine.capacity_tpm.mhree"]
    with pytest.raises(InputError, match="no such key in that file's chain"):
        calibrate(tmp_path / "s.yaml", tmp_path / "t.yaml", seeds=1, out=None, params=params[:1])
