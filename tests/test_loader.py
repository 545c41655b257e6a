"""Specification of the scenario file boundary: what loads, and how each mistake is reported.

Every error test checks the file, line and key path of the problem, because "something raised"
does not help a planner fix a file.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import InputError, Problem
from sim.scenario.loader import (
    Limits,
    derive,
    load_document,
    load_scenario,
    problems_from_validation_error,
    read_yaml,
    scenario_json_schema,
)
from sim.scenario.schema import Scenario

WORLD = """\
name: minimal
start: 2025-01-01
end: 2025-12-31
supply_response:
  full_margin_usd_per_t: 5000
  elasticity: 1.0
groups:
  kia:
    name: Kachin Independence Army
    levy_usd_per_t: 1000
    buyers: [china]
sites:
  pangwa:
    name: Pangwa
    region: Kachin
    group: kia
    capacity_tpm: {mhree: 2000}
    operating_cost_usd_per_t: 3000
    reagent_crossing: kanpaiti
    reagent_stock_days: 30
    stockpile_limit_t: 5000
crossings:
  kanpaiti:
    name: Kanpaiti
    importer: china
    capacity_tpd: 200
processors:
  ganzhou:
    name: Ganzhou
    country: china
    capacity_tpm: {mhree: 10000}
    price_usd_per_t: {mhree: 20000, lree: 5000}
importers:
  china:
    name: China
routes:
  r:
    sites: [pangwa]
    legs:
      - to: kanpaiti
        days: 3
      - to: ganzhou
        days: 2
