"""The sorting centre (分拣): parcels wait for the next sort wave, then pass the sorter in arrival order.

With `waves` empty, sorting is continuous: each parcel enters the sorter when it arrives
(an event per arrival time, so use it for textbook cases rather than whole cities). The
sorter is a pool of `lines` FCFS servers sharing `capacity.sorter_per_hour`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from .clock import MIN_PER_DAY, DutyWindow, call_at, daily_times
from .demand import OrderTable, gamma_times
from .queueing import ServerPool
from .schema import spec


def _default_waves() -> list[str]:
    return [f"{h:02d}:00" for h in range(5, 24, 2)]


@dataclass
class SortingConfig:
    """Sort waves and the sorter."""

    waves: list[str] = spec(factory=_default_waves, time=True, doc="wave release times; [] = continuous sorting")
    lines: int = spec(1, ge=1, le=1000, doc="parallel sorter lines sharing the throughput")
    service_cv: float = spec(0.0, ge=0.0, le=3.0, doc="variability of time per parcel (0: machine-paced)")


class SortingCentre:
    """Releases waves into the sorter and hands sorted parcels on."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: SortingConfig,
        sorter_per_hour: float,
        days: int,
        orders: OrderTable,
        rng: np.random.Generator,
        to_linehaul: Callable[[np.ndarray], None],
    ):
        self.env, self.cfg, self.orders, self.to_linehaul = env, cfg, orders, to_linehaul
        self.service_mean_min = 60.0 * cfg.lines / sorter_per_hour
        self.pool = ServerPool([DutyWindow(0.0, MIN_PER_DAY)] * cfg.lines)
        # per-order work drawn up front, so capacity changes keep the same draws
        self.unit_work = gamma_times(rng, 1.0, cfg.service_cv, len(orders)) if cfg.service_cv > 0 else None
        self.continuous = not cfg.waves
        self.timetable = daily_times(cfg.waves, days, "sorting.waves")
        self.waiting = np.empty(0, dtype=np.int64)
        self.waves: list[tuple[float, int]] = []  # (release time, parcels)
        if not self.continuous:
            env.process(self.run())

    def arrive(self, idx: np.ndarray) -> None:
        """Parcels on their way in (their `arrived_sort` may still be in the future)."""
        if not self.continuous:
            self.waiting = np.concatenate([self.waiting, idx])
            return
        call_at(self.env, self.orders.arrived_sort[idx], idx, self._sort)

    def run(self):
        o = self.orders
        for t in self.timetable:
            yield self.env.timeout(t - self.env.now)
            arrived = o.arrived_sort[self.waiting] <= t
            batch = self.waiting[arrived]
            if batch.size == 0:
                continue
            self.waiting = self.waiting[~arrived]
            self._sort(batch[np.lexsort((o.arrived_sort[batch], ~o.expedited[batch]))])  # expedited first

    def _sort(self, batch: np.ndarray) -> None:
        """Release a batch (in arrival order) into the sorter now."""
        o = self.orders
        service = (
            np.full(batch.size, self.service_mean_min) if self.unit_work is None else self.unit_work[batch] * self.service_mean_min
        )
        starts = self.pool.serve(np.full(batch.size, self.env.now), service)
        o.sort_start[batch] = starts
        o.sorted[batch] = starts + service
        self.waves.append((self.env.now, batch.size))
        self.to_linehaul(batch)
