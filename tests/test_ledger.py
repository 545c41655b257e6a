"""Ledger records: written as plain tuples, read as named tuples, numbers as arrays."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from sim import load_scenario
from sim.model.engine import simulate
from sim.model.ledger import Ledger, Passage, Records, Stock

DATA = Path(__file__).resolve().parent / "data"


def test_records_read_back_as_their_kind() -> None:
    stock: Records[Stock] = Records(Stock)
    stock.append((7.0, 2, 150.0))
    stock.append((14.0, 0, 80.5))
    first = stock[0]
    assert isinstance(first, Stock)
    assert (first.t, first.site, first.tonnes) == (7.0, 2, 150.0)
    assert [s.tonnes for s in stock] == [150.0, 80.5]
    assert stock[-1].site == 0
    assert stock[:1] == [Stock(7.0, 2, 150.0)]
    assert stock == [(7.0, 2, 150.0), (14.0, 0, 80.5)], "equal to the plain tuples"
    assert stock.rows() == [(7.0, 2, 150.0), (14.0, 0, 80.5)]


def test_records_give_their_numbers_as_an_array() -> None:
    stock: Records[Stock] = Records(Stock)
    assert np.array(stock, dtype=float).shape == (0,)
    stock.append((7.0, 2, 150.0))
    stock.append((14.0, 0, 80.5))
    np.testing.assert_array_equal(
        np.array(stock, dtype=float), np.array([[7.0, 2.0, 150.0], [14.0, 0.0, 80.5]])
    )


def test_a_replication_s_ledger_names_its_fields_and_survives_pickling() -> None:
    rep = simulate(load_scenario(DATA / "golden_world.yaml"), 1, 0)
    passage = rep.ledger.passed[0]
    assert isinstance(passage, Passage)
    assert passage.t0 <= passage.t1
    assert passage.mhree + passage.lree > 0
    copy = pickle.loads(pickle.dumps(rep.ledger))
    assert isinstance(copy, Ledger)
    assert copy.passed == rep.ledger.passed
    assert copy.passed[0] == passage
    assert isinstance(copy.passed[0], Passage)
    assert [n.kind for n in copy.events] == [n.kind for n in rep.ledger.events]
