"""The run configuration, a pure spec layer: one dataclass tree whose defaults are the built-in city.

Each part mirrors a stage of the chain (`city`, `demand`, `promise`, `warehouse`, `sorting`,
`linehaul`, `lastmile`; the services and the cutoff policies keep their spec beside their
code). `load_config` accepts a nested mapping (as Hydra or a notebook gives it), fills in the
defaults, parses times once and validates everything before any simulating. Nothing here
builds an engine object: the model is free to change without touching the spec.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..policies import policy_class, policy_params
from ..schema import ConfigError, check_number, from_dict, spec, to_dict
from ..services import ServicesConfig, validate_services
from .city import CityConfig, validate_city
from .demand import DEFAULT_START_DATE, BurstConfig, CalendarEvent, DemandConfig, planned_day_factors, validate_demand
from .lastmile import LastmileConfig
from .linehaul import LinehaulConfig
from .promise import PromiseConfig
from .sorting import SortingConfig
from .validation import TEXTBOOK_CASES, ValidationConfig, case_defaults, station_parameters
from .warehouse import PickupConfig, WarehouseConfig

MIN_PER_DAY = 1440.0

# Keys renamed in 0.2 (old dotted prefix -> new); the old ones still load, with a warning, until 0.3.
RENAMED_KEYS = {
    "promise.window_end": "promise.day_end",
    "services.windows.share": "services.on_demand.slot_share",
    "services.windows.windows": "services.on_demand.slots",
    "services.windows": "services.on_demand",
}


@dataclass
class CapacityConfig:
    """The capacity levers a study varies."""

    pickers: int = spec(110, ge=0, le=100_000, doc="pickers per front DC, headcount over all shifts of a day")
    sorter_per_hour: float = spec(
        12_000.0,
        gt=0.0,
        le=1_000_000.0,
        doc="parcels per hour through the sorter of each sorting centre; a city sorting centre's cross-belt sorter handles "
        "10,000-20,000",
    )
    couriers_per_station: int = spec(
        30,
        ge=0,
        le=10_000,
        doc="couriers per delivery station, over both shifts; 146 parcels each a day (express couriers: about 100-250)",
    )
    courier_allocation: Any = spec(
        "by_demand",
        doc="how the couriers (couriers_per_station x stations) are spread: 'uniform', 'by_demand' or one count per station",
    )
    truck_capacity: int = spec(
        2000, ge=1, le=100_000, doc="parcels per truck departure to a station: a 7.6 m truck of small e-commerce parcels"
    )
    pickup_couriers: int = spec(
        40,
        ge=0,
        le=100_000,
        doc="couriers collecting from merchants; a round sends as many as its parcels need, of those not still out",
    )


@dataclass
class CostConfig:
    """Unit costs (CNY) from which cost per order is computed."""

    courier_pay: str = spec(
        "mixed",
        choices=("hourly", "per_parcel", "mixed"),
        doc="how couriers are paid: by the hour, per delivered parcel (派费), or a base per hour plus per parcel",
    )
    courier_per_hour: float = spec(
        32.0, ge=0.0, le=100_000.0, doc="courier_pay=hourly: on-shift hour, fully loaded (about 7,000 CNY a month)"
    )
    courier_base_per_hour: float = spec(
        12.0, ge=0.0, le=100_000.0, doc="courier_pay=mixed: the base, per on-shift hour (about 2,800 CNY a month)"
    )
    per_parcel_cny: float = spec(
        1.2, ge=0.0, le=1_000.0, doc="派费 per delivered parcel (per_parcel, mixed); express couriers get roughly 1-2 CNY a parcel"
    )
    doorstep_surcharge_cny: float = spec(0.5, ge=0.0, le=1_000.0, doc="extra per parcel handed over at the door (音尊达)")
    overtime_multiplier: float = spec(
        1.5, ge=1.0, le=10.0, doc="an overtime hour costs this many hours' pay (PRC Labour Law art. 44: at least 150 %)"
    )
    picker_per_hour: float = spec(28.0, ge=0.0, le=100_000.0, doc="on-shift hour of a warehouse picker, fully loaded")
    pickup_courier_per_hour: float = spec(32.0, ge=0.0, le=100_000.0, doc="on-shift hour of a pickup courier")
    pickup_shift_h: float = spec(11.0, ge=0.0, le=24.0, doc="paid hours per pickup courier per day")
    truck_per_departure: float = spec(90.0, ge=0.0, le=1_000_000.0, doc="hire of a 7.6 m truck for one city run to a station")
    sorting_centre_per_hour: float = spec(
        1_200.0,
        ge=0.0,
        le=1_000_000.0,
        doc="a sorting centre's staff and machine per operating hour, each centre (about 0.2 CNY a parcel)",
    )
    missed_promise_cny: float = spec(5.0, ge=0.0, le=10_000.0, doc="a broken promise: the coupon the platform gives the customer")
    return_handling_cny: float = spec(8.0, ge=0.0, le=10_000.0, doc="a refused parcel's way back (reverse logistics)")
    failed_attempt_cny: float = spec(
        1.0, ge=0.0, le=10_000.0, doc="a failed delivery attempt: the call, storage at the station, a redelivery"
    )
    nearby_truck_per_departure: float = spec(1500.0, ge=0.0, le=1_000_000.0, doc="hire of a trailer for one run to a nearby city")


@dataclass
class EconomicsConfig:
    """What an order earns, to turn the KPIs into money: revenue, gross margin and profit."""

    order_value_cny: float = spec(
        100.0,
        ge=0.0,
        le=1_000_000.0,
        doc="mean value of an order: China's online retail sales of physical goods (13.0 trillion CNY in 2023, NBS) "
        "over its express parcels (132 billion, State Post Bureau) is about 100 CNY",
    )
    margin: float = spec(
        0.15,
        ge=0.0,
        le=1.0,
        doc="gross margin on an order's value before logistics: about 15 %, a first-party e-commerce retailer's "
        "(JD.com's annual reports)",
    )


@dataclass
class OutputConfig:
    """What a run writes."""

    orders: bool = spec(True, doc="write orders.parquet (one row per order)")
    progress: bool = spec(True, doc="show a progress bar on a terminal")
    sample_min: float = spec(15.0, ge=1.0, le=1440.0, doc="interval of the work-in-progress samples (utilization.parquet)")


def _default_cutoff() -> dict[str, Any]:
    return {"name": "fixed"} | to_dict(policy_class({"name": "fixed"}).Params())


@dataclass
class SimConfig:
    """A whole run. Minutes are counted from midnight of `start_date`."""

    seed: int = spec(42, ge=0, le=2**63 - 1, doc="root of every random stream")
    horizon_days: int = spec(3, ge=1, le=366, doc="days of orders simulated, warm-up included")
    warmup_days: int = spec(1, ge=0, le=365, doc="first days excluded from KPIs (the chain starts empty)")
    drain_hours: float = spec(24.0, ge=0.0, le=240.0, doc="the clock runs on this long after the last order")
    start_date: str = spec(DEFAULT_START_DATE, doc="calendar date of day 0, 'YYYY-MM-DD' (a Monday)")
    city: CityConfig = field(default_factory=CityConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    promise: PromiseConfig = field(default_factory=PromiseConfig)
    cutoff: dict[str, Any] = spec(factory=_default_cutoff, doc="the cutoff policy: `name` (or `_target_`) and its parameters")
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    pickup: PickupConfig = field(default_factory=PickupConfig)
    sorting: SortingConfig = field(default_factory=SortingConfig)
    linehaul: LinehaulConfig = field(default_factory=LinehaulConfig)
    lastmile: LastmileConfig = field(default_factory=LastmileConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    economics: EconomicsConfig = field(default_factory=EconomicsConfig)
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


def normalise_cutoff(node: Any, regions: list[str], day_end_min: float) -> dict[str, Any]:
    """The `cutoff` node validated through its policy's `Params`, with every parameter filled in."""
    _, params = policy_params(node, regions, day_end_min)
    head = {"_target_": node["_target_"]} if node.get("_target_") else {"name": node.get("name")}
    return head | to_dict(params)


