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
from .clock import MIN_PER_DAY, DutyWindow, Shift, call_at
from .demand import OrderTable
from .schema import spec
from .services import window_bounds

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
    refusal_prob: float = spec(0.0, ge=0.0, lt=1.0, doc="parcels refused on delivery and returned (standard mode)")
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


def tour_times(
    doorstep: np.ndarray, approach_km: float, area_km2: float, cfg: LastmileConfig, doorstep_stop_min: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """(duration, delivery offsets from departure, courier minutes per parcel) of a tour carrying parcels in
    this order; a doorstep parcel (音尊达) is a stop of its own with a longer service time. Each parcel's
    minutes are its own stop time plus an equal share of loading and the approach legs."""
    n, n_door = doorstep.size, int(np.count_nonzero(doorstep))
    if n_door == 0:
        duration, first, per_parcel = tour_minutes(n, approach_km, area_km2, cfg)
        return duration, first + per_parcel * np.arange(1, n + 1), np.full(n, duration / n)
    stops = (n - n_door) / cfg.parcels_per_stop + n_door
    per_km = 60.0 / cfg.courier_speed_kmh
    travel_per_stop = BHH_CONSTANT * math.sqrt(stops * area_km2) * per_km / stops
    times = np.where(doorstep, travel_per_stop + doorstep_stop_min, (travel_per_stop + cfg.stop_service_min) / cfg.parcels_per_stop)
    approach = approach_km * per_km
    fixed = cfg.load_min + 2 * approach
    return fixed + float(times.sum()), cfg.load_min + approach + np.cumsum(times), times + fixed / n


class Station:
    """A delivery station: parcels waiting in promise order, and its couriers."""

    def __init__(
        self,
        env: simpy.Environment,
        sid: int,
        cfg: LastmileConfig,
        windows: list[DutyWindow],
        city: City,
        orders: OrderTable,
        unit_work: np.ndarray | None = None,
        delivery_windows: np.ndarray | None = None,
        doorstep_stop_min: float = 0.0,
    ):
        self.env, self.sid, self.cfg, self.orders = env, sid, cfg, orders
        self.unit_work = unit_work  # per-order drawn tour work when cfg.service_mean_min is set
        self.approach_km = float(city.station_approach_km[sid])
        self.area_km2 = float(city.station_area_km2[sid])
        self.delivery_windows = delivery_windows  # [[start, end], ...] minutes after midnight (按需派送)
        self.due_min: np.ndarray | None = None  # per order: the window's end or the promise (when windows are on)
        self.doorstep_stop_min = doorstep_stop_min
        self.lead_min = cfg.load_min + self.approach_km * 60.0 / cfg.courier_speed_kmh  # departure to first stop
        self.queue = np.empty(0, dtype=np.int64)  # ready parcels, most urgent first
        self._wakeup = env.event()
        # (start, duration, parcels, doorstep parcels, doorstep minutes, window parcels)
        self.tours: list[tuple[float, float, int, int, float, int]] = []
        self.windows = windows
        for w in windows:
            env.process(self.courier(w))

    def window_bounds(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return window_bounds(self.orders.promised_by[idx], self.orders.window[idx], self.delivery_windows)

    def receive(self, idx: np.ndarray) -> None:
        """A truck unloads (or failed parcels become ready again); parcels with a window wait for it."""
        o = self.orders
        if np.isnan(o.arrived_station[idx[0]]):
            o.arrived_station[idx] = self.env.now
        if self.delivery_windows is not None:
            start, _ = self.window_bounds(idx)
            release = start - self.lead_min
            hold = release > self.env.now
            if hold.any():
                call_at(self.env, release[hold], idx[hold], self._enqueue)
                idx = idx[~hold]
            if idx.size == 0:
                return
        self._enqueue(idx)

    def _enqueue(self, idx: np.ndarray) -> None:
        o = self.orders
        merged = np.concatenate([self.queue, idx])
        due = o.promised_by[merged] if self.due_min is None else self.due_min[merged]
        self.queue = merged[np.argsort(due, kind="stable")]
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
            load, self.queue = self.queue[: cfg.tour_capacity], self.queue[cfg.tour_capacity :]
            n = load.size
            door = o.doorstep[load]
            if cfg.service_mean_min is None:
                duration, offsets, minutes = tour_times(door, self.approach_km, self.area_km2, cfg, self.doorstep_stop_min)
            else:
                offsets = np.cumsum(self.unit_work[load]) * cfg.service_mean_min
                duration = float(offsets[-1])
                minutes = np.diff(np.concatenate([[0.0], offsets]))
            attempt = o.attempts[load] + 1
            o.attempts[load] = attempt
            first_out = np.isnan(o.out_for_delivery[load])
            o.out_for_delivery[load[first_out]] = now
            o.last_out[load] = now
            ok = attempt > o.failed_attempts[load]
            refused = ok & o.refused[load]
            o.delivered[load[ok & ~refused]] = now + offsets[ok & ~refused]
            o.returned[load[refused]] = now + offsets[refused]
            door_minutes = float(minutes[door].sum()) if door.any() else 0.0
            self.tours.append((now, duration, n, int(door.sum()), door_minutes, int(np.count_nonzero(o.window[load] >= 0))))
            yield env.timeout(duration)
            if not ok.all():
                retry = load[~ok]
                ready = env.timeout(cfg.retry_after_min)
                ready.callbacks.append(lambda _ev, retry=retry: self.receive(retry))


class NearbyDelivery:
    """A nearby city's own last mile, simplified: arrivals before its delivery start go out that day,
    spread over `delivery_h`; with a capacity, parcels are delivered one after another at that rate."""

    def __init__(
        self,
        env: simpy.Environment,
        start_tod_min: float,
        delivery_h: float,
        u: np.ndarray,
        orders: OrderTable,
        parcels_per_hour: float = 0.0,
    ):
        self.env, self.start_tod, self.delivery_min, self.u, self.orders = env, start_tod_min, delivery_h * 60.0, u, orders
        self.min_per_parcel = 60.0 / parcels_per_hour if parcels_per_hour > 0 else 0.0
        self.free_at = 0.0

    def receive(self, idx: np.ndarray) -> None:
        o, now = self.orders, self.env.now
        day = now // MIN_PER_DAY
        tod = now - day * MIN_PER_DAY
        start = (day if tod < self.start_tod else day + 1) * MIN_PER_DAY + self.start_tod
        o.arrived_station[idx] = now
        o.out_for_delivery[idx] = start
        o.last_out[idx] = start
        spread = start + self.u[idx] * self.delivery_min
        if self.min_per_parcel:
            idx, spread = idx[np.argsort(spread, kind="stable")], np.sort(spread)
            spread = np.maximum(spread, max(start, self.free_at) + self.min_per_parcel * np.arange(1, idx.size + 1))
            self.free_at = float(spread[-1])
        o.delivered[idx] = spread
        o.attempts[idx] = 1
