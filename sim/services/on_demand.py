"""按需派送 delivery on demand: the customer chooses how the last mile happens.

A share of home-city customers choose a delivery slot on the promised day (stations hold
such parcels until the slot opens and work to its end; the order is a hit only inside its
slot); another share ask for the parcel to be left at a pickup point (驿站), so no one need
be home and the delivery never fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..clock import MIN_PER_DAY
from ..schema import ConfigError, TimeSlot, spec
from .base import Service


@dataclass
class OnDemandConfig:
    """按需派送: delivery slots chosen by the customer, or a pickup point."""

    slot_share: float = spec(0.0, ge=0.0, le=1.0, doc="share of home-city customers who choose a delivery slot")
    slots: list[TimeSlot] = spec(
        factory=lambda: [TimeSlot.parse(s) for s in ("09:00-12:00", "14:00-17:00", "18:00-21:00")],
        doc="slots a customer may choose, 'HH:MM-HH:MM', each ending by promise.day_end",
    )
    min_lead_h: float = spec(3.0, ge=0.0, le=168.0, doc="a slot must start at least this long after the order")
    pickup_point_share: float = spec(0.0, ge=0.0, le=1.0, doc="share of orders the customer asks to be left at a pickup point (驿站)")


def validate(cfg) -> None:
    on_demand, day_end = cfg.services.on_demand, cfg.promise.day_end
    if on_demand.slot_share <= 0:  # each slot's own form is checked at load, whether or not the service is on
        return
    for i, slot in enumerate(on_demand.slots):
        if slot.end > day_end:
            raise ConfigError(f"services.on_demand.slots[{i}]", str(slot), f"expected a slot ending by promise.day_end ({day_end})")
    if on_demand.slot_share > 0 and not on_demand.slots:
        raise ConfigError("services.on_demand.slots", [], "need at least one slot while services.on_demand.slot_share > 0")


def active(cfg) -> bool:
    return cfg.services.on_demand.slot_share > 0


def needs_draws(cfg) -> bool:
    on_demand = cfg.services.on_demand
    return on_demand.slot_share > 0 or on_demand.pickup_point_share > 0


def draw(cfg, o, u: dict[str, np.ndarray]) -> None:
    """Pickup-point orders (a doorstep order keeps the door); their deliveries never fail."""
    o.pickup_point[:] = (u["pickup_point"] < cfg.services.on_demand.pickup_point_share) & ~o.doorstep
    o.failed_attempts[o.pickup_point] = 0


def slot_table(cfg) -> np.ndarray:
    """[[start, end], ...] of the slots, minutes after midnight."""
    return np.array([[float(s.start), float(s.end)] for s in cfg.services.on_demand.slots], dtype=float).reshape(-1, 2)


def slot_bounds_of(promised_by: np.ndarray, slot: np.ndarray, slots: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Absolute start and end of each order's chosen slot on its promised day (NaN without one)."""
    start, end = np.full(slot.size, np.nan), np.full(slot.size, np.nan)
    has = slot >= 0
    if slots is not None and has.any():
        day = np.floor(promised_by[has] / MIN_PER_DAY) * MIN_PER_DAY
        start[has] = day + slots[slot[has], 0]
        end[has] = day + slots[slot[has], 1]
    return start, end


def slot_bounds(cfg, o) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each order's slot as absolute minutes, or (None, None) when the service is off."""
    if not active(cfg):
        return None, None
    return slot_bounds_of(o.promised_by, o.slot, slot_table(cfg))


def choose_slots(
    u: np.ndarray, created: np.ndarray, promised_day: np.ndarray, share: float, slots: np.ndarray, min_lead_min: float
) -> np.ndarray:
    """Each order's slot index (-1: none): a `share` of customers (u < share) pick uniformly among the
    slots of the promised day that start at least `min_lead_min` after they order."""
    n = created.size
    choice = np.full(n, -1, dtype=np.int8)
    if share <= 0 or slots.size == 0:
        return choice
    starts = promised_day[:, None] * MIN_PER_DAY + slots[None, :, 0]
    feasible = starts >= created[:, None] + min_lead_min
    count = feasible.sum(axis=1)
    wants = (u < share) & (count > 0)
    pick = np.minimum((u / share * count).astype(int), np.maximum(count - 1, 0))
    order = np.cumsum(feasible, axis=1) - 1  # rank of each feasible slot
    chosen = np.argmax(feasible & (order == pick[:, None]), axis=1)
    choice[wants] = chosen[wants]
    return choice


class Unit(Service):
    """Chooses slots at checkout; the last mile holds each parcel until its slot opens and works to its end."""

    def __init__(self, cfg, orders, u, env, end_min, state=None) -> None:
        self.cfg, self.orders, self.u = cfg.services.on_demand, orders, u["slot_choice"]
        self.slots = slot_table(cfg)
        self.due_min = np.full(len(orders), np.nan)

    def promised(self, idx: np.ndarray) -> None:
        o = self.orders
        promised = o.promised_by[idx]
        choice = choose_slots(
            self.u[idx], o.created[idx], np.floor(promised / MIN_PER_DAY), self.cfg.slot_share, self.slots, self.cfg.min_lead_h * 60.0
        )
        o.slot[idx] = np.where(o.region[idx] == 0, choice, -1)
        _, end = slot_bounds_of(promised, o.slot[idx], self.slots)
        self.due_min[idx] = np.where(np.isnan(end), promised, end)

    def hold_until(self, idx: np.ndarray) -> np.ndarray:
        """The start of each parcel's slot (NaN: none)."""
        start, _ = slot_bounds_of(self.orders.promised_by[idx], self.orders.slot[idx], self.slots)
        return start

    def due(self, idx: np.ndarray) -> np.ndarray:
        return self.due_min[idx]


def order_columns(cfg, out) -> dict[str, tuple[str, np.ndarray]]:
    start, end = slot_bounds(cfg, out.orders)  # None without slots: an all-null column
    return {"pickup_point": ("bool", out.orders.pickup_point), "slot_start": ("time", start), "slot_end": ("time", end)}


def kpis(cfg, ctx) -> dict[str, float]:
    o, nan, measured = ctx.out.orders, float("nan"), ctx.measured
    n = int(np.count_nonzero(measured))
    k: dict[str, float] = {}
    start, end = slot_bounds(cfg, o)
    if start is not None:
        slotted = measured & ~np.isnan(start) & (end <= ctx.out.horizon_min)
        tours = ctx.out.tours.between("start", ctx.t0, ctx.out.horizon_min)
        k["slot_orders_share"] = float(np.mean(~np.isnan(start[measured]))) if n else nan
        k["slot_hit_rate"] = float(np.mean(ctx.hit[slotted] == 1)) if slotted.any() else nan
        k["slot_tours"] = int(np.count_nonzero(tours.slot_parcels > 0))
    else:
        k.update({"slot_orders_share": nan, "slot_hit_rate": nan, "slot_tours": nan})
    k["pickup_point_share"] = float(np.mean(o.pickup_point[measured])) if n else nan
    return k
