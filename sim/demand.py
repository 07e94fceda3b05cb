"""Demand: order arrivals for the whole horizon, drawn at once as an `OrderTable`.

Arrivals are a Poisson process whose rate is constant within each hour. Hour h of day d expects
`orders_per_day × plan[d] × F[d] × share[d, h]` orders:

* the plan (`sim.config.demand.planned_day_factors`) is what a dispatcher knows ahead: the weekday factor times the
  factor of a calendar event (双11, 618), whose own hourly profile, if it has one, replaces the day's;
* `F[d]`, a gamma factor of mean 1 and CV `daily_cv`, makes each day's volume a gamma-mixed Poisson;
* the hourly shares vary from day to day (`profile_cv`), the day's total unchanged.

Live-stream bursts (直播) add orders on top: short, intense, and seen by no forecast. Orders are rows
of numpy arrays, never Python objects, and sorted by creation time. The base orders draw from the
`arrivals`, `order_attributes`, `pick_service` and `delivery_attempts` streams exactly as before the
variability existed, so with it off (`daily_cv=0`, `profile_cv=0`, flat weekdays, no calendar, no
bursts) the orders are bit for bit those of sim 0.2; the variability draws from streams of its own
(`demand_days`, `demand_hours`, `bursts`). Capacity and policy never change the demand (common random
numbers).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import numpy as np

from .city import City
from .config.demand import DEFAULT_START_DATE, BurstConfig, DemandConfig, ResponseConfig, ReturnsConfig, event_day, planned_day_factors
from .records import SOURCE_MERCHANT, OrderTable

MIN_PER_DAY = 1440.0


def arrival_times(rng: np.random.Generator, orders_per_day: float, hourly_profile: list[float], days: int) -> np.ndarray:
    """Non-homogeneous Poisson arrivals with a piecewise-constant hourly rate, the same every day, sorted (minutes)."""
    profile = np.asarray(hourly_profile, dtype=float)
    if profile.sum() <= 0 or orders_per_day <= 0:
        return np.empty(0)
    return poisson_arrivals(rng, np.tile(orders_per_day * profile / profile.sum(), days))


def poisson_arrivals(rng: np.random.Generator, orders_per_hour: np.ndarray) -> np.ndarray:
    """Sorted arrival minutes of a Poisson process expecting `orders_per_hour[k]` orders in hour k of the horizon
    (uniform within the hour)."""
    counts = rng.poisson(orders_per_hour)
    starts = np.repeat(np.arange(orders_per_hour.size) * 60.0, counts)
    times = starts + rng.random(starts.size) * 60.0
    times.sort()
    return times


def _event_profiles(cfg: DemandConfig, start_date: str, days: int) -> dict[int, np.ndarray]:
    """{day: hourly weights} of the calendar events in the run that bring a profile of their own."""
    out = {}
    for event in cfg.calendar:
        day = event_day(event, start_date)
        if 0 <= day < days and event.profile is not None:
            out[day] = np.asarray(event.profile, dtype=float)
    return out


def planned_orders_per_hour(cfg: DemandConfig, start_date: str, days: int) -> np.ndarray:
    """Expected orders in each hour of each day (days × 24) as planned: weekdays and calendar events, no random swing."""
    profile = np.asarray(cfg.hourly_profile, dtype=float)
    if cfg.orders_per_day <= 0:
        return np.zeros((days, 24))
    base = cfg.orders_per_day * profile / profile.sum() if profile.sum() > 0 else np.zeros(24)
    rates = np.tile(base, (days, 1))  # the same values, in the same order, as the 0.2 arrivals used
    for day, own in _event_profiles(cfg, start_date, days).items():
        rates[day] = cfg.orders_per_day * own / own.sum()
    factors = np.asarray(planned_day_factors(cfg, start_date, days), dtype=float)
    if (factors != 1.0).any():
        rates *= factors[:, None]
    return rates


def hourly_shares(cfg: DemandConfig, start_date: str, days: int) -> np.ndarray:
    """Each day's hourly profile as shares adding up to 1 (days × 24); an all-zero profile counts as flat."""
    profile = np.asarray(cfg.hourly_profile, dtype=float)
    shares = np.tile(profile / profile.sum() if profile.sum() > 0 else np.full(24, 1 / 24), (days, 1))
    for day, own in _event_profiles(cfg, start_date, days).items():
        shares[day] = own / own.sum()
    return shares


