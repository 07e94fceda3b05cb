"""Textbook reductions of the model, for validation against queueing theory.

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

from .clock import Shift
from .schema import ConfigError, spec

STAGES = {"mmc": ("pick",), "tandem": ("pick", "sort", "lastmile")}


@dataclass
class ValidationConfig:
    """A textbook configuration; `servers` and `service_mean_min` are one value per station."""

    mode: str = spec("mmc", choices=("mmc", "tandem"))
    arrival_per_hour: float = spec(54.0, gt=0.0, doc="Poisson arrival rate")
    servers: Any = spec(4, doc="servers per station: an integer (mmc) or a list of three (tandem)")
    service_mean_min: Any = spec(4.0, doc="mean exponential service time per station, minutes")
    warmup_hours: float = spec(24.0, ge=0.0, doc="excluded from the statistics")


def _per_station(value: Any, n: int, key: str, kind: type) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * (1 if n == 1 else 0)
    if len(values) != n:
        raise ConfigError(key, value, f"expected {n} value(s), one per station")
    out = []
    for v in values:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and (kind is float or float(v).is_integer())
        if not ok:
            raise ConfigError(key, value, f"expected {'integers' if kind is int else 'numbers'} > 0")
        out.append(kind(v))
    return out


def station_parameters(v: ValidationConfig) -> tuple[list[int], list[float]]:
    """(servers, mean service minutes) per station, checked."""
    n = len(STAGES[v.mode])
    servers = _per_station(v.servers, n, "validation.servers", int)
    means = _per_station(v.service_mean_min, n, "validation.service_mean_min", float)
    for c, m, stage in zip(servers, means, STAGES[v.mode]):
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
    always = [Shift("00:00", "24:00", 1.0)]
    city = dataclasses.replace(
        cfg.city, nearby=[], warehouses=[dataclasses.replace(cfg.city.warehouses[0], share=1.0)], stations_x=1, stations_y=1
    )
    demand = dataclasses.replace(cfg.demand, orders_per_day=24.0 * v.arrival_per_hour, hourly_profile=[1.0] * 24, merchant_share=0.0)
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
