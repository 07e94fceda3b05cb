"""Textbook reductions of the model, for validation against queueing theory (the spec; the model's wiring
for each case is `sim.model.WIRING`).

`validation.mode: mmc` runs the picking stage alone as an M/M/c queue; `tandem` runs
pick -> sort -> last mile as three exponential multi-server stations in series (a Jackson
network). Both use the model's own stage code: the picker pool, the sorter lines and the
station's couriers (one parcel per tour, exponential tour times); only the timetables are
removed (constant Poisson arrivals, no shifts, no waves, no line-haul, no transfer times).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..schema import ConfigError, check_number, spec, tod
from .demand import steady_demand
from .shifts import Shift

# Each case: its stations in series, and the defaults of `+validation=<mode>` (one source for the CLI and `sim.run`).
TEXTBOOK_CASES: dict[str, dict[str, Any]] = {
    "mmc": {"stations": ("pick",), "arrival_per_hour": 54.0, "servers": 4, "service_mean_min": 4.0, "warmup_hours": 24.0},
    "tandem": {
        "stations": ("pick", "sort", "lastmile"),
        "arrival_per_hour": 54.0,
        "servers": [4, 2, 3],
        "service_mean_min": [4.0, 1.8, 2.5],
        "warmup_hours": 24.0,
    },
}


def case_defaults(mode: str) -> dict[str, Any]:
    """The `validation` node of a textbook case, as `+validation=<mode>` composes it."""
    return {"mode": mode} | {k: v for k, v in TEXTBOOK_CASES[mode].items() if k != "stations"}


@dataclass
class ValidationConfig:
    """A textbook configuration; `servers` and `service_mean_min` are one value per station."""

    mode: str = spec("mmc", choices=tuple(TEXTBOOK_CASES), doc="mmc: picking alone; tandem: pick, sort, last mile in series")
    arrival_per_hour: float = spec(54.0, gt=0.0, le=1_000_000.0, doc="Poisson arrival rate")
    servers: Any = spec(4, doc="servers per station: an integer (mmc) or a list of three (tandem)")
    service_mean_min: Any = spec(4.0, doc="mean exponential service time per station, minutes")
    warmup_hours: float = spec(24.0, ge=0.0, le=8784.0, doc="excluded from the statistics")


def _per_station(value: Any, n: int, key: str, integer: bool, most: float) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * (1 if n == 1 else 0)
    if len(values) != n:
        raise ConfigError(key, value, f"expected {n} value(s), one per station")
    return [check_number(key, v, {"gt": 0, "le": most}, integer=integer) for v in values]


def station_parameters(v: ValidationConfig) -> tuple[list[int], list[float]]:
    """(servers, mean service minutes) per station, checked."""
    stations = TEXTBOOK_CASES[v.mode]["stations"]
    servers = _per_station(v.servers, len(stations), "validation.servers", True, 10_000)
    means = _per_station(v.service_mean_min, len(stations), "validation.service_mean_min", False, 1440.0)
    for c, m, stage in zip(servers, means, stations):
        if v.arrival_per_hour * m / 60.0 >= c:
            raise ConfigError(
                "validation.arrival_per_hour",
                v.arrival_per_hour,
                f"the {stage} station is unstable: arrival rate x service time must be < servers ({c})",
            )
    return servers, means


def textbook_config(cfg: Any) -> Any:
    """The run config reduced to the textbook case described by `cfg.validation`."""
    v = cfg.validation
    servers, means = station_parameters(v)
    always = [Shift(tod("00:00"), tod("24:00"), 1.0)]
    city = dataclasses.replace(
        cfg.city,
        nearby=[],
        warehouses=[dataclasses.replace(cfg.city.warehouses[0], share=1.0)],
        stations_x=1,
        stations_y=1,
        sorting_centres=[],  # one sorting centre
    )
    # a textbook queue has Poisson arrivals at one rate
    demand = steady_demand(
        dataclasses.replace(cfg.demand, orders_per_day=24.0 * v.arrival_per_hour, hourly_profile=[1.0] * 24, merchant_share=0.0)
    )
    capacity = dataclasses.replace(cfg.capacity, pickers=servers[0])
    warehouse = dataclasses.replace(cfg.warehouse, pick_mean_min=means[0], pick_cv=1.0, shifts=always)
    sorting, lastmile = cfg.sorting, dataclasses.replace(cfg.lastmile, failed_attempt_prob=0.0)
    if v.mode == "tandem":
        capacity = dataclasses.replace(capacity, sorter_per_hour=60.0 * servers[1] / means[1], couriers_per_station=servers[2])
        sorting = dataclasses.replace(sorting, waves=[], lines=servers[1], service_cv=1.0)
        lastmile = dataclasses.replace(lastmile, shifts=always, tour_capacity=1, service_mean_min=means[2], service_cv=1.0)
    return dataclasses.replace(
        cfg,
        city=city,
        demand=demand,
        capacity=capacity,
        warehouse=warehouse,
        sorting=sorting,
        lastmile=lastmile,
        cutoff={"name": "none"},
    )
