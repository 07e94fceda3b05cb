"""What a cutoff policy sees of the running model (the `PromiseState` of `sim.policies.base`).

Built from plain data the model already has: the order table as the clock fills it, the
couriers' shifts and the nominal rates; it never reaches into a stage.
"""

from __future__ import annotations

import numpy as np

from .clock import MIN_PER_DAY, on_duty_minutes
from .config import SimConfig
from .demand import expected_orders, planned_orders_per_hour
from .eta import DeliveryEta
from .records import OrderTable


class LiveState:
    """Backlog by region and stage, nominal clearing capacity, expected demand; all times in minutes since the start."""

    def __init__(
        self,
        env,
        cfg: SimConfig,
        orders: OrderTable,
        courier_shift_start: np.ndarray,
        courier_shift_end: np.ndarray,
        parcels_per_courier_min: float,
        eta: DeliveryEta | None = None,
    ):
        self.env, self.cfg, self.orders = env, cfg, orders
        self.regions = cfg.city.regions
        self.day_end_min = float(cfg.promise.day_end)
        self.review_interval_min = cfg.promise.review_interval_min
        self._courier_start, self._courier_end = courier_shift_start, courier_shift_end  # every courier's daily shift
        self._parcels_per_courier_min = parcels_per_courier_min
        self._sort_per_min = cfg.capacity.sorter_per_hour * len(cfg.city.centres) / 60.0  # every centre's sorter
        self._planned_per_hour = planned_orders_per_hour(cfg.demand, cfg.start_date, cfg.horizon_days)  # weekdays, calendar
        self._eta = eta

    def delivery_eta(self, idx: np.ndarray, queues: bool = True) -> np.ndarray:
        """Projected delivery time of open home-city orders (minutes since the start; inf: none in sight), from
        the stamps up to now, the backlogs, timetables and shifts (`sim.eta`); `queues=False`: the best case."""
        return self._eta.project(idx, self.now_min, queues)

    @property
    def now_min(self) -> float:
        return self.env.now

    @property
    def window_end_min(self) -> float:
        """Deprecated name of `day_end_min` (goes in 0.3)."""
        return self.day_end_min

    def backlog(self, region: str, stage: str = "delivered") -> int:
        o, now = self.orders, self.now_min
        r = self.regions.index(region)
        day = int(now // MIN_PER_DAY)
        due = day * MIN_PER_DAY + self.day_end_min
        lo = np.searchsorted(o.created, (day - 2) * MIN_PER_DAY)
        hi = np.searchsorted(o.created, now)
        sl = slice(lo, hi)
        passed = getattr(o, stage)[sl] <= now
        return int(np.count_nonzero((o.promised_by[sl] == due) & (o.region[sl] == r) & ~passed))

    def clearing_capacity(self, stage: str, until_min: float) -> float:
        now = self.now_min
        if stage == "sorted":
            return max(0.0, until_min - now) * self._sort_per_min
        if stage == "delivered":
            return on_duty_minutes(self._courier_start, self._courier_end, now, until_min) * self._parcels_per_courier_min
        raise ValueError(f"no capacity estimate for stage {stage!r}; use 'sorted' or 'delivered'")

    def expected_orders(self, region: str, a_min: float, b_min: float) -> float:
        r = self.regions.index(region)
        nearby = [c.share for c in self.cfg.city.nearby]
        share = (1.0 - sum(nearby)) if r == 0 else nearby[r - 1]
        return share * expected_orders(self.cfg.demand, a_min, b_min, self._planned_per_hour)
