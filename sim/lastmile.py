"""Last mile (派送): couriers of each delivery station run tours; nearby cities deliver with their own network.

A station's area is split into territories (片区), each order's address lying in one of them. A courier on
shift takes the most urgent waiting parcel (the deadline the services say it works to, by default the
promise) and up to `tour_capacity` of the next most urgent parcels of the same territory, and drives a tour:
load, approach, stops (travel by `sim.tours.tour_length_km`, the expected shortest tour through the stops in
the territory, times the road detour, plus service per stop), and return. A failed attempt (customer absent)
brings the parcel back; it is retried on a later tour once `retry_after_min` has passed.
"""

from __future__ import annotations

import numpy as np

from .city import City
from .clock import MIN_PER_DAY, ShiftHours, at_times, call_at, daily_times, split_headcount
from .config.lastmile import LastmileConfig
from .queueing import lindley_starts
from .records import LogBook, OrderTable
from .tours import tour_length_km

__all__ = ["NearbyDelivery", "Station", "couriers_by_station", "territories_by_station", "tour_length_km", "tour_minutes"]


def tour_stops(n_parcels: int, n_own: int, cfg: LastmileConfig) -> float:
    """Stops of a tour: about `parcels_per_stop` parcels each, and one per own-stop (doorstep) parcel."""
    return (n_parcels - n_own) / cfg.parcels_per_stop + n_own if n_own else max(1.0, n_parcels / cfg.parcels_per_stop)


def among_stops_km(stops: float, territory_km2: float, cfg: LastmileConfig) -> float:
    """Road km from the first stop of a tour to its last and back: the shortest tour through the stops, times the detour."""
    return tour_length_km(stops, territory_km2) * cfg.road_detour


def tour_minutes(n_parcels: int, approach_km: float, territory_km2: float, cfg: LastmileConfig) -> tuple[float, float, float]:
    """(duration, time to the first stop, time per parcel after it) of a tour with n parcels."""
    stops = tour_stops(n_parcels, 0, cfg)
    per_km = 60.0 / cfg.courier_speed_kmh
    approach = approach_km * per_km
    among_stops = among_stops_km(stops, territory_km2, cfg) * per_km + stops * cfg.stop_service_min
    return cfg.load_min + 2 * approach + among_stops, cfg.load_min + approach, among_stops / n_parcels


def tour_stops_km(n_parcels: int, n_own: int, approach_km: float, territory_km2: float, cfg: LastmileConfig) -> tuple[float, float]:
    """(stops, km) of a tour: stops of about `parcels_per_stop` parcels plus one per own-stop (doorstep) parcel;
    km among the stops (as `tour_minutes` reckons them) plus the approach out and back."""
    stops = tour_stops(n_parcels, n_own, cfg)
    return stops, among_stops_km(stops, territory_km2, cfg) + 2 * approach_km


