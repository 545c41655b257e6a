"""Outcome splits: replications grouped by the discrete outcome of a scenario's random events.

A scenario where China retaliates with probability 0.7 has two futures, not one: its mean line
describes neither. Each random event records its discrete outcomes per replication (whether it
happens within the horizon; for an offensive, whether it takes each site; see
``sim.model.ledger.Ledger.outcomes``). An outcome that differs between replications splits them
into branches: each branch has its share of replications (and the probability the scenario
sets, where it follows from the file), its own line and band, and a sentence in plain words.
The mixture of the branches is the scenario's overall mean.

Splits are one event outcome at a time (not every combination, which would leave branches of
one or two replications), ordered by how far apart their branches' outcomes lie. Outcomes that
split the replications identically (events of one shared decision: China closes the gate *and*
refuses the product) are one split, its branches naming every event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sim.compare.comparison import Comparison, paired_common
from sim.results.result import Result
from sim.results.series import china_from_myanmar, quad_from_myanmar
from sim.scenario import schema as spec

MAX_SPLITS = 3
"""Splits shown per scenario, at most (those whose branches differ most)."""
YES, NO, UNDECIDED = "yes", "no", "n/a"


@dataclass(frozen=True)
class Branch:
    """The replications where one outcome came about."""

    outcome: str
    """yes, no or n/a (the outcome was never decided: no offensive, or still fighting)."""
    label: str
    """The outcome in plain words."""
    replications: list[int]
    share: float
    expected: float
    """The probability the scenario file sets for this outcome (NaN where it cannot say)."""


@dataclass(frozen=True)
class Split:
    """One event outcome that differs between replications, and its branches."""

    scenario: str
    event: str
    aspect: str
    """``happens`` or ``captured:<site>``."""
    branches: list[Branch]
    spread: float
    """Largest gap between branch means of China's imports from Myanmar (t): the ordering."""
    also: tuple[str, ...] = ()
    """Other events whose outcome split the replications in exactly the same way."""


def outcome_table(result: Result) -> pd.DataFrame:
    """A table of replications x (event, aspect): yes, no, or n/a where never recorded."""
    frame = result.outcomes
    reps = sorted(result.imports.replication.unique())
    if frame.empty:
        return pd.DataFrame(index=pd.Index(reps, name="replication"))
    wide = frame.assign(value=np.where(frame.outcome, YES, NO)).pivot_table(
        index="replication", columns=["event", "aspect"], values="value", aggfunc="first"
    )
    return wide.reindex(index=reps).fillna(UNDECIDED)


def splits(result: Result) -> list[Split]:
    """The outcomes that split this scenario's replications, those that matter most first."""
    table = outcome_table(result)
    china = china_from_myanmar(result).sum(axis=1)
    found = []
    for (event, aspect), same in _alike(table).items():
        column = table[(event, aspect)]
        branches = [
            _branch(result.scenario, (event, aspect), same, str(outcome), part, len(table))
            for outcome, part in column.groupby(column).groups.items()
        ]
        branches.sort(key=lambda b: [YES, NO, UNDECIDED].index(b.outcome))
        means = [float(china.loc[b.replications].mean()) for b in branches]
        spread = max(means) - min(means)
        also = tuple(e for e, _ in same)
        found.append(Split(result.scenario.name, event, aspect, branches, spread, also))
    found.sort(key=lambda s: -s.spread)
    return found[:MAX_SPLITS]


Outcome = tuple[str, str]
"""(event, aspect) of an outcome column."""


def _alike(table: pd.DataFrame) -> dict[Outcome, list[Outcome]]:
    """Each outcome that splits the replications, with the later ones that split them the
    same way (the same outcome in every replication), which it stands for."""
    first: dict[tuple[str, ...], Outcome] = {}
    alike: dict[Outcome, list[Outcome]] = {}
    for event, aspect in table.columns:
        column = table[(event, aspect)]
        if column.nunique() < 2:
            continue
        key = (str(aspect).split(":")[0], *map(str, column.to_numpy()))
        outcome = (str(event), str(aspect))
        if key in first:
            alike[first[key]].append(outcome)
        else:
            first[key] = outcome
            alike[outcome] = []
    return alike


def _branch(
    s: spec.Scenario,
    outcome_of: Outcome,
    same: list[Outcome],
    outcome: str,
    reps: pd.Index,
    total: int,
) -> Branch:
    event, aspect = outcome_of
    words = [describe(s, e, a, outcome) for e, a in [outcome_of, *same]]
    return Branch(
        outcome=outcome,
        label=" and ".join(dict.fromkeys(words)),
        replications=sorted(int(r) for r in reps),
        share=len(reps) / max(1, total),
        expected=expected(s, event, aspect, outcome),
    )


