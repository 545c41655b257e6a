"""A table's CSV rows, the bytes ``DataFrame.to_csv`` writes, made without its per-value work.

``to_csv`` formats every number through a Python call and a missing-value check (~5 µs a row
of the run's long tables, more than simulating the replication they come from). The tables a
run writes are plain: numbers, and names that need no quoting. For those, each column is
turned into text once (``float_format % value``, ``str`` of integers: what ``to_csv`` does)
and the rows joined; anything else (a text that needs quoting, a missing value, another dtype)
is left to ``to_csv``, so the bytes are always ``to_csv``'s.
"""

from __future__ import annotations

from typing import IO

import numpy as np
import pandas as pd

SPECIAL = ',"\r\n'
"""Characters that make ``to_csv`` (QUOTE_MINIMAL) quote a field."""


def write_csv(frame: pd.DataFrame, f: IO[str], header: bool, float_format: str | None) -> None:
    """Append ``frame``'s rows (and its header first, if asked) to ``f`` as ``frame.to_csv(f,
    index=False, header=header, float_format=float_format)`` would."""
    columns = [_text(frame[name], float_format) for name in frame.columns]
    names = [str(name) for name in frame.columns]
    if any(c is None for c in columns) or not all(_plain(n) for n in names):
        frame.to_csv(f, index=False, header=header, float_format=float_format)
        return
    if header:
        f.write(",".join(names) + "\n")
    if len(frame):
        f.write("\n".join(map(",".join, zip(*columns, strict=True))) + "\n")


def _text(column: pd.Series, float_format: str | None) -> list[str] | None:
    """The column's fields as ``to_csv`` writes them, or None where only it should."""
    dtype = column.dtype
    if dtype == np.float64 and float_format is not None:
        values = column.to_numpy()
        if np.isnan(values).any():
            return None
        return [float_format % v for v in values.tolist()]
    if dtype == np.int64 or dtype == np.int32:
        return list(map(str, column.to_numpy().tolist()))
    if isinstance(dtype, pd.StringDtype) or dtype.kind == "O":
        codes, distinct = pd.factorize(column, use_na_sentinel=True)
        names = list(distinct)
        if (codes < 0).any() or not all(isinstance(n, str) and _plain(n) for n in names):
            return None
        return list(np.array(names, dtype=object)[codes].tolist())
    return None


def _plain(text: str) -> bool:
    """Whether ``to_csv`` writes the field as it is (not empty, nothing to quote)."""
    return bool(text) and not any(c in text for c in SPECIAL)
