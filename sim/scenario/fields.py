"""The building blocks of every input file (scenarios, sweeps, targets): the frozen base model
and the constrained types of ids and numbers.

Every model of an input file derives from ``Frozen``: immutable once validated, and an unknown
key is an error (with a did-you-mean), never silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_QUANTITY = 1e12
"""Largest accepted number of tonnes, dollars or days: beyond it arithmetic loses meaning."""

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""A short id (lowercase letters, digits and ``_``, a letter first): a key of a collection."""
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
"""A scenario's or a sweep's name: also the name of its results folder."""
Finite = Annotated[float, Field(allow_inf_nan=False)]
"""Any finite number."""
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
"""A chance or a share, from 0 to 1."""
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_QUANTITY, allow_inf_nan=False)]
"""Tonnes, dollars or days: from 0 to ``MAX_QUANTITY``."""
Positive = Annotated[float, Field(gt=0.0, le=MAX_QUANTITY, allow_inf_nan=False)]
"""Tonnes, dollars or days, more than 0 and at most ``MAX_QUANTITY``."""
Seed = Annotated[int, Field(ge=0, lt=2**63)]
"""A master seed: any non-negative 63-bit integer."""


class Frozen(BaseModel):
    """Base of every model of an input file: immutable, and unknown keys are errors.

    ``populate_by_name`` lets code build models by field name where a file uses an alias
    (``set:`` is the field ``overrides``). A field's docstring is its description in the JSON
    Schema and in the key tables of the docs: what it means, and its unit.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True
    )
