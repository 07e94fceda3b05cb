"""The seed's services, each a switch that is off by default (the core scenario is unchanged):

- 包裹中心 parcel centre: pickup and dispatch SLAs with "about to time out" and "timed out"
  warnings raised as the clock passes them, optionally expediting the parcel;
- 音尊达 doorstep delivery: call ahead and hand over at the door, longer stops, fewer failures;
- 按需派送 delivery on demand: a customer-chosen delivery window;
- 生鲜 fresh produce: its own cutoff and tier rule, and a cold-chain limit from pick to door.
(Nearby-city next-day service is part of the city: `city.nearby`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from .demand import SOURCE_NAMES, TIER_NAMES, OrderTable
from .schema import ConfigError, parse_time_min, spec

SLA_PICKUP, SLA_DISPATCH = 0, 1
LEVEL_WARNING, LEVEL_TIMEOUT = 0, 1
SLA_NAMES, LEVEL_NAMES = ["pickup", "dispatch"], ["warning", "timeout"]


@dataclass
class ParcelCentreConfig:
    """包裹中心: warnings for parcels not yet picked up, and picked up but not yet dispatched."""

    enabled: bool = spec(False)
    pickup_sla_h: Any = spec(
        factory=lambda: {"warehouse": 8.0, "merchant": 12.0},
        doc="hours from order to pickup: a number, or one per source (warehouse, merchant)",
    )
    dispatch_sla_h: Any = spec(
        factory=lambda: {"warehouse": 8.0, "merchant": 8.0},
        doc="hours from pickup to leaving the sorting centre: a number or one per source",
    )
    warn_share: float = spec(0.8, gt=0.0, lt=1.0, doc="'about to time out' at this share of the SLA")
    check_interval_min: float = spec(15.0, gt=0.0, le=240.0, doc="how often the parcel centre scans (alerts keep exact times)")
    expedite: bool = spec(False, doc="on a warning, the parcel goes first in pickup rounds, sort waves and onto trucks")


@dataclass
class DoorstepConfig:
    """音尊达: phone ahead and hand over at the door, never dropped at a locker."""

    share: float = spec(0.0, ge=0.0, le=1.0, doc="share of orders requiring doorstep delivery")
    stop_service_min: float = spec(5.0, ge=0.0, doc="call, climb, hand over: each doorstep parcel is its own stop")
    failed_attempt_prob: float = spec(0.02, ge=0.0, lt=1.0, doc="lower than standard: the call confirms someone is in")
    refusal_prob: float = spec(0.0, ge=0.0, lt=1.0, doc="parcels refused at the door and returned")


@dataclass
class WindowsConfig:
    """按需派送: a share of customers choose a delivery window on the promised day."""

    share: float = spec(0.0, ge=0.0, le=1.0)
    windows: list[str] = spec(
        factory=lambda: ["09:00-12:00", "14:00-17:00", "18:00-21:00"], doc="windows a customer may choose, 'HH:MM-HH:MM'"
    )
    min_lead_h: float = spec(3.0, ge=0.0, doc="a window must start at least this long after the order")
    pickup_point_share: float = spec(0.0, ge=0.0, le=1.0, doc="share of orders the customer asks to be left at a pickup point (驿站)")


@dataclass
class FreshConfig:
    """生鲜: fresh produce's own cutoff, tier rule and cold-chain limit."""

    cutoff: str | None = spec(None, time=True, doc="fresh orders' own cutoff (null: the policy's)")
    max_tier: str = spec("second_day", choices=tuple(TIER_NAMES), doc="never promise fresh slower than this")
    max_pick_to_door_h: float = spec(0.0, ge=0.0, doc="cold-chain limit from pick to door (0: none)")


@dataclass
class ServicesConfig:
    parcel_centre: ParcelCentreConfig = field(default_factory=ParcelCentreConfig)
    doorstep: DoorstepConfig = field(default_factory=DoorstepConfig)
    windows: WindowsConfig = field(default_factory=WindowsConfig)
    fresh: FreshConfig = field(default_factory=FreshConfig)


