"""The city: zones on a plane, delivery stations, warehouses, the sorting centre, nearby cities, travel times.

The default is a mid-size Chinese provincial capital modelled on Changchun (Jilin), with
three nearby cities served next-day by line-haul, as in the seed article's 极速达 example.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .clock import MIN_PER_DAY
from .schema import ConfigError, spec

# Vehicle speed on city roads by hour of day (km/h): ~35 at night, ~18 in the 7-9 and 17-19
# rush hours; typical of Chinese second-tier cities (city congestion reports put peak-hour
# speeds at 20-25 km/h on arterials, lower on local roads).
DEFAULT_ROAD_SPEED_KMH = [
    35,
    35,
    35,
    35,
    35,
    33,
    28,
    20,
    18,
    24,
    27,
    27,
    26,
    27,
    27,
    26,
    24,
    19,
    18,
    22,
    27,
    30,
    33,
    35,
]


@dataclass
class WarehouseSite:
    """A front distribution centre holding stock; `share` of the warehouse-stock orders ship from it."""

    name: str = "north_fdc"
    x_km: float = spec(5.0)
    y_km: float = spec(18.0)
    share: float = spec(0.5, ge=0.0, le=1.0)


@dataclass
class NearbyCity:
    """A nearby city served next-day through line-haul from the sorting centre."""

    name: str = "jilin"
    share: float = spec(0.06, ge=0.0, le=1.0, doc="share of all orders addressed to this city")
    transit_h: float = spec(2.0, gt=0.0, le=48.0, doc="expressway driving time from the sorting centre")
    departures: list[str] = spec(factory=lambda: ["14:00", "23:00"], time=True)
    delivery_start: str = spec("08:00", time=True, doc="the city's own couriers start delivering")
    local_delivery_h: float = spec(8.0, gt=0.0, le=24.0, doc="hours its couriers take to deliver a day's arrivals")
    parcels_per_hour: float = spec(0.0, ge=0.0, doc="its couriers' capacity for our parcels (0: unlimited)")


def _default_warehouses() -> list[WarehouseSite]:
    return [WarehouseSite("north_fdc", 6.0, 19.0, 0.5), WarehouseSite("south_fdc", 14.0, -3.0, 0.5)]


def _default_nearby() -> list[NearbyCity]:
    # Expressway times from Changchun (about 110, 120 and 170 km); an afternoon and a night truck.
    return [
        NearbyCity("jilin", 0.06, 1.75, ["14:00", "23:00"], "08:00", 8.0),
        NearbyCity("siping", 0.04, 1.75, ["14:00", "23:00"], "08:00", 8.0),
        NearbyCity("songyuan", 0.03, 2.5, ["14:00", "23:00"], "08:00", 8.0),
    ]


@dataclass
class CityConfig:
    """Geometry of the home city and its nearby cities."""

    name: str = "changchun"
    zones_x: int = spec(10, ge=1, le=200)
    zones_y: int = spec(8, ge=1, le=200)
    zone_km: float = spec(2.0, gt=0.0, doc="side of a square zone; 10x8 zones of 2 km = a 20x16 km urban core")
    zone_weights: list[float] | None = spec(None, ge=0.0, doc="demand weight per zone, row by row; null: centre-heavy")
    stations_x: int = spec(5, ge=1)
    stations_y: int = spec(4, ge=1, doc="stations on a 5x4 grid, each serving the zones nearest to it")
    sort_centre_x_km: float = spec(10.0)
    sort_centre_y_km: float = spec(-4.0, doc="on the ring road south of the core, as sorting centres usually are")
    warehouses: list[WarehouseSite] = field(default_factory=_default_warehouses)
    nearby: list[NearbyCity] = field(default_factory=_default_nearby)
    road_speed_kmh_by_hour: list[float] = spec(factory=lambda: list(map(float, DEFAULT_ROAD_SPEED_KMH)), gt=0.0)
    road_detour: float = spec(1.3, ge=1.0, doc="road distance / straight-line distance")


class City:
    """Derived geometry: zone centroids and weights, station of each zone, distances."""

    def __init__(self, cfg: CityConfig):
        self.cfg = cfg
        nz = cfg.zones_x * cfg.zones_y
        ix, iy = np.meshgrid(np.arange(cfg.zones_x), np.arange(cfg.zones_y))
        self.zone_xy = np.column_stack([(ix.ravel() + 0.5) * cfg.zone_km, (iy.ravel() + 0.5) * cfg.zone_km])
        if cfg.zone_weights is None:
            centre = self.zone_xy.mean(axis=0)
            r = np.linalg.norm(self.zone_xy - centre, axis=1)
            sigma = 0.35 * max(cfg.zones_x, cfg.zones_y) * cfg.zone_km
            weights = 1.0 + np.exp(-(r**2) / (2 * sigma**2))
        else:
            weights = np.asarray(cfg.zone_weights, dtype=float)
            if weights.size != nz:
                raise ConfigError("city.zone_weights", f"{weights.size} values", f"expected {nz} (zones_x * zones_y)")
            if weights.sum() <= 0:
                raise ConfigError("city.zone_weights", cfg.zone_weights, "at least one weight must be > 0")
        self.zone_weight = weights / weights.sum()
        width, height = cfg.zones_x * cfg.zone_km, cfg.zones_y * cfg.zone_km
        sx, sy = np.meshgrid(
            (np.arange(cfg.stations_x) + 0.5) * width / cfg.stations_x, (np.arange(cfg.stations_y) + 0.5) * height / cfg.stations_y
        )
        self.station_xy = np.column_stack([sx.ravel(), sy.ravel()])
        d = np.linalg.norm(self.zone_xy[:, None, :] - self.station_xy[None, :, :], axis=2)
        self.zone_station = d.argmin(axis=1).astype(np.int16)
        self.n_stations = len(self.station_xy)
        served = np.bincount(self.zone_station, minlength=self.n_stations)
        if (served == 0).any():
            raise ConfigError("city.stations_x", cfg.stations_x, "more stations than zones: a station would serve no zone")
        self.station_area_km2 = served * cfg.zone_km**2
        # mean road distance from a station to the centroids of its zones (the approach leg of a tour)
        zone_dist = d[np.arange(nz), self.zone_station] * cfg.road_detour
        self.station_approach_km = np.bincount(
            self.zone_station, weights=zone_dist * self.zone_weight, minlength=self.n_stations
        ) / np.maximum(np.bincount(self.zone_station, weights=self.zone_weight, minlength=self.n_stations), 1e-12)
        self.station_weight = np.bincount(self.zone_station, weights=self.zone_weight, minlength=self.n_stations)
        sc = np.array([cfg.sort_centre_x_km, cfg.sort_centre_y_km])
        self.sort_to_station_km = np.linalg.norm(self.station_xy - sc, axis=1) * cfg.road_detour
        self.warehouse_to_sort_km = np.array([np.hypot(w.x_km - sc[0], w.y_km - sc[1]) * cfg.road_detour for w in cfg.warehouses])
        self.speed_by_hour = np.asarray(cfg.road_speed_kmh_by_hour, dtype=float)
        if self.speed_by_hour.size != 24:
            raise ConfigError("city.road_speed_kmh_by_hour", f"{self.speed_by_hour.size} values", "expected 24 values, one per hour")
        self.regions = [cfg.name] + [c.name for c in cfg.nearby]

    def road_minutes(self, distance_km: np.ndarray | float, depart_min: np.ndarray | float) -> np.ndarray:
        """Driving time for a distance, at the speed of the hour of departure."""
        hour = ((np.asarray(depart_min) % MIN_PER_DAY) // 60).astype(int)
        return np.asarray(distance_km) / self.speed_by_hour[hour] * 60.0
