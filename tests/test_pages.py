"""Each report page, rendered in a real headless Chromium: images load, the headline table is
there and sorts on a click, and the page raises no script error.

Chromium is the Debian package ``chromium`` (``.ci/run`` installs it); where it cannot be
installed these tests are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.cli import main
from tests.chromium import Browser, find

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

pytestmark = pytest.mark.skipif(
    find() is None,
    reason="Chromium is not installed (Debian: apt-get install chromium); pages not rendered",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser.start() as started:
        yield started


@pytest.fixture(scope="module")
def compare_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pages") / "compare"
    files = [str(SCENARIOS / f"{n}.yaml") for n in ("baseline", "us_india_corridor")]
    args = ["compare", *files, "--replications", "4", "--seed", "12", "--out", str(out)]
    assert main(args) == 0
    return out / "report.html"


def images_loaded(browser: Browser) -> list[bool]:
    return list(
        browser.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    )


def column(browser: Browser, table: str, index: int) -> list[str]:
    return list(
        browser.evaluate(
            f"Array.from(document.querySelectorAll('#{table} tbody tr'))"
            f".map(r => r.cells[{index}].textContent.trim())"
        )
    )


def test_compare_report_renders_with_its_headline(browser: Browser, compare_report: Path) -> None:
    browser.open(compare_report)
    loaded = images_loaded(browser)
    assert len(loaded) >= 2, loaded
    assert all(loaded), loaded
    heads = browser.evaluate(
        "Array.from(document.querySelectorAll('#headline-table thead th')).map(h => h.textContent)"
    )
    assert heads[:3] == ["rank", "scenario", "shortfall"]
    assert column(browser, "headline-table", 1) == ["US-India corridor", "Status quo (baseline)"]
    assert browser.evaluate("document.querySelector('.lead').textContent").startswith(
        "Hurts most: US-India corridor"
    )
    # a click on "scenario" sorts by name, a second click reverses
    browser.evaluate("document.querySelectorAll('#headline-table thead th')[1].click()")
    assert column(browser, "headline-table", 1) == ["Status quo (baseline)", "US-India corridor"]
    browser.evaluate("document.querySelectorAll('#headline-table thead th')[1].click()")
    assert column(browser, "headline-table", 1) == ["US-India corridor", "Status quo (baseline)"]
    assert browser.console_errors() == []


SWEEP = f"""\
name: page_sweep
description: A tiny Sobol' sweep with tornado swings, for the report page.
base: {SCENARIOS / "kia_offensive.yaml"}
set:
  end: 2026-06-30
baseline:
  scenario: {SCENARIOS / "baseline.yaml"}
parameters:
  events.china_ultimatum.fraction: {{dist: uniform, low: 0.2, high: 1.0}}
  events.kanpiketi_closed.days: {{dist: loguniform, low: 20, high: 120}}
method: sobol
samples: 4
replications: 1
tornado: true
seed: 7
labels:
  events.china_ultimatum.fraction: "China's ultimatum: share refused"
analyze: [imports.china.myanmar.all.2026, peak_stockpile_t]
discover:
  - name: deep_cut
    outcome: imports.china.myanmar.all.2026 < 0.7 * baseline
"""


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    spec = folder / "page_sweep.yaml"
    spec.write_text(SWEEP)
    assert main(["sweep", str(spec), "--out", str(folder / "sweep"), "--xlsx"]) == 0
    return folder / "sweep" / "analysis" / "report.html"


def test_sweep_report_renders_with_its_headline(browser: Browser, sweep_report: Path) -> None:
    analysis = sweep_report.parent
    assert {p.name for p in analysis.glob("tornado_*.png")} == {
        "tornado_imports.china.myanmar.all.2026.png",
        "tornado_peak_stockpile_t.png",
    }
    browser.open(sweep_report)
    loaded = images_loaded(browser)
    assert len(loaded) >= 4, loaded
    assert all(loaded), loaded
    kpis = column(browser, "headline-table", 0)
    assert kpis == [
        "China's imports from Myanmar, all products, 2026",
        "Peak stockpile on mining sites",
    ]
    lead = browser.evaluate("document.querySelector('.lead').textContent")
    assert lead.startswith("China's imports from Myanmar, all products, 2026: median")
    text = browser.evaluate("document.body.textContent")
    assert "Sobol' indices from Saltelli's design" in text
    assert "is small (fewer than 64)" in text  # N = 4 is flagged, not hidden
    assert "China's ultimatum: share refused" in text
    assert browser.console_errors() == []
    from openpyxl import load_workbook

    book = load_workbook(analysis / "sweep.xlsx", read_only=True)
    assert book.sheetnames[:2] == ["about", "runs"]
    assert "swings" in book.sheetnames
    book.close()