def sla_minutes(value: Any, key: str) -> np.ndarray:
    """SLA hours (a number or a per-source mapping) as minutes per source code."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {name: value for name in SOURCE_NAMES}
    if not isinstance(value, dict) or set(value) - set(SOURCE_NAMES) or set(SOURCE_NAMES) - set(value):
        raise ConfigError(key, value, f"expected hours > 0: a number or a mapping with keys {', '.join(SOURCE_NAMES)}")
    out = []
    for name in SOURCE_NAMES:
        v = value[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise ConfigError(f"{key}.{name}", v, "expected hours > 0")
        out.append(float(v) * 60.0)
    return np.array(out)


def parse_windows(windows: list[str], window_end_min: float, key: str = "services.windows.windows") -> np.ndarray:
    """[[start, end], ...] in minutes after midnight; each inside the delivery day."""
    out = []
    for i, text in enumerate(windows):
        parts = str(text).split("-")
        if len(parts) != 2:
            raise ConfigError(f"{key}[{i}]", text, "expected 'HH:MM-HH:MM'")
        start, end = (parse_time_min(p.strip(), f"{key}[{i}]") for p in parts)
        if not start < end <= window_end_min:
            raise ConfigError(f"{key}[{i}]", text, "expected start < end <= promise.window_end")
        out.append((start, end))
    return np.array(out, dtype=float).reshape(-1, 2)


def validate_services(cfg: ServicesConfig, window_end_min: float) -> None:
    sla_minutes(cfg.parcel_centre.pickup_sla_h, "services.parcel_centre.pickup_sla_h")
    sla_minutes(cfg.parcel_centre.dispatch_sla_h, "services.parcel_centre.dispatch_sla_h")
    if cfg.windows.share > 0:
        if not cfg.windows.windows:
            raise ConfigError("services.windows.windows", [], "need at least one window while services.windows.share > 0")
        parse_windows(cfg.windows.windows, window_end_min)


def window_bounds(promised_by: np.ndarray, window: np.ndarray, windows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Absolute start and end of each order's chosen window on its promised day (NaN without one)."""
    start, end = np.full(window.size, np.nan), np.full(window.size, np.nan)
    has = window >= 0
    if windows is not None and has.any():
        day = np.floor(promised_by[has] / 1440.0) * 1440.0
        start[has] = day + windows[window[has], 0]
        end[has] = day + windows[window[has], 1]
    return start, end


def failures_before_success(u: np.ndarray, p: float) -> np.ndarray:
    """Geometric number of failed attempts (each fails with probability p) by inverse transform of uniforms."""
    if p <= 0:
        return np.zeros(u.size, dtype=np.int8)
    return np.minimum(np.floor(np.log1p(-u) / np.log(p)), 100).astype(np.int8)


def draw_service_attributes(
    o: OrderTable, cfg: ServicesConfig, standard_refusal_prob: float, rng: np.random.Generator
) -> np.ndarray | None:
    """Doorstep flags, doorstep failures and refusals, from the `services` stream (so the core draws never
    change); returns each order's uniform for choosing a delivery window at checkout (None when no
    service needs a draw, so the core scenario costs nothing extra)."""
    if (
        cfg.doorstep.share <= 0
        and cfg.windows.share <= 0
        and cfg.windows.pickup_point_share <= 0
        and standard_refusal_prob <= 0
        and cfg.doorstep.refusal_prob <= 0
    ):
        return None
    u = rng.random((5, len(o)))
    o.doorstep[:] = u[0] < cfg.doorstep.share
    door = o.doorstep
    if door.any():
        o.failed_attempts[door] = failures_before_success(u[1][door], cfg.doorstep.failed_attempt_prob)
    o.refused[:] = np.where(door, u[2] < cfg.doorstep.refusal_prob, u[2] < standard_refusal_prob)
    # 按需派送's other choice: left at a pickup point, so no one need be home (a doorstep order keeps the door)
    o.pickup_point[:] = (u[4] < cfg.windows.pickup_point_share) & ~door
    o.failed_attempts[o.pickup_point] = 0
    return u[3]


def choose_windows(
    u: np.ndarray, created: np.ndarray, promised_day: np.ndarray, share: float, windows: np.ndarray, min_lead_min: float
) -> np.ndarray:
    """Each order's window index (-1: none): a `share` of customers (u < share) pick uniformly among the
    windows of the promised day that start at least `min_lead_min` after they order."""
    n = created.size
    choice = np.full(n, -1, dtype=np.int8)
    if share <= 0 or windows.size == 0:
        return choice
    starts = promised_day[:, None] * 1440.0 + windows[None, :, 0]
    feasible = starts >= created[:, None] + min_lead_min
    count = feasible.sum(axis=1)
    wants = (u < share) & (count > 0)
    pick = np.minimum((u / share * count).astype(int), np.maximum(count - 1, 0))
    order = np.cumsum(feasible, axis=1) - 1  # rank of each feasible window
    chosen = np.argmax(feasible & (order == pick[:, None]), axis=1)
    choice[wants] = chosen[wants]
    return choice


