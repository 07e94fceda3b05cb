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