def _check_allocation(cfg: SimConfig) -> None:
    allocation, n = cfg.capacity.courier_allocation, cfg.city.stations_x * cfg.city.stations_y
    if isinstance(allocation, (list, tuple)):
        if len(allocation) != n:
            raise ConfigError("capacity.courier_allocation", allocation, f"expected one headcount per station ({n})")
        cfg.capacity.courier_allocation = [
            check_number("capacity.courier_allocation", v, {"ge": 0, "le": 10_000}, True) for v in allocation
        ]
    elif allocation not in ("uniform", "by_demand"):
        raise ConfigError(
            "capacity.courier_allocation", allocation, "expected 'uniform', 'by_demand' or a list of headcounts, one per station"
        )


def _check_shifts(key: str, shifts: list) -> None:
    if shifts and abs(sum(s.share for s in shifts) - 1.0) > 1e-6:
        raise ConfigError(key, [s.share for s in shifts], "shift shares must add up to 1")


def validate(cfg: SimConfig) -> SimConfig:
    """Checks that span several parts of the config; raises `ConfigError`. Returns `cfg`, its cutoff node normalised."""
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
    if cfg.promise.day_end <= 0:
        raise ConfigError("promise.day_end", str(cfg.promise.day_end), "a promised day must end after midnight (00:00 is its start)")
    validate_city(cfg.city)
    validate_demand(cfg.demand, cfg.start_date, cfg.horizon_days)
    bursts = cfg.demand.bursts.per_day > 0 and cfg.demand.bursts.orders_mean > 0
    demand = (cfg.demand.orders_per_day > 0 and sum(cfg.demand.hourly_profile) > 0) or bursts
    home_share = 1.0 - sum(c.share for c in cfg.city.nearby)
    needs = {
        "couriers_per_station": demand and home_share > 0,
        "pickers": demand and cfg.demand.merchant_share < 1,
        "pickup_couriers": demand and cfg.demand.merchant_share > 0 and bool(cfg.pickup.rounds),
    }
    for name, needed in needs.items():
        if needed and getattr(cfg.capacity, name) == 0:
            raise ConfigError(f"capacity.{name}", 0, "must be >= 1 while there is demand for it")
    if demand and cfg.demand.merchant_share > 0 and not cfg.pickup.rounds:
        raise ConfigError("pickup.rounds", [], "need at least one pickup round while demand.merchant_share > 0")
    _check_allocation(cfg)
    _check_shifts("warehouse.shifts", cfg.warehouse.shifts)
    _check_shifts("lastmile.shifts", cfg.lastmile.shifts)
    if cfg.lastmile.territory_km2 is not None and cfg.lastmile.territories is not None:
        raise ConfigError(
            "lastmile.territories", cfg.lastmile.territories, "give either lastmile.territories or lastmile.territory_km2, not both"
        )
    if not cfg.linehaul.station_departures:
        raise ConfigError("linehaul.station_departures", [], "need at least one departure a day")
    validate_services(cfg)
    cfg.cutoff = normalise_cutoff(cfg.cutoff, cfg.city.regions, cfg.promise.day_end)
    return cfg


