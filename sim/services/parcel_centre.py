"""包裹中心 parcel centre: real-time warnings for parcels not yet picked up (未揽收) and picked up but not
yet dispatched (揽收后未发出), each as "about to time out" (即将超时) and "timed out" (已超时), and an
"at risk" warning when a parcel's projected delivery passes its promise.

The parcel centre scans the chain every `check_interval_min` as the clock runs. SLA alerts are stamped
with the moment they became true; an at-risk warning with the scan that found it: the projection
(`sim.eta`, read through the live state) uses only what has happened by then. With `expedite`, an
at-risk parcel that could still make its promise with nobody ahead of it gets priority (it goes first
in pickup rounds, sort waves and onto trucks); a hopeless one does not, so it never pushes others late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..clock import MIN_PER_DAY, group_by
from ..records import SOURCE_NAMES
from ..schema import ConfigError, check_number, spec
from .base import Service

SLA_PICKUP, SLA_DISPATCH, SLA_AT_RISK = 0, 1, 2
LEVEL_WARNING, LEVEL_TIMEOUT = 0, 1
SLA_NAMES, LEVEL_NAMES = ["pickup", "dispatch", "at_risk"], ["warning", "timeout"]


@dataclass
class ParcelCentreConfig:
    """包裹中心: warnings for parcels not yet picked up, picked up but not yet dispatched, or at risk of a late delivery."""

    enabled: bool = spec(False, doc="raise parcel-centre warnings (alerts.parquet)")
    pickup_sla_h: Any = spec(
        factory=lambda: {"warehouse": 24.0, "merchant": 48.0},
        doc="hours from order to pickup, a number or one per source: merchants must ship within 48 h of payment "
        "(Taobao's and Pinduoduo's default ship-by rule); a platform's own stock within a day",
    )
    dispatch_sla_h: Any = spec(
        factory=lambda: {"warehouse": 24.0, "merchant": 24.0},
        doc="hours from pickup to leaving the sorting centre (揽收后未发出), a number or one per source",
    )
    warn_share: float = spec(0.8, gt=0.0, lt=1.0, doc="'about to time out' at this share of the SLA")
    at_risk: bool = spec(True, doc="warn when a parcel's projected delivery (sim.eta) passes its promise")
    at_risk_interval_min: float = spec(
        60.0, gt=0.0, le=1440.0, doc="how often the at-risk projection runs (its cost grows with the backlog)"
    )
    at_risk_horizon_h: float = spec(
        12.0,
        gt=0.0,
        le=240.0,
        doc="project the parcels whose promise falls within this many hours (the nearer ones are the ones at risk)",
    )
    check_interval_min: float = spec(15.0, gt=0.0, le=240.0, doc="how often the parcel centre scans (SLA alerts keep exact times)")
    expedite: bool = spec(
        False, doc="an at-risk parcel that could still make its promise goes first in pickup rounds, sort waves and onto trucks"
    )


def sla_minutes(value: Any, key: str) -> np.ndarray:
    """SLA hours (a number or a per-source mapping) as minutes per source code."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {name: value for name in SOURCE_NAMES}
    if not isinstance(value, dict) or set(value) - set(SOURCE_NAMES) or set(SOURCE_NAMES) - set(value):
        raise ConfigError(key, value, f"expected hours > 0 and at most 720: a number or a mapping with keys {', '.join(SOURCE_NAMES)}")
    return np.array([check_number(f"{key}.{name}", value[name], {"gt": 0, "le": 720}) * 60.0 for name in SOURCE_NAMES])


def validate(cfg) -> None:
    sla_minutes(cfg.services.parcel_centre.pickup_sla_h, "services.parcel_centre.pickup_sla_h")
    sla_minutes(cfg.services.parcel_centre.dispatch_sla_h, "services.parcel_centre.dispatch_sla_h")


def active(cfg) -> bool:
    return cfg.services.parcel_centre.enabled


def needs_draws(cfg) -> bool:
    return False


def draw(cfg, o, u) -> None:
    pass


