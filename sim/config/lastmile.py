"""Courier tours from the delivery stations."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import spec, tod
from .shifts import Shift


def _default_courier_shifts() -> list[Shift]:
    # a large early shift for the morning trucks, a late shift for the afternoon trucks
    return [Shift(tod("07:00"), tod("16:00"), 0.65), Shift(tod("11:30"), tod("20:30"), 0.35)]


@dataclass
class LastmileConfig:
    """Courier tours from the delivery stations."""

    tour_capacity: int = spec(35, ge=1, doc="parcels an e-tricycle carries on one tour")
    parcels_per_stop: float = spec(2.0, ge=1.0, doc="parcels to the same building, locker or 驿站 per stop")
    stop_service_min: float = spec(2.0, ge=0.0, doc="park, call, hand over or drop, per stop")
    courier_speed_kmh: float = spec(16.0, gt=0.0, doc="e-tricycle speed in city traffic")
    load_min: float = spec(10.0, ge=0.0, doc="scan and load before each tour")
    failed_attempt_prob: float = spec(0.05, ge=0.0, lt=1.0, doc="customer absent or refuses on an attempt")
    retry_after_min: float = spec(180.0, ge=0.0, doc="a failed parcel is retried no sooner than this")
    refusal_prob: float = spec(0.0, ge=0.0, lt=1.0, doc="parcels refused on delivery and returned (standard mode)")
    shifts: list[Shift] = field(default_factory=_default_courier_shifts)
    service_mean_min: float | None = spec(None, gt=0.0, doc="set: tour time drawn per parcel (textbook validation)")
    service_cv: float = spec(1.0, ge=0.0, le=3.0, doc="variability of drawn tour times (1 = exponential)")
