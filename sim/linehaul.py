"""Line-haul (干线/支线): scheduled trucks from the sorting centre to each station and to nearby cities.

At a departure the truck loads the sorted parcels for its destination (priority parcels,
then the most urgent promise first) up to its capacity; a parcel that misses a departure
waits for the next one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .city import City
from .clock import at_times, daily_times, group_by
from .config.linehaul import LinehaulConfig
from .records import LogBook, OrderTable


class Linehaul:
    """Holds sorted parcels per destination and runs the departures."""

    def __init__(
        self,
        env,
        cfg: LinehaulConfig,
        truck_capacity: int,
        days: int,
        city: City,
        orders: OrderTable,
        log: LogBook,
        hand_on: Callable[[int, np.ndarray], None],
    ):
        self.env, self.cfg, self.city, self.orders, self.log, self.hand_on = env, cfg, city, orders, log, hand_on
        n_st = city.n_stations
        self.n_stations = n_st
        self.nearby_transit_min = [c.transit_h * 60.0 for c in city.cfg.nearby]
        self.dest_capacity = [truck_capacity] * n_st + [cfg.nearby_truck_capacity] * len(city.cfg.nearby)
        entries = [(t, s) for t in daily_times(cfg.station_departures, days) for s in range(n_st)]
        for k, c in enumerate(city.cfg.nearby):
            entries += [(t, n_st + k) for t in daily_times(c.departures, days)]
        entries.sort()
        self.timetable = entries
        self.waiting: list[list[np.ndarray]] = [[] for _ in self.dest_capacity]
        self.dest_of_region = np.concatenate([[-1], n_st + np.arange(len(city.cfg.nearby))])
        times = sorted({t for t, _ in entries})
        self._dests_at = {t: [d for u, d in entries if u == t] for t in times}
        at_times(env, times, self.depart_all)

    def add(self, idx: np.ndarray) -> None:
        """Sorted parcels (their `sorted` time may be in the future), split by destination."""
        o = self.orders
        dest = np.where(o.region[idx] == 0, o.station[idx], self.dest_of_region[o.region[idx]])
        for d, chunk in group_by(dest, idx):
            self.waiting[d].append(chunk)

    def depart_all(self, t: float) -> None:
        for d in self._dests_at[t]:
            self.depart(t, d)

    def depart(self, t: float, d: int) -> None:
        o = self.orders
        cap = self.dest_capacity[d]
        waiting = self.waiting[d]
        transit = self.transit_min(d, t)
        if not waiting:
            self.log.departures.append((t, d, 0, cap, t + transit))
            return
        pool = np.concatenate(waiting) if len(waiting) > 1 else waiting[0]
        ready_mask = o.sorted[pool] <= t
        ready = pool[ready_mask]
        if ready.size > cap:
            ready = ready[np.lexsort((o.sorted[ready], o.promised_by[ready], ~o.priority[ready]))]
            left = np.concatenate([ready[cap:], pool[~ready_mask]])
            ready = ready[:cap]
        else:
            left = pool[~ready_mask]
        self.waiting[d] = [left] if left.size else []
        self.log.departures.append((t, d, int(ready.size), cap, t + transit))
        if ready.size == 0:
            return
        o.departed[ready] = t
        arrival = self.env.timeout(transit)
        arrival.callbacks.append(lambda _ev, d=d, ready=ready: self.hand_on(d, ready))

    def transit_min(self, dest: int, depart_min: float) -> float:
        """Driving plus unloading time to a station (by hour of day) or a nearby city (fixed)."""
        if dest < self.n_stations:
            return float(self.city.road_minutes(self.city.sort_to_station_km[dest], depart_min)) + self.cfg.dock_min
        return self.nearby_transit_min[dest - self.n_stations] + self.cfg.dock_min
