"""First mile: picking by pickers on shifts, shuttles to the sorting centre, merchant pickup rounds."""

from __future__ import annotations

import numpy as np
from conftest import small_config

import sim
from sim.demand import SOURCE_MERCHANT, SOURCE_WAREHOUSE


def test_picks_start_after_creation_and_on_shift(small_run):
    o = small_run.output.orders
    stock = (o.source == SOURCE_WAREHOUSE) & ~np.isnan(o.pick_start)
    assert (o.pick_start[stock] >= o.created[stock]).all()
    np.testing.assert_allclose(o.picked[stock] - o.pick_start[stock], o.pick_service_min[stock])
    windows = small_run.output.picker_pools[0].windows
    assert all(any(w.on_duty(t) for w in windows) for t in o.pick_start[stock][::50])


def test_shuttles_leave_on_the_half_hour(small_run):
    o = small_run.output.orders
    stock = (o.source == SOURCE_WAREHOUSE) & ~np.isnan(o.arrived_sort)
    assert (o.arrived_sort[stock] > o.picked[stock]).all()


def test_merchant_orders_are_collected_at_round_times_within_capacity(small_run):
    o = small_run.output.orders
    merchant = (o.source == SOURCE_MERCHANT) & ~np.isnan(o.pick_start)
    rounds = {9 * 60, 11 * 60, 13 * 60, 15 * 60, 17 * 60, 19 * 60}
    assert set(np.unique(o.pick_start[merchant] % 1440)) <= rounds
    assert (o.pick_start[merchant] >= o.created[merchant]).all()
    cfg = small_run.config
    capacity = cfg.capacity.pickup_couriers * cfg.pickup.parcels_per_courier_round
    assert max(n for _, n in small_run.output.pickup_rounds) <= capacity


def test_pickup_capacity_binds_and_delays():
    tight = sim.run(small_config(**{"capacity.pickup_couriers": 1, "pickup.parcels_per_courier_round": 50}))
    o = tight.output.orders
    merchant = (o.source == SOURCE_MERCHANT) & ~np.isnan(o.pick_start)
    assert max(n for _, n in tight.output.pickup_rounds) == 50
    assert np.mean(o.pick_start[merchant] - o.created[merchant]) > 120


def test_fewer_pickers_longer_pick_waits():
    waits = [sim.run(small_config(**{"capacity.pickers": p})).kpis["pick_wait_mean_min"] for p in (6, 10, 20)]
    assert waits[0] > waits[1] > waits[2]