"""
"""A minimal valid world: one of each part, consistent with sim/scenario/schema.py."""


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing ``needle`` (so tests survive edits)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def problems_of(path: str, **kwargs: Any) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_scenario(path, **kwargs)
    return caught.value.problems


def only(problems: list[Problem], path: str) -> Problem:
    """The single problem at a key path."""
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, f"expected one problem at {path!r}, got {problems}"
    return found[0]


@pytest.fixture
def world(tmp_path: Path) -> str:
    return write(tmp_path, "world.yaml", WORLD)


# --- what loads --------------------------------------------------------------------------------


def test_a_valid_file_loads_into_a_frozen_scenario(world: str) -> None:
    s = load_scenario(world)
    assert s.name == "minimal"
    assert s.start == date(2025, 1, 1)
    assert s.sites["pangwa"].capacity_tpm.mhree == 2000
    assert s.routes["r"].legs[1].to == "ganzhou"
    with pytest.raises(pydantic.ValidationError):
        s.sites["pangwa"].capacity_tpm.mhree = 1  # type: ignore[misc]


def test_extends_chains_merge_mappings_and_replace_lists(tmp_path: Path, world: str) -> None:
    write(
        tmp_path,
        "middle.yaml",
        "extends: world.yaml\n"
        "name: middle\n"
        "sites:\n"
        "  pangwa:\n"
        "    capacity_tpm: {mhree: 1500, lree: 10}\n"
        "groups:\n"
        "  kia:\n"
        "    buyers: [china, india]\n",
    )
    top_text = (
        "extends: middle.yaml\n"
        "name: top\n"
        "sites:\n"
        "  pangwa:\n"
        "    capacity_tpm:\n"
        "      lree: 20\n"
        "routes:\n"
        "  r:\n"
        "    legs:\n"
        "      - {to: ganzhou, days: 9}\n"
    )
    top = write(tmp_path, "top.yaml", top_text)
    s = load_scenario(top)
    assert s.name == "top"
    # mappings merge key by key, the most derived file wins
    assert s.sites["pangwa"].capacity_tpm.mhree == 1500
    assert s.sites["pangwa"].capacity_tpm.lree == 20
    assert s.sites["pangwa"].region == "Kachin"
    # lists are replaced whole, not merged item by item
    assert s.groups["kia"].buyers == ["china", "india"]
    assert [leg.to for leg in s.routes["r"].legs] == ["ganzhou"]
    # provenance: each value is located where its final value was written
    _, provenance = load_document(top)
    assert provenance.locate(("sites", "pangwa", "capacity_tpm", "lree")).file == top
    assert provenance.locate(("sites", "pangwa", "capacity_tpm", "mhree")).file == str(
        tmp_path / "middle.yaml"
    )
    assert provenance.locate(("sites", "pangwa", "region")).file == world
    assert provenance.locate(("routes", "r", "legs", 0, "days")).line == line_of(top_text, "days")


def test_extends_may_list_several_files_applied_in_order(tmp_path: Path, world: str) -> None:
    write(tmp_path, "a.yaml", "name: from_a\ndescription: a\n")
    write(tmp_path, "b.yaml", "name: from_b\n")
    top = write(tmp_path, "top.yaml", "extends: [world.yaml, a.yaml, b.yaml]\n")
    s = load_scenario(top)
    assert (s.name, s.description) == ("from_b", "a")


def test_set_applies_dotted_paths_including_list_indices(tmp_path: Path, world: str) -> None:
    text = (
        "extends: world.yaml\n"
        "set:\n"
        "  sites.pangwa.capacity_tpm.mhree: 2500\n"
        "  routes.r.legs.0.days: 5\n"
        "  importers.india: {name: India, quad: true}\n"
    )
    child = write(tmp_path, "child.yaml", text)
    s = load_scenario(child)
    assert s.sites["pangwa"].capacity_tpm.mhree == 2500
    assert s.routes["r"].legs[0].days == 5
    assert s.importers["india"].quad is True
    _, provenance = load_document(child)
    where = provenance.locate(("importers", "india", "quad"))
    assert (where.file, where.line) == (child, line_of(text, "importers.india"))


def test_a_parents_set_applies_before_the_childs_body(tmp_path: Path, world: str) -> None:
    write(tmp_path, "mid.yaml", "extends: world.yaml\nset:\n  routes.r.legs.0.days: 5\n")
    child = write(tmp_path, "child.yaml", "extends: mid.yaml\nroutes: {r: {name: via kanpaiti}}\n")
    s = load_scenario(child)
    assert s.routes["r"].legs[0].days == 5
    assert s.routes["r"].name == "via kanpaiti"


def test_set_on_a_path_whose_parent_is_missing_suggests_a_key(tmp_path: Path) -> None:
    text = WORLD + "set:\n  sites.pangwa.capacty_tpm.mhree: 1\n"
    path = write(tmp_path, "s.yaml", text)
    p = only(problems_of(path), "sites.pangwa.capacty_tpm.mhree")
    assert (p.file, p.line) == (path, line_of(text, "capacty_tpm"))
    assert "did you mean 'capacity_tpm'?" in p.message


def test_overrides_apply_last_and_are_located_as_override(world: str) -> None:
    s = load_scenario(world, overrides={"routes.r.legs.1.days": 7, "seed": 3})
    assert s.routes["r"].legs[1].days == 7
    assert s.seed == 3
    p = only(
        problems_of(world, overrides={"sites.pangwa.stockpile_limit_t": 0}),
        "sites.pangwa.stockpile_limit_t",
    )
    assert (p.file, p.line) == ("<override>", None)
    assert p.message == "must be greater than 0"


def test_an_override_with_an_unknown_path_is_a_problem(world: str) -> None:
    p = only(
        problems_of(world, overrides={"sites.pangwa.capacity_tpm.x.y": 1}),
        "sites.pangwa.capacity_tpm.x.y",
    )
    assert (p.file, p.line) == ("<override>", None)
    assert "no key" in p.message


# --- YAML-level mistakes -----------------------------------------------------------------------


def test_a_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    text = "name: x\nsites:\n  a: 1\n   b: 2\nend: 2025-01-01\n"
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, 4, "")
    assert p.message.startswith("YAML syntax error: mapping values are not allowed")


def test_an_unclosed_bracket_says_where_it_was_opened(tmp_path: Path) -> None:
    text = "name: x\nsites:\n  a: [1, 2\n  b: 3\n"
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line) == (path, 4)
    assert p.message.startswith("YAML syntax error: while parsing a flow sequence (from line 3)")


def test_an_empty_file_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "# nothing but a comment\n")
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, None, "")
    assert "empty" in p.message


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "a list"), ("42\n", "42")])
def test_a_document_that_is_not_a_mapping_is_a_problem(tmp_path: Path, text: str, got: str) -> None:
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, None, "")
    assert p.message == f"expected a mapping of keys at the top of the file, got {got}"


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    (p,) = problems_of(path)
    assert (p.file, p.message) == (path, "file not found")


def test_an_unsafe_tag_is_refused_without_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = WORLD + f'description: !!python/object/apply:os.system ["touch {marker}"]\n'
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "description"), "description")
    assert p.message == "unsupported tag '!!python/object/apply:os.system'"
    assert not marker.exists()


def test_a_custom_tag_on_a_scalar_is_refused(tmp_path: Path) -> None:
    text = WORLD.replace("elasticity: 1.0", "elasticity: !half 1.0")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line) == (path, line_of(text, "elasticity"))
    assert (p.path, p.message) == ("supply_response.elasticity", "unsupported tag '!half'")


def test_a_duplicate_key_is_a_problem(tmp_path: Path) -> None:
    text = WORLD.replace("    region: Kachin\n", "    region: Kachin\n    region: Shan\n")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "region: Shan"), "sites.pangwa.region")
    assert p.message == f"duplicate key 'region' (first at line {line_of(text, 'region: Kachin')})"


def test_merge_keys_are_refused_in_favour_of_extends(tmp_path: Path) -> None:
    text = "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n"
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, 3, "other.<<")
    assert p.message == "merge keys (<<) are not supported; use extends"


def test_a_key_that_yaml_reads_as_a_boolean_must_be_quoted(tmp_path: Path) -> None:
    text = WORLD.replace("    name: China\n", "    name: China\n    tariffs: {yes: 0.1}\n")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "yes:"), "importers.china.tariffs.yes")
    assert "quote it" in p.message


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    text = "\n".join(lines) + "\n"
    path = write(tmp_path, "bomb.yaml", text)
    started = time.perf_counter()
    (p,) = problems_of(path)
    assert time.perf_counter() - started < 5
    # a..e expand to about 123,000 values; f pushes past the 200,000 limit
    assert (p.file, p.line) == (path, line_of(text, "f: &f"))
    assert p.path == "f"
    assert p.message.startswith("too many values")


def test_limits_can_be_tightened_or_lifted(tmp_path: Path, world: str) -> None:
    (p,) = problems_of(world, limits=Limits(max_bytes=100))
    assert (p.file, p.line) == (world, None)
    assert "too large" in p.message
    assert load_scenario(world, limits=Limits(max_nodes=10_000)).name == "minimal"


def test_deep_nesting_is_refused_where_it_passes_the_limit(tmp_path: Path) -> None:
    text = "".join(" " * depth + "k:\n" for depth in range(100))
    path = write(tmp_path, "deep.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, 51, "")
    assert p.message == "nested more than 50 levels deep"


def test_a_megabyte_of_brackets_is_refused_without_crashing(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.yaml", "a: " + "[" * 500_000 + "]" * 500_000 + "\n")
    (p,) = problems_of(path)
    assert (p.file, p.line, p.message) == (path, 1, "nested more than 50 levels deep")


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", "name: x\na: &loop [*loop]\n")
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, 2, "a")
    assert p.message == "nested more than 50 levels deep"


# --- extends mistakes --------------------------------------------------------------------------


def test_a_cyclic_extends_is_a_problem_at_the_extends_line(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "name: a\nextends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "# b builds on a\nextends: a.yaml\n")
    (p,) = problems_of(a)
    assert (p.file, p.line, p.path) == (b, 2, "extends")
    assert p.message == f"extends cycle: {a} -> {b} -> {a}"


def test_a_cycle_is_shown_with_the_paths_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    (p,) = problems_of("a.yaml")
    assert (p.file, p.line) == ("b.yaml", 1)
    assert p.message == "extends cycle: a.yaml -> b.yaml -> a.yaml"


def test_a_missing_extends_file_is_a_problem_at_its_entry(tmp_path: Path, world: str) -> None:
    text = "name: x\nextends:\n  - world.yaml\n  - missing.yaml\n"
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, 4, "extends.1")
    assert p.message == f"extends file not found: {tmp_path / 'missing.yaml'}"


def test_problems_in_a_parent_are_reported_in_the_parent(tmp_path: Path) -> None:
    parent_text = WORLD.replace("capacity_tpd: 200", "capacity_tpd: -5")
    parent = write(tmp_path, "world.yaml", parent_text)
    child = write(tmp_path, "child.yaml", "extends: world.yaml\nname: child\n")
    p = only(problems_of(child), "crossings.kanpaiti.capacity_tpd")
    assert (p.file, p.line) == (parent, line_of(parent_text, "capacity_tpd"))


# --- validation mistakes -----------------------------------------------------------------------


def test_an_unknown_key_suggests_the_nearest_field(tmp_path: Path) -> None:
    text = WORLD.replace(
        "operating_cost_usd_per_t: 3000", "operating_cost_usd_per_t: 3000\n    capacty_tpm: 1"
    )
    path = write(tmp_path, "s.yaml", text)
    p = only(problems_of(path), "sites.pangwa.capacty_tpm")
    assert (p.file, p.line) == (path, line_of(text, "capacty_tpm"))
    assert p.message == "unknown key 'capacty_tpm' (did you mean 'capacity_tpm'?)"


def test_a_missing_required_key_is_located_at_its_mapping(tmp_path: Path) -> None:
    text = WORLD.replace("    region: Kachin\n", "")
    path = write(tmp_path, "s.yaml", text)
    p = only(problems_of(path), "sites.pangwa.region")
    assert (p.file, p.line) == (path, line_of(text, "pangwa:"))
    assert p.message == "missing required key"


def test_a_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    text = WORLD.replace("operating_cost_usd_per_t: 3000", "operating_cost_usd_per_t: cheap")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line) == (path, line_of(text, "operating_cost"))
    assert p.path == "sites.pangwa.operating_cost_usd_per_t"
    assert p.message == "expected a number, got 'cheap'"


def test_negative_and_zero_capacities_are_refused(tmp_path: Path) -> None:
    text = (
        WORLD.replace("capacity_tpm: {mhree: 2000}", "capacity_tpm: {mhree: -1}")
        .replace("capacity_tpd: 200", "capacity_tpd: 0")
        .replace("capacity_tpm: {mhree: 10000}", "capacity_tpm: {mhree: 0, lree: 0}")
    )
    path = write(tmp_path, "s.yaml", text)
    problems = problems_of(path)
    negative = only(problems, "sites.pangwa.capacity_tpm.mhree")
    assert (negative.file, negative.line) == (path, line_of(text, "{mhree: -1}"))
    assert negative.message == "must not be negative"
    zero = only(problems, "crossings.kanpaiti.capacity_tpd")
    assert (zero.line, zero.message) == (line_of(text, "capacity_tpd"), "must be greater than 0")
    nothing = only(problems, "processors.ganzhou.capacity_tpm")
    assert nothing.line == line_of(text, "{mhree: 0, lree: 0}")
    assert nothing.message == "capacity_tpm must be positive for at least one product"


def test_no_importer_may_take_the_id_the_quad_is_reported_under(tmp_path: Path) -> None:
    text = WORLD.replace("importers:\n", "importers:\n  quad:\n    name: A bloc\n")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "  quad:"), "importers.quad")
    assert p.message.startswith("'quad' is reserved for the Quad's importers")


def test_an_unknown_reference_is_reported_where_it_is_written(tmp_path: Path) -> None:
    text = WORLD.replace("      - to: kanpaiti", "      - to: kanpaity")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "to: kanpaity"), "routes.r.legs.0.to")
    assert p.message == "unknown crossing or processor 'kanpaity' (did you mean 'kanpaiti'?)"


def test_end_before_start_is_reported_at_end(tmp_path: Path) -> None:
    text = WORLD.replace("end: 2025-12-31", "end: 2024-12-31")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, 3, "end")
    assert p.message == "end must be after start"


def test_an_event_outside_the_horizon_is_reported_at_its_start(tmp_path: Path) -> None:
    text = WORLD + (
        "events:\n"
        "  closure:\n"
        "    kind: border_closure\n"
        "    crossing: kanpaiti\n"
        "    start: 2027-03-01\n"
        "    days: {dist: triangular, low: 10, mode: 20, high: 40}\n"
    )
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "2027-03-01"), "events.closure.start")
    assert p.message == "date 2027-03-01 is outside the horizon 2025-01-01..2025-12-31"


def test_a_bad_date_says_it_expected_a_date(tmp_path: Path) -> None:
    text = WORLD + (
        "events:\n  closure:\n    kind: border_closure\n    crossing: kanpaiti\n"
        "    start: tomorrow\n"
    )
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "tomorrow"), "events.closure.start")
    assert p.message == "expected a date (YYYY-MM-DD), got 'tomorrow'"


def test_an_unknown_event_kind_suggests_the_nearest(tmp_path: Path) -> None:
    text = WORLD + "events:\n  e:\n    kind: offensiv\n    start: 2025-02-01\n"
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.path) == (path, line_of(text, "kind:"), "events.e.kind")
    assert p.message.startswith("unknown kind 'offensiv' (did you mean 'offensive'?)")


def test_several_problems_are_reported_at_once_sorted_by_file_and_line(tmp_path: Path) -> None:
    text = (
        WORLD.replace("elasticity: 1.0", "elasticity: -2")
        .replace("levy_usd_per_t: 1000", "levy_usd_per_t: lots")
        .replace("    name: Kanpaiti\n", "    name: Kanpaiti\n    opne: false\n")
        .replace("        days: 2", "        days: {dist: uniform, low: 5, high: 1}")
    )
    path = write(tmp_path, "s.yaml", text)
    problems = problems_of(path)
    located = [(p.line, p.path) for p in problems]
    assert located == [
        (line_of(text, "elasticity"), "supply_response.elasticity"),
        (line_of(text, "levy_usd_per_t"), "groups.kia.levy_usd_per_t"),
        (line_of(text, "opne"), "crossings.kanpaiti.opne"),
        (line_of(text, "dist: uniform"), "routes.r.legs.1.days"),
    ]
    assert {p.file for p in problems} == {path}
    assert "did you mean 'open'?" in problems[2].message
    assert problems[3].message == "expected a number, got a mapping"


def test_a_problem_prints_as_file_line_path_message(tmp_path: Path) -> None:
    text = WORLD.replace("capacity_tpd: 200", "capacity_tpd: 0")
    path = write(tmp_path, "s.yaml", text)
    (p,) = problems_of(path)
    line = line_of(text, "capacity_tpd")
    assert str(p) == f"{path}:{line}: crossings.kanpaiti.capacity_tpd: must be greater than 0"


# --- derive, schema, reuse by other inputs -----------------------------------------------------


def test_derive_applies_overrides_and_revalidates(world: str) -> None:
    base = load_scenario(world)
    variant = derive(base, {"sites.pangwa.capacity_tpm.mhree": 900, "routes.r.legs.0.days": 4})
    assert variant.sites["pangwa"].capacity_tpm.mhree == 900
    assert variant.routes["r"].legs[0].days == 4
    assert base.sites["pangwa"].capacity_tpm.mhree == 2000
    assert derive(base, {}) == base


def test_derive_refuses_an_invalid_value(world: str) -> None:
    base = load_scenario(world)
    with pytest.raises(InputError) as caught:
        derive(base, {"sites.pangwa.capacity_tpm.mhree": -5})
    (p,) = caught.value.problems
    assert (p.file, p.line, p.path) == ("<override>", None, "sites.pangwa.capacity_tpm.mhree")
    assert p.message == "must not be negative"


def test_derive_refuses_an_unknown_path(world: str) -> None:
    base = load_scenario(world)
    with pytest.raises(InputError) as caught:
        derive(base, {"sites.pangwa.capcity_tpm.mhree": 1})
    (p,) = caught.value.problems
    assert (p.file, p.line, p.path) == ("<override>", None, "sites.pangwa.capcity_tpm.mhree")
    assert "did you mean 'capacity_tpm'?" in p.message


def test_the_schema_is_json_and_allows_extends_set_and_partial_files() -> None:
    schema = scenario_json_schema()
    text = json.dumps(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "extends" in schema["properties"]
    assert "set" in schema["properties"]
    assert "required" not in schema
    assert "capacity_tpm" in text


def test_read_yaml_serves_other_inputs_with_located_validation_problems(tmp_path: Path) -> None:
    class Sweep(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        runs: int
        paths: list[str]

    text = "runs: many\npaths:\n  - a.b\nrusn: 3\n"
    path = write(tmp_path, "sweep.yaml", text)
    data, provenance = read_yaml(path)
    with pytest.raises(pydantic.ValidationError) as caught:
        Sweep.model_validate(data)
    problems = problems_from_validation_error(caught.value, data, provenance, path, model=Sweep)
    assert [(p.file, p.line, p.path) for p in problems] == [(path, 1, "runs"), (path, 4, "rusn")]
    assert problems[1].message == "unknown key 'rusn' (did you mean 'runs'?)"


# --- robustness --------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.dates()
    | st.sampled_from(["world.yaml", "kia", "2025-01-01", "extends", "set", "sites.a"])
)
keys = st.sampled_from(
    ["name", "start", "end", "sites", "routes", "legs", "extends", "set", "events", "kind"]
) | st.text(max_size=8)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("random")
    write(folder, "world.yaml", WORLD)
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents)
def test_any_yaml_document_loads_or_raises_input_error(scratch: Path, document: Any) -> None:
    path = write(scratch, "random.yaml", yaml.safe_dump(document))
    try:
        scenario = load_scenario(path)
    except InputError as exc:  # either outcome is right; a refusal must say where
        assert exc.problems  # noqa: PT017
        assert all(isinstance(p, Problem) and p.file for p in exc.problems)  # noqa: PT017
    else:
        assert isinstance(scenario, Scenario)
