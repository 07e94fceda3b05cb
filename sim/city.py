"""The city's derived geometry: zone centroids and weights, the station serving each zone, the sorting centre serving
each station, distances, travel times.

Its spec (and the default city, modelled on Changchun) is `sim.config.city`.
"""

from __future__ import annotations

import numpy as np

from .clock import MIN_PER_DAY
from .config.city import CityConfig, station_centres, station_grid_xy


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
        self.zone_weight = weights / weights.sum()
        self.station_xy = station_grid_xy(cfg)
        d = np.linalg.norm(self.zone_xy[:, None, :] - self.station_xy[None, :, :], axis=2)
        self.zone_station = d.argmin(axis=1).astype(np.int16)
        self.n_stations = len(self.station_xy)
        served = np.bincount(self.zone_station, minlength=self.n_stations)
        self.station_area_km2 = served * cfg.zone_km**2
        # each station's share of the home city's parcels (the demand weight of its zones)
        self.station_demand_share = np.bincount(self.zone_station, weights=self.zone_weight, minlength=self.n_stations)
        # mean road distance from a station to the centroids of its zones (the approach leg of a tour)
        zone_dist = d[np.arange(nz), self.zone_station] * cfg.road_detour
        self.station_approach_km = np.bincount(
            self.zone_station, weights=zone_dist * self.zone_weight, minlength=self.n_stations
        ) / np.maximum(np.bincount(self.zone_station, weights=self.zone_weight, minlength=self.n_stations), 1e-12)
        # sorting centres: each station's parcels are sorted at its nearest centre, nearby cities' at the first
        centres = cfg.centres
        self.n_centres = len(centres)
        self.centre_xy = np.array([[c.x_km, c.y_km] for c in centres])
        self.station_centre = station_centres(cfg)
        # the centre of a parcel by its `station`: index -1 (a nearby city's parcel) is the first centre
        self._centre_of_station = np.append(self.station_centre, 0).astype(np.int64)
        self.sort_to_station_km = np.linalg.norm(self.station_xy - self.centre_xy[self.station_centre], axis=1) * cfg.road_detour
        # [DC, centre]: a DC's shuttles run to every centre
        self.warehouse_to_sort_km = np.array(
            [[np.hypot(w.x_km - c.x_km, w.y_km - c.y_km) * cfg.road_detour for c in centres] for w in cfg.warehouses]
        )
        self.speed_by_hour = np.asarray(cfg.road_speed_kmh_by_hour, dtype=float)
        self.regions = cfg.regions

    def centre_of(self, station: np.ndarray) -> np.ndarray:
        """The sorting centre of parcels bound for `station` (an order's `station`; -1, a nearby city: the first)."""
        return self._centre_of_station[station]

    def road_minutes(self, distance_km: np.ndarray | float, depart_min: np.ndarray | float) -> np.ndarray:
        """Driving time for a distance, at the speed of the hour of departure."""
        hour = ((np.asarray(depart_min) % MIN_PER_DAY) // 60).astype(int)
        return np.asarray(distance_km) / self.speed_by_hour[hour] * 60.0
