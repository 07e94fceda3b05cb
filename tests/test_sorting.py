"""Sorting centre: waves release parcels, the sorter's throughput is respected, continuous mode is FCFS."""

from __future__ import annotations

import numpy as np
from conftest import small_config

import sim
from sim.city import City


def test_sorting_starts_at_waves_in_arrival_order(small_run):
    o = small_run.output.orders
    s = ~np.isnan(o.sort_start)
    waves = {h * 60 for h in range(5, 24, 2)}
    assert (o.sort_start[s] >= o.arrived_sort[s]).all()
    assert {int(t % 1440) for t in small_run.output.waves.time} <= waves
    # a wave sorts its parcels back to back from the wave time, in arrival order
    first_wave = small_run.output.waves.time.min()
    in_first = s & (o.sort_start < first_wave + 120) & (o.arrived_sort <= first_wave)
    starts = np.sort(o.sort_start[in_first])
    assert starts[0] == first_wave
    np.testing.assert_allclose(np.diff(starts), 60 / small_run.config.capacity.sorter_per_hour)


def test_sorter_throughput_is_respected(small_run):
    o = small_run.output.orders
    done = np.sort(o.sorted[~np.isnan(o.sorted)])
    rate_per_min = small_run.config.capacity.sorter_per_hour / 60
    # in any window of 60 minutes no more than rate * 60 (+1) parcels finish
    counts = np.searchsorted(done, done + 60.0) - np.arange(done.size)
    assert counts.max() <= rate_per_min * 60 + 1


def test_continuous_sorting_is_fcfs():
    r = sim.run(small_config(**{"sorting.waves": []}))
    o = r.output.orders
    s = ~np.isnan(o.sort_start)
    order = np.lexsort((o.sort_start[s], o.arrived_sort[s]))  # by arrival; ties in any order
    assert (np.diff(o.sort_start[s][order]) >= -1e-9).all()
    assert r.kpis["sort_wait_mean_min"] < sim.run(small_config()).kpis["sort_wait_mean_min"]


def test_slower_sorter_longer_sort_times():
    fast = sim.run(small_config(**{"capacity.sorter_per_hour": 5000})).kpis
    slow = sim.run(small_config(**{"capacity.sorter_per_hour": 600})).kpis
    assert slow["sort_sojourn_mean_min"] > fast["sort_sojourn_mean_min"]


def test_two_sorting_centres_each_sort_their_stations_parcels():
    centres = [{"name": "west", "x_km": 0.0, "y_km": 4.0}, {"name": "east", "x_km": 8.0, "y_km": 4.0}]
    r = sim.run(small_config(**{"city.sorting_centres": centres, "services.parcel_centre.enabled": True}))
    out, o = r.output, r.output.orders
    city = City(r.config.city)
    centre = city.centre_of(o.station)
    assert set(centre[o.station >= 0].tolist()) == {0, 1} and (centre[o.station < 0] == 0).all()
    # one sorter per centre (site = centre), each at capacity.sorter_per_hour
    sort_shifts = out.shifts.of("sort")
    assert sorted(sort_shifts.site.tolist()) == [0, 1]
    gap = 60 / r.config.capacity.sorter_per_hour
    for c in (0, 1):
        starts = np.sort(o.sort_start[(centre == c) & ~np.isnan(o.sort_start)])
        assert starts.size and (np.diff(starts) >= gap - 1e-9).all()
    # and the two centres sort at the same time: together faster than one sorter
    both = np.sort(o.sort_start[~np.isnan(o.sort_start)])
    assert (np.diff(both) < gap - 1e-9).any()
    assert r.kpis["same_day_hit_rate"] > 0.5 and 0 < r.kpis["sorter_utilization"] <= 1
