"""Self-contained HTML pages: one file, readable offline, tables sortable without a server.

Shared by the comparison and sweep reports: images are embedded as base64 PNG, the style and
the few lines of script are inline, nothing is fetched. Every text that comes from an input
file is HTML-escaped here (``e``). A table built with ``table`` sorts by any column on a click
of its header (numbers as numbers, by the cell's ``data-sort`` value), ascending then
descending, and says so to screen readers (``aria-sort``).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1250px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.5em 0 1em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th { background: #f4f4f4; text-align: left; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: #aaa; font-size: 0.8em; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; color: #333; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; color: #333; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { white-space: nowrap; }
div.wide { overflow-x: auto; }
tr.group td { font-weight: 600; background: #fafafa; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          margin-right: 0.4em; vertical-align: -0.1em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.82em; }
.meta { color: #555; font-size: 0.9em; }
.lead { font-size: 1.08em; background: #f6f8fb; border-left: 4px solid #0072B2;
        padding: 0.6em 0.9em; }
.warning { background: #fff4e5; border-left: 4px solid #E69F00; padding: 0.5em 0.9em; }
dt { font-weight: 600; } dd { margin: 0 0 0.6em 1.2em; }
nav a { margin-right: 1em; }
"""

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[column];
        var text = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort")
                                                  : cell.textContent.trim();
        var number = parseFloat(text);
        return isNaN(number) || !/^-?[0-9.eE+-]+$/.test(text) ? text.toLowerCase() : number;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { x = String(x); y = String(y); }
        var order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def e(text: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


def page(title: str, body: Sequence[str]) -> str:
    """A whole page around ``body`` (already HTML)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        *body,
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def image(path: Path, alt: str) -> str:
    """A PNG embedded in the page (a note in its place when the figure was not written)."""
    if not path.is_file():
        return f'<p class="meta">[figure not written: {e(alt)}]</p>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img src="data:image/png;base64,{data}" alt="{e(alt)}"></p>'


def swatch(colour: str) -> str:
    """A small square of ``colour`` (a legend's key)."""
    return f'<span class="swatch" style="background:{e(colour)}"></span>'


@dataclass(frozen=True)
class Cell:
    """A table cell: what is shown (HTML), what it sorts by, and whether it is a number."""

    html: str
    sort: float | str | None = None
    numeric: bool = False
    name: bool = False
    """A name that should not wrap (a scenario, a parameter)."""


def text_cell(value: object) -> Cell:
    """A table cell of text, escaped."""
    return Cell(e(value))


def number_cell(value: float | None, shown: str | None = None, digits: int = 0) -> Cell:
    """A number, with thousands separators unless ``shown`` is given; NaN shows as ``-``
    and sorts last."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("-", "", True)
    text = shown if shown is not None else f"{value:,.{digits}f}"
    return Cell(e(text), float(value), True)


def table(
    heads: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    sortable: bool = True,
    table_id: str = "",
) -> str:
    """A table with a header row; sortable by any column unless told otherwise."""
    attrs = ' class="sortable"' if sortable else ""
    attrs += f' id="{e(table_id)}"' if table_id else ""
    out = [f"<table{attrs}><thead><tr>"]
    out += [f'<th scope="col">{e(h)}</th>' for h in heads]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for cell in row:
            klass = ' class="num"' if cell.numeric else ' class="name"' if cell.name else ""
            sort = "" if cell.sort is None else f' data-sort="{e(cell.sort)}"'
            cells.append(f"<td{klass}{sort}>{cell.html}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)
