"""report.html: one self-contained page per comparison, readable offline in any browser.

It opens with the headline (which future hurts most, when, how deep, how likely, how long to
recover, what reaches the Quad), then the outcome splits of scenarios whose random events have
discrete outcomes, then the figures, the tables, the definitions and each scenario's own text.
Images are embedded, styles and the sorting script inline (``sim.io.html``); every text from a
scenario file is HTML-escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.compare.branches import Consequence
from sim.compare.comparison import Comparison, Tables, format_value
from sim.compare.headline import THRESHOLDS, Line, month_name, recovery_text, sentence
from sim.compare.plots import scenario_colours
from sim.io.html import Cell, e, image, number_cell, page, swatch, table, text_cell


@dataclass(frozen=True)
class Contents:
    """Everything the page shows, computed once by the command."""

    comparison: Comparison
    kpis: pd.DataFrame
    tables: Tables
    headline: list[Line]
    consequences: list[Consequence]
    folder: Path
    """Holds the PNGs written just before (compare_imports, compare_annual, compare_outcomes)."""


def render(contents: Contents) -> str:
    """The page: headline, outcome splits, figures, tables, definitions, the scenarios."""
    c = contents.comparison
    colours = scenario_colours(c.names)
    reference = c.titles[c.names[0]]
    body = [
        "<h1>Rare-earth supply from Myanmar: scenario comparison</h1>",
        _meta(c),
        '<nav><a href="#headline">Headline</a><a href="#outcomes">Outcome splits</a>'
        '<a href="#monthly">Monthly imports</a><a href="#annual">Annual totals</a>'
        '<a href="#tables">Tables</a><a href="#definitions">Definitions</a>'
        '<a href="#scenarios">Scenarios</a></nav>',
        '<h2 id="headline">Headline</h2>',
        *_headline(contents, colours, reference),
        '<h2 id="outcomes">Outcome splits</h2>',
        *_outcomes(contents, colours),
        '<h2 id="monthly">Monthly imports</h2>',
        image(contents.folder / "compare_imports.png", "Monthly imports from Myanmar by scenario"),
        '<h2 id="annual">Annual totals</h2>',
        image(contents.folder / "compare_annual.png", "Annual totals by scenario"),
        '<h2 id="tables">Summary over the horizon</h2>',
        _summary(contents.tables, c, colours),
        "<h3>Imports and shortfall by year</h3>",
        f"<p>Tonnes, mean of {c.replications} paired replications; 5th and 95th percentiles of "
        "every figure are in <code>compare_kpis.csv</code>, the same table with years as columns "
        "in <code>compare_annual.csv</code>. The Quad counts each tonne once, at its first Quad "
        "border; the rows beneath it say where those tonnes are bound.</p>",
        _annual(contents.tables, c, colours),
        '<h2 id="definitions">Definitions</h2>',
        _definitions(reference),
        '<h2 id="scenarios">Scenarios</h2>',
        *(_scenario(c, i, colours) for i in range(len(c.results))),
    ]
    return page(f"Scenario comparison: {', '.join(c.names)}", body)


def _meta(comparison: Comparison) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<p class="meta">Scenarios: {e(", ".join(comparison.names))}. Reference (first): '
        f"<b>{e(comparison.titles[comparison.names[0]])}</b>. Master seed {comparison.seed}, "
        f"{comparison.replications} replication(s) per scenario with the same replication "
        f"indices (common random numbers). sim {__version__}, written {when}.</p>"
    )


def _name_cell(name: str, title: str, colours: dict[str, str]) -> Cell:
    return Cell(f"{swatch(colours[name])}{e(title)}", title, name=True)


def _headline(contents: Contents, colours: dict[str, str], reference: str) -> list[str]:
    c = contents.comparison
    lines = contents.headline
    split = {x.scenario for x in contents.consequences}
    ranked = [line for line in lines if line.rank is not None]
    parts = ['<section id="headline-section">']
    if ranked:
        top = ranked[0]
        more = (
            ' Its replications split by how a random event turned out: see <a href="#outcomes">'
            "outcome splits</a>."
            if top.scenario in split
            else ""
        )
        parts.append(
            f'<p class="lead"><b>Hurts most:</b> {e(sentence(top, reference, c.span))}{more}</p>'
        )
    parts.append(
        f"<p>Shortfall of China's imports from Myanmar against <b>{e(reference)}</b> over "
        f"{e(c.span)}, each replication paired with the same replication of the reference "
        f"({c.replications} replications); ranked by the mean shortfall, largest first. "
        "P &gt; N%: the chance that the shortfall exceeds N%. Click a column to sort.</p>"
    )
    year = lines[0].quad_year if lines else ""
    heads = [
        "rank",
        "scenario",
        "shortfall",
        "5-95%",
        "worst month",
        "depth (5-95%)",
        *(f"P > {t}%" for t in THRESHOLDS),
        "back to 90%",
        "never back",
        f"Quad plants {year} (t)",
        "Quad 5-95%",
        f"separated {year} (t)",
    ]
    rows = [_headline_row(line, colours) for line in lines]
    parts.append('<div class="wide">' + table(heads, rows, table_id="headline-table") + "</div>")
    parts.append("</section><ul>")
    parts += [f"<li>{e(sentence(line, reference, c.span))}</li>" for line in ranked[1:]]
    parts.append("</ul>")
    return parts


def _headline_row(line: Line, colours: dict[str, str]) -> list[Cell]:
    reference = line.rank is None
    mean, low, high = line.shortfall_pct
    depth, d_low, d_high = line.worst_depth_pct
    has_worst = bool(line.worst_month) and not reference and not math.isnan(depth)
    measured = not reference and not math.isnan(mean)
    recover = (
        Cell("-", 1e9, True)
        if reference
        else Cell(
            e(recovery_text(line, short=True)),
            1e9 if math.isnan(line.recover_months) else line.recover_months,
            True,
        )
    )
    never = line.never_recover_share
    return [
        Cell("ref" if reference else str(line.rank), 1e9 if reference else line.rank, True),
        _name_cell(line.scenario, line.title, colours),
        number_cell(mean if measured else None, f"{mean:.0f}%"),
        Cell(e(f"{low:.0f} to {high:.0f}%") if measured else "-", low if measured else "", True),
        Cell(e(month_name(line.worst_month)) if has_worst else "-", line.worst_month, name=True),
        number_cell(
            depth if has_worst else None,
            f"{depth:.0f}% ({d_low:.0f} to {d_high:.0f}%)" if has_worst else None,
        ),
        *(
            number_cell(line.chance[t] * 100 if measured else None, f"{line.chance[t]:.0%}")
            for t in THRESHOLDS
        ),
        recover,
        number_cell(never * 100 if measured else None, f"{never:.0%}"),
        number_cell(line.quad_t[0]),
        Cell(e(f"{line.quad_t[1]:,.0f} to {line.quad_t[2]:,.0f}"), line.quad_t[1], True),
        number_cell(line.quad_processed_t[0]),
    ]


def _outcomes(contents: Contents, colours: dict[str, str]) -> list[str]:
    c = contents.comparison
    split = {x.scenario for x in contents.consequences}
    plain = [c.titles[n] for n in c.names if n not in split]
    if not contents.consequences:
        return [
            "<p>No scenario has a random event with discrete outcomes that differ between "
            "replications: each scenario's mean line describes its future.</p>"
        ]
    parts = [
        "<p>Where a random event either happens or not (or an offensive takes a site or not), "
        "the replications split into branches with different futures, and the scenario's mean "
        "line describes none of them. Each branch: its share of replications, the probability "
        "the scenario file sets, and what follows.</p>"
    ]
    for name in c.names:
        mine = [x for x in contents.consequences if x.scenario == name]
        if not mine:
            continue
        parts.append(f"<h3>{swatch(colours[name])}{e(c.titles[name])}</h3><ul>")
        parts += [f"<li>{e(x.sentence)}</li>" for x in mine]
        parts.append("</ul>")
    parts.append(
        image(contents.folder / "compare_outcomes.png", "Each outcome split, branch by branch")
    )
    heads = ["scenario", "outcome", "replications", "share", "the file sets", "China, t"]
    heads += ["China 5-95%", "shortfall", "Quad, t"]
    rows = [
        [
            _name_cell(x.scenario, c.titles[x.scenario], colours),
            text_cell(x.label),
            number_cell(x.replications),
            number_cell(x.share * 100, f"{x.share:.0%}"),
            number_cell(
                None if math.isnan(x.expected) else x.expected * 100,
                None if math.isnan(x.expected) else f"{x.expected:.0%}",
            ),
            number_cell(x.china_t_mean),
            Cell(e(f"{x.china_t_p5:,.0f} to {x.china_t_p95:,.0f}"), x.china_t_p5, True),
            number_cell(
                x.shortfall_pct_mean,
                None if math.isnan(x.shortfall_pct_mean) else f"{x.shortfall_pct_mean:.0f}%",
            ),
            number_cell(x.quad_t_mean),
        ]
        for x in contents.consequences
    ]
    parts.append(table(heads, rows, table_id="outcomes-table"))
    parts.append(
        f"<p>Tonnes over {e(c.span)}; the shortfall is against the reference, paired by "
        "replication. All branches are in <code>compare_outcomes.csv</code>.</p>"
    )
    if plain:
        parts.append("<p>No discrete random outcome splits: " + e(", ".join(plain)) + ".</p>")
    return parts


def _summary(tables: Tables, comparison: Comparison, colours: dict[str, str]) -> str:
    heads = list(tables.summary.columns)
    rows = []
    for name, row in tables.summary.iterrows():
        cells = [_name_cell(str(name), comparison.titles[str(name)], colours)]
        for h in heads:
            value = row[h]
            if isinstance(value, str):
                cells.append(Cell(e(value), 1e12, True))
            else:
                cells.append(number_cell(float(value), format_value(value, h.endswith("(%)"))))
        rows.append(cells)
    return table(["scenario", *heads], rows, table_id="summary-table")


def _annual(tables: Tables, comparison: Comparison, colours: dict[str, str]) -> str:
    columns = list(tables.annual.columns)
    out = ['<table id="annual-table"><thead><tr><th>scenario / measure</th>']
    out += [f'<th class="num">{e(col)}</th>' for col in columns]
    out.append("</tr></thead><tbody>")
    for name in dict.fromkeys(tables.annual.index.get_level_values(0)):
        title = comparison.titles[str(name)]
        cell = f'<td colspan="{len(columns) + 1}">{swatch(colours[name])}{e(title)}</td>'
        out.append(f'<tr class="group">{cell}</tr>')
        for (_, measure), row in tables.annual.loc[[name]].iterrows():
            pct = str(measure).endswith("%")
            cells = "".join(
                f'<td class="num">{e(format_value(_cell(row[col]), pct))}</td>' for col in columns
            )
            label = e(str(measure)).replace("  ", "&nbsp;&nbsp;&nbsp;&nbsp;")
            out.append(f"<tr><td>{label}</td>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(value: object) -> object:
    return math.nan if value is None else value


def _definitions(reference: str) -> str:
    items = {
        "Imports": "Tonnes of rare-earth product crossing into the country, by month of "
        "passage (as China's customs count them). US-bound product that crosses India is counted "
        "by both India and the US, so the two are never added: the Quad counts each tonne once, "
        "at its first Quad border, and says where it is bound (the country of the plant its "
        "route ends at).",
        "Band / range": "5th to 95th percentile over replications; the line is the mean.",
        f"Shortfall vs {reference}": f"({reference} - this scenario) in China's imports from "
        f"Myanmar, per replication paired with the same replication of {reference}; % of "
        f"{reference}'s imports. Negative: more than {reference}.",
        "Worst month": "The earliest month whose mean shortfall (tonnes) is within 5% of the "
        "deepest; its depth is that month's mean shortfall as % of the reference's mean that "
        "month, with the 5th-95th percentile of the replications' depth.",
        "P(shortfall > N%)": "The share of replications whose shortfall over the horizon "
        "exceeds N% of the reference's imports.",
        "Months to recover to 90%": "On the mean monthly series of China's imports from Myanmar: "
        f"months from the first month below 90% of {reference}'s same month until the series is "
        "back at or above 90% and stays there to the end of the horizon. 0: never below; "
        "never: still below at the end. The share of replications that never recover is given "
        "beside it.",
        "Reached Quad processors": "Tonnes delivered to Quad and allied separation plants "
        "(IREL in India, Lynas in Malaysia, MP Materials in the US), processed or queued "
        "there: each tonne once.",
        "Processed by Quad plants": "Tonnes those plants separated, within their published "
        "(ramping) capacity: what the Quad actually gains. Delivered minus processed waits in "
        "the plants' queues.",
        "China's heavy-RE dependence": "China's medium/heavy imports from Myanmar over its own "
        "ionic-clay mining under quota (R43-R45), per year: 1.6 in 2024 by seed 003.",
        "Outcome split": "Replications grouped by the discrete outcome of one random event "
        "(it happens or not; an offensive takes a site or not). A branch's share is its share "
        "of replications; 'the file sets' is the probability the scenario gives it.",
        "Peak stockpile on sites": "Largest total product held at mining sites at any dispatch.",
    }
    body = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items.items())
    return f"<dl>{body}</dl>"


def _scenario(comparison: Comparison, index: int, colours: dict[str, str]) -> str:
    result = comparison.results[index]
    s = result.scenario
    file = comparison.files[index]
    header = scenario_header(Path(file))
    parts = [
        f"<h3>{swatch(colours[s.name])}{e(comparison.titles[s.name])} "
        f'<span class="meta">({e(s.name)})</span></h3>',
        f'<p class="meta">{e(file)}; {s.start} to {s.end}; {len(s.events)} scheduled event(s)</p>',
        f"<p>{e(s.description.strip() or '(no description)')}</p>",
    ]
    if header:
        parts.append(
            "<details><summary>Sources encoded and assumptions (file header)</summary>"
            f"<pre>{e(header)}</pre></details>"
        )
    return "\n".join(parts)


def scenario_header(path: Path) -> str:
    """The comment block at the top of a scenario file (what it represents, sources,
    assumptions), without the ``#`` marks; empty when the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].removeprefix(" "))
    return "\n".join(lines)
