"""Last mile (派送): couriers of each delivery station run tours; nearby cities deliver with their own network.

A courier on shift takes up to `tour_capacity` waiting parcels, most urgent promise first,
and drives a tour: load, approach, stops (travel by the Beardwood-Halton-Hammersley
approximation of a shortest tour through the stops, plus service per stop), and return.
A failed attempt (customer absent) brings the parcel back; it is retried on a later tour
once `retry_after_min` has passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from .city import City
from .clock import MIN_PER_DAY, DutyWindow, Shift
from .demand import OrderTable
from .schema import spec

BHH_CONSTANT = 0.7124  # Beardwood-Halton-Hammersley: shortest tour ~ 0.7124 * sqrt(n * area)


def _default_courier_shifts() -> list[Shift]:
    # a large early shift for the morning trucks, a late shift for the afternoon trucks
    return [Shift("07:00", "16:00", 0.65), Shift("11:30", "20:30", 0.35)]


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
    shifts: list[Shift] = field(default_factory=_default_courier_shifts)
    service_mean_min: float | None = spec(None, gt=0.0, doc="set: tour time drawn per parcel (textbook validation)")
    service_cv: float = spec(1.0, ge=0.0, le=3.0, doc="variability of drawn tour times (1 = exponential)")


def tour_minutes(n_parcels: int, approach_km: float, area_km2: float, cfg: LastmileConfig) -> tuple[float, float, float]:
    """(duration, time to the first stop, time per parcel after it) of a tour with n parcels."""
    stops = max(1.0, n_parcels / cfg.parcels_per_stop)
    per_km = 60.0 / cfg.courier_speed_kmh
    approach = approach_km * per_km
    among_stops = BHH_CONSTANT * math.sqrt(stops * area_km2) * per_km + stops * cfg.stop_service_min
    return cfg.load_min + 2 * approach + among_stops, cfg.load_min + approach, among_stops / n_parcels


class Station:
    """A delivery station: parcels waiting in promise order, and its couriers."""

    def __init__(self, env: simpy.Environment, sid: int, cfg: LastmileConfig, windows: list[DutyWindow],
                 city: City, orders: OrderTable, unit_work: np.ndarray | None = None):
        self.env, self.sid, self.cfg, self.orders = env, sid, cfg, orders
        self.unit_work = unit_work  # per-order drawn tour work when cfg.service_mean_min is set
        self.approach_km = float(city.station_approach_km[sid])
        self.area_km2 = float(city.station_area_km2[sid])
        self.queue = np.empty(0, dtype=np.int64)   # ready parcels, most urgent first
        self._wakeup = env.event()
        self.tours: list[tuple[float, float, int]] = []  # (start, duration, parcels)
        self.windows = windows
        for w in windows:
            env.process(self.courier(w))

    def receive(self, idx: np.ndarray) -> None:
        """A truck unloads (or failed parcels become ready again)."""
        o = self.orders
        if np.isnan(o.arrived_station[idx[0]]):
            o.arrived_station[idx] = self.env.now
        merged = np.concatenate([self.queue, idx])
        self.queue = merged[np.argsort(o.promised_by[merged], kind="stable")]
        if not self._wakeup.triggered:
            self._wakeup.succeed()

    def courier(self, window: DutyWindow):
        env, cfg, o = self.env, self.cfg, self.orders
        while True:
            now = env.now
            if not window.on_duty(now):
                yield env.timeout(window.next_on_duty(now) - now)
                continue
            if self.queue.size == 0:
                if self._wakeup.triggered:
                    self._wakeup = env.event()
                yield self._wakeup
                continue
            load, self.queue = self.queue[: cfg.tour_capacity], self.queue[cfg.tour_capacity:]
            n = load.size
            if cfg.service_mean_min is None:
                duration, first, per_parcel = tour_minutes(n, self.approach_km, self.area_km2, cfg)
                offsets = first + per_parcel * np.arange(1, n + 1)
            else:
                offsets = np.cumsum(self.unit_work[load]) * cfg.service_mean_min
                duration = float(offsets[-1])
            attempt = o.attempts[load] + 1
            o.attempts[load] = attempt
            first_out = np.isnan(o.out_for_delivery[load])
            o.out_for_delivery[load[first_out]] = now
            o.last_out[load] = now
            ok = attempt > o.failed_attempts[load]
            o.delivered[load[ok]] = now + offsets[ok]
            self.tours.append((now, duration, n))
            yield env.timeout(duration)
            if not ok.all():
                retry = load[~ok]
                ready = env.timeout(cfg.retry_after_min)
                ready.callbacks.append(lambda _ev, retry=retry: self.receive(retry))


class NearbyDelivery:
    """A nearby city's own last mile, simplified: arrivals before its delivery start go out that day."""

    def __init__(self, env: simpy.Environment, start_tod_min: float, delivery_h: float, u: np.ndarray,
                 orders: OrderTable):
        self.env, self.start_tod, self.delivery_min, self.u, self.orders = env, start_tod_min, delivery_h * 60.0, u, orders

    def receive(self, idx: np.ndarray) -> None:
        o, now = self.orders, self.env.now
        day = now // MIN_PER_DAY
        tod = now - day * MIN_PER_DAY
        start = (day if tod < self.start_tod else day + 1) * MIN_PER_DAY + self.start_tod
        o.arrived_station[idx] = now
        o.out_for_delivery[idx] = start
        o.last_out[idx] = start
        o.delivered[idx] = start + self.u[idx] * self.delivery_min
        o.attempts[idx] = 1