class ParcelCentre:
    """Scans the chain every `check_interval_min` and raises each alert stamped with the moment it
    became true: pickup SLA from order to pickup, dispatch SLA from pickup to leaving the sorting centre."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: ParcelCentreConfig,
        orders: OrderTable,
        end_min: float,
        on_warning: Callable[[np.ndarray], None] | None = None,
    ):
        self.env, self.cfg, self.orders, self.on_warning = env, cfg, orders, on_warning
        self.pickup_min = sla_minutes(cfg.pickup_sla_h, "services.parcel_centre.pickup_sla_h")
        self.dispatch_min = sla_minutes(cfg.dispatch_sla_h, "services.parcel_centre.dispatch_sla_h")
        self.end_min = end_min
        self.by_source = [np.flatnonzero(orders.source == s) for s in range(len(SOURCE_NAMES))]
        self.created_by_source = [orders.created[idx] for idx in self.by_source]  # sorted: orders are
        self.pickup_next = np.zeros((2, len(SOURCE_NAMES)), dtype=np.int64)  # [level, source] -> orders checked
        # dispatch checks still due, bucketed by the scan that will make them: scan -> [(level, orders, moments)]
        self.dispatch_due: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        self.alerts: list[tuple[np.ndarray, int, int, np.ndarray]] = []  # (orders, sla, level, times)
        env.process(self.run())

    def note_picked(self, idx: np.ndarray) -> None:
        """Parcels with a (possibly future) pickup time: their dispatch clock starts then."""
        limit = self.dispatch_min[self.orders.source[idx]]
        step = self.cfg.check_interval_min
        for level, frac in ((LEVEL_WARNING, self.cfg.warn_share), (LEVEL_TIMEOUT, 1.0)):
            when = self.orders.picked[idx] + frac * limit
            scan = np.ceil(when / step).astype(np.int64)
            order = np.argsort(scan, kind="stable")
            keys, first = np.unique(scan[order], return_index=True)
            for key, chunk in zip(keys.tolist(), np.split(order, first[1:])):
                self.dispatch_due.setdefault(key, []).append((level, idx[chunk], when[chunk]))

    def _raise(self, idx: np.ndarray, sla: int, level: int, times: np.ndarray) -> None:
        if idx.size:
            self.alerts.append((idx, sla, level, times))
            if level == LEVEL_WARNING and self.on_warning is not None:
                self.on_warning(idx)

    def scan(self, t: float) -> None:
        """Raise every alert that became true by t, stamped with its own moment."""
        o, levels = self.orders, ((LEVEL_WARNING, self.cfg.warn_share), (LEVEL_TIMEOUT, 1.0))
        for level, frac in levels:
            for source, idx in enumerate(self.by_source):
                limit = frac * self.pickup_min[source]
                lo = self.pickup_next[level, source]
                hi = int(np.searchsorted(self.created_by_source[source], t - limit, side="right"))
                if hi > lo:
                    due = idx[lo:hi]
                    when = o.created[due] + limit
                    late = ~(o.picked[due] <= when)
                    self._raise(due[late], SLA_PICKUP, level, when[late])
                    self.pickup_next[level, source] = hi
        for key in [k for k in self.dispatch_due if k * self.cfg.check_interval_min <= t + 1e-9]:
            for level, due, when in self.dispatch_due.pop(key):
                late = ~(o.departed[due] <= when)
                self._raise(due[late], SLA_DISPATCH, level, when[late])

    def run(self):
        t = 0.0
        while t < self.end_min:
            t = min(t + self.cfg.check_interval_min, self.end_min)
            yield self.env.timeout(t - self.env.now)
            self.scan(t)

    def table(self) -> dict[str, np.ndarray]:
        """All alerts as columns, in time order."""
        if not self.alerts:
            return {
                "order_id": np.empty(0, np.int64),
                "sla": np.empty(0, np.int8),
                "level": np.empty(0, np.int8),
                "time_min": np.empty(0),
            }
        idx = np.concatenate([a[0] for a in self.alerts])
        sla = np.concatenate([np.full(a[0].size, a[1], np.int8) for a in self.alerts])
        level = np.concatenate([np.full(a[0].size, a[2], np.int8) for a in self.alerts])
        times = np.concatenate([a[3] for a in self.alerts])
        order = np.lexsort((idx, times))
        return {"order_id": idx[order], "sla": sla[order], "level": level[order], "time_min": times[order]}
