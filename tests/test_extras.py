"""Dask and SALib are optional extras (``[dask]``, ``[sensitivity]``): without them a sweep
says in one line what to install, or falls back to an index that needs neither."""

from __future__ import annotations

import logging
import sys

import pytest

from sim.errors import InputError
from sim.sweep import sensitivity
from sim.sweep.execute import DaskCluster


def test_a_scheduler_without_dask_installed_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InputError) as caught:
        DaskCluster("tcp://127.0.0.1:8786")
    (problem,) = caught.value.problems
    assert (
        str(problem)
        == "<command line>: --scheduler: needs Dask: pip install 'rare-earth-sim[dask]'"
    )


def test_without_salib_the_sensitivity_is_spearman_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert sensitivity.has_salib()  # the test extra installs it
    assert sensitivity.method_for("latin_hypercube", 50) == "given_s1"
    assert sensitivity.method_for("sobol", 640) == "sobol"
    monkeypatch.setattr(sensitivity, "has_salib", lambda: False)
    with caplog.at_level(logging.WARNING, logger="sim"):
        assert sensitivity.method_for("latin_hypercube", 50) == "spearman"
        assert sensitivity.method_for("sobol", 640) == "spearman"
    assert "pip install 'rare-earth-sim[sensitivity]'" in caplog.text
    assert sensitivity.method_for("grid", 50) == "eta2"
