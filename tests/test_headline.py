"""The headline and the outcome splits, on made-up results with answers known by hand.

The reference imports 100 t every month of 2024 in each of 10 replications. In the scenario,
an import ban happens in replications 0-6 (the file sets probability 0.7) and China then gets
nothing from July on; in replications 7-9 nothing changes. So 7 replications fall 50% short
(6 of 12 months) and 3 fall 0% short.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.compare import branches, headline
from sim.compare.comparison import Comparison
from sim.model.clock import Clock
from sim.results.kpis import PRODUCTS, Axes
from sim.results.result import Collector, Result
from tests.builders import build, china_ban, one_site

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
REPS = 10
BANNED = range(7)


def made_up(
    name: str,
    monthly: dict[int, list[float]],
    events: dict[str, Any],
    decisions: dict[str, Any] | None = None,
) -> Result:
    """A Result whose only figures are China's monthly imports from Myanmar (and outcomes)."""
    data = one_site(**events)
    data["name"] = name
    data["decisions"] = decisions or {}
    s = build(data)
    collector = Collector(s, seed=1, count=len(monthly))
    axes = Axes.of(s, Clock(s.start, s.end))
    assert axes.months == MONTHS
    china, myanmar = axes.importers.index("china"), axes.origins.index("myanmar")
    for rep, series in monthly.items():
        cube = np.zeros(collector.arrays.imports.inner)
        cube[china, myanmar, PRODUCTS.index("mhree")] = series
        collector.arrays.imports.put(rep, cube)
        collector.outcomes.put(rep, [(eid, "happens", rep in BANNED) for eid in events])
    return collector.result()


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    flat = {rep: [100.0] * 12 for rep in range(REPS)}
    cut = {rep: [100.0] * 6 + ([0.0] * 6 if rep in BANNED else [100.0] * 6) for rep in range(REPS)}
    ban = {**china_ban(1.0, "2024-07-01"), "probability": 0.7}
    reference = made_up("reference", flat, {})
    scenario = made_up("ban_or_not", cut, {"china_bans": ban})
    return Comparison([reference, scenario], seed=1, replications=REPS, files=["a", "b"])


def test_headline_ranks_and_measures_the_paired_shortfall(comparison: Comparison) -> None:
    lines = headline.headline(comparison)
    top, reference = lines
    assert (top.scenario, top.rank) == ("ban_or_not", 1)
    assert (reference.scenario, reference.rank) == ("reference", None)
    mean, p5, p95 = top.shortfall_pct
    assert mean == pytest.approx(0.7 * 50.0)
    assert p5 == pytest.approx(0.0)
    assert p95 == pytest.approx(50.0)
    assert top.shortfall_t[0] == pytest.approx(0.7 * 600)
    # the first month of the deepest (mean) shortfall, its mean depth and the range over reps
    assert top.worst_month == "2024-07"
    assert top.worst_depth_pct == pytest.approx((70.0, 0.0, 100.0))
    assert top.worst_shortfall_t == pytest.approx(70.0)
    # P(shortfall > N%): 7 of 10 replications lose 50%: more than 10 and 25, not more than 50
    assert top.chance == {10: pytest.approx(0.7), 25: pytest.approx(0.7), 50: 0.0}
    # the mean series stays at 30% of the reference: no recovery; 7 of 10 never recover
    assert np.isnan(top.recover_months)
    assert top.never_recover_share == pytest.approx(0.7)
    assert reference.shortfall_pct[0] == 0.0
    assert reference.recover_months == 0.0


def test_headline_sentence_and_table(comparison: Comparison) -> None:
    top = headline.headline(comparison)[0]
    text = headline.sentence(top, "the reference", "2024")
    assert "fall 35% short of the reference (5-95%: 0 to 50%)" in text
    assert "Worst month: Jul 2024, 70% below (70 t short)" in text
    assert "over 10% / 25% / 50%: 70% / 70% / 0%" in text
    table = headline.table(headline.headline(comparison), "reference")
    assert list(table.scenario) == ["ban_or_not", "reference"]
    assert table.loc[0, "p_shortfall_over_25pct"] == pytest.approx(0.7)
    printed = headline.text(headline.headline(comparison), "the reference", "2024")
    assert "Hurts most: ban or not" in printed


