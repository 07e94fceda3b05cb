"""Order arrivals: volume, hour-of-day profile and mix, and how volume varies: day to day, by weekday,
on calendar events (双11, 618) and in live-stream bursts (直播)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import warnings
from dataclasses import dataclass, field

from ..schema import ConfigError, spec

# Calendar date of day 0 in the built-in run (a Monday).
DEFAULT_START_DATE = "2026-03-02"
# Weekday factors must average 1 within this, so factors rounded to two decimals pass.
WEEKDAY_MEAN_TOLERANCE = 0.01
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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


@dataclass
class CalendarEvent:
    """A dated event: that day's expected volume times `factor`, optionally with an hourly profile of its own."""

    date: str = spec("", doc="the day, 'YYYY-MM-DD' (required)")
    factor: float = spec(
        1.0, ge=0.0, le=100.0, doc="the day's expected volume times this, on top of its weekday factor (0: no orders that day)"
    )
    name: str = spec("", doc="a label, e.g. 双11")
    profile: list[float] | None = spec(
        None, ge=0.0, doc="24 relative hourly weights for that day (null: demand.hourly_profile), e.g. a midnight spike"
    )


@dataclass
class BurstConfig:
    """直播 live-stream bursts: short, intense bursts of orders on top of the base demand, which no forecast sees."""

    per_day: float = spec(
        0.0, ge=0.0, le=1_000.0, doc="mean bursts a day (Poisson, times the day's weekday and calendar factor); 0: none"
    )
    orders_mean: float = spec(2_000.0, ge=0.0, le=1_000_000.0, doc="mean orders of a burst (an assumption: a large local stream)")
    orders_cv: float = spec(
        1.0, ge=0.0, le=10.0, doc="coefficient of variation of a burst's size (gamma; 1: sizes as spread as an exponential)"
    )
    duration_min: float = spec(30.0, gt=0.0, le=1_440.0, doc="a burst's orders arrive uniformly over this long after its start")
    zones: int = spec(
        0,
        ge=0,
        le=40_000,
        doc="home-city zones a burst's home orders go to (drawn per burst by zone weight); 0: spread like ordinary demand",
    )


@dataclass
class ResponseConfig:
    """Shoppers answer the promise: each sees the promise checkout offers and buys with a probability set by its
    speed; a broken promise lowers its zone's purchase rate for a while. Orders not placed are counted, never
    simulated."""

    enabled: bool = spec(
        True,
        doc="shoppers answer the promise (false: every drawn order is placed, with no promise effects on sales, baskets or "
        "later demand); with it, demand.orders_per_day is the demand when every shopper is promised next-day",
    )
    conversion: float = spec(
        0.3,
        gt=0.0,
        le=1.0,
        doc="share of shoppers at checkout who buy when shown the next-day promise; counts the shoppers "
        "(`shoppers` in the summary) and bounds the faster tiers' probability at 1; an assumption",
    )
    uplift_per_day_faster: float = spec(
        0.0073,
        ge=0.0,
        le=1.0,
        doc="relative rise in purchases for a promise one day faster than next-day (same-day): +0.73 % in a field "
        "experiment (Cui, Sun, Lu & Golden); Fisher, Gallino & Xu (JMR 2019) report about +1.5 % a business day; "
        "sweep 0.005-0.05 (same-day in Chinese cities and fresh produce may be worth more)",
    )
    drop_per_day_slower: float = spec(
        0.0051,
        ge=0.0,
        le=1.0,
        doc="relative fall in purchases for a promise one day slower than next-day (second-day): -0.51 % in the same "
        "field experiment (Cui et al.)",
    )
    value_uplift_per_day_faster: float = spec(
        0.035,
        ge=0.0,
        le=1.0,
        doc="relative rise in an order's value for a promise one day faster than next-day: +3.5 % in the same field "
        "experiment (Cui et al.; sales +0.73 %, profit +2.0 %)",
    )
    value_drop_per_day_slower: float = spec(
        0.031,
        ge=0.0,
        le=1.0,
        doc="relative fall in an order's value for a promise one day slower: -3.1 % in the same experiment (Cui et al.)",
    )
    tier_factors: list[float] | None = spec(
        None,
        gt=0.0,
        le=100.0,
        doc="purchase probability of the same-day, next-day and second-day promise relative to next-day (three "
        "values, e.g. [1.02, 1, 0.99]); null: from uplift_per_day_faster and drop_per_day_slower",
    )
    miss_penalty: float = spec(
        0.1,
        ge=0.0,
        le=1.0,
        doc="a customer whose promise was broken buys this much less for a while; a zone's purchase rate falls by it "
        "times the zone's recent share of broken promises; an assumption (delivery glitches lower later orders: "
        "Rao, Griffis & Goldsby, J. Operations Management 2011)",
    )
    miss_memory_days: float = spec(
        30.0,
        gt=0.0,
        le=3_650.0,
        doc="how long a broken promise is remembered: the zone's share of broken promises decays with this e-folding time",
    )
    repurchase_uplift: float = spec(
        0.01,
        ge=0.0,
        le=1.0,
        doc="extra orders, later, per kept promise delivered with doorstep hand-over (音尊达) or in a chosen slot "
        "(按需派送): the seed says both were launched to raise repurchase; counted in revenue, never simulated; an assumption",
    )

    def tier_factor_values(self) -> list[float]:
        """Purchase probability of each tier (same-day, next-day, second-day) relative to next-day."""
        if self.tier_factors is not None:
            return [float(f) for f in self.tier_factors]
        return [1.0 + self.uplift_per_day_faster, 1.0, 1.0 - self.drop_per_day_slower]

    def shoppers_per_order(self) -> float:
        """Shoppers drawn per order a next-day promise sells: the most attractive tier's factor over next-day's (so
        `orders_per_day` is the demand at a next-day promise, and a faster promise sells more on top)."""
        factors = self.tier_factor_values()
        return max(factors) / factors[1]

    def value_factor_values(self) -> list[float]:
        """An order's value by its tier (same-day, next-day, second-day) relative to a next-day order's."""
        return [1.0 + self.value_uplift_per_day_faster, 1.0, 1.0 - self.value_drop_per_day_slower]