def rename_old_keys(data: dict) -> dict:
    """Move values given under renamed keys (`RENAMED_KEYS`) to their new place, with a warning; giving a
    value under both names is an error."""
    data = dict(data)
    for old, new in sorted(RENAMED_KEYS.items(), key=lambda kv: -len(kv[0])):
        found, value = _pop_path(data, old.split("."))
        if not found or value == {}:  # absent, or emptied by the renames of its keys
            continue
        warnings.warn(f"config key '{old}' is deprecated; use '{new}' (the old name goes in 0.3)", FutureWarning, stacklevel=3)
        _set_path(data, new.split("."), value, old)
    return data


def _pop_path(data: dict, path: list[str]) -> tuple[bool, Any]:
    """(found, value) of a dotted path, removed from `data` (the dicts on the way are copied, not changed)."""
    node = data
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            return False, None
        node[part] = dict(node[part])
        node = node[part]
    if path[-1] not in node:
        return False, None
    return True, node.pop(path[-1])


def _set_path(data: dict, path: list[str], value: Any, old: str) -> None:
    node = data
    for part in path[:-1]:
        node[part] = dict(node.get(part) or {})
        node = node[part]
    here = node.get(path[-1])
    both = here is not None and (not isinstance(value, dict) or not isinstance(here, dict) or set(value) & set(here))
    if both:
        raise ConfigError(old, value, f"given under both its old name and its new one, '{'.'.join(path)}': keep the new one")
    node[path[-1]] = here | value if isinstance(here, dict) else value


