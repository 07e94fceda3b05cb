"""Promise at checkout: each order gets a tier and a deadline from its region's cutoff.

Home-city orders placed before the cutoff are promised same-day, later ones next-day;
nearby-city orders get next-day before the cutoff, else the day after. The deadline is the
end of the promised day (`promise.day_end`). Each shopper sees the promise and buys or not
(`sim.demand.ShopperResponse`, with `demand.response`). Checkout asks the cutoff policy every
`review_interval_min` minutes, inside the simulation clock, so a policy can look at the
live backlog; the services may adjust cutoffs and tiers through their hooks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .clock import MIN_PER_DAY, at_times
from .config.promise import PromiseConfig
from .demand import ShopperResponse
from .policies import CutoffPolicy, PromiseState
from .records import LogBook, OrderTable


def assign_tiers(
    created: np.ndarray, home: np.ndarray, cutoff_tod_min: np.ndarray, day_end_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """(tier, promised_by) for orders given each order's cutoff (minutes after midnight of its day)."""
    day = np.floor(created / MIN_PER_DAY)
    fast = (created - day * MIN_PER_DAY) < cutoff_tod_min
    tier = np.where(home, 0, 1) + (~fast)
    promised_by = (day + tier) * MIN_PER_DAY + day_end_min
    return tier.astype(np.int8), promised_by


class Checkout:
    """The process that promises orders as they are placed and hands them to the first mile."""

    def __init__(
        self,
        env,
        cfg: PromiseConfig,
        policy: CutoffPolicy,
        state: PromiseState,
        days: int,
        orders: OrderTable,
        log: LogBook,
        hooks,
        hand_on: Callable[[np.ndarray], None],
        response: ShopperResponse | None = None,
    ):
        self.env, self.policy, self.state, self.orders, self.log, self.hooks = env, policy, state, orders, log, hooks
        self.hand_on, self.response = hand_on, response
        self.regions = policy.regions
        self.day_end_min = float(cfg.day_end)
        horizon_min = days * MIN_PER_DAY
        reviews = np.arange(0.0, horizon_min, cfg.review_interval_min)
        self._bounds = np.searchsorted(orders.created, np.append(reviews, horizon_min), side="left")
        self._next = 0
        at_times(env, reviews, self.review)

    def review(self, t: float) -> None:
        k = self._next
        self._next += 1
        lo, hi = self._bounds[k], self._bounds[k + 1]
        if hi == lo:
            return
        o, idx = self.orders, np.arange(lo, hi)
        day = int(t // MIN_PER_DAY)
        cutoffs = np.array([float(self.policy.cutoff_min(r, day, self.state)) for r in self.regions])
        for r, c in zip(self.regions, cutoffs):
            self.log.cutoffs.append((t, r, c))
        # a batch may straddle midnight: orders of the next day ask again at their own review
        cutoff = self.hooks.adjust_cutoff(idx, cutoffs[o.region[idx]])
        tier, promised = assign_tiers(o.created[idx], o.region[idx] == 0, cutoff, self.day_end_min)
        self.hooks.adjust_promise(idx, tier, promised)
        o.tier[idx] = tier
        if self.response is not None:  # shoppers who do not buy at this promise leave the chain here
            buys = self.response.buys(idx, tier, t)
            o.placed[idx[~buys]] = False
            idx, promised = idx[buys], promised[buys]
        o.promised_by[idx] = promised
        self.hooks.promised(idx)
        self.hand_on(idx)