@dataclass
class ReturnsConfig:
    """Customer returns after delivery (售后退货): counted per delivered order, never simulated as reverse flow."""

    rate: float = spec(
        0.08,
        ge=0.0,
        le=1.0,
        doc="share of delivered orders sent back after a standard, on-time delivery; an assumption for general "
        "merchandise (apparel runs far higher)",
    )
    late_factor: float = spec(
        1.2, ge=0.0, le=10.0, doc="a late delivery (broken promise) multiplies the return rate by this; an assumption"
    )
    doorstep_factor: float = spec(
        0.95,
        ge=0.0,
        le=10.0,
        doc="a doorstep hand-over (音尊达, launched to cut returns caused by delivery) multiplies it by this; "
        "an assumption, the seed's 5 % taken over",
    )
    slot_factor: float = spec(
        0.95,
        ge=0.0,
        le=10.0,
        doc="delivery in a chosen slot (按需派送) multiplies it by this: a merchant reported about 5 % fewer returns "
        "in the three months after it launched (the seed)",
    )


@dataclass
class DemandConfig:
    """Order arrivals: volume, hour-of-day profile and mix."""

    orders_per_day: float = spec(
        100_000.0,
        ge=0.0,
        le=50_000_000.0,
        doc="mean orders a day, home and nearby cities; an assumption: one platform in a provincial capital of ~9 million people",
    )
    hourly_profile: list[float] = spec(
        factory=lambda: list(DEFAULT_HOURLY_PROFILE),
        ge=0.0,
        doc="relative orders per hour: late-morning peak (10-12 h), larger evening peak (20-22 h, live-stream selling), quiet 2-6 h",
    )
    fresh_share: float = spec(
        0.10, ge=0.0, le=1.0, doc="生鲜: fresh produce share of orders; among the first 极速达 categories, a minority of orders"
    )
    merchant_share: float = spec(
        0.30,
        ge=0.0,
        le=1.0,
        doc="揽件: collected from merchants, not from stock; short-video platforms sell small merchants' goods from their premises",
    )
    daily_cv: float = spec(
        0.1,
        ge=0.0,
        le=3.0,
        doc="day-to-day swing: each day's expected volume times a gamma factor of mean 1 and this CV (a gamma-mixed Poisson); "
        "an assumption, ±10 % once weekday and calendar effects are taken out; 0: every day as planned",
    )
    profile_cv: float = spec(
        0.05,
        ge=0.0,
        le=3.0,
        doc="the hourly profile varies from day to day: each hour's weight times a gamma factor of mean 1 and this CV, "
        "renormalised so the day's total is unchanged; an assumption; 0: the same profile every day",
    )
    weekday_factors: list[float] = spec(
        factory=lambda: [1.0] * 7,
        ge=0.0,
        le=10.0,
        doc="expected volume by weekday, Monday first; seven factors averaging 1 (within 0.01), so orders_per_day stays the "
        "weekly mean; flat by default (no public weekday figure for the city)",
    )
    calendar: list[CalendarEvent] = spec(
        factory=list,
        doc="dated events (双11, 618, 年货节): `date`, `factor`, optional `name` and `profile`; empty by default",
    )
    bursts: BurstConfig = field(default_factory=BurstConfig)
    response: ResponseConfig = field(default_factory=ResponseConfig)
    returns: ReturnsConfig = field(default_factory=ReturnsConfig)


