"""The sorting centre (分拣): parcels wait for the next sort wave, then pass the sorter in arrival order.

With `waves` empty, sorting is continuous: each parcel enters the sorter when it arrives
(an event per arrival time, so use it for textbook cases rather than whole cities). The
sorter is a pool of `lines` FCFS servers sharing `capacity.sorter_per_hour`. A city with
several sorting centres (`city.sorting_centres`) has one `SortingCentre` each, every one
with that throughput, the same waves and hours; the model sends each parcel to the centre
of its destination station (`City.centre_of`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .clock import ALWAYS, MIN_PER_DAY, ShiftHours, at_times, call_at, daily_times
from .config.sorting import SortingConfig
from .demand import gamma_times
from .queueing import ServerPool
from .records import LogBook, OrderTable


def sorter_hours(waves: list) -> ShiftHours:
    """The sorter's daily hours: from the first wave to an hour after the last (always, when sorting is continuous)."""
    if not waves:
        return ALWAYS
    first, last = min(float(w) for w in waves), max(float(w) for w in waves)
    if last + 60.0 - first >= MIN_PER_DAY:
        return ALWAYS
    return ShiftHours(first, (last + 60.0) % MIN_PER_DAY if last + 60.0 != MIN_PER_DAY else MIN_PER_DAY)


def sort_work(rng: np.random.Generator, cfg: SortingConfig, n: int) -> np.ndarray | None:
    """Each order's sorting work in units of the mean (None: machine-paced), drawn up front for all centres, so
    capacity changes keep the same draws."""
    return gamma_times(rng, 1.0, cfg.service_cv, n) if cfg.service_cv > 0 else None


class SortingCentre:
    """Releases waves into the sorter and hands sorted parcels on; `site` is its number among the city's centres."""

    def __init__(
        self,
        env,
        cfg: SortingConfig,
        sorter_per_hour: float,
        days: int,
        orders: OrderTable,
        unit_work: np.ndarray | None,
        log: LogBook,
        hand_on: Callable[[np.ndarray], None],
        site: int = 0,
    ):
        self.env, self.cfg, self.orders, self.log, self.hand_on, self.site = env, cfg, orders, log, hand_on, site
        self.service_mean_min = 60.0 * cfg.lines / sorter_per_hour
        # the sorter's hours: from the first wave to an hour after the last; it may run on, in overtime, up to
        # `overtime_max_h` longer to finish released waves (lines start parcels until then; the rest wait for tomorrow)
        hours = sorter_hours(cfg.waves)
        length = (hours.end - hours.start) % MIN_PER_DAY or MIN_PER_DAY
        # overtime ends, at the latest, a minute before the next day's hours begin
        self.overtime_min = 0.0 if hours.always else min(cfg.overtime_max_h * 60.0, max(MIN_PER_DAY - length - 1.0, 0.0))
        extended = hours if hours.always else ShiftHours(hours.start, (hours.end + self.overtime_min) % MIN_PER_DAY)
        self.pool = ServerPool([extended] * cfg.lines, overtime_max_min=0.0)
        log.shifts += [("sort", site, k, hours.start, hours.end) for k in range(cfg.lines)]
        self.unit_work = unit_work
        self.continuous = not cfg.waves
        self.waiting = np.empty(0, dtype=np.int64)
        if not self.continuous:
            at_times(env, daily_times(cfg.waves, days), self.wave)

    def arrive(self, idx: np.ndarray) -> None:
        """Parcels on their way in (their `arrived_sort` may still be in the future)."""
        if not self.continuous:
            self.waiting = np.concatenate([self.waiting, idx])
            return
        call_at(self.env, self.orders.arrived_sort[idx], idx, self._sort)

    def wave(self, t: float) -> None:
        o = self.orders
        arrived = o.arrived_sort[self.waiting] <= t
        batch = self.waiting[arrived]
        if batch.size == 0:
            return
        self.waiting = self.waiting[~arrived]
        self._sort(batch[np.lexsort((o.arrived_sort[batch], ~o.priority[batch]))])  # priority first

    def _sort(self, batch: np.ndarray) -> None:
        """Release a batch (in arrival order) into the sorter now."""
        o = self.orders
        service = (
            np.full(batch.size, self.service_mean_min) if self.unit_work is None else self.unit_work[batch] * self.service_mean_min
        )
        starts, lines = self.pool.serve(np.full(batch.size, self.env.now), service)
        o.sort_start[batch] = starts
        o.sorted[batch] = starts + service
        if lines is not None:
            self.log.overtime += [
                ("sort", self.site, k, e, u) for k, e, u in self.pool.overtime(starts, o.sorted[batch], lines, self.overtime_min)
            ]
        self.log.waves.append((self.env.now, batch.size))
        self.hand_on(batch)
