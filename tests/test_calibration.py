"""Calibration: targets are computed right, the fit recovers known parameters, the bundled
calibrated world still meets the reported figures (the CI regression test), bad target files
are located, and the fitted-parameter file is rewritten without losing anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.calibrate.calibration import (
    Target,
    evaluate,
    fit,
    load_targets,
    residual,
    rewrite_params,
    rows,
    target_value,
    write_params,
)
from sim.cli import main
from sim.model.clock import DAYS_PER_MONTH, Clock
from sim.model.engine import simulate
from sim.results.kpis import Axes, reduce
from sim.scenario.loader import derive
from sim.scenario.schema import Scenario
from tests.builders import build, one_site

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
"""The source documents the targets quote (beside the repository, see docs/data.md)."""
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


def small_world(**events: dict[str, Any]) -> dict[str, Any]:
    """The one-site world with both product classes, other supply and declared free parameters."""
    data = one_site(**events)
    data["sites"]["mine"]["capacity_tpm"] = {"mhree": 3000, "lree": 1000}
    data["other_supply"] = {
        "rest": {
            "importer": "china",
            "origin": "other",
            "levels": [{"start": "2024-01-01", "tpm": {"mhree": 0, "lree": OTHER_LREE}}],
        }
    }
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


def target(
    tid: str, quantity: str, value: float, tolerance: dict[str, Any], share_of: str = ""
) -> Target:
    """A target from a dotted quantity (importer.origin.product.period)."""

    def parts(dotted: str) -> dict[str, str]:
        importer, origin, product, period = dotted.split(".")
        return {"importer": importer, "origin": origin, "product": product, "period": period}

    data: dict[str, Any] = {
        "id": tid,
        "description": tid,
        "quantity": parts(quantity),
        "value": value,
        "unit": "share" if share_of else "t",
        "tolerance": tolerance,
        "source": SOURCE,
        "scope": "synthetic",
    }
    if share_of:
        data["share_of"] = parts(share_of)
    return Target.model_validate(data)


# --- (1) the fit is real: it recovers known parameters ------------------------------------------


def test_fit_recovers_known_parameters_from_synthetic_targets() -> None:
    truth = derive(stochastic_world(), TRUTH)
    shapes = [
        target("mhree", "china.myanmar.mhree.2024", 1, {"rel": 0.01}),
        target("lree", "china.myanmar.lree.2024", 1, {"rel": 0.01}),
        target("total", "china.all.all.2024", 1, {"rel": 0.01}),
        target("june", "china.myanmar.all.2024-06", 1, {"rel": 0.05}),
        target("share", "china.myanmar.all.2024", 0.5, {"abs": 0.02}, "china.all.all.2024"),
    ]
    observed = evaluate(truth, shapes, k=3).values
    assert np.ptp(observed[:, 3]) > 0, "June must vary over seeds"
    synthetic = observed.mean(axis=0)
    targets = [
        t.model_copy(update={"value": float(v)}) for t, v in zip(shapes, synthetic, strict=True)
    ]
    elsewhere = {
        "sites.mine.capacity_tpm.mhree": 5000.0,
        "sites.mine.capacity_tpm.lree": 2500.0,
        "other_supply.rest.levels.0.tpm.lree": 800.0,
    }
    start = derive(truth, elsewhere)
    assert not all(r.passed for r in rows(evaluate(start, targets, k=3)))

    result = fit(start, targets, k=3)

    for path, true_value in TRUTH.items():
        span = FREE[path]["high"] - FREE[path]["low"]
        assert abs(result.fitted[path] - true_value) < 0.002 * span, (path, result.fitted)
    assert all(r.passed for r in rows(evaluate(derive(start, result.fitted), targets, k=3)))


# --- (2) target values on known cases -----------------------------------------------------------


def test_target_values_match_the_cube_and_known_totals() -> None:
    scenario = build(small_world())
    reduced = reduce(scenario, simulate(scenario, scenario.seed, 0))
    cube, kpis = reduced.imports, reduced.kpis
    axes = Axes.of(scenario, Clock(scenario.start, scenario.end))
    other = target("o", "china.other.lree.2024", 1, {"rel": 0.1})
    myanmar = target("m", "china.myanmar.all.2024", 1, {"rel": 0.1})
    december = target("d", "china.myanmar.mhree.2024-12", 1, {"rel": 0.1})
    share = target("s", "china.myanmar.all.2024", 0.5, {"abs": 0.1}, "china.all.all.2024")

    assert target_value(cube, axes, other) == pytest.approx(OTHER_LREE * 366 / DAYS_PER_MONTH)
    assert target_value(cube, axes, myanmar) == pytest.approx(
        kpis["imports.china.myanmar.all.2024"]
    )
    assert target_value(cube, axes, december) == pytest.approx(cube[0, 0, 0, 11])
    in_2024 = kpis["imports.china.myanmar.all.2024"]
    assert target_value(cube, axes, share) == pytest.approx(
        in_2024 / (in_2024 + OTHER_LREE * 366 / DAYS_PER_MONTH)
    )


def test_residuals_are_in_units_of_the_tolerance_on_each_side() -> None:
    band = target("d", "china.myanmar.all.2024-12", 300, {"band": [150, 600]})
    assert residual(band, 450) == pytest.approx(0.5)
    assert residual(band, 225) == pytest.approx(-0.5)
    rel = target("y", "china.myanmar.all.2024", 44000, {"rel": 0.03})
    assert residual(rel, 44000 * 1.03) == pytest.approx(1.0)
    share = target("s", "china.myanmar.all.2024", 0.57, {"abs": 0.02}, "china.all.all.2024")
    assert residual(share, 0.56) == pytest.approx(-0.5)


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
        "calibration.png",
    }


def test_every_quoted_sentence_is_verbatim_in_its_seed_document() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    targets = load_targets(ROOT / "scenarios" / "targets" / "reported_2024.yaml").targets
    sources = [t.source for t in targets.targets.values()]
    sources += [n.source for n in targets.not_targeted.values()]
    for source in sources:
        text = " ".join((SEEDS / source.seed).read_text(encoding="utf-8").split())
        assert " ".join(source.quote.split()) in text, source.quote


# --- (4) bad targets files are located ----------------------------------------------------------

GOOD_TARGET = """\
targets:
  mine_2024:
    description: test
    quantity: {importer: china, origin: myanmar, product: all, period: "2024"}
    value: 1000
    unit: t
    tolerance: {rel: 0.03}
    source: {seed: 000_test.txt, quote: synthetic}
    scope: synthetic
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
    code, file = _calibrate_check(tmp_path, GOOD_TARGET.replace("rel: 0.03", "rel: -0.03"))
    assert code == 2
    err = capsys.readouterr().err
    assert f"{file}:7: targets.mine_2024.tolerance.rel: must be greater than 0" in err
    assert not (tmp_path / "out").exists()