def expected(s: spec.Scenario, event: str, aspect: str, outcome: str) -> float:
    """The chance of an outcome as the scenario file sets it (NaN where it does not follow
    from the file alone, e.g. when a drawn date may fall beyond the horizon)."""
    ev = s.events.get(event)
    if ev is None:
        return math.nan
    p = float(ev.probability)
    if ev.decision is not None and ev.decision in s.decisions:
        p *= float(s.decisions[ev.decision].probability)
    if aspect == "happens":
        if not isinstance(ev.start, date):
            return math.nan if ev.start.high > s.end else {YES: p, NO: 1 - p}.get(outcome, math.nan)
        return {YES: p, NO: 1 - p}.get(outcome, math.nan)
    if aspect.startswith("captured:") and isinstance(ev, spec.Offensive):
        c = float(ev.capture_probability)
        return {YES: p * c, NO: p * (1 - c), UNDECIDED: 1 - p}.get(outcome, math.nan)
    return math.nan


# --- plain words -------------------------------------------------------------------------------


def short(name: str) -> str:
    """A long entity name cut at its first comma: ``Kanpiketi - Houqiao (Tengchong)``."""
    return name.split(",")[0].strip()


def _group(s: spec.Scenario, gid: str) -> str:
    return short(s.groups[gid].name) if gid in s.groups else gid


def _importer(s: spec.Scenario, iid: str) -> str:
    return s.importers[iid].name if iid in s.importers else iid


def _when(ev: spec.EventBase) -> str:
    if isinstance(ev.start, date):
        return f" from {pd.Timestamp(ev.start):%b %Y}"
    return ""


def describe(s: spec.Scenario, event: str, aspect: str, outcome: str) -> str:
    """An outcome in plain words, with the scenario's names for groups, gates and sites."""
    ev = s.events.get(event)
    if ev is None:
        return f"{event}: {aspect} {outcome}"
    if aspect.startswith("captured:"):
        return _capture(s, ev, aspect.split(":", 1)[1], outcome)
    yes, no = _phrases(s, ev, event)
    return yes + _when(ev) if outcome == YES else no


def _capture(s: spec.Scenario, ev: spec.Event, site: str, outcome: str) -> str:
    name = short(s.sites[site].name) if site in s.sites else site
    attacker = _group(s, ev.attacker) if isinstance(ev, spec.Offensive) else "the attacker"
    if outcome == YES:
        return f"the {attacker} takes {name}"
    if outcome == NO:
        return f"{name} holds out against the {attacker}"
    return f"no capture decided at {name} (no offensive, or still fighting at the horizon)"


def _levy(ev: spec.LevyChange) -> str:
    """A levy in words: '6,000 USD/t', '20% of value', '35,000 CNY/t' or their sum."""
    parts = [f"{ev.levy_usd_per_t:,.0f} USD/t"] if ev.levy_usd_per_t else []
    if ev.levy_cny_per_t:
        parts.append(f"{ev.levy_cny_per_t:,.0f} CNY/t")
    if ev.levy_share:
        parts.append(f"{ev.levy_share:.0%} of value")
    return " + ".join(parts) or "0 USD/t"


def _phrases(s: spec.Scenario, ev: spec.Event, event: str) -> tuple[str, str]:
    """(happens, does not happen) for one event."""
    if isinstance(ev, spec.ImportBan):
        who = _importer(s, ev.importer)
        whom = f"the {_group(s, ev.group)}'s" if ev.group else f"{ev.origin}'s"
        return (
            f"{who} refuses {ev.fraction:.0%} of {whom} product",
            f"{who} does not refuse {whom} product",
        )
    if isinstance(ev, spec.BorderClosure):
        gate = short(s.crossings[ev.crossing].name) if ev.crossing in s.crossings else ev.crossing
        return f"the {gate} crossing closes", f"the {gate} crossing stays open"
    if isinstance(ev, spec.Offensive):
        attacker = _group(s, ev.attacker)
        return f"the {attacker} attacks", f"no {attacker} offensive"
    if isinstance(ev, spec.ControlChange):
        what = " and ".join(
            [w for w, given in (("sites", ev.sites), ("crossings", ev.crossings)) if given]
        )
        return f"{what} pass to the {_group(s, ev.group)}", "no change of control"
    if isinstance(ev, spec.LevyChange):
        group = _group(s, ev.group)
        return f"the {group} sets its levy to {_levy(ev)}", f"the {group}'s levy stays"
    if isinstance(ev, spec.TariffChange):
        who = _importer(s, ev.importer)
        return f"{who} sets a {ev.rate:.0%} tariff on {ev.origin}", f"{who}'s tariff stays"
    if isinstance(ev, spec.SanctionsChange):
        who, whom = _importer(s, ev.importer), _group(s, ev.group)
        return f"{who} sets sanctions on the {whom} to {ev.fraction:.0%}", f"{who}'s sanctions stay"
    if isinstance(ev, spec.BuyersChange):
        group = _group(s, ev.group)
        buyers = ", ".join(_importer(s, b) for b in ev.buyers) or "no one"
        return f"the {group} sells to {buyers}", f"the {group}'s buyers stay the same"
    if isinstance(ev, spec.Interference):
        route = s.routes[ev.route].name or ev.route if ev.route in s.routes else ev.route
        return f"interference on the route {short(route)}", f"no interference on {short(route)}"
    return f"{event} happens", f"{event} does not happen"