def tour_times(
    own_stop: np.ndarray, approach_km: float, territory_km2: float, cfg: LastmileConfig, own_stop_min: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """(duration, delivery offsets from departure, courier minutes per parcel) of a tour carrying parcels in
    this order; a parcel flagged `own_stop` (音尊达 doorstep) is a stop of its own with `own_stop_min` of
    service. Each parcel's minutes are its own stop time plus an equal share of loading and the approach legs."""
    n, n_own = own_stop.size, int(np.count_nonzero(own_stop))
    if n_own == 0:
        duration, first, per_parcel = tour_minutes(n, approach_km, territory_km2, cfg)
        return duration, first + per_parcel * np.arange(1, n + 1), np.full(n, duration / n)
    stops = tour_stops(n, n_own, cfg)
    per_km = 60.0 / cfg.courier_speed_kmh
    travel_per_stop = among_stops_km(stops, territory_km2, cfg) * per_km / stops
    times = np.where(own_stop, travel_per_stop + own_stop_min, (travel_per_stop + cfg.stop_service_min) / cfg.parcels_per_stop)
    approach = approach_km * per_km
    fixed = cfg.load_min + 2 * approach
    return fixed + float(times.sum()), cfg.load_min + approach + np.cumsum(times), times + fixed / n


def couriers_by_station(capacity, city: City) -> list[int]:
    """Each station's couriers: `couriers_per_station` each (`uniform`), the same total spread by each station's
    expected parcels (`by_demand`, largest remainder), or the list given."""
    allocation = capacity.courier_allocation
    if isinstance(allocation, (list, tuple)):
        return [int(n) for n in allocation]
    total = capacity.couriers_per_station * city.n_stations
    if allocation == "uniform":
        return [capacity.couriers_per_station] * city.n_stations
    return split_headcount(city.station_demand_share, total).tolist()


def territories_by_station(cfg: LastmileConfig, couriers: list[int], area_km2: np.ndarray) -> np.ndarray:
    """Each station's number of territories: `territories`, its area over `territory_km2` (rounded, at least
    one), or by default one per courier; one for textbook tours (a drawn time, no geometry)."""
    if cfg.service_mean_min is not None:
        return np.ones(len(couriers), dtype=np.int64)
    if cfg.territories is not None:
        return np.full(len(couriers), cfg.territories, dtype=np.int64)
    if cfg.territory_km2 is not None:
        return np.maximum(1, np.rint(np.asarray(area_km2, dtype=float) / cfg.territory_km2)).astype(np.int64)
    return np.maximum(1, np.asarray(couriers, dtype=np.int64))


class Station:
    """A delivery station: parcels waiting in order of their deadline, and its couriers."""

    def __init__(
        self,
        env,
        sid: int,
        cfg: LastmileConfig,
        shifts: list[ShiftHours],
        city: City,
        orders: OrderTable,
        log: LogBook,
        hooks,
        n_territories: int = 1,
        unit_work: np.ndarray | None = None,
    ):
        self.env, self.sid, self.cfg, self.orders, self.log, self.hooks = env, sid, cfg, orders, log, hooks
        self.unit_work = unit_work  # per-order drawn tour work when cfg.service_mean_min is set
        self.approach_km = float(city.station_approach_km[sid])
        self.n_territories = n_territories
        self.territory_km2 = float(city.station_area_km2[sid]) / n_territories
        self.lead_min = cfg.load_min + self.approach_km * 60.0 / cfg.courier_speed_kmh  # departure to first stop
        self.overtime_min = cfg.overtime_max_h * 60.0
        self.queue = np.empty(0, dtype=np.int64)  # ready parcels, most urgent first (by deadline, then first come)
        self.queue_territory = np.empty(0, dtype=np.int16)  # their territories
        self.any_refused = bool(orders.refused.any())  # drawn up front by the services
        self.any_slots = hooks.holds
        # a tour's times and geometry depend on its parcels only through their number (and its doorstep stops):
        # worked out once per size, not once per tour
        self._plain_tours: dict[int, tuple[float, np.ndarray]] = {}
        self._stops_km: dict[tuple[int, int], tuple[float, float]] = {}
        self._wakeup = env.event()
        self.shifts = shifts
        log.shifts += [("lastmile", sid, k, w.start, w.end) for k, w in enumerate(shifts)]
        for k, w in enumerate(shifts):
            env.process(self.courier(k, w))

    def receive(self, idx: np.ndarray, wake: bool = True) -> None:
        """A truck unloads (or failed parcels become ready again); parcels the services hold wait until then.
        Failed parcels do not call couriers back (`wake=False`): they ride with the next tour to their territory."""
        o = self.orders
        if np.isnan(o.arrived_station[idx[0]]):
            o.arrived_station[idx] = self.env.now
        first_out = self.hooks.hold_until(idx)
        if first_out is not None:
            release = first_out - self.lead_min  # leave so as to arrive when the slot opens
            hold = release > self.env.now
            if hold.any():
                call_at(self.env, release[hold], idx[hold], self._enqueue)
                idx = idx[~hold]
            if idx.size == 0:
                return
        self._enqueue(idx, wake)

    def _enqueue(self, idx: np.ndarray, wake: bool = True) -> None:
        merged = np.concatenate([self.queue, idx])
        order = np.argsort(self.hooks.due(self.orders, merged), kind="stable")
        self.queue = merged[order]
        self.queue_territory = np.concatenate([self.queue_territory, self.orders.territory[idx]])[order]
        if wake and not self._wakeup.triggered:
            self._wakeup.succeed()

    def next_load(self) -> np.ndarray:
        """Positions in the queue of the parcels a courier would load next: the most urgent parcel and the next
        most urgent of its territory, up to `tour_capacity`."""
        cap = self.cfg.tour_capacity
        if self.n_territories == 1:
            return np.arange(min(cap, self.queue.size))
        territory = self.queue_territory
        return (territory == territory[0]).nonzero()[0][:cap]

    def take(self, positions: np.ndarray) -> None:
        """Remove the parcels at these queue positions (loaded onto a tour)."""
        if self.n_territories == 1:
            self.queue, self.queue_territory = self.queue[positions.size :], self.queue_territory[positions.size :]
        else:
            keep = np.ones(self.queue.size, dtype=bool)
            keep[positions] = False
            self.queue, self.queue_territory = self.queue[keep], self.queue_territory[keep]

    def plan_tour(self, load: np.ndarray, now: float, latest_end: float):
        """(parcels, duration, delivery offsets, doorstep parcels, doorstep minutes) of the tour a courier starts now
        with the most urgent parcels of `load`, as many as can be delivered by `latest_end` (halving the load
        until the tour fits); None when not even one parcel fits."""
        cfg = self.cfg
        while load.size:
            n, own_parcels, own_min = load.size, 0, 0.0
            own = self.hooks.stops(load)
            if cfg.service_mean_min is not None:
                offsets = np.cumsum(self.unit_work[load]) * cfg.service_mean_min
                duration = float(offsets[-1])
            elif own is None:
                duration, offsets = self._plain_tour(n)
            else:
                own_stop, stop_min = own
                duration, offsets, minutes = tour_times(own_stop, self.approach_km, self.territory_km2, cfg, stop_min)
                own_parcels, own_min = int(own_stop.sum()), float(minutes[own_stop].sum())
            if now + duration <= latest_end:
                return load, duration, offsets, own_parcels, own_min
            load = load[: n // 2]
        return None

    def _plain_tour(self, n: int) -> tuple[float, np.ndarray]:
        """(duration, delivery offsets, read-only) of a tour of n parcels without doorstep stops."""
        known = self._plain_tours.get(n)
        if known is None:
            duration, first, per_parcel = tour_minutes(n, self.approach_km, self.territory_km2, self.cfg)
            offsets = first + per_parcel * np.arange(1, n + 1)
            offsets.flags.writeable = False
            known = self._plain_tours[n] = (duration, offsets)
        return known

    def _tour_stops_km(self, n: int, own_parcels: int) -> tuple[float, float]:
        """`tour_stops_km` of this station's tours, worked out once per size."""
        known = self._stops_km.get((n, own_parcels))
        if known is None:
            known = self._stops_km[(n, own_parcels)] = tour_stops_km(n, own_parcels, self.approach_km, self.territory_km2, self.cfg)
        return known

    def go_out(self, load: np.ndarray, now: float, offsets: np.ndarray) -> np.ndarray | None:
        """Stamp a tour leaving now on its parcels (an attempt each; delivered, refused or failed at `now + offsets`);
        the parcels whose attempt fails, to be retried (None: none)."""
        o, n = self.orders, load.size
        fails = o.failed_attempts[load]
        if not self.any_refused and not np.count_nonzero(fails):
            # the usual tour: every parcel out for the first and only time, handed over
            o.attempts[load] = 1
            o.out_for_delivery[load] = now
            o.last_out[load] = now
            o.delivered[load] = now + offsets
            return None
        attempt = o.attempts[load] + 1
        o.attempts[load] = attempt
        first_out = attempt == 1
        o.out_for_delivery[load if np.count_nonzero(first_out) == n else load[first_out]] = now
        o.last_out[load] = now
        at = now + offsets
        ok = attempt > fails
        delivered = ok
        if self.any_refused:
            refused = ok & o.refused[load]
            o.returned[load[refused]] = at[refused]
            delivered = ok & ~refused
        if np.count_nonzero(delivered) == n:
            o.delivered[load] = at
        else:
            o.delivered[load[delivered]] = at[delivered]
        if np.count_nonzero(ok) == n:
            return None
        failed = ~ok
        o.failed_at[load[failed]] = at[failed]
        return load[failed]

    def courier(self, k: int, shift: ShiftHours):
        env, cfg, o = self.env, self.cfg, self.orders
        shift_end = -np.inf  # end of the shift of the courier's last tour
        while True:
            now = env.now
            on_duty = shift.on_duty(now)
            # back from a tour after the shift's end: on, in overtime within the cap, while the most urgent parcel
            # waiting is due before the cap runs out (tomorrow's parcels wait for tomorrow's shift)
            in_overtime = (
                not on_duty
                and now < shift_end + self.overtime_min
                and self.queue.size > 0
                and self.hooks.due(o, self.queue[:1])[0] <= shift_end + self.overtime_min
            )
            if not on_duty and not in_overtime:
                yield env.timeout(shift.next_on_duty(now) - now)
                continue
            if self.queue.size == 0:
                if self._wakeup.triggered:
                    self._wakeup = env.event()
                yield self._wakeup
                continue
            if on_duty:
                shift_end = shift.end_after(now)
            positions = self.next_load()
            plan = self.plan_tour(self.queue[positions], now, shift_end + self.overtime_min)
            if plan is None:  # not even one parcel can be delivered within the overtime cap: home until the next shift
                home_until = shift.next_on_duty(max(shift_end, now))  # the shift's end is off duty: the next shift
                shift_end = -np.inf
                yield env.timeout(home_until - now)
                continue
            load, duration, offsets, own_parcels, own_min = plan
            territory = int(self.queue_territory[0])
            self.take(positions[: load.size])
            n = load.size
            retry = self.go_out(load, now, offsets)
            slot_parcels = int(np.count_nonzero(o.slot[load] >= 0)) if self.any_slots else 0
            if cfg.service_mean_min is None:
                stops, km = self._tour_stops_km(n, own_parcels)
            else:  # textbook tours: a drawn time, no geometry
                stops, km = float(n), float("nan")
            overtime_min = max(0.0, now + duration - shift_end)
            self.log.tours.append(
                (now, duration, n, own_parcels, own_min, slot_parcels, self.sid, k, stops, km, overtime_min, territory)
            )
            if now + duration > shift_end:
                self.log.overtime.append(("lastmile", self.sid, k, shift_end, now + duration))
            yield env.timeout(duration)
            if retry is not None:
                ready = env.timeout(cfg.retry_after_min)
                ready.callbacks.append(lambda _ev, retry=retry: self.receive(retry, wake=False))


class NearbyDelivery:
    """A nearby city's own last mile, simplified: at its `delivery_start` each day its couriers take every parcel
    that arrived before, each wanting a time spread over `delivery_h`; with a capacity (`parcels_per_hour`) they
    deliver one after another at that rate (a FCFS queue over the wanted times). A failed attempt (the same draws
    as the home city's) is retried on the next delivery day. `u` holds a uniform draw for each of the orders
    `u_orders` (ascending: the nearby cities' orders)."""

    def __init__(
        self,
        env,
        start_tod_min: float,
        delivery_h: float,
        u: np.ndarray,
        u_orders: np.ndarray,
        orders: OrderTable,
        parcels_per_hour: float,
        days: int,
    ):
        self.env, self.delivery_min, self.u, self.u_orders, self.orders = env, delivery_h * 60.0, u, u_orders, orders
        self.min_per_parcel = 60.0 / parcels_per_hour if parcels_per_hour > 0 else 0.0
        self.waiting = np.empty(0, dtype=np.int64)
        at_times(env, daily_times([start_tod_min], days), self.deliver_day)

    def receive(self, idx: np.ndarray) -> None:
        self.orders.arrived_station[idx] = self.env.now
        self.waiting = np.concatenate([self.waiting, idx])

    def deliver_day(self, start: float) -> None:
        o, idx = self.orders, self.waiting
        self.waiting = np.empty(0, dtype=np.int64)
        if idx.size == 0:
            return
        wanted = start + self.u[np.searchsorted(self.u_orders, idx)] * self.delivery_min
        order = np.argsort(wanted, kind="stable")
        idx, wanted = idx[order], wanted[order]
        done = wanted
        if self.min_per_parcel:
            service = np.full(idx.size, self.min_per_parcel)
            done = lindley_starts(wanted, service, start) + service
        failed = o.failed_attempts[idx]
        o.out_for_delivery[idx] = start
        o.last_out[idx] = start + failed * MIN_PER_DAY
        o.delivered[idx] = done + failed * MIN_PER_DAY
        o.attempts[idx] = failed + 1
