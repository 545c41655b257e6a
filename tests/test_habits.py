"""House habits that a reviewer would otherwise have to remember."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_modules_never_import_each_other() -> None:
    """Shared helpers live in helper modules (builders, sweep_files, documents, processes)."""
    pattern = re.compile(r"^\s*(from|import)\s+tests\.test_", re.MULTILINE)
    offenders = [p.name for p in sorted(TESTS.glob("test_*.py")) if pattern.search(p.read_text())]
    assert offenders == []