def steady_demand(cfg: DemandConfig) -> DemandConfig:
    """`cfg` without variability: every day as orders_per_day and the hourly profile say (no swings, weekdays,
    events or bursts) and every drawn order placed (no response to the promise); the textbook reductions use it."""
    return dataclasses.replace(
        cfg,
        daily_cv=0.0,
        profile_cv=0.0,
        weekday_factors=[1.0] * 7,
        calendar=[],
        bursts=BurstConfig(),
        response=dataclasses.replace(cfg.response, enabled=False),
    )


def event_day(event: CalendarEvent, start_date: str) -> int:
    """The day of the run (0 = `start_date`) on which `event` falls."""
    return (dt.date.fromisoformat(event.date) - dt.date.fromisoformat(start_date)).days


def planned_day_factors(cfg: DemandConfig, start_date: str, days: int) -> list[float]:
    """Each day's expected volume relative to `orders_per_day`: its weekday factor times its calendar event's factor."""
    monday_offset = dt.date.fromisoformat(start_date).weekday()
    factors = [cfg.weekday_factors[(monday_offset + day) % 7] for day in range(days)]
    for event in cfg.calendar:  # a handful of events: a loop over events, never over orders
        day = event_day(event, start_date)
        if 0 <= day < days:
            factors[day] *= event.factor
    return factors


def validate_demand(cfg: DemandConfig, start_date: str, horizon_days: int) -> None:
    """Checks of the demand that span its fields; raises `ConfigError`, warns of calendar events outside the run."""
    if len(cfg.hourly_profile) != 24:
        raise ConfigError("demand.hourly_profile", f"{len(cfg.hourly_profile)} values", "expected 24 values, one per hour")
    factors = cfg.weekday_factors
    if len(factors) != 7:
        raise ConfigError("demand.weekday_factors", factors, "expected seven factors, Monday first")
    mean = sum(factors) / 7.0
    if abs(mean - 1.0) > WEEKDAY_MEAN_TOLERANCE:
        raise ConfigError(
            "demand.weekday_factors",
            factors,
            f"expected factors averaging 1 (within {WEEKDAY_MEAN_TOLERANCE}); these average {mean:.4g}: divide each by that",
        )
    response = cfg.response
    if response.tier_factors is not None and len(response.tier_factors) != 3:
        raise ConfigError(
            "demand.response.tier_factors", response.tier_factors, "expected three factors: same-day, next-day, second-day"
        )
    factors = response.tier_factor_values()
    if not factors[0] >= factors[1] >= factors[2]:
        raise ConfigError(
            "demand.response.tier_factors",
            response.tier_factors,
            "expected same-day >= next-day >= second-day: a faster promise never sells less",
        )
    best = response.conversion * max(factors)
    if best > 1.0 + 1e-12:
        raise ConfigError(
            "demand.response.conversion",
            response.conversion,
            f"times the fastest tier's factor ({max(factors):g}) it is a probability above 1; expected at most {1 / max(factors):.4g}",
        )
    seen: dict[str, int] = {}
    for k, event in enumerate(cfg.calendar):
        key = f"demand.calendar[{k}]"
        try:
            date = dt.date.fromisoformat(event.date) if _DATE_RE.match(event.date) else None
        except ValueError:
            date = None
        if date is None:  # fromisoformat alone would also take '20261111' and week dates
            raise ConfigError(f"{key}.date", event.date, "expected a date 'YYYY-MM-DD'")
        if date.isoformat() in seen:
            raise ConfigError(
                f"{key}.date", event.date, f"the same date as demand.calendar[{seen[date.isoformat()]}]: give one event per day"
            )
        seen[date.isoformat()] = k
        if event.profile is not None:
            if len(event.profile) != 24:
                raise ConfigError(f"{key}.profile", f"{len(event.profile)} values", "expected 24 values, one per hour")
            if sum(event.profile) <= 0:
                raise ConfigError(f"{key}.profile", event.profile, "at least one hourly weight must be > 0")
        day = event_day(event, start_date)
        if not 0 <= day < horizon_days:
            last = dt.date.fromisoformat(start_date) + dt.timedelta(days=horizon_days - 1)
            label = f" ({event.name})" if event.name else ""
            warnings.warn(
                f"config key '{key}.date': the event on {event.date}{label} lies outside the run "
                f"({start_date} to {last.isoformat()}) and has no effect",
                UserWarning,
                stacklevel=2,
            )
