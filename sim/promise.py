"""Promise at checkout: each order gets a tier and a deadline from its region's cutoff.

Home-city orders placed before the cutoff are promised same-day, later ones next-day;
nearby-city orders get next-day before the cutoff, else the day after. The deadline is the
end of the delivery window on the promised day. Checkout asks the cutoff policy every
`review_interval_min` minutes, inside the simulation clock, so a policy can look at the
live backlog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from .clock import MIN_PER_DAY
from .demand import CATEGORY_FRESH, TIER_NAMES, OrderTable
from .policies import CutoffPolicy, PromiseState
from .schema import parse_time_min, spec
from .services import ServicesConfig, choose_windows, parse_windows, window_bounds


@dataclass
class PromiseConfig:
    """When promises fall due and how often checkout re-reads the cutoff."""

    window_end: str = spec("22:00", time=True, doc="a promised day's deliveries must be done by this time")
    review_interval_min: float = spec(15.0, gt=0.0, le=1440.0, doc="checkout re-asks the cutoff policy this often")


def assign_tiers(
    created: np.ndarray, home: np.ndarray, cutoff_tod_min: np.ndarray, window_end_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """(tier, promised_by) for orders given each order's cutoff (minutes after midnight of its day)."""
    day = np.floor(created / MIN_PER_DAY)
    fast = (created - day * MIN_PER_DAY) < cutoff_tod_min
    tier = np.where(home, 0, 1) + (~fast)
    promised_by = (day + tier) * MIN_PER_DAY + window_end_min
    return tier.astype(np.int8), promised_by


class Checkout:
    """The process that promises orders as they are placed and releases them to the first mile."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: PromiseConfig,
        policy: CutoffPolicy,
        regions: list[str],
        days: int,
        orders: OrderTable,
        state: PromiseState,
        release: Callable[[np.ndarray], None],
        services: ServicesConfig | None = None,
        window_u: np.ndarray | None = None,
    ):
        self.env, self.cfg, self.policy, self.regions = env, cfg, policy, regions
        self.orders, self.state, self.release = orders, state, release
        self.window_end_min = parse_time_min(cfg.window_end, "promise.window_end")
        self.services = services or ServicesConfig()
        fresh = self.services.fresh
        self.fresh_cutoff = parse_time_min(fresh.cutoff, "services.fresh.cutoff") if fresh.cutoff else None
        self.fresh_max_tier = TIER_NAMES.index(fresh.max_tier)
        self.windows = parse_windows(self.services.windows.windows, self.window_end_min) if self.services.windows.share > 0 else None
        self.window_u = window_u
        self.due_min: np.ndarray | None = None  # set by the model when windows are on
        self.horizon_min = days * MIN_PER_DAY
        self.cutoff_log: list[tuple[float, str, float]] = []  # (review time, region, cutoff)
        env.process(self.run())

    def run(self):
        o, step = self.orders, self.cfg.review_interval_min
        reviews = np.arange(0.0, self.horizon_min, step)
        bounds = np.searchsorted(o.created, np.append(reviews, self.horizon_min), side="left")
        for k, t in enumerate(reviews):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            lo, hi = bounds[k], bounds[k + 1]
            if hi == lo:
                continue
            idx = np.arange(lo, hi)
            day = int(t // MIN_PER_DAY)
            cutoffs = np.array([float(self.policy.cutoff_min(r, day, self.state)) for r in self.regions])
            for r, c in zip(self.regions, cutoffs):
                self.cutoff_log.append((t, r, c))
            # a batch may straddle midnight: orders of the next day ask again at their own review
            cutoff = cutoffs[o.region[idx]]
            fresh = o.category[idx] == CATEGORY_FRESH
            if self.fresh_cutoff is not None:
                cutoff = np.where(fresh, self.fresh_cutoff, cutoff)
            tier, promised = assign_tiers(o.created[idx], o.region[idx] == 0, cutoff, self.window_end_min)
            slow = fresh & (tier > self.fresh_max_tier)
            if slow.any():
                tier[slow] = self.fresh_max_tier
                promised[slow] = (np.floor(o.created[idx][slow] / MIN_PER_DAY) + tier[slow]) * MIN_PER_DAY + self.window_end_min
            o.tier[idx], o.promised_by[idx] = tier, promised
            if self.services.windows.share > 0:
                home = o.region[idx] == 0
                choice = choose_windows(
                    self.window_u[idx],
                    o.created[idx],
                    np.floor(promised / MIN_PER_DAY),
                    self.services.windows.share,
                    self.windows,
                    self.services.windows.min_lead_h * 60.0,
                )
                o.window[idx] = np.where(home, choice, -1)
                if self.due_min is not None:  # the last mile works to the window's end
                    _, end = window_bounds(promised, o.window[idx], self.windows)
                    self.due_min[idx] = np.where(np.isnan(end), promised, end)
            self.release(idx)
