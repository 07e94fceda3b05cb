"""Demand: non-homogeneous Poisson order arrivals, drawn for the whole horizon as an `OrderTable`.

Orders are rows of numpy arrays, never Python objects. All draws come from the `arrivals`
and `order_attributes` streams, so capacity changes never change the demand (common
random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .city import City
from .schema import spec

# Share of a day's orders placed in each hour: a Chinese e-commerce curve with a late-morning
# peak (10-12) and a larger evening peak (20-22, after work; live-stream selling peaks then).
DEFAULT_HOURLY_PROFILE = [
    2.4,
    1.4,
    0.8,
    0.5,
    0.4,
    0.5,
    1.1,
    2.3,
    3.8,
    5.2,
    6.4,
    6.3,
    5.4,
    4.9,
    5.0,
    5.1,
    4.9,
    4.6,
    4.8,
    5.7,
    6.8,
    7.2,
    5.8,
    3.9,
]

SOURCE_WAREHOUSE, SOURCE_MERCHANT = 0, 1
CATEGORY_GENERAL, CATEGORY_FRESH = 0, 1
TIER_SAME_DAY, TIER_NEXT_DAY, TIER_SECOND_DAY = 0, 1, 2
TIER_NAMES = ["same_day", "next_day", "second_day"]
CATEGORY_NAMES = ["general", "fresh"]
SOURCE_NAMES = ["warehouse", "merchant"]


@dataclass
class DemandConfig:
    """Order arrivals: volume, hour-of-day profile and mix."""

    orders_per_day: float = spec(100_000.0, ge=0.0, doc="mean orders per day for the home city and its nearby cities")
    hourly_profile: list[float] = spec(factory=lambda: list(DEFAULT_HOURLY_PROFILE), ge=0.0)
    fresh_share: float = spec(0.10, ge=0.0, le=1.0, doc="生鲜: fresh produce share of orders")
    merchant_share: float = spec(0.30, ge=0.0, le=1.0, doc="揽件: orders collected from merchants, not picked from stock")


@dataclass
class OrderTable:
    """All orders of a run as a struct of arrays, sorted by creation time; the model fills the stage columns."""

    created: np.ndarray  # minutes since the start
    region: np.ndarray  # 0 = home city, k = nearby city k
    zone: np.ndarray  # home-city zone, -1 for nearby cities
    station: np.ndarray  # delivery station, -1 for nearby cities
    category: np.ndarray
    source: np.ndarray
    warehouse: np.ndarray  # front DC picking it, -1 for merchant orders
    pick_service_min: np.ndarray  # work content of its pick, drawn up front
    failed_attempts: np.ndarray  # delivery attempts that will fail before one succeeds
    tier: np.ndarray = field(default=None)
    promised_by: np.ndarray = field(default=None)
    pick_start: np.ndarray = field(default=None)
    picked: np.ndarray = field(default=None)
    arrived_sort: np.ndarray = field(default=None)
    sort_start: np.ndarray = field(default=None)
    sorted: np.ndarray = field(default=None)
    departed: np.ndarray = field(default=None)
    arrived_station: np.ndarray = field(default=None)
    out_for_delivery: np.ndarray = field(default=None)  # first attempt
    last_out: np.ndarray = field(default=None)  # latest attempt
    delivered: np.ndarray = field(default=None)
    attempts: np.ndarray = field(default=None)
    # services (see sim.services); all off by default
    doorstep: np.ndarray = field(default=None)  # 音尊达: call ahead, hand over at the door
    refused: np.ndarray = field(default=None)  # will refuse the parcel at the door
    window: np.ndarray = field(default=None)  # chosen delivery window, -1 for none
    returned: np.ndarray = field(default=None)  # refused and sent back
    expedited: np.ndarray = field(default=None)  # raised by a parcel-centre warning
    pickup_point: np.ndarray = field(default=None)  # 按需派送: to be left at a pickup point (驿站)

    STAGE_COLUMNS = (
        "promised_by",
        "pick_start",
        "picked",
        "arrived_sort",
        "sort_start",
        "sorted",
        "departed",
        "arrived_station",
        "out_for_delivery",
        "last_out",
        "delivered",
        "returned",
    )

    def __post_init__(self) -> None:
        n = len(self.created)
        if self.tier is None:
            self.tier = np.full(n, -1, dtype=np.int8)
        for name in self.STAGE_COLUMNS:
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, np.nan))
        if self.attempts is None:
            self.attempts = np.zeros(n, dtype=np.int8)
        for name in ("doorstep", "refused", "expedited", "pickup_point"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(n, dtype=bool))
        if self.window is None:
            self.window = np.full(n, -1, dtype=np.int8)

    def __len__(self) -> int:
        return len(self.created)


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
