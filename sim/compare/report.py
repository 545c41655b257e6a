"""report.html: one self-contained page per comparison, readable offline in any browser.

Images are embedded as base64 PNG, styles are inline, nothing is fetched: the page can be
mailed or archived alone. Every text that comes from a scenario file is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.compare.comparison import Comparison, Tables, format_value
from sim.compare.plots import scenario_colours

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #e4e4e4; }
th { background: #f4f4f4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.scenario td { font-weight: 600; background: #fafafa; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          margin-right: 0.4em; vertical-align: -0.1em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.82em; }
.meta { color: #555; font-size: 0.9em; }
dt { font-weight: 600; } dd { margin: 0 0 0.6em 1.2em; }
"""


def render(comparison: Comparison, kpis: pd.DataFrame, tables: Tables, folder: Path) -> str:
    """The page: run facts, both figures, the KPI tables, definitions, each scenario's text.

    ``folder`` holds the PNGs written just before (compare_imports.png, compare_annual.png).
    """
    colours = scenario_colours(comparison.names)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Scenario comparison: {_e(', '.join(comparison.names))}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Rare-earth supply from Myanmar: scenario comparison</h1>",
        _meta(comparison),
        "<h2>Monthly imports</h2>",
        _image(folder / "compare_imports.png", "Monthly imports from Myanmar by scenario"),
        "<h2>Annual totals</h2>",
        _image(folder / "compare_annual.png", "Annual totals by scenario"),
        "<h2>Summary over the horizon</h2>",
        _summary(tables, colours),
        "<h2>Imports and shortfall by year</h2>",
        f"<p>Tonnes, mean of {comparison.replications} paired replications; 5th and 95th "
        "percentiles of every figure are in <code>compare_kpis.csv</code>.</p>",
        _annual(tables, colours),
        "<h2>Definitions</h2>",
        _definitions(tables.reference),
        "<h2>Scenarios</h2>",
        *(_scenario(comparison, i, colours) for i in range(len(comparison.results))),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _meta(comparison: Comparison) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<p class="meta">Scenarios: {_e(", ".join(comparison.names))}. Reference (first): '
        f"<b>{_e(comparison.names[0])}</b>. Master seed {comparison.seed}, "
        f"{comparison.replications} replication(s) per scenario with the same replication "
        f"indices (common random numbers). sim {__version__}, written {when}.</p>"
    )


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img src="data:image/png;base64,{data}" alt="{_e(alt)}"></p>'


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{_e(colour)}"></span>'


def _summary(tables: Tables, colours: dict[str, str]) -> str:
    heads = list(tables.summary.columns)
    rows = ["<table><tr><th>scenario</th>", *(f"<th>{_e(h)}</th>" for h in heads), "</tr>"]
    for name, row in tables.summary.iterrows():
        cells = "".join(
            f'<td class="num">{_e(format_value(row[h], h.endswith("(%)")))}</td>' for h in heads
        )
        rows.append(f"<tr><td>{_swatch(colours[str(name)])}{_e(name)}</td>{cells}</tr>")
    rows.append("</table>")
    return "".join(rows)


def _annual(tables: Tables, colours: dict[str, str]) -> str:
    columns = list(tables.annual.columns)
    out = ["<table><tr><th>scenario / measure</th>"]
    out += [f'<th class="num">{_e(c)}</th>' for c in columns]
    out.append("</tr>")
    for name in dict.fromkeys(tables.annual.index.get_level_values(0)):
        cell = f'<td colspan="{len(columns) + 1}">{_swatch(colours[name])}{_e(name)}</td>'
        out.append(f'<tr class="scenario">{cell}</tr>')
        for (_, measure), row in tables.annual.loc[[name]].iterrows():
            pct = str(measure).endswith("%")
            cells = "".join(
                f'<td class="num">{_e(format_value(_cell(row[c]), pct))}</td>' for c in columns
            )
            out.append(f"<tr><td>{_e(measure)}</td>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _cell(value: object) -> object:
    return math.nan if value is None else value


def _definitions(reference: str) -> str:
    items = {
        "Imports": "Tonnes of rare-earth product crossing into the country, by month of "
        "passage (as China's customs count them). US-bound product that crosses India is counted "
        "by both India and the US; the Quad line counts each tonne once, at its first Quad border.",
        "Band / range": "5th to 95th percentile over replications; the line is the mean.",
        f"Shortfall vs {reference}": f"({reference} - this scenario) in China's imports from "
        f"Myanmar, per replication paired with the same replication of {reference}; % of "
        f"{reference}'s imports. Negative: more than {reference}.",
        "Months to recover to 90%": "On the mean monthly series of China's imports from Myanmar: "
        f"months from the first month below 90% of {reference}'s same month until the series is "
        "back at or above 90% and stays there to the end of the horizon. 0: never below; "
        "never: still below at the end.",
        "Reached Quad processors": "Tonnes delivered to Indian and US/allied separation plants "
        "over the horizon (processed or queued there).",
        "Peak stockpile on sites": "Largest total product held at mining sites at any dispatch.",
    }
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items.items())
    return f"<dl>{body}</dl>"


def _scenario(comparison: Comparison, index: int, colours: dict[str, str]) -> str:
    result = comparison.results[index]
    s = result.scenario
    file = comparison.files[index]
    header = scenario_header(Path(file))
    parts = [
        f"<h3>{_swatch(colours[s.name])}{_e(s.name)}</h3>",
        f'<p class="meta">{_e(file)}; {s.start} to {s.end}; {len(s.events)} scheduled event(s)</p>',
        f"<p>{_e(s.description.strip() or '(no description)')}</p>",
    ]
    if header:
        parts.append(
            "<details><summary>Sources encoded and assumptions (file header)</summary>"
            f"<pre>{_e(header)}</pre></details>"
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
