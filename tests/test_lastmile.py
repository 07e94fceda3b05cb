"""Last mile: tours with capacity, travel and stop times, shifts, failed attempts retried later."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_config

import sim
from sim.config.lastmile import LastmileConfig
from sim.lastmile import BHH_CONSTANT, tour_minutes


def test_tour_minutes_formula():
    cfg = LastmileConfig(parcels_per_stop=2.0, stop_service_min=2.0, courier_speed_kmh=15.0, load_min=10.0)
    duration, first, per_parcel = tour_minutes(30, approach_km=1.5, area_km2=16.0, cfg=cfg)
    stops = 15
    among = BHH_CONSTANT * np.sqrt(stops * 16.0) / 15 * 60 + stops * 2.0
    assert first == pytest.approx(10 + 6)
    assert duration == pytest.approx(10 + 12 + among)
    assert per_parcel * 30 == pytest.approx(among)


def test_tours_respect_capacity_and_start_on_shift(small_run):
    tours, shifts = small_run.output.tours, small_run.output.shifts.of("lastmile")
    assert len(tours) and tours.parcels.max() <= small_run.config.lastmile.tour_capacity
    for station in np.unique(tours.station):
        mine = tours.where(tours.station == station)
        rows = shifts.where(shifts.site == station)
        start, end = rows.start[mine.courier], rows.end[mine.courier]  # each tour's courier's shift
        tod = mine.start % 1440
        assert np.all(np.where(start < end, (tod >= start) & (tod < end), (tod >= start) | (tod < end)))


def test_delivery_follows_out_for_delivery(small_run):
    o = small_run.output.orders
    d = ~np.isnan(o.delivered) & (o.region == 0)
    assert (o.delivered[d] > o.out_for_delivery[d]).all()
    assert (o.last_out[d] >= o.out_for_delivery[d]).all()


def test_failed_attempts_are_retried_on_later_tours():
    r = sim.run(small_config(**{"lastmile.failed_attempt_prob": 0.3}))
    o = r.output.orders
    d = ~np.isnan(o.delivered) & (o.region == 0)
    np.testing.assert_array_equal(o.attempts[d], o.failed_attempts[d] + 1)
    retried = d & (o.attempts > 1)
    assert retried.any()
    assert (o.last_out[retried] >= o.out_for_delivery[retried] + r.config.lastmile.retry_after_min).all()


def test_no_failures_means_one_attempt_each():
    r = sim.run(small_config(**{"lastmile.failed_attempt_prob": 0.0}))
    o = r.output.orders
    assert (o.attempts[~np.isnan(o.delivered)] == 1).all()


def test_more_couriers_never_lower_the_hit_rate_when_couriers_are_the_bottleneck():
    base = {"capacity.couriers_per_station": 3, "demand.orders_per_day": 6000}
    rates = []
    for couriers in (3, 4, 5, 6, 8):
        k = sim.run(small_config(**{**base, "capacity.couriers_per_station": couriers})).kpis
        if couriers == 3:
            assert k["bottleneck"] == "lastmile"
        rates.append(k["same_day_hit_rate"])
    assert all(b >= a for a, b in zip(rates, rates[1:])), rates
    assert rates[-1] > rates[0]


def test_more_couriers_lift_utilisation_down(small_run):
    more = sim.run(small_config(**{"capacity.couriers_per_station": 16})).kpis
    assert more["courier_utilization"] < small_run.kpis["courier_utilization"]
    assert more["cost_courier_per_order"] > small_run.kpis["cost_courier_per_order"]


def test_nearby_cities_deliver_next_morning(small_run):
    o = small_run.orders
    nearby = o[(o["region"] != "changchun") & o["delivered"].notna()]
    start = nearby["out_for_delivery"].dt.strftime("%H:%M")
    assert (start == "08:00").all()
    assert (nearby["delivered"] <= nearby["out_for_delivery"] + np.timedelta64(8, "h")).all()