def test_unknown_key_and_unknown_origin_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, file = _calibrate_check(tmp_path, GOOD_TARGET.replace("unit: t", "units: t"))
    assert code == 2
    assert f"{file}:6: targets.mine_2024.units: unknown key 'units'" in capsys.readouterr().err
    code, file = _calibrate_check(tmp_path, GOOD_TARGET.replace("myanmar", "laos"))
    assert code == 2
    assert f"{file}:4: targets.mine_2024.quantity.origin: unknown origin 'laos'" in (
        capsys.readouterr().err
    )


# --- (5) the fitted-parameter file ---------------------------------------------------------------

PARAMS = """\
# The calibrated world (header comment, kept).
# Second header line.
extends: myanmar.yaml
set:
  # a note inside the block
  a.b: 1
  keep.me: [1, 2]
  c.d: 2.5

# a trailing comment, kept
"""


def test_params_rewrite_keeps_comments_extends_and_other_entries(tmp_path: Path) -> None:
    path = tmp_path / "calibrated.yaml"
    path.write_text(PARAMS)
    write_params(path, {"c.d": 3.25, "a.b": 10.0, "new.one": 7.0})
    text = path.read_text()
    assert text.startswith(
        "# The calibrated world (header comment, kept).\n# Second header line.\n"
        "extends: myanmar.yaml\nset:\n  # a note inside the block\n"
        "  c.d: 3.25\n  a.b: 10\n  new.one: 7\n  keep.me: [1, 2]\n"
    )
    assert text.endswith("\n# a trailing comment, kept\n")
    assert yaml.safe_load(text) == {
        "extends": "myanmar.yaml",
        "set": {"c.d": 3.25, "a.b": 10, "new.one": 7, "keep.me": [1, 2]},
    }
    assert yaml.safe_load(rewrite_params("extends: w.yaml\nset: {x: 1, y: 2}\n", {"x": 5.0})) == {
        "extends": "w.yaml",
        "set": {"x": 5, "y": 2},
    }


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
        "mhree": "china.myanmar.mhree.2024",
        "lree": "china.myanmar.lree.2024",
        "total": "china.all.all.2024",
    }
    values = evaluate(truth, [target(k, q, 1, {"rel": 0.01}) for k, q in shapes.items()], 1)
    targets = {
        tid: dict(zip(("importer", "origin", "product", "period"), q.split("."), strict=True))
        for tid, q in shapes.items()
    }
    doc = {
        "targets": {
            tid: {
                "description": tid,
                "quantity": quantity,
                "value": float(v),
                "unit": "t",
                "tolerance": {"rel": 0.01},
                "source": SOURCE,
                "scope": "synthetic",
            }
            for (tid, quantity), v in zip(targets.items(), values.values[0], strict=True)
        }
    }
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    args = ["calibrate", str(tmp_path / "small.yaml"), "--targets", str(tmp_path / "targets.yaml")]
    out = ["--params", str(tmp_path / "calibrated.yaml"), "--out", str(tmp_path / "report")]
    assert main([*args, *out, "--seeds", "1"]) == 0
    fitted = yaml.safe_load((tmp_path / "calibrated.yaml").read_text())
    assert (tmp_path / "calibrated.yaml").read_text().startswith("# fitted\nextends: world.yaml\n")
    for path, true_value in TRUTH.items():
        assert fitted["set"][path] == pytest.approx(true_value, abs=15), path
    assert main([*args, *out, "--seeds", "1", "--check"]) == 0
    assert (tmp_path / "report" / "calibration.png").stat().st_size < 200_000
