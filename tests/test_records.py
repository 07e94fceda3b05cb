"""The order table's columns."""

from __future__ import annotations

import dataclasses

from sim.records import OrderTable


def test_the_drawn_columns_are_those_demand_draws():
    """`OrderTable.DRAWN_COLUMNS` (what a sweep worker keeps per seed) is exactly the columns without a default."""
    no_default = [f.name for f in dataclasses.fields(OrderTable) if f.default is dataclasses.MISSING]
    assert list(OrderTable.DRAWN_COLUMNS) == no_default
