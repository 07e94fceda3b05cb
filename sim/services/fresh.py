"""生鲜 fresh produce: its own cutoff and tier rule at checkout, and a cold-chain limit from pick to door."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..clock import MIN_PER_DAY
from ..policies.base import check_same_day_possible
from ..records import CATEGORY_FRESH, TIER_NAMES
from ..schema import TimeOfDay, spec
from .base import Service


@dataclass
class FreshConfig:
    """生鲜: fresh produce's own cutoff, tier rule and cold-chain limit."""

    cutoff: TimeOfDay | None = spec(None, doc="fresh orders' own cutoff (null: the policy's)")
    max_tier: str = spec("second_day", choices=tuple(TIER_NAMES), doc="never promise fresh slower than this")
    max_pick_to_door_h: float = spec(0.0, ge=0.0, le=720.0, doc="cold-chain limit from pick to door (0: none)")


def validate(cfg) -> None:
    if cfg.services.fresh.cutoff is not None:
        check_same_day_possible("services.fresh.cutoff", cfg.services.fresh.cutoff, cfg.promise.day_end)


def active(cfg) -> bool:
    fresh = cfg.services.fresh
    return fresh.cutoff is not None or TIER_NAMES.index(fresh.max_tier) < len(TIER_NAMES) - 1


def needs_draws(cfg) -> bool:
    return False


def draw(cfg, o, u) -> None:
    pass


class Unit(Service):
    """Fresh orders' own cutoff, and never a slower tier than `max_tier`."""

    def __init__(self, cfg, orders, u, env, end_min, state=None) -> None:
        self.orders, self.day_end = orders, float(cfg.promise.day_end)
        self.cutoff = cfg.services.fresh.cutoff
        self.max_tier = TIER_NAMES.index(cfg.services.fresh.max_tier)

    def adjust_cutoff(self, idx: np.ndarray, cutoff: np.ndarray) -> np.ndarray:
        if self.cutoff is None:
            return cutoff
        return np.where(self.orders.category[idx] == CATEGORY_FRESH, float(self.cutoff), cutoff)

    def adjust_promise(self, idx: np.ndarray, tier: np.ndarray, promised: np.ndarray) -> None:
        slow = (self.orders.category[idx] == CATEGORY_FRESH) & (tier > self.max_tier)
        if slow.any():
            tier[slow] = self.max_tier
            promised[slow] = (np.floor(self.orders.created[idx][slow] / MIN_PER_DAY) + tier[slow]) * MIN_PER_DAY + self.day_end


def cold_chain_violations(cfg, out) -> np.ndarray | None:
    """1 where a fresh order spent longer than the limit from pick to door (or still had not arrived
    when the limit passed before the clock stopped), 0 where it did not, -1 for others; None when off."""
    limit = cfg.services.fresh.max_pick_to_door_h * 60.0
    if limit <= 0:
        return None
    o = out.orders
    fresh = (o.category == CATEGORY_FRESH) & ~np.isnan(o.picked)
    door = np.where(np.isnan(o.delivered), out.end_min, o.delivered)
    flags = np.full(len(o), -1, dtype=np.int8)
    flags[fresh] = (door[fresh] - o.picked[fresh] > limit).astype(np.int8)
    return flags


def order_columns(cfg, out) -> dict[str, tuple[str, np.ndarray]]:
    return {"cold_chain_violation": ("flag", cold_chain_violations(cfg, out))}  # None without a limit: all null


def kpis(cfg, ctx) -> dict[str, float]:
    flags = cold_chain_violations(cfg, ctx.out)
    return {"cold_chain_violations": int(np.count_nonzero(flags[ctx.measured] == 1)) if flags is not None else float("nan")}
