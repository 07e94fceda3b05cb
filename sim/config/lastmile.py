"""Courier tours from the delivery stations."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import spec, tod
from .shifts import Shift


def _default_courier_shifts() -> list[Shift]:
    # a large early shift for the morning trucks, a late shift for the afternoon trucks
    return [Shift(tod("07:00"), tod("16:00"), 0.65), Shift(tod("11:30"), tod("20:30"), 0.35)]


@dataclass
class LastmileConfig:
    """Courier tours from the delivery stations."""

    tour_capacity: int = spec(
        35, ge=1, le=10_000, doc="parcels an e-tricycle (三轮车) carries on one tour; 4.3 tours per courier a day at the defaults"
    )
    parcels_per_stop: float = spec(
        2.0, ge=1.0, le=1_000.0, doc="parcels per stop: many go to lockers (快递柜) and parcel stations (驿站), several at a time"
    )
    stop_service_min: float = spec(2.0, ge=0.0, le=600.0, doc="park, call, hand over or drop, per stop")
    courier_speed_kmh: float = spec(16.0, gt=0.0, le=200.0, doc="e-tricycle speed in city traffic")
    load_min: float = spec(10.0, ge=0.0, le=600.0, doc="scan and load at the station before each tour")
    failed_attempt_prob: float = spec(
        0.05, ge=0.0, lt=1.0, doc="each attempt fails with this probability (customer absent); the parcel comes back and is retried"
    )
    retry_after_min: float = spec(
        180.0, ge=0.0, le=10_080.0, doc="a failed parcel is retried no sooner than this: on a later delivery wave, not the same tour"
    )
    refusal_prob: float = spec(0.0, ge=0.0, lt=1.0, doc="parcels refused on delivery and returned (standard mode)")
    shifts: list[Shift] = spec(
        factory=_default_courier_shifts,
        doc="couriers' shifts, 9 h each: a large early one for the morning trucks, a late one for the afternoon",
    )
    road_detour: float = spec(
        1.3, ge=1.0, le=5.0, doc="road / straight-line distance among a tour's stops (one-way streets, gated compounds 小区)"
    )
    territory_km2: float | None = spec(
        None,
        gt=0.0,
        le=10_000.0,
        doc="area of a courier's territory (片区): a station's area is split into territories of about this size; "
        "null with `territories` null: one territory per courier of the station",
    )
    territories: int | None = spec(
        None, ge=1, le=10_000, doc="territories per station instead of `territory_km2`; a tour's stops lie in one territory"
    )
    overtime_max_h: float = spec(
        2.0,
        ge=0.0,
        le=12.0,
        doc="overtime cap per courier and day: no tour starts that would end later than shift end plus this",
    )
    service_mean_min: float | None = spec(None, gt=0.0, le=1440.0, doc="set: tour time drawn per parcel (textbook validation)")
    service_cv: float = spec(1.0, ge=0.0, le=3.0, doc="variability of drawn tour times (1 = exponential)")
