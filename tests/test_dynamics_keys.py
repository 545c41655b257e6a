"""The scenario keys of the disruption dynamics are documented in the JSON Schema (with units)
and known to the loader's did-you-mean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.errors import InputError
from sim.scenario.loader import load_scenario, scenario_json_schema

ROOT = Path(__file__).resolve().parent.parent

KEYS = [
    ("SupplyResponse", "unsold_margin_share"),
    ("Haulage", "release_surge"),
    ("Site", "fuel_crossing"),
    ("Site", "fuel_stock_days"),
    ("BorderClosure", "end"),
    ("BorderClosure", "goods"),
    ("BorderClosure", "capacity_share"),
    ("BorderClosure", "leak_share"),
    ("BorderClosure", "leak_cost_usd_per_t"),
    ("BorderClosure", "ramp_days"),
    ("Scenario", "seasons"),
    ("Season", "affects"),
    ("Season", "depth"),
    ("Season", "regions"),
    ("Season", "sites"),
    ("Season", "years"),
    ("MonthlyDepth", "sep"),
    ("BorderClosure", "repeat"),
    ("Repeat", "every_months"),
    ("Repeat", "times"),
    ("Scenario", "markets"),
    ("Market", "origins"),
    ("OtherSupply", "levels"),
    ("OtherSupply", "response"),
    ("OtherSupply", "domestic"),
    ("Response", "share"),
    ("Response", "capacity_tpm"),
    ("Response", "ramp_tpm_per_year"),
    ("Response", "decline_tpm_per_year"),
    ("Group", "levy_share"),
    ("Group", "levy_cny_per_t"),
    ("LevyChange", "levy_usd_per_t"),
    ("LevyChange", "levy_share"),
    ("LevyChange", "levy_cny_per_t"),
    ("Scenario", "cny_per_usd"),
    ("SupplyResponse", "holdout_margin_usd_per_t"),
    ("ImportBan", "origin"),
    ("ImportBan", "group"),
    ("Site", "capacity_path"),
    ("Processor", "capacity_path"),
    ("CapacityPoint", "factor"),
    ("CapacityChange", "factor"),
    ("CapacityChange", "sites"),
    ("CapacityChange", "processors"),
    ("Crossing", "group"),
    ("Group", "transit"),
    ("Transit", "refuses"),
    ("Transit", "levy_usd_per_t"),
    ("Transit", "levy_share"),
    ("ControlChange", "crossings"),
    ("ControlChange", "sites"),
    ("BorderClosure", "decision"),
    ("Scenario", "decisions"),
    ("Decision", "probability"),
    ("Market", "price"),
    ("PriceResponse", "flexibility"),
    ("PriceResponse", "adjust_months"),
    ("PriceResponse", "floor"),
    ("PriceResponse", "cap"),
    ("PriceResponse", "min_change"),
    ("Flexibility", "mhree"),
]
"""(schema model, key) of every key the dynamics added."""


SECTION = {
    "SupplyResponse": "supply_response:\n  {key}: 1\n",
    "Haulage": "haulage:\n  {key}: 1\n",
    "Site": "sites:\n  kachin_kia:\n    {key}: 1\n",
    "BorderClosure": (
        "events:\n  shut:\n    kind: border_closure\n    crossing: lweje\n"
        "    start: 2023-03-01\n    {key}: 1\n"
    ),
    "Scenario": "{key}: 1\n",
    "Group": "groups:\n  kia:\n    {key}: 1\n",
    "Crossing": "crossings:\n  lweje:\n    {key}: 1\n",
    "Transit": "groups:\n  kia:\n    transit:\n      {key}: 1\n",
    "ControlChange": (
        "events:\n  take:\n    kind: control_change\n    group: kia\n    start: 2023-03-01\n"
        "    {key}: 1\n"
    ),
    "Decision": "decisions:\n  close:\n    {key}: 1\n",
    "PriceResponse": "markets:\n  china:\n    price:\n      {key}: 1\n",
    "Flexibility": ("markets:\n  china:\n    price:\n      flexibility:\n        {key}: 1\n"),
    "Processor": "processors:\n  china_separation:\n    {key}: 1\n",
    "CapacityPoint": (
        "sites:\n  kachin_kia:\n    capacity_path:\n      - start: 2023-01-01\n        {key}: 1\n"
    ),
    "LevyChange": (
        "events:\n  tax:\n    kind: levy_change\n    group: kia\n    start: 2023-03-01\n"
        "    {key}: 1\n"
    ),
    "ImportBan": (
        "events:\n  ban:\n    kind: import_ban\n    importer: china\n    start: 2023-03-01\n"
        "    {key}: 1\n"
    ),
    "CapacityChange": (
        "events:\n  cut:\n    kind: capacity_change\n    factor: 0.5\n    start: 2023-03-01\n"
        "    {key}: 1\n"
    ),
    "Season": "seasons:\n  rain:\n    affects: mining\n    depth: {{}}\n    {key}: 1\n",
    "MonthlyDepth": "seasons:\n  rain:\n    affects: mining\n    depth:\n      {key}: 1\n",
    "Market": "markets:\n  china:\n    {key}: 1\n",
    "OtherSupply": "other_supply:\n  rest_of_world:\n    {key}: 1\n",
    "Response": "other_supply:\n  rest_of_world:\n    response:\n      {key}: 1\n",
    "Repeat": (
        "events:\n  shut:\n    kind: border_closure\n    crossing: lweje\n"
        "    start: 2023-03-01\n    repeat:\n      every_months: 1\n      {key}: 1\n"
    ),
}
"""A file fragment that puts a (misspelt) key in its section."""


def _definition(schema: dict[str, Any], model: str) -> dict[str, Any]:
    return schema["$defs"][model] if model != "Scenario" else schema


@pytest.mark.parametrize(("model", "key"), KEYS)
def test_every_dynamics_key_has_a_description_in_the_json_schema(model: str, key: str) -> None:
    schema = scenario_json_schema()
    field = _definition(schema, model)["properties"][key]
    assert len(field.get("description", "")) > 20


@pytest.mark.parametrize(("model", "key"), KEYS)
def test_a_misspelt_dynamics_key_gets_a_suggestion(
    model: str, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = key[:-1] + ("x" if key[-1] != "x" else "y")
    path = tmp_path / "typo.yaml"
    path.write_text(
        f"extends: {ROOT / 'scenarios' / 'world' / 'myanmar.yaml'}\nname: typo\n"
        + SECTION[model].format(key=typo)
    )
    with pytest.raises(InputError) as raised:
        load_scenario(path)
    assert f"did you mean {key!r}" in str(raised.value)
