"""The run configuration: one dataclass tree whose defaults are the built-in city.

Each part's schema lives beside the code it configures; this module assembles them and
adds the checks that span parts. `load_config` accepts a nested mapping (as Hydra or a
notebook gives it), fills in the defaults and validates everything before any simulating.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .city import CityConfig
from .clock import MIN_PER_DAY, duty_windows
from .demand import DemandConfig
from .lastmile import LastmileConfig
from .linehaul import LinehaulConfig
from .promise import PromiseConfig
from .schema import ConfigError, from_dict, parse_time_min, spec, to_dict
from .services import ServicesConfig, validate_services
from .sorting import SortingConfig
from .validation import ValidationConfig, station_parameters
from .warehouse import PickupConfig, WarehouseConfig


@dataclass
class CapacityConfig:
    """The capacity levers a study varies."""

    pickers: int = spec(110, ge=0, doc="pickers per front DC, headcount over all shifts of a day")
    sorter_per_hour: float = spec(12_000.0, gt=0.0, doc="parcels per hour through the sorter")
    couriers_per_station: int = spec(30, ge=0, doc="couriers per delivery station, headcount over both shifts")
    truck_capacity: int = spec(2000, ge=1, doc="parcels per truck departure to a station (a 7.6 m truck)")
    pickup_couriers: int = spec(40, ge=0, doc="couriers collecting from merchants")


@dataclass
class CostConfig:
    """Unit costs (CNY) from which cost per order is computed."""

    courier_per_hour: float = spec(32.0, ge=0.0, doc="on-shift hour, fully loaded (about 7,000 CNY a month)")
    picker_per_hour: float = spec(28.0, ge=0.0, doc="on-shift hour of a warehouse picker")
    pickup_courier_per_hour: float = spec(32.0, ge=0.0)
    pickup_shift_h: float = spec(11.0, ge=0.0, doc="paid hours per pickup courier per day")
    truck_per_departure: float = spec(90.0, ge=0.0, doc="a 4.2 m van on a city run")
    nearby_truck_per_departure: float = spec(1500.0, ge=0.0, doc="a trailer to a nearby city")


@dataclass
class OutputConfig:
    """What a run writes."""

    orders: bool = spec(True, doc="write orders.parquet (one row per order)")
    progress: bool = spec(True, doc="show a progress bar on a terminal")
    sample_min: float = spec(15.0, gt=0.0, le=1440.0, doc="interval of the work-in-progress samples (utilization.parquet)")


@dataclass
class SimConfig:
    """A whole run. Minutes are counted from midnight of `start_date`."""

    seed: int = spec(42, ge=0, doc="root of every random stream")
    horizon_days: int = spec(3, ge=1, le=366, doc="days of orders simulated, warm-up included")
    warmup_days: int = spec(1, ge=0, doc="first days excluded from KPIs (the chain starts empty)")
    drain_hours: float = spec(24.0, ge=0.0, le=240.0, doc="the clock runs on this long after the last order")
    start_date: str = spec("2026-03-02", doc="calendar date of day 0 (a Monday)")
    city: CityConfig = field(default_factory=CityConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    promise: PromiseConfig = field(default_factory=PromiseConfig)
    cutoff: dict[str, Any] = spec(factory=lambda: {"name": "fixed", "time": "11:00"})
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    pickup: PickupConfig = field(default_factory=PickupConfig)
    sorting: SortingConfig = field(default_factory=SortingConfig)
    linehaul: LinehaulConfig = field(default_factory=LinehaulConfig)
    lastmile: LastmileConfig = field(default_factory=LastmileConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    services: ServicesConfig = field(default_factory=ServicesConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    validation: ValidationConfig | None = spec(None, doc="set (e.g. +validation=mmc) to run a textbook reduction")

    def to_dict(self) -> dict:
        return to_dict(self)

    @property
    def measure_start_min(self) -> float:
        """Start of the measured period: after the warm-up days, or after the validation warm-up."""
        if self.validation is not None:
            return self.validation.warmup_hours * 60.0
        return self.warmup_days * MIN_PER_DAY


def _check_shares(key: str, shares: list[float]) -> None:
    if sum(shares) > 1.0 + 1e-9:
        raise ConfigError(key, shares, "shares must add up to at most 1")


def validate(cfg: SimConfig) -> SimConfig:
    """Checks that span several parts of the config; raises `ConfigError`."""
    from .policies import make_policy

    try:
        dt.date.fromisoformat(cfg.start_date)
    except ValueError:
        raise ConfigError("start_date", cfg.start_date, "expected a date 'YYYY-MM-DD'") from None
    if cfg.validation is not None:
        station_parameters(cfg.validation)
        if cfg.validation.warmup_hours >= cfg.horizon_days * 24:
            raise ConfigError(
                "validation.warmup_hours",
                cfg.validation.warmup_hours,
                f"must be less than the horizon ({cfg.horizon_days * 24} hours)",
            )
    elif cfg.warmup_days >= cfg.horizon_days:
        raise ConfigError("warmup_days", cfg.warmup_days, f"must be less than horizon_days ({cfg.horizon_days})")
    if MIN_PER_DAY % cfg.promise.review_interval_min:
        raise ConfigError(
            "promise.review_interval_min",
            cfg.promise.review_interval_min,
            "must divide a day (1440 minutes) evenly, e.g. 5, 10, 15, 30, 60",
        )
    _check_shares("city.nearby[*].share", [c.share for c in cfg.city.nearby])
    if not cfg.city.warehouses:
        raise ConfigError("city.warehouses", [], "need at least one warehouse")
    if sum(w.share for w in cfg.city.warehouses) <= 0:
        raise ConfigError("city.warehouses[*].share", [w.share for w in cfg.city.warehouses], "at least one share must be > 0")
    names = [cfg.city.name] + [c.name for c in cfg.city.nearby]
    if len(set(names)) != len(names):
        raise ConfigError("city.nearby[*].name", names, "region names must be unique")
    if len(cfg.demand.hourly_profile) != 24:
        raise ConfigError("demand.hourly_profile", f"{len(cfg.demand.hourly_profile)} values", "expected 24 values, one per hour")
    demand = cfg.demand.orders_per_day > 0 and sum(cfg.demand.hourly_profile) > 0
    home_share = 1.0 - sum(c.share for c in cfg.city.nearby)
    needs = {
        "capacity.couriers_per_station": demand and home_share > 0,
        "capacity.pickers": demand and cfg.demand.merchant_share < 1,
        "capacity.pickup_couriers": demand and cfg.demand.merchant_share > 0 and bool(cfg.pickup.rounds),
    }
    for key, needed in needs.items():
        section, name = key.split(".")
        if needed and getattr(cfg.capacity, name) == 0:
            raise ConfigError(key, 0, "must be >= 1 while there is demand for it")
    if demand and cfg.demand.merchant_share > 0 and not cfg.pickup.rounds:
        raise ConfigError("pickup.rounds", [], "need at least one pickup round while demand.merchant_share > 0")
    for key, shifts in (("warehouse.shifts", cfg.warehouse.shifts), ("lastmile.shifts", cfg.lastmile.shifts)):
        duty_windows(shifts, 1, key)
    if not cfg.linehaul.station_departures:
        raise ConfigError("linehaul.station_departures", [], "need at least one departure a day")
    for k, c in enumerate(cfg.city.nearby):
        if not c.departures:
            raise ConfigError(f"city.nearby[{k}].departures", [], "need at least one departure a day")
    validate_services(cfg.services, parse_time_min(cfg.promise.window_end, "promise.window_end"))
    make_policy(cfg.cutoff, names)
    from .city import City

    City(cfg.city)  # geometry checks (zone weights, stations, speeds)
    return cfg


def load_config(data: dict | SimConfig | None = None) -> SimConfig:
    """Defaults overlaid with `data` (a nested mapping, possibly partial), validated."""
    if isinstance(data, SimConfig):
        data = dataclasses.asdict(data)
    data = dict(data or {})
    if "cutoff" in data and isinstance(data["cutoff"], dict):
        data["cutoff"] = dict(data["cutoff"])  # a given cutoff node replaces the default policy whole
    return validate(from_dict(SimConfig, data))


def default_config() -> SimConfig:
    """The built-in city at its defaults."""
    return SimConfig()
