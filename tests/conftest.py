"""Shared fixtures: a small city for fast tests, and the default scenario run once per session."""

from __future__ import annotations

import copy

import pytest

import sim


def small_config(**overrides) -> dict:
    """A small city (a few stations, a few thousand orders a day) that runs in well under a second."""
    cfg = {
        "horizon_days": 3,
        "demand": {"orders_per_day": 6000},
        "city": {"zones_x": 4, "zones_y": 4, "stations_x": 2, "stations_y": 2},
        "capacity": {"pickers": 10, "couriers_per_station": 8, "pickup_couriers": 4, "sorter_per_hour": 3000, "truck_capacity": 600},
    }
    for key, value in overrides.items():
        node = cfg
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = copy.deepcopy(value)
    return cfg


# the same kind of small city as command-line overrides, for tests that run `python -m sim`
SMALL_OVERRIDES = [
    "demand.orders_per_day=2000",
    "city.zones_x=4",
    "city.zones_y=4",
    "city.stations_x=2",
    "city.stations_y=2",
    "capacity.pickers=6",
    "capacity.couriers_per_station=6",
    "capacity.pickup_couriers=4",
]


@pytest.fixture(scope="session")
def default_run() -> sim.RunResult:
    """The built-in city at its defaults (about half a second)."""
    return sim.run()


@pytest.fixture(scope="session")
def small_run() -> sim.RunResult:
    return sim.run(small_config())
