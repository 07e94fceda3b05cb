"""Line-haul (干线/支线): scheduled trucks from the sorting centre to each station and to nearby cities.

At a departure the truck loads the sorted parcels for its destination, most urgent promise
first, up to its capacity; a parcel that misses a departure waits for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from .city import City
from .clock import daily_times
from .demand import OrderTable
from .schema import spec


def _station_departures() -> list[str]:
    # morning (overnight backlog), two midday runs, the afternoon same-day run, an evening run
    return ["07:00", "10:00", "13:00", "16:00", "18:30"]


@dataclass
class LinehaulConfig:
    """Truck timetables; capacities are in `capacity`."""

    station_departures: list[str] = spec(factory=_station_departures, time=True, doc="every station gets a truck at these times")
    dock_min: float = spec(15.0, ge=0.0, doc="unloading and scanning in at the station")
    nearby_truck_capacity: int = spec(6000, ge=1, doc="a 17.5 m trailer of small parcels")


@dataclass
class Departure:
    time: float
    dest: int
    load: int
    capacity: int
    arrival: float = float("nan")


class Linehaul:
    """Holds sorted parcels per destination and runs the departures."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: LinehaulConfig,
        truck_capacity: int,
        days: int,
        city: City,
        orders: OrderTable,
        arrive: Callable[[int, np.ndarray], None],
    ):
        self.env, self.cfg, self.city, self.orders, self.arrive = env, cfg, city, orders, arrive
        n_st = city.n_stations
        self.n_stations = n_st
        self.nearby_transit_min = [c.transit_h * 60.0 for c in city.cfg.nearby]
        self.dest_capacity = [truck_capacity] * n_st + [cfg.nearby_truck_capacity] * len(city.cfg.nearby)
        entries = [(t, s) for t in daily_times(cfg.station_departures, days, "linehaul.station_departures") for s in range(n_st)]
        for k, c in enumerate(city.cfg.nearby):
            entries += [(t, n_st + k) for t in daily_times(c.departures, days, f"city.nearby[{k}].departures")]
        entries.sort()
        self.timetable = entries
        self.waiting: list[list[np.ndarray]] = [[] for _ in self.dest_capacity]
        self.departures: list[Departure] = []
        self.dest_of_region = np.concatenate([[-1], n_st + np.arange(len(city.cfg.nearby))])
        env.process(self.run())

    def add(self, idx: np.ndarray) -> None:
        """Sorted parcels (their `sorted` time may be in the future), split by destination."""
        o = self.orders
        dest = np.where(o.region[idx] == 0, o.station[idx], self.dest_of_region[o.region[idx]])
        order = np.argsort(dest, kind="stable")
        idx, dest = idx[order], dest[order]
        cuts = np.flatnonzero(np.diff(dest)) + 1
        for chunk, d in zip(np.split(idx, cuts), dest[np.concatenate([[0], cuts])]):
            self.waiting[d].append(chunk)

    def run(self):
        o = self.orders
        for t, d in self.timetable:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            cap = self.dest_capacity[d]
            waiting = self.waiting[d]
            if not waiting:
                self.departures.append(Departure(t, d, 0, cap))
                continue
            pool = np.concatenate(waiting) if len(waiting) > 1 else waiting[0]
            ready_mask = o.sorted[pool] <= t
            ready = pool[ready_mask]
            if ready.size > cap:
                ready = ready[np.lexsort((o.sorted[ready], o.promised_by[ready], ~o.expedited[ready]))]
                left = np.concatenate([ready[cap:], pool[~ready_mask]])
                ready = ready[:cap]
            else:
                left = pool[~ready_mask]
            self.waiting[d] = [left] if left.size else []
            transit = self.transit_min(d, t)
            self.departures.append(Departure(t, d, int(ready.size), cap, t + transit))
            if ready.size == 0:
                continue
            o.departed[ready] = t
            arrival = self.env.timeout(transit)
            arrival.callbacks.append(lambda _ev, d=d, ready=ready: self.arrive(d, ready))

    def transit_min(self, dest: int, depart_min: float) -> float:
        """Driving plus unloading time to a station (by hour of day) or a nearby city (fixed)."""
        if dest < self.n_stations:
            return float(self.city.road_minutes(self.city.sort_to_station_km[dest], depart_min)) + self.cfg.dock_min
        return self.nearby_transit_min[dest - self.n_stations] + self.cfg.dock_min