def test_a_random_event_splits_the_replications_into_branches(comparison: Comparison) -> None:
    found = branches.splits(comparison.results[1])
    assert len(found) == 1
    split = found[0]
    assert (split.event, split.aspect) == ("china_bans", "happens")
    yes, no = split.branches
    assert (yes.outcome, yes.replications, yes.share) == ("yes", list(BANNED), 0.7)
    assert (no.outcome, no.replications) == ("no", [7, 8, 9])
    assert yes.expected == pytest.approx(0.7)
    assert no.expected == pytest.approx(0.3)
    assert yes.label == "China refuses 100% of the KIA's product from Jul 2024"
    assert no.label == "China does not refuse the KIA's product"
    assert split.spread == pytest.approx(600.0)
    assert branches.splits(comparison.results[0]) == []


def test_each_branch_says_what_follows(comparison: Comparison) -> None:
    table = branches.branch_table(comparison)
    assert list(table.outcome) == ["yes", "no"]
    yes, no = table.iloc[0], table.iloc[1]
    assert yes.china_t_mean == pytest.approx(600.0)
    assert no.china_t_mean == pytest.approx(1200.0)
    assert yes.shortfall_pct_mean == pytest.approx(50.0)
    assert no.shortfall_pct_mean == 0.0
    # the mixture of the branches is the scenario's mean
    mixture = yes.share * yes.china_t_mean + no.share * no.china_t_mean
    assert mixture == pytest.approx(0.7 * 600 + 0.3 * 1200)
    assert yes.sentence.startswith(
        "China refuses 100% of the KIA's product from Jul 2024 in 7 of 10 replications "
        "(70%; the scenario sets 70%): China then imports 600 t from Myanmar over 2024, "
        "50% short of reference."
    )


def test_offensive_outcomes_are_recorded_per_site() -> None:
    from sim.results.runner import run

    data = one_site(
        attack={
            "kind": "offensive",
            "attacker": "bgf",
            "sites": ["mine"],
            "start": "2024-03-01",
            "days": 30,
            "capture_probability": 0.5,
            "probability": 0.8,
        }
    )
    result = run(build(data), seed=5, replications=40)
    table = branches.outcome_table(result)
    happens = table[("attack", "happens")]
    captured = table[("attack", "captured:mine")]
    assert set(happens) == {"yes", "no"}
    assert set(captured) == {"yes", "no", "n/a"}
    # a capture is decided only where the offensive happened
    assert ((captured == "n/a") == (happens == "no")).all()
    assert 0.15 < (captured == "yes").mean() < 0.65  # 0.8 x 0.5 = 0.4
    labels = {b.label for s in branches.splits(result) for b in s.branches}
    assert "the BGF takes Mine" in labels


def test_events_of_one_decision_are_one_split_with_the_decision_s_chance(
    comparison: Comparison,
) -> None:
    """China decides (probability 0.7) to shut the gate and refuse the KIA's product: the two
    events happen in the same replications, so they are one split whose branches name both,
    and the chance the file sets is the decision's times each event's own (1)."""
    cut = {rep: [100.0] * 6 + ([0.0] * 6 if rep in BANNED else [100.0] * 6) for rep in range(REPS)}
    events = {
        "china_bans": {**china_ban(1.0, "2024-07-01"), "decision": "retaliate"},
        "gate_shut": {
            "kind": "border_closure",
            "crossing": "gate",
            "start": "2024-07-01",
            "decision": "retaliate",
        },
    }
    result = made_up("retaliation", cut, events, {"retaliate": {"probability": 0.7}})
    (split,) = branches.splits(result)
    assert split.also == ("gate_shut",)
    yes, no = split.branches
    assert yes.label == (
        "China refuses 100% of the KIA's product from Jul 2024 and the Gate crossing closes "
        "from Jul 2024"
    )
    assert no.label == "China does not refuse the KIA's product and the Gate crossing stays open"
    assert yes.expected == pytest.approx(0.7)
    assert no.expected == pytest.approx(0.3)
    both = Comparison([comparison.results[0], result], seed=1, replications=REPS, files=["a", "b"])
    assert set(branches.branch_table(both).event) == {"china_bans+gate_shut"}
