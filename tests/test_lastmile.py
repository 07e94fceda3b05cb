"""Last mile: tours with capacity, travel and stop times, shifts, failed attempts retried later."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import small_config

import sim
import sim.city
from sim.config.lastmile import LastmileConfig
from sim.lastmile import couriers_by_station, tour_minutes, tour_times

CFG = LastmileConfig(parcels_per_stop=2.0, stop_service_min=2.0, courier_speed_kmh=15.0, load_min=10.0)


def test_fuller_tours_take_longer_but_less_per_parcel():
    durations = np.array([tour_minutes(n, 1.5, 16.0, CFG)[0] for n in range(1, 61)])
    assert (np.diff(durations) >= 0).all() and durations[-1] > 3 * durations[0]  # one or two parcels: the same one stop
    assert (np.diff(durations / np.arange(1, 61)) < 0).all()


def test_the_first_stop_comes_after_loading_and_the_approach_whatever_the_load():
    firsts = {tour_minutes(n, 1.5, 16.0, CFG)[1] for n in (1, 10, 35)}
    assert len(firsts) == 1
    near, far = tour_minutes(10, 0.5, 16.0, CFG), tour_minutes(10, 3.0, 16.0, CFG)
    assert far[1] > near[1] and far[2] == near[2], "the approach moves the first stop, not the stops among themselves"
    # the courier drives the approach out and back: what the approach adds to the tour is twice what it adds to the first stop
    assert far[0] - near[0] == pytest.approx(2 * (far[1] - near[1]))


def test_travel_among_stops_grows_with_the_square_root_of_the_area():
    """Beardwood-Halton-Hammersley: four times the area, twice the driving between the stops."""
    no_service = LastmileConfig(parcels_per_stop=2.0, stop_service_min=0.0, courier_speed_kmh=15.0, load_min=10.0)
    _, _, small = tour_minutes(30, 1.5, 4.0, no_service)
    _, _, large = tour_minutes(30, 1.5, 16.0, no_service)
    assert large == pytest.approx(2 * small)


def test_faster_couriers_and_shared_stops_shorten_tours():
    base = tour_minutes(30, 1.5, 16.0, CFG)[0]
    assert tour_minutes(30, 1.5, 16.0, dataclasses.replace(CFG, courier_speed_kmh=30.0))[0] < base
    assert tour_minutes(30, 1.5, 16.0, dataclasses.replace(CFG, parcels_per_stop=4.0))[0] < base


def test_tour_times_agree_with_tour_minutes_and_doorstep_stops_cost_more():
    duration, first, per_parcel = tour_minutes(20, 1.5, 16.0, CFG)
    plain, offsets, minutes = tour_times(np.zeros(20, dtype=bool), 1.5, 16.0, CFG, own_stop_min=6.0)
    assert plain == pytest.approx(duration) and offsets[0] == pytest.approx(first + per_parcel)
    assert (np.diff(offsets) > 0).all() and offsets[-1] < plain, "every parcel is delivered before the courier is back"
    assert minutes.sum() == pytest.approx(plain), "the courier's minutes are shared out over the parcels"
    own = np.zeros(20, dtype=bool)
    own[::4] = True
    longer, offsets, minutes = tour_times(own, 1.5, 16.0, CFG, own_stop_min=6.0)
    assert longer > plain and minutes.sum() == pytest.approx(longer)
    assert minutes[own].min() > minutes[~own].max(), "a doorstep parcel takes more courier time than a shared stop"
    assert (np.diff(offsets) > 0).all() and offsets[-1] < longer


def test_tours_respect_capacity_and_start_on_shift_or_in_overtime(small_run):
    tours, shifts = small_run.output.tours, small_run.output.shifts.of("lastmile")
    assert len(tours) and tours.parcels.max() <= small_run.config.lastmile.tour_capacity
    for station in np.unique(tours.station):
        mine = tours.where(tours.station == station)
        rows = shifts.where(shifts.site == station)
        start, end = rows.start[mine.courier], rows.end[mine.courier]  # each tour's courier's shift
        tod = mine.start % 1440
        on_shift = np.where(start < end, (tod >= start) & (tod < end), (tod >= start) | (tod < end))
        # a tour starts on shift, or in overtime straight after the courier's previous tour, within the cap
        cap = small_run.config.lastmile.overtime_max_h * 60
        after_end = (tod - end) % 1440
        assert np.all(on_shift | (after_end < cap)), "tours start on shift or within the overtime cap"
        assert np.all(mine.overtime_min <= cap + 1e-6)


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
    first_try = nearby["attempts"] == 1
    late = nearby.loc[first_try, "delivered"] - (nearby.loc[first_try, "out_for_delivery"] + np.timedelta64(8, "h"))
    assert (late <= np.timedelta64(5, "m")).all(), "within the delivery hours, give or take the capacity's queue"
    # a failed attempt is retried on the next delivery day
    retried = nearby[~first_try]
    assert len(retried) and ((retried["delivered"] - retried["out_for_delivery"]) >= np.timedelta64(1, "D")).all()


def test_couriers_by_demand_keep_the_total_and_follow_the_parcels():
    from sim.city import City
    from sim.lastmile import couriers_by_station

    cfg = sim.load_config({})
    city = City(cfg.city)
    counts = np.array(couriers_by_station(cfg.capacity, city))
    assert counts.sum() == cfg.capacity.couriers_per_station * city.n_stations
    busiest, quietest = np.argmax(city.station_demand_share), np.argmin(city.station_demand_share)
    assert counts[busiest] > counts[quietest]
    given = sim.load_config({"city": {"stations_x": 2, "stations_y": 1}, "capacity": {"courier_allocation": [3, 5]}})
    assert couriers_by_station(given.capacity, City(given.city)) == [3, 5]
    with pytest.raises(sim.ConfigError, match="one headcount per station"):
        sim.load_config({"capacity": {"courier_allocation": [3, 5]}})


@pytest.mark.slow
def test_couriers_where_the_parcels_are_even_out_station_hit_rates():
    """At a 12:00 cutoff, uniform headcounts leave busy stations behind; by demand, station hit rates are closer."""
    spread = {}
    for allocation in ("uniform", "by_demand"):
        r = sim.run({"cutoff": {"name": "fixed", "time": "12:00"}, "capacity": {"courier_allocation": allocation}})
        stations = r.stations
        assert stations["couriers"].sum() == 30 * 20 and stations["parcels"].sum() > 0
        spread[allocation] = stations["same_day_hit_rate"].max() - stations["same_day_hit_rate"].min()
    assert spread["by_demand"] < spread["uniform"], spread


def test_tours_parquet_tells_each_tour(small_run):
    """tours.parquet: one row per tour, its parcels delivered or attempted, within capacity and the overtime cap."""
    t, o = small_run.tours, small_run.orders
    cfg = small_run.config.lastmile
    assert len(t) == len(small_run.output.tours) and (t["parcels"] <= cfg.tour_capacity).all()
    assert (t["end"] > t["start"]).all() and (t["km"] > 0).all() and (t["stops"] >= 1).all()
    assert (t["overtime_min"] <= cfg.overtime_max_h * 60 + 1e-6).all()
    home = o[o["region"] == "changchun"]
    assert t["parcels"].sum() == home["attempts"].sum(), "every attempt rode one tour"


def test_tour_length_km_is_public_in_lastmile_and_roads_add_their_detour():
    from sim.lastmile import tour_length_km
    from sim.tours import tour_length_km as fitted

    assert tour_length_km is fitted
    straight = dataclasses.replace(CFG, road_detour=1.0, stop_service_min=0.0, load_min=0.0)
    winding = dataclasses.replace(straight, road_detour=1.3)
    # no approach, no service: the tour is the road distance among the stops
    assert tour_minutes(30, 0.0, 2.0, winding)[0] == pytest.approx(1.3 * tour_minutes(30, 0.0, 2.0, straight)[0])
    assert tour_minutes(30, 0.0, 2.0, straight)[0] == pytest.approx(tour_length_km(15.0, 2.0) * 60.0 / straight.courier_speed_kmh)


@pytest.mark.parametrize(
    ("lastmile", "expected"),
    [({}, "couriers"), ({"territories": 3}, [3] * 4), ({"territory_km2": 5.0}, "area")],
)
def test_each_station_is_split_into_territories(lastmile, expected):
    """One territory per courier by default; or a count per station; or about `territory_km2` each."""
    result = sim.run(small_config(**{f"lastmile.{k}": v for k, v in lastmile.items()}, horizon_days=2))
    o, couriers = result.orders, couriers_by_station(result.config.capacity, sim.city.City(result.config.city))
    home = o[o["station"].notna()]
    found = home.groupby("station")["territory"].agg(["min", "max"])
    assert (found["min"] == 0).all()
    if expected == "couriers":
        expected = couriers
    elif expected == "area":
        expected = np.maximum(1, np.rint(sim.city.City(result.config.city).station_area_km2 / 5.0)).astype(int).tolist()
    assert (found["max"] + 1).tolist() == expected
    assert o.loc[o["station"].isna(), "territory"].isna().all(), "nearby cities' orders have no territory"


def test_a_tours_stops_lie_in_one_territory(small_run):
    """Every attempted parcel rode a tour of its station, starting when it last went out, to its own territory."""
    o, t = small_run.output.orders, small_run.output.tours
    attempted = np.flatnonzero((o.attempts > 0) & (o.station >= 0))
    tours = set(zip(t.station.tolist(), t.start.tolist(), t.territory.tolist()))
    keys = zip(o.station[attempted].tolist(), o.last_out[attempted].tolist(), o.territory[attempted].tolist())
    assert all(k in tours for k in keys)
    assert len(set(t.territory.tolist())) > 1


def test_smaller_territories_mean_shorter_tours():
    """The same parcels split into more territories: each tour's stops lie closer together."""
    km_per_stop = {}
    for n in (1, 8):
        result = sim.run(small_config(**{"lastmile.territories": n, "horizon_days": 2}))
        t, approach_km = result.output.tours, sim.city.City(result.config.city).station_approach_km
        km_per_stop[n] = float(np.mean((t.km - 2 * approach_km[t.station]) / t.stops))
    assert km_per_stop[8] < km_per_stop[1], km_per_stop


def test_territories_and_territory_area_are_exclusive():
    with pytest.raises(sim.ConfigError, match="lastmile.territories"):
        sim.run(small_config(**{"lastmile.territories": 3, "lastmile.territory_km2": 2.0}))
