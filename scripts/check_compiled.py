"""Compiled engine against pure Python: the same ledgers, record for record, or the first
difference.

    python scripts/check_compiled.py /tmp/compiled/bin/python
    python scripts/check_compiled.py --path DIR    # a compiled wheel installed with --target DIR

The argument is the Python of an environment where the package is installed compiled
(``SIM_COMPILE=1 pip install .``, docs/performance.md), or a folder holding the compiled
package, imported ahead of everything else by this Python (``pip install --no-deps --target
DIR`` of a compiled wheel: what CI does); this script builds nothing. It runs
every bundled scenario (``scenarios/*.yaml``, each over its own horizon) at seeds 1 and 7, three
replications each, once with this checkout's pure sources and once with that environment's
installed package, each in its own process, and compares every ledger record and every
counter a replication returns, exactly (values and their types, as pickled). Prints
``identical`` with what was compared, or the first differing record of both; exit status 0 when
identical, 1 when not, 2 when either side is not the build it should be (the pure side
compiled, or the other not).
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (1, 7)
REPLICATIONS = 3


def dump(out: str) -> None:
    """In the process of one side: every scenario's replications as plain rows, pickled."""
    from sim import load_scenario
    from sim.model import world
    from sim.model.engine import simulate
    from sim.model.ledger import Ledger

    runs: dict[str, Any] = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        for seed in SEEDS:
            for replication in range(REPLICATIONS):
                rep = simulate(scenario, seed, replication)
                parts = {f.name: getattr(rep.ledger, f.name).rows() for f in fields(Ledger)}
                for f in fields(rep):
                    if f.name != "ledger":
                        parts[f.name] = getattr(rep, f.name)
                runs[f"{path.stem} seed {seed} replication {replication}"] = parts
    with open(out, "wb") as file:
        pickle.dump({"engine": world.__file__, "runs": runs}, file)


def side(python: str, path: str | None, out: Path) -> dict[str, Any]:
    """Run ``dump`` under ``python``, importing the package from ``path`` first (None: its
    installed package)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if path is not None:
        env["PYTHONPATH"] = path
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); "
    code += f"import check_compiled; check_compiled.dump({str(out)!r})"
    # run from a folder outside the checkout, so that the compiled side cannot import it
    subprocess.run([python, "-c", code], env=env, cwd=out.parent, check=True)
    with open(out, "rb") as file:
        loaded: dict[str, Any] = pickle.load(file)
    return loaded


def first_difference(pure: dict[str, Any], compiled: dict[str, Any]) -> str | None:
    """Where two sides' runs first differ, with both records; None when identical."""
    if pure.keys() != compiled.keys():
        return f"different runs: {sorted(pure.keys() ^ compiled.keys())}"
    for run, parts in pure.items():
        for part, rows in parts.items():
            other = compiled[run][part]
            if pickle.dumps(rows) == pickle.dumps(other):
                continue
            if not isinstance(rows, list) or len(rows) != len(other):
                return f"{run}, {part}: pure {rows!r}\n   compiled {other!r}"
            for i, (a, b) in enumerate(zip(rows, other, strict=True)):
                if pickle.dumps(a) != pickle.dumps(b):
                    return f"{run}, {part}[{i}]: pure {a!r}\n   compiled {b!r}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "python",
        nargs="?",
        default=sys.executable,
        help="the Python of an environment with the compiled build (default: this one)",
    )
    parser.add_argument("--path", help="a folder with the compiled package, imported first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pure = side(sys.executable, str(ROOT), Path(tmp) / "pure.pickle")
        compiled = side(args.python, args.path, Path(tmp) / "compiled.pickle")
    print(f"pure:     {pure['engine']}\ncompiled: {compiled['engine']}")
    if not pure["engine"].endswith(".py") or compiled["engine"].endswith(".py"):
        print("not a pure/compiled pair: build the engine with SIM_COMPILE=1 pip install .")
        return 2
    difference = first_difference(pure["runs"], compiled["runs"])
    if difference is not None:
        print(f"DIFFERENT: {difference}")
        return 1
    runs = pure["runs"]
    records = sum(len(v) for parts in runs.values() for v in parts.values() if isinstance(v, list))
    print(
        f"identical: {len(runs)} runs ({len(runs) // (len(SEEDS) * REPLICATIONS)} scenarios x "
        f"seeds {SEEDS} x {REPLICATIONS} replications), {records:,} records and counters"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
