"""Human names and units of a sweep's KPIs and parameters, for figures and the report.

A sweep file may name anything itself (``labels:``, by KPI name or parameter path); otherwise
built-in KPIs are spelled out from their dotted names (``imports.china.myanmar.all.2026`` ->
"China's imports from Myanmar, all products, 2026", in t), the sweep's own KPIs show their
expression, and parameters their path in words (``events.china_ultimatum.fraction`` ->
"china ultimatum: share refused").
"""

from __future__ import annotations

import re

from sim.sweep.spec import SweepSpec

PRODUCTS = {"all": "all products", "mhree": "medium/heavy", "lree": "light"}
COUNTRIES = {"us": "the US", "china": "China", "india": "India", "quad": "the Quad"}
TOTALS = {
    "peak_stockpile_t": ("Peak stockpile on mining sites", "t"),
    "lost_t": ("Lost on the road (interdiction)", "t"),
    "quad_delivered_t": ("Delivered to Quad processors", "t"),
    "processed_t": ("Separated by all plants", "t"),
    "mined_t": ("Mined", "t"),
}
FIELDS = {
    "start": "start date",
    "days": "duration (days)",
    "capture_probability": "chance of capture",
    "probability": "chance it happens",
    "fraction": "share refused",
    "levy_usd_per_t": "levy (USD/t)",
    "levy_share": "levy (share of value)",
    "levy_cny_per_t": "levy (CNY/t)",
    "factor": "capacity factor",
    "holdout_margin_usd_per_t": "holdout margin (USD/t)",
    "rate": "tariff rate",
    "interdiction": "interdiction chance",
    "capacity_tpd": "capacity (t/day)",
    "opens": "opening date",
    "ramp_months": "ramp-up (months)",
}
TONNES = re.compile(r"^(imports\.|quad_bound\.|.*_t$)")


def _country(cid: str) -> str:
    return COUNTRIES.get(cid, cid.replace("_", " ").title())


def _possessive(cid: str) -> str:
    name = _country(cid)
    if cid in {"quad", "us"}:
        return "Quad" if cid == "quad" else "US"
    return (name[4:] if name.startswith("the ") else name) + "'s"


def kpi_label(name: str, spec: SweepSpec) -> str:
    """A KPI's human name (without its unit)."""
    if name in spec.labels:
        return spec.labels[name]
    parts = name.split(".")
    if parts[0] == "imports" and len(parts) == 5:
        _, importer, origin, product, year = parts
        source = "all origins" if origin == "all" else _country(origin)
        once = " (each tonne once)" if importer == "quad" else ""
        kind = PRODUCTS.get(product, product)
        return f"{_possessive(importer)} imports{once} from {source}, {kind}, {year}"
    if parts[0] == "quad_bound" and len(parts) == 4:
        _, destination, origin, year = parts
        source = "all origins" if origin == "all" else _country(origin)
        return f"Quad imports from {source} bound for {_country(destination)}, {year}"
    if parts[0] == "months_below_half" and len(parts) == 3:
        _, importer, origin = parts
        source = "all origins" if origin == "all" else _country(origin)
        return (
            f"Months {_possessive(importer)} imports from {source} are below half their "
            "first year's"
        )
    if name in TOTALS:
        return TOTALS[name][0]
    if name in spec.kpis:
        return f"{name.replace('_', ' ')} (= {' '.join(spec.kpis[name].split())})"
    return name


def kpi_unit(name: str, spec: SweepSpec) -> str:
    """``t`` for tonnes, ``months``, or empty where it cannot be told (a ratio, say)."""
    if name.startswith("months_below_half."):
        return "months"
    if TONNES.match(name):
        return "t"
    if name in spec.kpis:
        text = spec.kpis[name]
        names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text)
        kpis = [n for n in names if n not in {"abs", "min", "max"}]
        if kpis and "*" not in text and "/" not in text and all(TONNES.match(n) for n in kpis):
            return "t"
    return ""


def kpi_title(name: str, spec: SweepSpec) -> str:
    """A KPI's name with its unit: ``China's imports ..., 2026 (t)``."""
    unit = kpi_unit(name, spec)
    label = kpi_label(name, spec)
    return f"{label} ({unit})" if unit and not label.endswith(f"({unit})") else label


def parameter_label(path: str, spec: SweepSpec) -> str:
    """A parameter's human name: ``china ultimatum: share refused``."""
    if path in spec.labels:
        return spec.labels[path]
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] in {"events", "sites", "routes", "crossings", "groups"}:
        field = ".".join(parts[2:])
        words = FIELDS.get(parts[2], field.replace("_", " ").replace(".", " "))
        return f"{parts[1].replace('_', ' ')}: {words}"
    return path