# --- what each branch leads to -----------------------------------------------------------------


@dataclass(frozen=True)
class Consequence:
    """One branch and what follows in it; a row of ``compare_outcomes.csv``."""

    scenario: str
    event: str
    aspect: str
    outcome: str
    label: str
    replications: int
    share: float
    expected: float
    china_t_mean: float
    """China's imports from Myanmar over the common horizon (t), mean over the branch."""
    china_t_p5: float
    china_t_p95: float
    shortfall_pct_mean: float
    """Paired shortfall against the reference, % of its tonnes (NaN for the reference)."""
    quad_t_mean: float
    """Quad imports from Myanmar over the horizon, each tonne once (t)."""
    sentence: str = ""


def consequences(comparison: Comparison) -> list[Consequence]:
    """Every branch of every split of every scenario, with what follows in it."""
    out = []
    for result in comparison.results:
        for split in splits(result):
            for branch in split.branches:
                out.append(_consequence(comparison, result, split, branch))
    return out


def branch_table(comparison: Comparison) -> pd.DataFrame:
    """``consequences`` as a table (compare_outcomes.csv)."""
    rows = [c.__dict__ for c in consequences(comparison)]
    return pd.DataFrame(rows, columns=list(Consequence.__dataclass_fields__))


def _consequence(
    comparison: Comparison, result: Result, split: Split, branch: Branch
) -> Consequence:
    ref, this = paired_common(china_from_myanmar(comparison.reference), china_from_myanmar(result))
    reps = [r for r in branch.replications if r in this.index]
    china = this.loc[reps].sum(axis=1).to_numpy()
    first = ref.loc[reps].sum(axis=1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(first > 0, 100.0 * (first - china) / first, np.nan)
    is_reference = result.scenario.name == comparison.names[0]
    quad = quad_from_myanmar(result).loc[reps].sum(axis=1).to_numpy()
    found = Consequence(
        scenario=result.scenario.name,
        event="+".join([split.event, *split.also]),
        aspect=split.aspect,
        outcome=branch.outcome,
        label=branch.label,
        replications=len(reps),
        share=branch.share,
        expected=branch.expected,
        china_t_mean=float(china.mean()),
        china_t_p5=float(np.quantile(china, 0.05)),
        china_t_p95=float(np.quantile(china, 0.95)),
        shortfall_pct_mean=(
            math.nan if is_reference or not np.isfinite(pct).any() else float(np.nanmean(pct))
        ),
        quad_t_mean=float(quad.mean()),
    )
    return Consequence(**{**found.__dict__, "sentence": sentence(found, comparison, len(this))})


def sentence(c: Consequence, comparison: Comparison, total: int) -> str:
    """A branch of outcomes in one sentence, with what follows from it.

    ``China refuses ... in 14 of 20 replications (70%; the scenario sets 70%): China then
    imports 150,000 t from Myanmar over 2025-2030, 47% short of baseline; the Quad 25,000 t.``
    """
    label = c.label[:1].upper() + c.label[1:]
    sets = "" if math.isnan(c.expected) else f"; the scenario sets {c.expected:.0%}"
    head = f"{label} in {c.replications} of {total} replications ({c.share:.0%}{sets})"
    reference = comparison.titles[comparison.names[0]]
    if math.isnan(c.shortfall_pct_mean):
        versus = ""
    elif c.shortfall_pct_mean >= 0:
        versus = f", {c.shortfall_pct_mean:.0f}% short of {reference}"
    else:
        versus = f", {-c.shortfall_pct_mean:.0f}% above {reference}"
    body = f"China then imports {c.china_t_mean:,.0f} t from Myanmar over {comparison.span}{versus}"
    if c.quad_t_mean > 0:
        body += f"; the Quad {c.quad_t_mean:,.0f} t (each tonne once)"
    return f"{head}: {body}."
