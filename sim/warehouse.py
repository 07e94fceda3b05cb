"""Warehouse (拣货) and merchant pickup (揽件): the first mile, up to arrival at the sorting centre.

Stock orders are picked and packed at their front DC by a pool of pickers working shifts
(an FCFS multi-server queue, see `queueing`), then ride the next shuttle to the sorting
centre. Merchant orders wait for a pickup round: pickup couriers leave at set times,
collect up to their capacity (priority parcels, then the most urgent promise first) and
bring the parcels in; a courier still out on a round cannot start the next.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .city import City
from .clock import assign_shifts, at_times, daily_times
from .config.warehouse import PickupConfig, WarehouseConfig
from .queueing import ServerPool
from .records import LogBook, OrderTable


class Warehouses:
    """Picker pools of the front DCs and their shuttles."""

    def __init__(
        self,
        cfg: WarehouseConfig,
        pickers_per_dc: int,
        city: City,
        orders: OrderTable,
        log: LogBook,
        hand_on: Callable[[np.ndarray], None],
    ):
        self.cfg, self.city, self.orders, self.hand_on = cfg, city, orders, hand_on
        shifts = assign_shifts(cfg.shifts, pickers_per_dc)
        self.pools = [ServerPool(shifts, overtime_max_min=cfg.overtime_max_h * 60.0) for _ in city.cfg.warehouses]
        self.log = log
        for dc in range(len(self.pools)):
            log.shifts += [("pick", dc, k, w.start, w.end) for k, w in enumerate(shifts)]

    def release(self, idx: np.ndarray) -> None:
        """Queue newly placed stock orders (sorted by creation) at their DC; compute picks and shuttles."""
        o = self.orders
        for w, pool in enumerate(self.pools):
            mine = idx[o.warehouse[idx] == w]
            if mine.size == 0:
                continue
            starts, pickers = pool.serve(o.created[mine], o.pick_service_min[mine])
            o.pick_start[mine] = starts
            o.picked[mine] = starts + o.pick_service_min[mine]
            if pickers is not None:
                o.picker[mine] = pickers
            self.hand_on(mine)

    def log_overtime(self) -> None:
        """At the end of the run: each picker's work past a shift's end, from the picks (one pass per DC)."""
        o = self.orders
        for w, pool in enumerate(self.pools):
            mine = np.flatnonzero((o.warehouse == w) & (o.picker >= 0) & ~np.isnan(o.pick_start))
            late = pool.overtime(o.pick_start[mine], o.picked[mine], o.picker[mine])
            self.log.overtime += [("pick", w, k, e, u) for k, e, u in late]

    def shuttle(self, idx: np.ndarray) -> None:
        """Picked parcels ride their DC's next shuttle to the sorting centre of their destination (stamps
        `arrived_sort`): with several centres, a DC's shuttles leave for each one at the same times."""
        o, every = self.orders, self.cfg.shuttle_interval_min
        depart = np.ceil(o.picked[idx] / every) * every
        km = self.city.warehouse_to_sort_km[o.warehouse[idx], self.city.centre_of(o.station[idx])]
        o.arrived_sort[idx] = depart + self.city.road_minutes(km, depart) + self.cfg.shuttle_dock_min


class MerchantPickup:
    """Pickup couriers collecting merchant orders in rounds, priority parcels and the most urgent promises first."""

    def __init__(
        self,
        env,
        cfg: PickupConfig,
        couriers: int,
        days: int,
        orders: OrderTable,
        log: LogBook,
        hand_on: Callable[[np.ndarray], None],
    ):
        self.env, self.cfg, self.orders, self.log, self.hand_on = env, cfg, orders, log, hand_on
        self.couriers = couriers
        self.waiting = np.empty(0, dtype=np.int64)
        self.out: list[tuple[float, int]] = []  # (back at, couriers) of rounds under way
        at_times(env, daily_times(cfg.rounds, days), self.round)

    def release(self, idx: np.ndarray) -> None:
        self.waiting = np.concatenate([self.waiting, idx])

    def round(self, t: float) -> None:
        o = self.orders
        ready = self.waiting[o.created[self.waiting] <= t]
        if ready.size == 0:
            return
        self.out = [(back, n) for back, n in self.out if back > t]
        available = self.couriers - sum(n for _, n in self.out)
        urgent_first = ready[np.lexsort((o.created[ready], o.promised_by[ready], ~o.priority[ready]))]
        taken = urgent_first[: available * self.cfg.parcels_per_courier_round]
        n = taken.size
        if n == 0:
            return
        # collections spread evenly over the outbound part of the round
        o.pick_start[taken] = t
        o.picked[taken] = t + (np.arange(1, n + 1) / (n + 1)) * self.cfg.round_min * 0.75
        o.arrived_sort[taken] = t + self.cfg.round_min
        self.waiting = np.setdiff1d(self.waiting, taken, assume_unique=True)
        couriers = math.ceil(n / self.cfg.parcels_per_courier_round)
        self.out.append((t + self.cfg.round_min, couriers))
        self.log.pickup_rounds.append((t, n, couriers, self.cfg.round_min))
        self.hand_on(taken[np.argsort(o.arrived_sort[taken], kind="stable")])
