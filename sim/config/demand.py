"""Order arrivals: volume, hour-of-day profile and mix."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import spec

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
