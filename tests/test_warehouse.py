"""First mile: picking by pickers on shifts, shuttles to the sorting centre, merchant pickup rounds."""

from __future__ import annotations

import numpy as np
from conftest import small_config

import sim
from sim.records import SOURCE_MERCHANT, SOURCE_WAREHOUSE


def test_picks_start_after_creation_and_on_shift(small_run):
    o = small_run.output.orders
    stock = (o.source == SOURCE_WAREHOUSE) & ~np.isnan(o.pick_start)
    assert (o.pick_start[stock] >= o.created[stock]).all()
    np.testing.assert_allclose(o.picked[stock] - o.pick_start[stock], o.pick_service_min[stock])
    shifts = small_run.output.shifts.of("pick")
    for dc in np.unique(o.warehouse[stock]):
        mine = stock & (o.warehouse == dc)
        rows = shifts.where(shifts.site == dc)
        start, end = rows.start[o.picker[mine]], rows.end[o.picker[mine]]  # each pick's picker's shift
        tod = o.pick_start[mine] % 1440
        assert np.all(np.where(start < end, (tod >= start) & (tod < end), (tod >= start) | (tod < end)))


def test_shuttles_leave_on_the_half_hour(small_run):
    """Parcels picked in the same half hour ride the same shuttle: one arrival at the sorting centre
    per DC and half hour, after the half hour ends."""
    o = small_run.output.orders
    stock = (o.source == SOURCE_WAREHOUSE) & ~np.isnan(o.arrived_sort)
    interval = small_run.config.warehouse.shuttle_interval_min
    half_hour = np.ceil(o.picked[stock] / interval)
    for dc in np.unique(o.warehouse[stock]):
        mine = o.warehouse[stock] == dc
        pairs = np.unique(np.column_stack([half_hour[mine], o.arrived_sort[stock][mine]]), axis=0)
        assert len(np.unique(pairs[:, 0])) == len(pairs), "one shuttle (one arrival time) per half hour"
        assert (pairs[:, 1] > pairs[:, 0] * interval).all(), "the shuttle leaves when its half hour ends"


def test_merchant_orders_are_collected_at_round_times_within_capacity(small_run):
    o = small_run.output.orders
    merchant = (o.source == SOURCE_MERCHANT) & ~np.isnan(o.pick_start)
    rounds = {9 * 60, 11 * 60, 13 * 60, 15 * 60, 17 * 60, 19 * 60}
    assert set(np.unique(o.pick_start[merchant] % 1440)) <= rounds
    assert (o.pick_start[merchant] >= o.created[merchant]).all()
    cfg = small_run.config
    capacity = cfg.capacity.pickup_couriers * cfg.pickup.parcels_per_courier_round
    assert small_run.output.pickup_rounds.parcels.max() <= capacity


def test_pickup_capacity_binds_and_delays():
    tight = sim.run(small_config(**{"capacity.pickup_couriers": 1, "pickup.parcels_per_courier_round": 50}))
    o = tight.output.orders
    merchant = (o.source == SOURCE_MERCHANT) & ~np.isnan(o.pick_start)
    assert tight.output.pickup_rounds.parcels.max() == 50
    assert np.mean(o.pick_start[merchant] - o.created[merchant]) > 120


def test_fewer_pickers_longer_pick_waits():
    waits = [sim.run(small_config(**{"capacity.pickers": p})).kpis["pick_wait_mean_min"] for p in (6, 10, 20)]
    assert waits[0] > waits[1] > waits[2]
