"""Line-haul: departures on the timetable, truck capacity, a missed departure waits for the next."""

from __future__ import annotations

import numpy as np
from conftest import small_config

import sim


def test_departures_follow_the_timetable(small_run):
    o = small_run.output.orders
    home = (o.region == 0) & ~np.isnan(o.departed)
    allowed = {7 * 60, 10 * 60, 13 * 60, 16 * 60, 18 * 60 + 30}
    assert set(np.unique(o.departed[home] % 1440).astype(int)) <= allowed
    nearby = (o.region > 0) & ~np.isnan(o.departed)
    assert set(np.unique(o.departed[nearby] % 1440).astype(int)) <= {14 * 60, 23 * 60}
    assert (o.departed[~np.isnan(o.departed)] >= o.sorted[~np.isnan(o.departed)]).all()


def test_truck_capacity_is_never_exceeded():
    r = sim.run(small_config(**{"capacity.truck_capacity": 60}))
    deps = r.output.departures
    n_st = r.config.city.stations_x * r.config.city.stations_y
    assert deps.load[deps.dest < n_st].max() == 60
    assert (deps.load <= deps.capacity).all()
    o = r.output.orders
    dep = o.departed[~np.isnan(o.departed) & (o.region == 0)]
    _, counts = np.unique(np.column_stack([dep, o.station[~np.isnan(o.departed) & (o.region == 0)]]), axis=0, return_counts=True)
    assert counts.max() <= 60


def test_parcels_left_behind_take_a_later_truck():
    r = sim.run(small_config(**{"capacity.truck_capacity": 60}))
    k = r.kpis
    roomy = sim.run(small_config()).kpis
    assert k["linehaul_wait_mean_min"] > roomy["linehaul_wait_mean_min"]
    assert k["bottleneck"] == "linehaul"


def test_urgent_parcels_board_first():
    r = sim.run(small_config(**{"capacity.truck_capacity": 60}))
    o = r.output.orders
    # among parcels sorted before the same departure, same-day parcels wait less than next-day ones
    wait = o.departed - o.sorted
    ok = ~np.isnan(wait) & (o.region == 0)
    assert np.mean(wait[ok & (o.tier == 0)]) < np.mean(wait[ok & (o.tier == 1)])