class Unit(Service):
    """Scans the chain every `check_interval_min` and raises each alert stamped with the moment it
    became true: pickup SLA from order to pickup, dispatch SLA from pickup to leaving the sorting centre."""

    def __init__(self, cfg, orders, u, env, end_min: float, state=None) -> None:
        self.env, self.cfg, self.orders, self.state = env, cfg.services.parcel_centre, orders, state
        self.watched = np.empty(0, dtype=np.int64)  # home-city orders placed, open and not yet warned at risk
        self.placed_until = 0  # orders [0, placed_until) have been taken into `watched`
        self.pickup_min = sla_minutes(self.cfg.pickup_sla_h, "services.parcel_centre.pickup_sla_h")
        self.dispatch_min = sla_minutes(self.cfg.dispatch_sla_h, "services.parcel_centre.dispatch_sla_h")
        self.end_min = end_min
        self.by_source = [np.flatnonzero(orders.source == s) for s in range(len(SOURCE_NAMES))]
        self.created_by_source = [orders.created[idx] for idx in self.by_source]  # sorted: orders are
        self.pickup_next = np.zeros((2, len(SOURCE_NAMES)), dtype=np.int64)  # [level, source] -> orders checked
        # dispatch checks still due, bucketed by the scan that will make them: scan -> [(level, orders, moments)]
        self.dispatch_due: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        self.alerts: list[tuple[np.ndarray, int, int, np.ndarray]] = []  # (orders, sla, level, times)
        env.process(self.run())

    def picked(self, idx: np.ndarray) -> None:
        """Parcels with a (possibly future) pickup time: their dispatch clock starts then."""
        limit = self.dispatch_min[self.orders.source[idx]]
        step = self.cfg.check_interval_min
        for level, frac in ((LEVEL_WARNING, self.cfg.warn_share), (LEVEL_TIMEOUT, 1.0)):
            when = self.orders.picked[idx] + frac * limit
            scan = np.ceil(when / step).astype(np.int64)
            for key, chunk in group_by(scan, np.arange(idx.size)):
                self.dispatch_due.setdefault(key, []).append((level, idx[chunk], when[chunk]))

    def _raise(self, idx: np.ndarray, sla: int, level: int, times: np.ndarray) -> None:
        if idx.size:
            self.alerts.append((idx, sla, level, times))

    def scan_at_risk(self, t: float) -> None:
        """Warn the open orders whose projected delivery passes their promise (each once); expedite those that
        could still make it with nobody ahead of them."""
        o = self.orders
        placed = int(np.searchsorted(o.created, t, side="right"))
        new = np.arange(self.placed_until, placed)
        self.placed_until = placed
        watched = np.concatenate([self.watched, new[(o.station[new] >= 0) & o.placed[new]]])
        promised = o.promised_by[watched]
        done = (o.delivered[watched] <= t) | (o.returned[watched] <= t) | (promised <= t)
        watched, promised = watched[~done], promised[~done]
        near = promised <= t + self.cfg.at_risk_horizon_h * 60.0
        eta = self.state.delivery_eta(watched[near])
        risk = np.zeros(watched.size, dtype=bool)
        risk[near] = eta > promised[near]
        warned = watched[risk]
        self.watched = watched[~risk]
        self._raise(warned, SLA_AT_RISK, LEVEL_WARNING, np.full(warned.size, t))
        if self.cfg.expedite and warned.size:
            # due by tonight, and on time if nobody were ahead of it: priority can still save it
            tonight = (t // MIN_PER_DAY) * MIN_PER_DAY + self.state.day_end_min
            due = o.promised_by[warned]
            candidates = warned[due <= tonight]
            savable = self.state.delivery_eta(candidates, queues=False) <= o.promised_by[candidates]
            o.priority[candidates[savable]] = True

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
                    late = ~(o.picked[due] <= when) & o.placed[due]
                    self._raise(due[late], SLA_PICKUP, level, when[late])
                    self.pickup_next[level, source] = hi
        for key in [k for k in self.dispatch_due if k * self.cfg.check_interval_min <= t + 1e-9]:
            for level, due, when in self.dispatch_due.pop(key):
                late = ~(o.departed[due] <= when)
                self._raise(due[late], SLA_DISPATCH, level, when[late])

    def run(self):
        t, next_risk_scan = 0.0, self.cfg.at_risk_interval_min
        while t < self.end_min:
            t = min(t + self.cfg.check_interval_min, self.end_min)
            yield self.env.timeout(t - self.env.now)
            self.scan(t)
            if self.cfg.at_risk and self.state is not None and t >= next_risk_scan - 1e-9:
                self.scan_at_risk(t)
                next_risk_scan += self.cfg.at_risk_interval_min

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


def order_columns(cfg, out) -> dict[str, tuple[str, np.ndarray]]:
    return {"expedited": ("bool", out.orders.priority)}


def kpis(cfg, ctx) -> dict[str, float]:
    o, nan = ctx.out.orders, float("nan")
    names = [
        "warnings_per_1000",
        "timeouts_per_1000",
        "at_risk_per_1000",
        "warned_share",
        "timed_out_promise_kept_share",
        "warning_lead_p50_min",
        "missed_with_warning_share",
        "warned_promise_kept_share",
    ]
    a = ctx.out.alerts
    if a is None:
        return dict.fromkeys(names, nan)
    measured, judged, hit = ctx.measured, ctx.judged, ctx.hit
    n = int(np.count_nonzero(measured))
    k: dict[str, float] = {}
    mine = measured[a["order_id"]]
    warn, tout = mine & (a["level"] == LEVEL_WARNING), mine & (a["level"] == LEVEL_TIMEOUT)
    k["warnings_per_1000"] = 1000.0 * np.count_nonzero(warn) / n if n else nan
    k["timeouts_per_1000"] = 1000.0 * np.count_nonzero(tout) / n if n else nan
    k["at_risk_per_1000"] = 1000.0 * np.count_nonzero(warn & (a["sla"] == SLA_AT_RISK)) / n if n else nan
    timed_out = np.unique(a["order_id"][tout])
    timed_out = timed_out[judged[timed_out]]
    k["timed_out_promise_kept_share"] = float(np.mean(hit[timed_out] == 1)) if timed_out.size else nan
    first_warning = np.full(len(o), np.inf)
    np.minimum.at(first_warning, a["order_id"][warn], a["time_min"][warn])
    warned = np.isfinite(first_warning)
    k["warned_share"] = float(np.mean(warned[measured])) if n else nan
    missed = judged & (hit == 0)
    warned_before = first_warning <= o.promised_by  # a warning no later than the deadline: time to act
    lead = (o.promised_by - first_warning)[missed & warned_before]
    k["warning_lead_p50_min"] = float(np.median(lead)) if lead.size else nan
    k["missed_with_warning_share"] = float(np.mean(warned_before[missed])) if missed.any() else nan
    k["warned_promise_kept_share"] = float(np.mean(hit[judged & warned] == 1)) if (judged & warned).any() else nan
    return k
