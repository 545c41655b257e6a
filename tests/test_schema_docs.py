"""One schema that documents itself: every key of scenario, sweep and targets files carries a
description with its unit, the key tables in the docs are generated from it (and a stale table
fails here), and an event's kind tells the validator which keys to expect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.api import key_tables, refresh_docs, schema
from sim.cli import main
from sim.errors import InputError
from sim.scenario import keytables
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / "scenarios.md", ROOT / "docs" / "sweeps.md"]
KINDS = ("scenario", "sweep", "targets")
UNIT = re.compile(
    r"\bt\b|tonnes?|USD|\bdays?\b|\bmonths?\b|\byears?\b|\bshare\b|0\.\.1|\bchance\b|\bratio\b|"
    r"dimensionless|\bcount\b|%|\bpoints\b|relative|\bunit\b|\bseed\b|\bsamples\b|\bruns\b|"
    r"\blevels\b|YYYY",
    re.IGNORECASE,
)
"""Words that say what a number is counted in."""


@pytest.mark.parametrize("kind", KINDS)
def test_every_key_of_every_file_kind_has_a_description(kind: str) -> None:
    missing = [
        f"{model}.{key}"
        for model, key, node in keytables.walk_properties(schema(kind))
        if not str(node.get("description", "")).strip()
    ]
    assert missing == [], "give each key a docstring or Field(description=...), with its unit"


@pytest.mark.parametrize("kind", KINDS)
def test_every_number_says_its_unit(kind: str) -> None:
    unitless = [
        f"{model}.{key}: {node.get('description')}"
        for model, key, node in keytables.walk_properties(schema(kind))
        if re.search(r"number|distribution", keytables.kind(node))
        and not UNIT.search(str(node.get("description", "")))
    ]
    assert unitless == []


def test_the_key_tables_in_the_docs_are_generated_from_the_schema() -> None:
    stale = refresh_docs(DOCS, write=False)
    assert stale == [], (
        f"stale key tables in {stale}: run `sim schema --docs {' '.join(stale)}` and commit"
    )


def test_the_scenario_docs_show_every_model_a_scenario_file_holds() -> None:
    shown = set(keytables.marked(DOCS[0].read_text(encoding="utf-8")))
    explained_in_prose = {
        "Tonnes",  # an amount by product class, {mhree, lree}
        "Prices",
        "MonthlyDepth",  # jan..dec
        *("Uniform", "LogUniform", "Triangular", "TruncNormal", "Choice", "DateRange"),
    }
    models = set(keytables.models(schema("scenario")))
    unshown = models - explained_in_prose - shown
    assert unshown == set(), (
        f"docs/scenarios.md shows no table of {sorted(unshown)}: add `<!-- keys Model -->` and "
        "`<!-- /keys -->` where it belongs, then run `sim schema --docs docs/scenarios.md`"
    )


def test_the_distributions_table_names_every_distribution() -> None:
    text = DOCS[0].read_text(encoding="utf-8")
    names = {
        node["properties"]["dist"].get("const") or node["properties"]["dist"]["enum"][0]
        for name, node in keytables.models(schema("scenario")).items()
        if "dist" in node.get("properties", {})
    }
    assert names == {"uniform", "loguniform", "triangular", "truncnormal", "choice", "date_range"}
    for name in names:
        assert f"| `{name}`" in text, name


# --- the generator -----------------------------------------------------------------------------


def test_a_table_shows_kind_default_and_meaning() -> None:
    table = key_tables("scenario")["Leg"]
    lines = table.splitlines()
    assert lines[0] == "| key | value | default | meaning |"
    assert "| `to` | id | required |" in table
    assert "| `interdiction` | number 0..1 | `0` | Chance that a shipment" in table
    assert "| `capacity_tpd` | number > 0 or null | null |" in table


def test_marks_choose_keys_and_name_known_models() -> None:
    models = keytables.models(schema("scenario"))
    text = "x\n<!-- keys Offensive only attacker sites -->\nold\n<!-- /keys -->\ny\n"
    filled = keytables.fill(text, models)
    assert "| `attacker` |" in filled
    assert "| `start` |" not in filled
    assert "old" not in filled
    assert keytables.fill(filled, models) == filled
    with pytest.raises(keytables.UnknownTable, match="Ofensive"):
        keytables.fill(text.replace("Offensive", "Ofensive"), models)
    with pytest.raises(keytables.UnknownTable, match="attackr"):
        keytables.fill(text.replace("attacker", "attackr"), models)


def test_sim_schema_docs_rewrites_a_stale_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("# Keys\n\n<!-- keys Crossing -->\n| stale |\n<!-- /keys -->\n", "utf-8")
    assert main(["schema", "--docs", str(doc)]) == 0
    assert capsys.readouterr().out == f"updated: {doc}\n"
    assert "| `capacity_tpd` | number > 0 | required |" in doc.read_text("utf-8")
    assert main(["schema", "--docs", str(doc)]) == 0
    assert capsys.readouterr().out == f"up to date: {doc}\n"


def test_an_unknown_model_in_a_doc_is_one_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc.md"
    text = "<!-- keys Crosing -->\n<!-- /keys -->\n"
    doc.write_text(text, "utf-8")
    with pytest.raises(InputError):
        refresh_docs([doc])
    assert main(["schema", "--docs", str(doc)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(doc) in err
    assert "Crosing" in err
    assert doc.read_text("utf-8") == text


def test_sim_schema_markdown_prints_a_table_per_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--kind", "sweep", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "### SweepSpec\n\n| key | value | default | meaning |" in out
    assert "### Expectation" in out


def test_the_tables_cover_all_three_kinds_of_file() -> None:
    assert set(key_tables()) >= {"Scenario", "SweepSpec", "TargetsDocument", "Site", "Target"}


# --- event kinds: a discriminated union ----------------------------------------------------------


def test_the_schema_tells_editors_the_keys_of_each_event_kind() -> None:
    events = schema("scenario")["properties"]["events"]["patternProperties"]
    union = next(iter(events.values()))
    assert union["discriminator"]["propertyName"] == "kind"
    assert set(union["discriminator"]["mapping"]) == {
        "border_closure",
        "offensive",
        "control_change",
        "import_ban",
        "levy_change",
        "tariff_change",
        "sanctions",
        "buyers_change",
        "interference",
        "capacity_change",
    }


def scenario_with(tmp_path: Path, event: str) -> Path:
    world = ROOT / "scenarios" / "world" / "status_2025.yaml"
    file = tmp_path / "s.yaml"
    file.write_text(f"extends: {world}\nname: s\nevents:\n  e:\n{event}", "utf-8")
    return file


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (  # a closure's key on an offensive: named as a key offensives do not have
            "    kind: offensive\n    attacker: kia\n    sites: [pangwa]\n    days: 30\n"
            "    start: 2025-08-01\n    crossing: kanpiketi\n",
            ["s.yaml:10: events.e.crossing: unknown key 'crossing'"],
        ),
        (  # a misspelt key of the right kind, with a suggestion from that kind's keys
            "    kind: border_closure\n    crosing: kanpiketi\n    start: 2025-08-01\n",
            [
                "s.yaml:4: events.e.crossing: missing required key",
                "s.yaml:6: events.e.crosing: unknown key 'crosing' (did you mean 'crossing'?)",
            ],
        ),
        (  # a wrong value of the right kind's key
            "    kind: import_ban\n    importer: china\n    group: kia\n    fraction: 2\n"
            "    start: 2025-08-01\n",
            ["s.yaml:8: events.e.fraction: must be at most 1"],
        ),
        (
            "    kind: ofensive\n    start: 2025-08-01\n",
            ["s.yaml:5: events.e.kind: unknown kind 'ofensive' (did you mean 'offensive'?)"],
        ),
    ],
)
def test_the_validator_names_the_wrong_key_of_the_right_kind(
    tmp_path: Path, event: str, expected: list[str]
) -> None:
    with pytest.raises(InputError) as caught:
        load_scenario(scenario_with(tmp_path, event))
    lines = [_short(str(p)) for p in caught.value.problems]
    assert [line for line in lines if not line.startswith(tuple(expected))] == []
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, lines)


def _short(line: str) -> str:
    return re.sub(r"^\S*/", "", line)
