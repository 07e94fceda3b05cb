"""Warehouse (拣货) and merchant pickup (揽件): the first mile, up to arrival at the sorting centre.

Stock orders are picked and packed at their front DC by a pool of pickers working shifts
(an FCFS multi-server queue, see `queueing`), then ride the next shuttle to the sorting
centre. Merchant orders wait for a pickup round: pickup couriers leave at set times,
collect up to their capacity (most urgent promise first) and bring the parcels in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from .city import City
from .clock import Shift, daily_times, duty_windows
from .demand import OrderTable
from .queueing import ServerPool
from .schema import spec


def _default_picker_shifts() -> list[Shift]:
    # two day shifts carry the load, a thin night shift keeps the late-evening peak moving
    return [Shift("06:00", "14:00", 0.42), Shift("14:00", "22:00", 0.42), Shift("22:00", "06:00", 0.16)]


@dataclass
class WarehouseConfig:
    """Pick and pack at the front DCs, and the shuttle to the sorting centre."""

    pick_mean_min: float = spec(1.2, gt=0.0, doc="pick+pack per order; 50 orders per picker-hour")
    pick_cv: float = spec(0.6, ge=0.0, le=3.0, doc="coefficient of variation of pick times (1 = exponential)")
    shifts: list[Shift] = field(default_factory=_default_picker_shifts)
    shuttle_interval_min: float = spec(30.0, gt=0.0, le=1440.0, doc="a shuttle van leaves each DC this often")
    shuttle_dock_min: float = spec(10.0, ge=0.0, doc="load at the DC and unload at the sorting centre")


@dataclass
class PickupConfig:
    """Merchant pickup rounds (揽件)."""

    rounds: list[str] = spec(factory=lambda: ["09:00", "11:00", "13:00", "15:00", "17:00", "19:00"], time=True)
    round_min: float = spec(90.0, gt=0.0, le=720.0, doc="from leaving to unloading at the sorting centre")
    parcels_per_courier_round: int = spec(150, ge=1, doc="merchants hand over their day's parcels in bulk")


class Warehouses:
    """Picker pools of the front DCs and their shuttles."""

    def __init__(
        self, cfg: WarehouseConfig, pickers_per_dc: int, city: City, orders: OrderTable, to_sort: Callable[[np.ndarray], None]
    ):
        self.cfg, self.city, self.orders, self.to_sort = cfg, city, orders, to_sort
        windows = duty_windows(cfg.shifts, pickers_per_dc, "warehouse.shifts")
        self.pools = [ServerPool(windows) for _ in city.cfg.warehouses]

    def release(self, idx: np.ndarray) -> None:
        """Queue newly placed stock orders (sorted by creation) at their DC; compute picks and shuttles."""
        o = self.orders
        for w, pool in enumerate(self.pools):
            mine = idx[o.warehouse[idx] == w]
            if mine.size == 0:
                continue
            starts = pool.serve(o.created[mine], o.pick_service_min[mine])
            o.pick_start[mine] = starts
            o.picked[mine] = starts + o.pick_service_min[mine]
            depart = np.ceil(o.picked[mine] / self.cfg.shuttle_interval_min) * self.cfg.shuttle_interval_min
            o.arrived_sort[mine] = (
                depart + self.city.road_minutes(self.city.warehouse_to_sort_km[w], depart) + self.cfg.shuttle_dock_min
            )
            self.to_sort(mine)


class MerchantPickup:
    """Pickup couriers collecting merchant orders in rounds, most urgent promise first."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: PickupConfig,
        couriers: int,
        days: int,
        orders: OrderTable,
        to_sort: Callable[[np.ndarray], None],
    ):
        self.env, self.cfg, self.orders, self.to_sort = env, cfg, orders, to_sort
        self.capacity = couriers * cfg.parcels_per_courier_round
        self.timetable = daily_times(cfg.rounds, days, "pickup.rounds")
        self.waiting = np.empty(0, dtype=np.int64)
        self.rounds: list[tuple[float, int]] = []  # (time, parcels collected)
        env.process(self.run())

    def release(self, idx: np.ndarray) -> None:
        self.waiting = np.concatenate([self.waiting, idx])

    def run(self):
        o = self.orders
        for t in self.timetable:
            yield self.env.timeout(t - self.env.now)
            ready = self.waiting[o.created[self.waiting] <= t]
            if ready.size == 0:
                continue
            # expedited (parcel-centre warning) first, then the most urgent promise
            urgent_first = ready[np.lexsort((o.created[ready], o.promised_by[ready], ~o.expedited[ready]))]
            taken = urgent_first[: self.capacity]
            n = taken.size
            # collections spread evenly over the outbound part of the round
            o.pick_start[taken] = t
            o.picked[taken] = t + (np.arange(1, n + 1) / (n + 1)) * self.cfg.round_min * 0.75
            o.arrived_sort[taken] = t + self.cfg.round_min
            self.waiting = np.setdiff1d(self.waiting, taken, assume_unique=True)
            self.rounds.append((t, n))
            self.to_sort(taken[np.argsort(o.arrived_sort[taken], kind="stable")])