def load_config(data: dict | SimConfig | None = None) -> SimConfig:
    """Defaults overlaid with `data` (a nested mapping, possibly partial), validated."""
    if isinstance(data, SimConfig):
        data = to_dict(data)
    data = rename_old_keys(dict(data or {}))
    if "cutoff" in data and isinstance(data["cutoff"], dict):
        data["cutoff"] = dict(data["cutoff"])  # a given cutoff node replaces the default policy whole
    validation = data.get("validation")
    if isinstance(validation, dict):  # a textbook case's own defaults, under what was given
        mode = validation.get("mode", "mmc")
        if mode in TEXTBOOK_CASES:
            data["validation"] = case_defaults(mode) | validation
    return validate(from_dict(SimConfig, data))


# Peak memory per order of a run (its order table, the stages' work arrays, KPIs and writing): 206 bytes
# measured at 1,000,000 orders a day, 202 for the megacity preset (docs/performance.md), with a margin.
BYTES_PER_ORDER = 300


def expected_orders_total(cfg: SimConfig) -> float:
    """Orders a run is expected to draw over its horizon (weekdays, calendar events and bursts included; with shoppers
    answering the promise, the shoppers drawn for the most attractive promise)."""
    if cfg.validation is not None:
        return cfg.validation.arrival_per_hour * 24.0 * cfg.horizon_days
    d = cfg.demand
    shoppers = d.response.shoppers_per_order() if d.response.enabled else 1.0
    daily = d.orders_per_day + d.bursts.per_day * d.bursts.orders_mean
    return sum(planned_day_factors(d, cfg.start_date, cfg.horizon_days)) * daily * shoppers


def machine_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(cfg: SimConfig, memory_bytes: int | None = None) -> None:
    """Refuse, before allocating anything, a run whose orders would not fit in this machine's memory."""
    orders = expected_orders_total(cfg)
    need, have = orders * BYTES_PER_ORDER, memory_bytes or machine_memory_bytes()
    if need > have:
        key, value = (
            ("validation.arrival_per_hour", cfg.validation.arrival_per_hour)
            if cfg.validation is not None
            else ("demand.orders_per_day", cfg.demand.orders_per_day)
        )
        raise ConfigError(
            key,
            value,
            f"{orders:,.0f} orders over {cfg.horizon_days} days need about {need / 2**30:,.1f} GiB of memory; "
            f"this machine has {have / 2**30:,.1f} GiB (shorten horizon_days or lower the volume)",
        )


def default_config() -> SimConfig:
    """The built-in city at its defaults."""
    return SimConfig()


__all__ = [
    "BurstConfig",
    "CalendarEvent",
    "CapacityConfig",
    "CityConfig",
    "ConfigError",
    "CostConfig",
    "DemandConfig",
    "EconomicsConfig",
    "LastmileConfig",
    "LinehaulConfig",
    "OutputConfig",
    "PickupConfig",
    "PromiseConfig",
    "RENAMED_KEYS",
    "check_memory",
    "ServicesConfig",
    "SimConfig",
    "SortingConfig",
    "ValidationConfig",
    "WarehouseConfig",
    "default_config",
    "load_config",
    "validate",
]