def varied_orders_per_hour(
    planned: np.ndarray, daily_cv: float, profile_cv: float, rng_days: np.random.Generator, rng_hours: np.random.Generator
) -> np.ndarray:
    """The planned hourly volumes (days × 24) with each hour times a gamma factor of mean 1 and CV `profile_cv`
    (renormalised: the day's total stays), then each day times a gamma factor of mean 1 and CV `daily_cv`.
    A CV of 0 draws nothing and changes nothing."""
    rates = planned
    if profile_cv > 0:
        varied = planned * gamma_times(rng_hours, 1.0, profile_cv, planned.size).reshape(planned.shape)
        total, new_total = planned.sum(axis=1), varied.sum(axis=1)
        scale = np.divide(total, new_total, out=np.zeros_like(total), where=new_total > 0)
        rates = varied * scale[:, None]
    if daily_cv > 0:
        rates = rates * gamma_times(rng_days, 1.0, daily_cv, len(planned))[:, None]
    return rates


def burst_arrivals(
    rng: np.random.Generator, cfg: BurstConfig, day_factors: np.ndarray, shares: np.ndarray, horizon_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival minutes of the live-stream bursts' orders and the burst each belongs to (unsorted).

    Each day has Poisson(per_day × its planned factor) bursts; a burst starts at a time drawn from the day's
    hourly shares, brings Poisson(gamma(orders_mean, orders_cv)) orders and spreads them uniformly over
    `duration_min`. Orders falling past the horizon are dropped."""
    bursts_per_day = rng.poisson(cfg.per_day * day_factors)
    day = np.repeat(np.arange(len(day_factors)), bursts_per_day)
    cum = np.cumsum(shares[day], axis=1)
    hour = np.minimum((cum < rng.random(day.size)[:, None] * cum[:, -1:]).sum(axis=1), 23)
    start = day * MIN_PER_DAY + (hour + rng.random(day.size)) * 60.0
    size = rng.poisson(gamma_times(rng, cfg.orders_mean, cfg.orders_cv, day.size))
    burst = np.repeat(np.arange(day.size), size)
    created = start[burst] + rng.random(burst.size) * cfg.duration_min
    keep = created < horizon_min
    return created[keep], burst[keep]


def _pick_by_share(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Category index for uniforms `u` given shares (the last category takes the remainder)."""
    cum = np.cumsum(shares)[:-1]
    return np.searchsorted(cum, u, side="right")


def _order_mix(cfg: DemandConfig, city: City, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Region, zone, station, category, source and front DC of n orders, from five rows of uniforms drawn one row at
    a time (the values `rng.random((5, n))` gives, without holding all five rows at once)."""
    nearby_shares = np.array([c.share for c in city.cfg.nearby], dtype=float)
    region_shares = np.concatenate([[1.0 - nearby_shares.sum()], nearby_shares])
    region = _pick_by_share(rng.random(n), region_shares).astype(np.int8)
    home = region == 0
    zone = np.full(n, -1, dtype=np.int16)
    zone[home] = _pick_by_share(rng.random(n)[home], city.zone_weight)
    station = np.full(n, -1, dtype=np.int16)
    station[home] = city.zone_station[zone[home]]
    category = (rng.random(n) < cfg.fresh_share).astype(np.int8)
    source = (rng.random(n) < cfg.merchant_share).astype(np.int8)
    wh_shares = np.array([w.share for w in city.cfg.warehouses], dtype=float)
    warehouse = _pick_by_share(rng.random(n), wh_shares / wh_shares.sum()).astype(np.int8)
    warehouse[source == SOURCE_MERCHANT] = -1
    return {"region": region, "zone": zone, "station": station, "category": category, "source": source, "warehouse": warehouse}


def _work(
    rng_pick: np.random.Generator, rng_attempts: np.random.Generator, n: int, pick_mean_min: float, pick_cv: float, failed_prob: float
) -> dict[str, np.ndarray]:
    """Pick work content and the delivery attempts that will fail, for n orders."""
    pick_service = gamma_times(rng_pick, pick_mean_min, pick_cv, n)
    # attempts fail independently with probability p: failures before the first success ~ Geometric
    if failed_prob > 0:
        fails = rng_attempts.geometric(1.0 - failed_prob, n) - 1
        failed = np.minimum(fails, 100).astype(np.int8)
    else:
        failed = np.zeros(n, dtype=np.int8)
    return {"pick_service_min": pick_service, "failed_attempts": failed}


def burst_zones(rng: np.random.Generator, zone_weight: np.ndarray, zones: int, n_bursts: int) -> np.ndarray:
    """The zones each burst's home orders go to (n_bursts × k, k = `zones` or fewer if fewer zones have demand):
    drawn by zone weight without replacement, all bursts at once (Gumbel top-k)."""
    weight = np.asarray(zone_weight, dtype=float)
    k = min(zones, int(np.count_nonzero(weight > 0)))
    with np.errstate(divide="ignore"):
        keys = np.log(weight) + rng.gumbel(size=(n_bursts, weight.size))
    return np.argpartition(-keys, k - 1, axis=1)[:, :k]


def generate_orders(
    cfg: DemandConfig,
    city: City,
    days: int,
    pick_mean_min: float,
    pick_cv: float,
    failed_attempt_prob: float,
    streams: dict[str, np.random.Generator],
    start_date: str = DEFAULT_START_DATE,
) -> OrderTable:
    """Draw every order of the horizon with its destination, category, source and work content, sorted by creation."""
    planned = planned_orders_per_hour(cfg, start_date, days)
    per_hour = varied_orders_per_hour(planned, cfg.daily_cv, cfg.profile_cv, streams["demand_days"], streams["demand_hours"])
    if cfg.response.enabled:  # shoppers for the most attractive promise: at a next-day one, orders_per_day of them buy
        per_hour = per_hour * cfg.response.shoppers_per_order()
    created = poisson_arrivals(streams["arrivals"], per_hour.ravel())
    n = created.size
    columns = {"created": created}
    columns |= _order_mix(cfg, city, streams["order_attributes"], n)
    columns |= _work(streams["pick_service"], streams["delivery_attempts"], n, pick_mean_min, pick_cv, failed_attempt_prob)
    bursts = cfg.bursts
    if bursts.per_day > 0 and bursts.orders_mean > 0:
        rng = streams["bursts"]
        day_factors = np.asarray(planned_day_factors(cfg, start_date, days), dtype=float)
        if cfg.response.enabled:
            bursts = dataclasses.replace(bursts, orders_mean=bursts.orders_mean * cfg.response.shoppers_per_order())
        extra_created, burst = burst_arrivals(rng, bursts, day_factors, hourly_shares(cfg, start_date, days), days * MIN_PER_DAY)
        m = extra_created.size
        extra = {"created": extra_created} | _order_mix(cfg, city, rng, m)
        if bursts.zones > 0:  # each burst's home orders go to a few zones, each of them equally likely
            chosen = burst_zones(rng, city.zone_weight, bursts.zones, int(burst.max()) + 1 if m else 0)
            home = extra["region"] == 0
            pick = (rng.random(int(home.sum())) * chosen.shape[1]).astype(int)
            extra["zone"][home] = chosen[burst[home], pick]
            extra["station"][home] = city.zone_station[extra["zone"][home]]
        extra |= _work(rng, rng, m, pick_mean_min, pick_cv, failed_attempt_prob)
        order = np.argsort(np.concatenate([created, extra_created]), kind="stable")
        columns = {name: np.concatenate([col, extra[name]])[order] for name, col in columns.items()}
    return OrderTable(**columns)


# the random streams that drawing the orders uses, and nothing else may: a run that takes its orders from
# `DrawnOrders` leaves them untouched (tests/test_demand.py checks no other module draws from them)
DEMAND_STREAMS = ("arrivals", "order_attributes", "pick_service", "delivery_attempts", "demand_days", "demand_hours", "bursts")


class DrawnOrders:
    """The orders a process drew lately, by seed and the settings they depend on: a sweep's runs that share a seed
    draw the same orders whatever their capacity or policy (common random numbers), so a worker draws them once and
    gives each run its own copy of the drawn columns. Off (`max_bytes` 0) until a sweep turns it on; it keeps at most
    `max_bytes`, and no draw larger than half of it."""

    def __init__(self, max_bytes: int = 0):
        self.max_bytes = max_bytes
        self._drawn: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()
        self.hits = 0

    def get(self, key: tuple, draw) -> OrderTable:
        """The orders of `key` in a table of their own, drawn by `draw()` (`generate_orders`) when not at hand."""
        if self.max_bytes <= 0:
            return draw()
        columns = self._drawn.get(key)
        if columns is not None:
            self.hits += 1
            self._drawn.move_to_end(key)
            return OrderTable(**{name: col.copy() for name, col in columns.items()})
        table = draw()
        size = sum(getattr(table, name).nbytes for name in OrderTable.DRAWN_COLUMNS)
        if size <= self.max_bytes // 2:
            while self._drawn and self._kept_bytes() + size > self.max_bytes:  # the oldest go first
                self._drawn.popitem(last=False)
            self._drawn[key] = {name: getattr(table, name).copy() for name in OrderTable.DRAWN_COLUMNS}
        return table

    def _kept_bytes(self) -> int:
        return sum(col.nbytes for columns in self._drawn.values() for col in columns.values())

    def clear(self) -> None:
        """Forget every draw kept."""
        self._drawn.clear()
        self.hits = 0


DRAWN = DrawnOrders()  # this process's recent draws; `sim.sweep` turns it on in the workers


def gamma_times(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Service times with a given mean and coefficient of variation (cv=1: exponential, cv=0: constant)."""
    if cv == 0:
        return np.full(n, float(mean))
    shape = 1.0 / cv**2
    return rng.gamma(shape, mean / shape, n)


def expected_orders(cfg: DemandConfig, a_min: float, b_min: float, planned: np.ndarray | None = None) -> float:
    """Expected number of orders created in [a, b) under the hourly profile; with `planned`
    (`planned_orders_per_hour`), under the plan of each day (weekdays, calendar events) it covers."""
    profile = np.asarray(cfg.hourly_profile, dtype=float)
    if profile.sum() <= 0 or b_min <= a_min:
        return 0.0
    rate_per_min = cfg.orders_per_day * profile / profile.sum() / 60.0
    edges = np.arange(int(a_min // 60), int(np.ceil(b_min / 60)) + 1) * 60.0
    lo, hi = np.maximum(edges[:-1], a_min), np.minimum(edges[1:], b_min)
    hours = (edges[:-1] // 60).astype(int)
    rates = rate_per_min[hours % 24]
    if planned is not None:
        flat = planned.ravel()
        inside = (hours >= 0) & (hours < flat.size)
        rates = np.where(inside, flat[np.clip(hours, 0, flat.size - 1)] / 60.0, rates)
    return float(np.sum(np.clip(hi - lo, 0, None) * rates))


# --- shoppers answer the promise (demand.response) and send parcels back (demand.returns) -----------------------


def response_groups(orders: OrderTable, idx: np.ndarray, n_zones: int) -> np.ndarray:
    """Who remembers a broken promise together: a home-city order's zone, else its nearby city (n_zones + region - 1)."""
    zone = orders.zone[idx]
    return np.where(zone >= 0, zone, n_zones + orders.region[idx].astype(np.int64) - 1)


def buy_probability(tier: np.ndarray, tier_factors: np.ndarray, goodwill: np.ndarray | float) -> np.ndarray:
    """Probability that a drawn shopper shown `tier` buys: its tier's factor over the largest (the shoppers are drawn
    for the most attractive promise, `ResponseConfig.shoppers_per_order`), times the goodwill of the shopper's group
    (1: no broken promises)."""
    return tier_factors[tier] / tier_factors.max() * goodwill


class ShopperResponse:
    """Each drawn order is a shopper who sees the promise checkout offers and buys with `buy_probability`; a broken
    promise lowers the purchase rate of its zone (or nearby city) by `miss_penalty` times the zone's recent share of
    broken promises, remembered with an e-folding time of `miss_memory_days`.

    Shoppers who do not buy keep their row (`placed` false) and are dropped from the order table after the run:
    counted, never simulated. The draws come from their own stream, one per shopper in creation order, so a shopper
    decides the same way in every run of a seed that shows it the same promise (common random numbers)."""

    def __init__(self, cfg: ResponseConfig, orders: OrderTable, n_zones: int, n_regions: int, rng: np.random.Generator):
        self.cfg, self.orders, self.n_zones, self.rng = cfg, orders, n_zones, rng
        self.tier_factors = np.asarray(cfg.tier_factor_values(), dtype=float)
        groups = n_zones + n_regions - 1
        self.goodwill = np.ones(groups)
        self._missed, self._judged = np.zeros(groups), np.zeros(groups)
        self._day = 0

    def buys(self, idx: np.ndarray, tier: np.ndarray, now: float) -> np.ndarray:
        """Which of the shoppers `idx`, shown `tier` at the review at `now`, buy."""
        day = int(now // MIN_PER_DAY)
        while self._day < day:  # broken promises of the days past, as their deadlines passed
            self._day += 1
            self._remember(self._day * MIN_PER_DAY)
        o = self.orders
        goodwill = self.goodwill[response_groups(o, idx, self.n_zones)] if self.cfg.miss_penalty > 0 else 1.0
        p = buy_probability(tier, self.tier_factors, goodwill)
        return self.rng.random(idx.size) < p

    def _remember(self, day_start: float) -> None:
        """Fold the promises due in the day up to `day_start` into each group's decayed share of broken promises."""
        if self.cfg.miss_penalty <= 0:
            return
        o = self.orders
        lo, hi = np.searchsorted(o.created, [day_start - 3 * MIN_PER_DAY, day_start], side="right")
        window = slice(int(lo), int(hi))
        promised = o.promised_by[window]
        due = (promised > day_start - MIN_PER_DAY) & (promised <= day_start)  # NaN (not placed) is never due
        idx = np.flatnonzero(due) + window.start
        missed = ~(o.delivered[idx] <= o.promised_by[idx])
        groups = response_groups(o, idx, self.n_zones)
        keep = np.exp(-1.0 / self.cfg.miss_memory_days)
        size = self.goodwill.size
        self._missed = self._missed * keep + np.bincount(groups[missed], minlength=size)
        self._judged = self._judged * keep + np.bincount(groups, minlength=size)
        share = np.divide(self._missed, self._judged, out=np.zeros(size), where=self._judged > 0)
        self.goodwill = np.clip(1.0 - self.cfg.miss_penalty * share, 0.0, 1.0)


def return_probability(cfg: ReturnsConfig, late: np.ndarray, doorstep: np.ndarray, in_slot: np.ndarray) -> np.ndarray:
    """Chance that a delivered order is sent back: the base rate, higher when late, lower with a doorstep hand-over
    or delivery in a chosen slot."""
    p = np.full(late.size, cfg.rate)
    p[late] *= cfg.late_factor
    p[doorstep] *= cfg.doorstep_factor
    p[in_slot] *= cfg.slot_factor
    return np.clip(p, 0.0, 1.0)
