"""The seed's services, each one unit (config, random draws, hooks into the stages, KPIs, output columns):

- 音尊达 doorstep delivery (`doorstep`): call ahead and hand over at the door;
- 按需派送 delivery on demand (`on_demand`): a customer-chosen delivery slot, or a pickup point;
- 生鲜 fresh produce (`fresh`): its own cutoff and tier rule, and a cold-chain limit;
- 包裹中心 parcel centre (`parcel_centre`): SLA warnings raised on the clock, optionally expediting.

All are off by default (the core scenario is unchanged). Stages never know a service: they
call the hooks of `Hooks` (an ordering key, a stop time, a hold and due time, a tier rule),
which the active services implement. (Nearby-city next-day service is part of the city.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..records import OrderTable
from . import doorstep, fresh, on_demand, parcel_centre
from .base import Service

# Service modules in the order their KPIs and order columns appear in the output.
UNITS = (doorstep, on_demand, fresh, parcel_centre)

# The `services` random stream draws one block of uniforms per order, a row per use (the rows
# are fixed so results stay the same from version to version), and only when a service needs it.
DRAW_ROWS = ("doorstep", "doorstep_failures", "refusal", "slot_choice", "pickup_point")


@dataclass
class ServicesConfig:
    parcel_centre: parcel_centre.ParcelCentreConfig = field(default_factory=parcel_centre.ParcelCentreConfig)
    doorstep: doorstep.DoorstepConfig = field(default_factory=doorstep.DoorstepConfig)
    on_demand: on_demand.OnDemandConfig = field(default_factory=on_demand.OnDemandConfig)
    fresh: fresh.FreshConfig = field(default_factory=fresh.FreshConfig)


def validate_services(cfg) -> None:
    """Each service's checks that span its fields or the rest of the config (`cfg` is the whole `SimConfig`)."""
    for unit in UNITS:
        unit.validate(cfg)


class Hooks:
    """What the stages may ask of the services. With every service off each hook is a no-op."""

    def __init__(self, units: list) -> None:
        self.units = units

        def implementing(name: str) -> list:
            return [getattr(u, name) for u in units if getattr(type(u), name, None) is not getattr(Service, name)]

        self._cutoff = implementing("adjust_cutoff")
        self._promise = implementing("adjust_promise")
        self._promised = implementing("promised")
        self._picked = implementing("picked")
        self._hold = implementing("hold_until")
        self._due = implementing("due")
        self._stops = implementing("stops")

    # checkout
    def adjust_cutoff(self, idx: np.ndarray, cutoff: np.ndarray) -> np.ndarray:
        """Per-order cutoff (minutes after midnight) before tiers are assigned."""
        for hook in self._cutoff:
            cutoff = hook(idx, cutoff)
        return cutoff

    def adjust_promise(self, idx: np.ndarray, tier: np.ndarray, promised: np.ndarray) -> None:
        """A tier rule applied in place to (tier, promised_by) of a checkout batch."""
        for hook in self._promise:
            hook(idx, tier, promised)

    def promised(self, idx: np.ndarray) -> None:
        """Orders just promised (their tier and `promised_by` are set)."""
        for hook in self._promised:
            hook(idx)

    # first mile
    def picked(self, idx: np.ndarray) -> None:
        """Parcels with a (possibly future) `picked` time, on their way to the sorting centre."""
        for hook in self._picked:
            hook(idx)

    # last mile
    @property
    def holds(self) -> bool:
        """Whether a service holds parcels for a chosen slot (按需派送): without it no parcel has a slot."""
        return bool(self._hold)

    def hold_until(self, idx: np.ndarray) -> np.ndarray | None:
        """When a station may first send each parcel out (None: at once)."""
        return self._hold[0](idx) if self._hold else None

    def due(self, orders: OrderTable, idx: np.ndarray) -> np.ndarray:
        """The deadline couriers work to, the ordering key of a station's queue."""
        return self._due[0](idx) if self._due else orders.promised_by[idx]

    def stops(self, load: np.ndarray) -> tuple[np.ndarray, float] | None:
        """(parcels that are a stop of their own, minutes at each such stop) on a tour (None: none)."""
        return self._stops[0](load) if self._stops else None


def build(cfg, orders: OrderTable, rng: np.random.Generator, env, end_min: float, state=None) -> tuple[Hooks, dict]:
    """The run-time units of the active services, their hooks, and the records they keep (by unit name); `state` is
    the model's `LiveState`, for the units that read the running chain."""
    needs = [unit.needs_draws(cfg) for unit in UNITS]
    u = dict(zip(DRAW_ROWS, rng.random((len(DRAW_ROWS), len(orders))))) if any(needs) else None
    if u is not None:
        for unit in UNITS:
            unit.draw(cfg, orders, u)
    units = [unit.Unit(cfg, orders, u, env, end_min, state) for unit in UNITS if unit.active(cfg)]
    return Hooks(units), {type(x).__module__.rsplit(".", 1)[-1]: x for x in units}


def order_columns(cfg, out) -> dict[str, tuple[str, np.ndarray]]:
    """Every service's columns of orders.parquet: name -> (kind, values); kind is 'bool', 'time' or 'flag'; values
    None: null for every order (a service that is off)."""
    cols: dict[str, tuple[str, np.ndarray]] = {}
    for unit in UNITS:
        cols.update(unit.order_columns(cfg, out))
    return cols


def kpis(cfg, ctx) -> dict[str, float]:
    """Every service's KPIs (NaN where a service is off)."""
    k: dict[str, float] = {}
    for unit in UNITS:
        k.update(unit.kpis(cfg, ctx))
    return k


def deadline_bounds(cfg, out) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each order's customer-chosen delivery slot as absolute minutes, or (None, None) without slots."""
    return slot_bounds(cfg, out.orders)


def slot_bounds(cfg, orders) -> tuple[np.ndarray | None, np.ndarray | None]:
    """`deadline_bounds` of an order table."""
    return on_demand.slot_bounds(cfg, orders)
