"""The city's geometry: zones, delivery stations, front DCs, the sorting centres and nearby cities.

The default is a mid-size Chinese provincial capital modelled on Changchun (Jilin), with
three nearby cities served next-day by line-haul, as in the seed article's 极速达 example.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..schema import ConfigError, TimeOfDay, spec, tod, tods

# Vehicle speed on city roads by hour of day (km/h): ~35 at night, ~18 in the 7-9 and 17-19
# rush hours; typical of Chinese second-tier cities (city congestion reports put peak-hour
# speeds at 20-25 km/h on arterials, lower on local roads).
DEFAULT_ROAD_SPEED_KMH = [35, 35, 35, 35, 35, 33, 28, 20, 18, 24, 27, 27, 26, 27, 27, 26, 24, 19, 18, 22, 27, 30, 33, 35]


@dataclass
class WarehouseSite:
    """A front distribution centre holding stock; `share` of the warehouse-stock orders ship from it."""

    name: str = spec("north_fdc", doc="the front DC's name")
    x_km: float = spec(5.0, doc="km east of the urban core's south-west corner")
    y_km: float = spec(18.0, doc="km north of that corner; the DCs sit outside the core, north and south")
    share: float = spec(0.5, ge=0.0, le=1.0, doc="its share of the stock orders (normalised over the DCs)")


@dataclass
class SortingCentreSite:
    """A sorting centre (分拨中心) of a city with several: it sorts the parcels bound for the stations nearest to it."""

    name: str = spec("south_hub", doc="the sorting centre's name")
    x_km: float = spec(10.0, doc="km east of the urban core's south-west corner")
    y_km: float = spec(-4.0, doc="km north of that corner")


@dataclass
class NearbyCity:
    """A nearby city served next-day through line-haul from the (first) sorting centre."""

    name: str = spec("jilin", doc="region name, as the cutoff policies see it")
    share: float = spec(0.06, ge=0.0, le=1.0, doc="share of all orders addressed to this city")
    transit_h: float = spec(
        2.0,
        gt=0.0,
        le=48.0,
        doc="expressway driving time from the (first) sorting centre (Changchun: 110-170 km, 1.75-2.5 h)",
    )
    departures: list[TimeOfDay] = spec(
        factory=lambda: tods("14:00", "23:00"),
        doc="trucks leave the sorting centre at these times: an afternoon truck and a night truck in before the delivery start",
    )
    delivery_start: TimeOfDay = spec(tod("08:00"), doc="the city's own couriers start delivering")
    local_delivery_h: float = spec(8.0, gt=0.0, le=24.0, doc="hours its couriers take to deliver a day's arrivals")
    parcels_per_hour: float = spec(
        1000.0,
        ge=0.0,
        le=1_000_000.0,
        doc="its couriers' capacity for our parcels (0: unlimited); defaults about 1.3x a day's volume / 8 h",
    )


def _default_warehouses() -> list[WarehouseSite]:
    return [WarehouseSite("north_fdc", 6.0, 19.0, 0.5), WarehouseSite("south_fdc", 14.0, -3.0, 0.5)]


def _default_nearby() -> list[NearbyCity]:
    # Expressway times from Changchun (about 110, 120 and 170 km); an afternoon and a night truck.
    return [
        NearbyCity("jilin", 0.06, 1.75, tods("14:00", "23:00"), tod("08:00"), 8.0, 1000.0),
        NearbyCity("siping", 0.04, 1.75, tods("14:00", "23:00"), tod("08:00"), 8.0, 700.0),
        NearbyCity("songyuan", 0.03, 2.5, tods("14:00", "23:00"), tod("08:00"), 8.0, 500.0),
    ]


@dataclass
class CityConfig:
    """Geometry of the home city and its nearby cities."""

    name: str = spec(
        "changchun", doc="the home city's region name; modelled on Changchun, capital of Jilin (the seed's 极速达 example region)"
    )
    zones_x: int = spec(10, ge=1, le=200, doc="zones west to east")
    zones_y: int = spec(8, ge=1, le=200, doc="zones south to north")
    zone_km: float = spec(2.0, gt=0.0, le=50.0, doc="side of a square zone; 10x8 zones of 2 km = a 20x16 km urban core")
    zone_weights: list[float] | None = spec(None, ge=0.0, doc="demand weight per zone, row by row; null: centre-heavy")
    stations_x: int = spec(5, ge=1, le=200, doc="delivery stations west to east, evenly spaced over the core")
    stations_y: int = spec(
        4, ge=1, le=200, doc="5x4 = 20 stations, one per 16 km², each serving its nearest zones: 3,700-5,300 parcels a day"
    )
    sort_centre_x_km: float = spec(
        10.0, doc="the sorting centre (when city.sorting_centres is empty), km east of the core's south-west corner"
    )
    sort_centre_y_km: float = spec(
        -4.0, doc="km north of that corner: on the ring road south of the core, as sorting centres usually are"
    )
    sorting_centres: list[SortingCentreSite] = spec(
        factory=list,
        doc="several sorting centres: each station's parcels are sorted at the centre nearest to it, and nearby "
        "cities' at the first; [] = one centre, at sort_centre_x_km, sort_centre_y_km",
    )
    warehouses: list[WarehouseSite] = spec(factory=_default_warehouses, doc="front DCs holding stock, where stock orders are picked")
    nearby: list[NearbyCity] = spec(factory=_default_nearby, doc="nearby cities served next-day by line-haul from the sorting centre")
    road_speed_kmh_by_hour: list[float] = spec(
        factory=lambda: list(map(float, DEFAULT_ROAD_SPEED_KMH)),
        gt=0.0,
        le=200.0,
        doc="km/h of vans and trucks by hour: 35 at night, 18 in the 7-9 and 17-19 h rush; reports put peak arterials at 20-25",
    )
    road_detour: float = spec(
        1.3, ge=1.0, le=5.0, doc="road / straight-line distance, for vans, trucks and the couriers' leg from the station to their area"
    )

    @property
    def regions(self) -> list[str]:
        """Region names: the home city first, then the nearby cities."""
        return [self.name] + [c.name for c in self.nearby]

    @property
    def centres(self) -> list[SortingCentreSite]:
        """The sorting centres: `sorting_centres`, or the one at `sort_centre_x_km`, `sort_centre_y_km`."""
        return self.sorting_centres or [SortingCentreSite("sort_centre", self.sort_centre_x_km, self.sort_centre_y_km)]


def station_grid_xy(cfg: CityConfig) -> np.ndarray:
    """Delivery stations' positions (km), evenly spaced over the urban core, row by row."""
    width, height = cfg.zones_x * cfg.zone_km, cfg.zones_y * cfg.zone_km
    sx, sy = np.meshgrid(
        (np.arange(cfg.stations_x) + 0.5) * width / cfg.stations_x, (np.arange(cfg.stations_y) + 0.5) * height / cfg.stations_y
    )
    return np.column_stack([sx.ravel(), sy.ravel()])


