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


def steady_demand(cfg: DemandConfig) -> DemandConfig:
    """`cfg` without variability: every day as orders_per_day and the hourly profile say (no swings, weekdays,
    events or bursts); the textbook reductions use it."""
    return dataclasses.replace(cfg, daily_cv=0.0, profile_cv=0.0, weekday_factors=[1.0] * 7, calendar=[], bursts=BurstConfig())


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
