"""City geometry: zones, stations, distances and hour-of-day travel times."""

from __future__ import annotations

import numpy as np
import pytest

from sim.city import City
from sim.config import load_config
from sim.config.city import CityConfig
from sim.schema import ConfigError


def test_default_city_layout():
    city = City(CityConfig())
    assert city.zone_xy.shape == (80, 2) and city.n_stations == 20
    assert np.isclose(city.zone_weight.sum(), 1.0)
    assert np.bincount(city.zone_station).min() >= 1
    assert city.regions == ["changchun", "jilin", "siping", "songyuan"]
    # the centre is busier than the edge
    centre = np.argmin(np.linalg.norm(city.zone_xy - city.zone_xy.mean(axis=0), axis=1))
    assert city.zone_weight[centre] > city.zone_weight[0]


def test_travel_time_depends_on_the_hour():
    city = City(CityConfig())
    night, rush = city.road_minutes(10.0, 3 * 60), city.road_minutes(10.0, 8 * 60)
    assert rush > night
    assert night == pytest.approx(10.0 / 35.0 * 60)


def test_zone_weights_must_match_the_grid():
    with pytest.raises(ConfigError, match="zone_weights"):
        load_config({"city": {"zones_x": 2, "zones_y": 2, "stations_x": 1, "stations_y": 1, "zone_weights": [1.0, 1.0]}})


def test_one_sorting_centre_by_default():
    city = City(CityConfig())
    assert city.n_centres == 1 and (city.station_centre == 0).all()
    expected = np.linalg.norm(city.station_xy - np.array([10.0, -4.0]), axis=1) * 1.3
    np.testing.assert_array_equal(city.sort_to_station_km, expected)
    assert city.warehouse_to_sort_km.shape == (2, 1)


TWO_CENTRES = [{"name": "south", "x_km": 10.0, "y_km": -4.0}, {"name": "north", "x_km": 10.0, "y_km": 20.0}]


def test_each_station_is_served_by_its_nearest_sorting_centre():
    city = City(load_config({"city": {"sorting_centres": TWO_CENTRES}}).city)
    assert city.n_centres == 2
    d = np.linalg.norm(city.station_xy[:, None, :] - city.centre_xy[None, :, :], axis=2)
    np.testing.assert_array_equal(city.station_centre, d.argmin(axis=1))
    assert set(city.station_centre.tolist()) == {0, 1}
    np.testing.assert_allclose(city.sort_to_station_km, d.min(axis=1) * 1.3)
    # a parcel's centre by its station; nearby cities' parcels (station -1) go to the first centre
    assert city.centre_of(np.array([-1, 0, city.n_stations - 1])).tolist() == [0, 0, 1]
    assert city.warehouse_to_sort_km.shape == (2, 2)


@pytest.mark.parametrize(
    "city,key",
    [
        ({"sorting_centres": TWO_CENTRES, "sort_centre_x_km": 3.0}, "city.sort_centre_x_km"),
        ({"sorting_centres": [TWO_CENTRES[0], dict(TWO_CENTRES[1], name="south")]}, "city.sorting_centres[*].name"),
        ({"sorting_centres": [TWO_CENTRES[0], dict(TWO_CENTRES[0], name="twin")]}, "city.sorting_centres[1]"),
        ({"sorting_centres": [TWO_CENTRES[0], {"name": "far", "x_km": 300.0, "y_km": 300.0}]}, "city.sorting_centres[1]"),
        ({"sorting_centres": [{"name": "x", "x_km": float("nan"), "y_km": 0.0}]}, "city.sorting_centres[0].x_km"),
    ],
)
def test_bad_sorting_centres_are_refused(city, key):
    with pytest.raises(ConfigError) as info:
        load_config({"city": city})
    assert info.value.key == key, str(info.value)


def _megacity(*overrides: str) -> dict:
    import sim.cli

    sim.cli._register_base()
    composed = sim.cli._compose(["+experiment=megacity", *overrides])
    assert composed.hydra.mode != "MULTIRUN"  # one run: python -m sim +experiment=megacity
    sim.cli.check_launch(["+experiment=megacity", *overrides])  # composes, validates, and fits this machine's memory
    return sim.cli._model_part(composed)


def test_the_megacity_preset_is_a_shanghai_sized_city():
    cfg = load_config(_megacity())
    city = City(cfg.city)
    assert cfg.demand.orders_per_day == 2_000_000 and city.n_stations == 200 and len(cfg.city.warehouses) == 6
    assert city.n_centres == 2 and 60 <= np.count_nonzero(city.station_centre == 0) <= 140
    assert 600 <= city.station_area_km2.sum() <= 700  # about the area inside Shanghai's Outer Ring Road


def test_the_megacity_preset_scaled_down_runs():
    """The preset at 1 % of its demand and about as many people for it (its geometry, timetables and machines as they
    are)."""
    import sim

    scaled = ["demand.orders_per_day=20000", "horizon_days=2", "capacity.couriers_per_station=3", "capacity.pickers=8"]
    scaled += ["capacity.pickup_couriers=10"]
    result = sim.run(_megacity(*scaled))
    o, k = result.output.orders, result.kpis
    centre = City(result.config.city).centre_of(o.station)
    assert set(centre[~np.isnan(o.sorted)].tolist()) == {0, 1}
    assert k["same_day_hit_rate"] > 0.9 and all(0 < k[f"{r}_utilization"] <= 1 for r in ("picker", "sorter", "courier"))