def station_centres(cfg: CityConfig) -> np.ndarray:
    """The sorting centre of each station: the nearest (straight line; on a tie, the first listed)."""
    centre_xy = np.array([[c.x_km, c.y_km] for c in cfg.centres])
    d = np.linalg.norm(station_grid_xy(cfg)[:, None, :] - centre_xy[None, :, :], axis=2)
    return d.argmin(axis=1)


def validate_city(cfg: CityConfig) -> None:
    """Checks of the city that span its fields; raises `ConfigError`."""
    nz = cfg.zones_x * cfg.zones_y
    if cfg.zone_weights is not None:
        if len(cfg.zone_weights) != nz:
            raise ConfigError("city.zone_weights", f"{len(cfg.zone_weights)} values", f"expected {nz} (zones_x * zones_y)")
        if sum(cfg.zone_weights) <= 0:
            raise ConfigError("city.zone_weights", cfg.zone_weights, "at least one weight must be > 0")
    # stations sit on a regular grid over the zones: each serves a zone exactly when it has no more
    # stations than zones along each axis (nearest-station cells are at least a zone wide)
    for axis in ("x", "y"):
        stations, zones = getattr(cfg, f"stations_{axis}"), getattr(cfg, f"zones_{axis}")
        if stations > zones:
            raise ConfigError(f"city.stations_{axis}", stations, f"more stations than zones ({zones}): a station would serve no zone")
    if len(cfg.road_speed_kmh_by_hour) != 24:
        raise ConfigError(
            "city.road_speed_kmh_by_hour", f"{len(cfg.road_speed_kmh_by_hour)} values", "expected 24 values, one per hour"
        )
    if sum(c.share for c in cfg.nearby) > 1.0 + 1e-9:
        raise ConfigError("city.nearby[*].share", [c.share for c in cfg.nearby], "shares must add up to at most 1")
    if not cfg.warehouses:
        raise ConfigError("city.warehouses", [], "need at least one warehouse")
    if sum(w.share for w in cfg.warehouses) <= 0:
        raise ConfigError("city.warehouses[*].share", [w.share for w in cfg.warehouses], "at least one share must be > 0")
    if len(set(cfg.regions)) != len(cfg.regions):
        raise ConfigError("city.nearby[*].name", cfg.regions, "region names must be unique")
    for k, c in enumerate(cfg.nearby):
        if not c.departures:
            raise ConfigError(f"city.nearby[{k}].departures", [], "need at least one departure a day")
    _validate_centres(cfg)


def _validate_centres(cfg: CityConfig) -> None:
    if not cfg.sorting_centres:
        return
    defaults = {f.name: f.default for f in fields(CityConfig)}
    for key in ("sort_centre_x_km", "sort_centre_y_km"):
        if getattr(cfg, key) != defaults[key]:
            raise ConfigError(
                f"city.{key}",
                getattr(cfg, key),
                "give the sorting centres either as city.sorting_centres or as city.sort_centre_x_km/_y_km (one centre), not both",
            )
    names = [c.name for c in cfg.sorting_centres]
    if len(set(names)) != len(names):
        raise ConfigError("city.sorting_centres[*].name", names, "sorting centre names must be unique")
    served = np.bincount(station_centres(cfg), minlength=len(names))
    for k in range(1, len(names)):  # the first also sorts the nearby cities' parcels
        if served[k] == 0:
            raise ConfigError(
                f"city.sorting_centres[{k}]",
                names[k],
                "serves no station (each station's parcels go to the nearest sorting centre): move it or leave it out",
            )
