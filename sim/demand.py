"""Demand: non-homogeneous Poisson order arrivals, drawn for the whole horizon as an `OrderTable`.

Orders are rows of numpy arrays, never Python objects. All draws come from the `arrivals`
and `order_attributes` streams, so capacity changes never change the demand (common
random numbers).
"""

from __future__ import annotations

import numpy as np

from .city import City
from .config.demand import DemandConfig
from .records import SOURCE_MERCHANT, OrderTable


def arrival_times(rng: np.random.Generator, orders_per_day: float, hourly_profile: list[float], days: int) -> np.ndarray:
    """Non-homogeneous Poisson arrivals with a piecewise-constant hourly rate, sorted (minutes)."""
    profile = np.asarray(hourly_profile, dtype=float)
    if profile.sum() <= 0 or orders_per_day <= 0:
        return np.empty(0)
    per_hour = np.tile(orders_per_day * profile / profile.sum(), days)
    counts = rng.poisson(per_hour)
    starts = np.repeat(np.arange(per_hour.size) * 60.0, counts)
    times = starts + rng.random(starts.size) * 60.0
    times.sort()
    return times


def _pick_by_share(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Category index for uniforms `u` given shares (the last category takes the remainder)."""
    cum = np.cumsum(shares)[:-1]
    return np.searchsorted(cum, u, side="right")


def generate_orders(
    cfg: DemandConfig,
    city: City,
    days: int,
    pick_mean_min: float,
    pick_cv: float,
    failed_attempt_prob: float,
    streams: dict[str, np.random.Generator],
) -> OrderTable:
    """Draw every order of the horizon with its destination, category, source and work content."""
    created = arrival_times(streams["arrivals"], cfg.orders_per_day, cfg.hourly_profile, days)
    n = created.size
    rng = streams["order_attributes"]
    u = rng.random((5, n))
    nearby_shares = np.array([c.share for c in city.cfg.nearby], dtype=float)
    region_shares = np.concatenate([[1.0 - nearby_shares.sum()], nearby_shares])
    region = _pick_by_share(u[0], region_shares).astype(np.int8)
    home = region == 0
    zone = np.full(n, -1, dtype=np.int16)
    zone[home] = _pick_by_share(u[1][home], city.zone_weight)
    station = np.full(n, -1, dtype=np.int16)
    station[home] = city.zone_station[zone[home]]
    category = (u[2] < cfg.fresh_share).astype(np.int8)
    source = (u[3] < cfg.merchant_share).astype(np.int8)
    wh_shares = np.array([w.share for w in city.cfg.warehouses], dtype=float)
    warehouse = _pick_by_share(u[4], wh_shares / wh_shares.sum()).astype(np.int8)
    warehouse[source == SOURCE_MERCHANT] = -1
    pick_service = gamma_times(streams["pick_service"], pick_mean_min, pick_cv, n)
    # attempts fail independently with probability p: failures before the first success ~ Geometric
    if failed_attempt_prob > 0:
        fails = streams["delivery_attempts"].geometric(1.0 - failed_attempt_prob, n) - 1
        failed = np.minimum(fails, 100).astype(np.int8)
    else:
        failed = np.zeros(n, dtype=np.int8)
    return OrderTable(
        created=created,
        region=region,
        zone=zone,
        station=station,
        category=category,
        source=source,
        warehouse=warehouse,
        pick_service_min=pick_service,
        failed_attempts=failed,
    )


def gamma_times(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Service times with a given mean and coefficient of variation (cv=1: exponential, cv=0: constant)."""
    if cv == 0:
        return np.full(n, float(mean))
    shape = 1.0 / cv**2
    return rng.gamma(shape, mean / shape, n)


def expected_orders(cfg: DemandConfig, a_min: float, b_min: float) -> float:
    """Expected number of orders created in [a, b) under the hourly profile."""
    profile = np.asarray(cfg.hourly_profile, dtype=float)
    if profile.sum() <= 0 or b_min <= a_min:
        return 0.0
    rate_per_min = cfg.orders_per_day * profile / profile.sum() / 60.0
    edges = np.arange(int(a_min // 60), int(np.ceil(b_min / 60)) + 1) * 60.0
    lo, hi = np.maximum(edges[:-1], a_min), np.minimum(edges[1:], b_min)
    hours = (edges[:-1] // 60).astype(int) % 24
    return float(np.sum(np.clip(hi - lo, 0, None) * rate_per_min[hours]))
