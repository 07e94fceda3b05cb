"""KPIs of one run: pure functions over the finished order table and the stages' logs (`ModelOutput`).

Only orders placed after the warm-up count. A promise is judged when its deadline falls
inside `horizon_days` (a choice by creation time and tier, not by outcome, so rates are not
biased by censoring, and the lighter load of the drain never flatters them). Utilisation and
cost cover the measured days [warm-up, horizon).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import services
from .clock import MIN_PER_DAY, daily_times, on_duty_mask, on_duty_minutes
from .config import SimConfig
from .model import ModelOutput
from .records import SOURCE_MERCHANT, SOURCE_WAREHOUSE, TIER_NEXT_DAY, TIER_SAME_DAY, TIER_SECOND_DAY, ShiftLog

STAGES = ("pick", "pickup", "sort", "linehaul", "lastmile")
STAGE_RESOURCE = {"pick": "picker", "pickup": "pickup_courier", "sort": "sorter", "linehaul": "truck", "lastmile": "courier"}
CHUNK = 1 << 18  # rows per slice where a pass over every order would make full-length temporaries


@dataclass
class KpiContext:
    """What the KPI functions of the services read: the run, which orders count, and their outcome."""

    out: ModelOutput
    measured: np.ndarray  # placed after the warm-up
    judged: np.ndarray  # measured, with a deadline inside the horizon
    hit: np.ndarray  # 1 hit, 0 missed, -1 not known when the clock stopped
    t0: float  # start of the measured period


def hit_flags(
    promised_by: np.ndarray,
    delivered: np.ndarray,
    end_min: float,
    slot_start: np.ndarray | None = None,
    slot_end: np.ndarray | None = None,
) -> np.ndarray:
    """1 = delivered by the deadline (and inside the chosen delivery slot, if any), 0 = missed,
    -1 = not known when the clock stopped."""
    ok = delivered <= promised_by
    if slot_start is not None:
        has = ~np.isnan(slot_start)
        ok = ok & (~has | ((delivered >= slot_start) & (delivered <= slot_end)))
        promised_by = np.where(has, np.fmin(slot_end, promised_by), promised_by)
    hit = ok.astype(np.int8)
    hit[np.isnan(delivered) & (promised_by > end_min)] = -1  # not known
    return hit


def order_hits(cfg: SimConfig, out: ModelOutput) -> np.ndarray:
    """hit_flags for every order of a run, delivery slots included."""
    start, end = services.deadline_bounds(cfg, out)
    return hit_flags(out.orders.promised_by, out.orders.delivered, out.end_min, start, end)


def _rate(mask: np.ndarray, hit: np.ndarray) -> float:
    n = int(np.count_nonzero(mask))
    return float(np.count_nonzero(hit[mask] == 1)) / n if n else float("nan")


def _pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if x.size else float("nan")


class StageIntervals(Mapping):
    """(entry, service start, exit) per stage, in minutes (NaN where not reached), each stage built when asked for:
    a pass over the stages holds one stage's copies at a time, not all of them (memory per order).

    `pick` is the stock orders' picking, `pickup` the merchant parcels' collection (from the
    order to being collected on a round). The last mile's service starts with the tour that
    delivers (earlier failed attempts and the wait to retry count as waiting).
    """

    def __init__(self, out: ModelOutput):
        self.orders = out.orders

    COLUMNS = {
        "pick": ("created", "pick_start", "picked"),
        "pickup": ("created", "pick_start", "picked"),
        "sort": ("arrived_sort", "sort_start", "sorted"),
        "linehaul": ("sorted", "departed", "arrived_station"),
        "lastmile": ("arrived_station", "last_out", "delivered"),
    }

    def raw(self, stage: str) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
        """(the orders of the stage, or None for all; entry, start, exit as the order table's own columns): the
        stage without a copy."""
        o = self.orders
        mine = None
        if stage in ("pick", "pickup"):
            mine = o.source == (SOURCE_WAREHOUSE if stage == "pick" else SOURCE_MERCHANT)
        return (mine, *(getattr(o, name) for name in self.COLUMNS[stage]))

    def __getitem__(self, stage: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mine, *cols = self.raw(stage)
        return tuple(cols if mine is None else (np.where(mine, col, np.nan) for col in cols))

    def __iter__(self):
        return iter(STAGES)

    def __len__(self) -> int:
        return len(STAGES)


def stage_intervals(out: ModelOutput) -> StageIntervals:
    """Each stage's (entry, service start, exit): see `StageIntervals`."""
    return StageIntervals(out)


def compute_kpis(cfg: SimConfig, out: ModelOutput) -> dict:
    o, horizon = out.orders, out.horizon_min
    t0 = cfg.measure_start_min
    measured = o.created >= t0
    n = int(np.count_nonzero(measured))
    hit = order_hits(cfg, out)
    judged = measured & (o.promised_by <= horizon)
    home = o.region == 0
    delivered = measured & ~np.isnan(o.delivered)
    lead = (o.delivered - o.created)[delivered]
    missed = judged & (hit == 0)
    lateness = np.where(np.isnan(o.delivered), out.end_min, o.delivered)[missed] - o.promised_by[missed]
    k = {
        "orders": n,
        "orders_total": len(o),
        "same_day_coverage": same_day_coverage(
            o.tier, measured & home, out.lost["tier"], _in_period(out.lost["created"], t0, horizon) & (out.lost["region"] == 0)
        ),
        "same_day_hit_rate": _rate(judged & (o.tier == TIER_SAME_DAY), hit),
        "next_day_hit_rate": _rate(judged & (o.tier == TIER_NEXT_DAY), hit),
        # second-day deadlines of the measured days fall in the drain, which runs on long enough to judge them
        "second_day_hit_rate": _rate(measured & (o.promised_by <= out.end_min) & (o.tier == TIER_SECOND_DAY), hit),
        "promise_kept_rate": _rate(judged, hit),
        "judged_orders": int(np.count_nonzero(judged)),
        "missed_orders": int(np.count_nonzero(missed)),
        "lead_time_p50_min": _pct(lead, 50),
        "lead_time_p90_min": _pct(lead, 90),
        "lead_time_p99_min": _pct(lead, 99),
        "lateness_p90_min": _pct(lateness, 90),
        "delivered_share": float(np.mean(~np.isnan(o.delivered[measured]))) if n else float("nan"),
        "in_flight_at_end": int(np.count_nonzero(np.isnan(o.delivered) & np.isnan(o.returned))),
    }
    same_day = judged & (o.tier == TIER_SAME_DAY)
    missed_same = same_day & (hit == 0)
    absent = missed_same & (o.failed_attempts > 0) & (o.out_for_delivery < o.promised_by)  # first attempt failed in time
    n_missed_same = int(np.count_nonzero(missed_same))
    k["missed_customer_absent_share"] = float(np.count_nonzero(absent)) / n_missed_same if n_missed_same else float("nan")
    k["same_day_hit_rate_ops"] = _rate(same_day, np.where(absent, 1, hit))
    work = work_time(cfg, out, t0, horizon)
    util = utilizations(cfg, out, t0, work)
    k.update(util)
    k.update(costs(cfg, out, t0, measured, int(np.count_nonzero(missed)), work))
    k.update(economics(cfg, out, measured, hit, k["cost_total"], t0, horizon))
    k.update(stage_stats(out, measured, t0))
    for stage, resource in STAGE_RESOURCE.items():
        k[f"{stage}_utilization"] = util[f"{resource}_utilization"]
    k["bottleneck"], shares = bottleneck(cfg, out, missed)
    k.update({f"bottleneck_{stage}_share": share for stage, share in shares.items()})
    k.update(services.kpis(cfg, KpiContext(out, measured, judged, hit, t0)))
    for r, name in enumerate(cfg.city.regions[1:], start=1):  # nearby cities: next-day hit rate per destination
        k[f"next_day_hit_rate_{name}"] = _rate(judged & (o.region == r) & (o.tier == TIER_NEXT_DAY), hit)
    return k


def _in_period(times: np.ndarray, t0: float, horizon: float) -> np.ndarray:
    return (times >= t0) & (times < horizon)


def _overtime_rows(out: ModelOutput, stage: str, a: float, b: float):
    """(the stage's overtime log, one row per server and shift; each row's minutes within [a, b))."""
    ot = out.overtime.of(stage).merged()
    return ot, np.clip(np.minimum(ot.until, b) - np.maximum(ot.shift_end, a), 0.0, None)


def _overtime_minutes(out: ModelOutput, stage: str, a: float, b: float) -> float:
    """Minutes of overtime (servers working past their shift's end) within [a, b)."""
    return float(np.sum(_overtime_rows(out, stage, a, b)[1]))


def _tour_minutes_until(tours, horizon: float) -> np.ndarray:
    """Each tour's minutes, cut at the horizon."""
    return np.minimum(tours.duration_min, horizon - tours.start)


def _shift_minutes(out: ModelOutput, stage: str, a: float, b: float) -> float:
    shifts = out.shifts.of(stage)
    return on_duty_minutes(shifts.start, shifts.end, a, b)


def _pickup_minutes(cfg: SimConfig, out: ModelOutput, t0: float, horizon: float) -> tuple[float, float, float]:
    """(courier-minutes out on rounds, paid shift minutes, overtime minutes) of the pickup couriers: a day's
    work beyond their paid hours (`costs.pickup_shift_h` each) is overtime."""
    rounds = out.pickup_rounds.between("time", t0, horizon)
    work = rounds.couriers * rounds.duration_min
    shift_per_day = cfg.capacity.pickup_couriers * cfg.costs.pickup_shift_h * 60.0
    days = np.floor(rounds.time / MIN_PER_DAY)
    per_day = np.bincount((days - days.min()).astype(int), weights=work) if len(rounds) else np.zeros(0)
    return float(work.sum()), shift_per_day * (horizon - t0) / MIN_PER_DAY, float(np.clip(per_day - shift_per_day, 0.0, None).sum())


def work_time(cfg: SimConfig, out: ModelOutput, t0: float, horizon: float) -> dict[str, tuple[float, float, float]]:
    """Per stage with people or machines on shifts: (busy minutes, shift minutes, overtime minutes) in [t0, horizon).
    Work counts until the horizon; paid time is shift plus overtime, so busy <= paid holds."""
    o = out.orders
    picks = _in_period(o.pick_start, t0, horizon) & (o.warehouse >= 0)
    sorts = _in_period(o.sort_start, t0, horizon)
    tours = out.tours.by_station().between("start", t0, horizon)
    return {
        "pick": (
            float(np.sum(np.minimum(o.picked[picks], horizon) - o.pick_start[picks])),
            _shift_minutes(out, "pick", t0, horizon),
            _overtime_minutes(out, "pick", t0, horizon),
        ),
        "pickup": _pickup_minutes(cfg, out, t0, horizon),
        "sort": (
            float(np.sum(np.minimum(o.sorted[sorts], horizon) - o.sort_start[sorts])),
            _shift_minutes(out, "sort", t0, horizon),
            _overtime_minutes(out, "sort", t0, horizon),
        ),
        "lastmile": (
            sum(_tour_minutes_until(tours, horizon).tolist()),
            _shift_minutes(out, "lastmile", t0, horizon),
            _overtime_minutes(out, "lastmile", t0, horizon),
        ),
    }


def utilizations(cfg: SimConfig, out: ModelOutput, t0: float, work: dict) -> dict[str, float]:
    """Busy time / paid time (shift plus overtime, `work_time`) over the measured days, per resource; trucks:
    load / capacity. Each lies in [0, 1]."""
    deps = driven(cfg, out.departures).between("time", t0, out.horizon_min)
    truck_cap = int(deps.capacity.sum())

    def ratio(stage: str) -> float:
        busy, shift, overtime = work[stage]
        return busy / (shift + overtime) if shift + overtime else float("nan")

    k = {
        "picker_utilization": ratio("pick"),
        "pickup_courier_utilization": ratio("pickup"),
        "sorter_utilization": ratio("sort"),
        "truck_utilization": int(deps.load.sum()) / truck_cap if truck_cap else float("nan"),
        "courier_utilization": ratio("lastmile"),
    }
    for stage, (_, _, overtime) in work.items():
        k[f"{stage}_overtime_hours"] = overtime / 60.0
    k["overtime_hours"] = sum(v[2] for v in work.values()) / 60.0
    return k


def driven(cfg: SimConfig, departures):
    """The truck runs actually driven: every timetabled one, or only loaded ones with `linehaul.cancel_empty`."""
    return departures.where(departures.load > 0) if cfg.linehaul.cancel_empty else departures


def costs(
    cfg: SimConfig, out: ModelOutput, t0: float, measured: np.ndarray, missed: int, work: dict, horizon: float | None = None
) -> dict[str, float]:
    """Cost of the measured days [t0, horizon) (CNY): people paid for shifts and overtime (couriers by the hour, per
    parcel or both), the sorting centre per operating hour, trucks per run driven, and what failures cost: coupons
    for broken promises, refused parcels' way back, failed attempts. In total, per order and per delivered order."""
    c, o = cfg.costs, out.orders
    horizon = out.horizon_min if horizon is None else horizon

    def pay(stage: str, rate: float, servers: float = 1.0) -> tuple[float, float]:
        _, shift, overtime = work[stage]
        return rate * shift / 60.0 / servers, rate * c.overtime_multiplier * overtime / 60.0 / servers

    courier_rate = {"hourly": c.courier_per_hour, "mixed": c.courier_base_per_hour, "per_parcel": 0.0}[c.courier_pay]
    home = (o.region == 0) & _in_period(o.delivered, t0, horizon)
    piece = 0.0
    if c.courier_pay != "hourly":
        piece = c.per_parcel_cny * int(np.count_nonzero(home)) + c.doorstep_surcharge_cny * int(np.count_nonzero(home & o.doorstep))
    parts = {
        "courier": pay("lastmile", courier_rate),
        "picker": pay("pick", c.picker_per_hour),
        "pickup": pay("pickup", c.pickup_courier_per_hour),
        "sorting": pay("sort", c.sorting_centre_per_hour, max(cfg.sorting.lines, 1)),  # lines share one centre's hours
    }
    n_st = cfg.city.stations_x * cfg.city.stations_y
    runs = driven(cfg, out.departures).between("time", t0, horizon)
    totals = {
        "courier": parts["courier"][0] + piece,
        "picker": parts["picker"][0],
        "pickup": parts["pickup"][0],
        "sorting": parts["sorting"][0],
        "truck": sum(np.where(runs.dest < n_st, c.truck_per_departure, c.nearby_truck_per_departure).tolist()),
        "overtime": sum(p[1] for p in parts.values()),
        "missed_promises": missed * c.missed_promise_cny,
        "returns": int(np.count_nonzero(_in_period(o.returned, t0, horizon))) * c.return_handling_cny,
        "failed_attempts": o.failed_attempts_made(measured) * c.failed_attempt_cny,
    }
    total = sum(totals.values())
    n, delivered = int(np.count_nonzero(measured)), int(np.count_nonzero(measured & ~np.isnan(o.delivered)))
    k = {
        "cost_total": total,
        "cost_per_order": total / n if n else float("nan"),
        "cost_per_delivered_order": total / delivered if delivered else float("nan"),
    }
    k.update(
        {
            f"cost_{name}_per_order": totals[name] / n if n else float("nan")
            for name in ("courier", "picker", "pickup", "sorting", "truck")
        }
    )
    k.update({f"cost_{name}": totals[name] for name in ("overtime", "missed_promises", "returns", "failed_attempts")})
    k["courier_hours"] = (work["lastmile"][1] + work["lastmile"][2]) / 60.0
    return k


def economics(
    cfg: SimConfig, out: ModelOutput, measured: np.ndarray, hit: np.ndarray, cost_total: float, t0: float, horizon: float
) -> dict[str, float]:
    """The measured orders in money (CNY): revenue (orders delivered by the end of the clock and not sent back, each
    worth more when promised faster, plus the repurchases that kept promises with a doorstep hand-over or a chosen
    slot earn; an order not delivered earns nothing), gross margin, customer returns and their cost, profit; and the
    shoppers who did not buy (`lost_orders`: counted, never simulated)."""
    o, e, resp = out.orders, cfg.economics, cfg.demand.response
    n = int(np.count_nonzero(measured))
    returns = int(np.count_nonzero(measured & o.customer_return))
    start, _ = services.deadline_bounds(cfg, out)
    served = o.doorstep if start is None else o.doorstep | ~np.isnan(start)
    repurchases = resp.repurchase_uplift * int(np.count_nonzero(measured & (hit == 1) & served)) if resp.enabled else 0.0
    sold = measured & ~np.isnan(o.delivered) & ~o.customer_return  # delivered by the end of the clock, and kept
    if resp.enabled:  # a faster promise sells bigger baskets: each order's value by the tier it was promised
        value = np.asarray(resp.value_factor_values())[o.tier[sold]].sum() * e.order_value_cny
    else:
        value = int(np.count_nonzero(sold)) * e.order_value_cny
    revenue = value + e.order_value_cny * repurchases
    gross_margin = e.margin * revenue
    return_cost = returns * cfg.costs.return_handling_cny
    profit = gross_margin - cost_total - return_cost
    lost = out.lost
    lost_in = _in_period(lost["created"], t0, horizon)
    k = {
        "lost_orders": int(np.count_nonzero(lost_in)),
        "shoppers": float("nan"),
        "returns": returns,
        "return_rate": returns / n if n else float("nan"),
        "return_cost": return_cost,
        "repurchase_orders": repurchases,
        "revenue": revenue,
        "gross_margin": gross_margin,
        "profit": profit,
        "profit_per_order": profit / n if n else float("nan"),
        "profit_per_day": profit * MIN_PER_DAY / (horizon - t0),
    }
    if resp.enabled:  # shoppers at checkout: those drawn buy at the most attractive promise, with this probability
        k["shoppers"] = (n + k["lost_orders"]) / (resp.conversion * resp.shoppers_per_order())
    return k


def same_day_coverage(tier: np.ndarray, home: np.ndarray, lost_tier: np.ndarray, lost_home: np.ndarray) -> float:
    """Share of the home-city shoppers offered same-day, those who bought (`tier` of the orders of `home`) and those
    who did not (`lost_tier` of `lost_home`): what the policy offered, whoever took it up."""
    shown = int(np.count_nonzero(home)) + int(np.count_nonzero(lost_home))
    same_day = int(np.count_nonzero(tier[home] == TIER_SAME_DAY)) + int(np.count_nonzero(lost_tier[lost_home] == TIER_SAME_DAY))
    return same_day / shown if shown else float("nan")


def day_table(cfg: SimConfig, out: ModelOutput, hit: np.ndarray) -> dict[str, np.ndarray]:
    """One row per day of the horizon (days.parquet): orders placed that day and the shoppers lost, their same-day
    coverage and hit rate, the backlog at midnight (placed, not yet delivered) and how much of it is overdue, and the
    day's cost, revenue and profit (orders by the day they were placed, work by the day it was done; the measured
    days' costs and profits add up to the run's). A day is `complete` when all its promises fall due within the
    horizon: the last days' later promises are not judged, so their broken ones cost nothing there. `hit` as
    `order_hits` gives it."""
    o, horizon = out.orders, out.horizon_min
    days = int(round(horizon / MIN_PER_DAY))
    bounds = np.searchsorted(o.created, np.arange(days + 1) * MIN_PER_DAY, side="left")
    lost_day = np.floor(out.lost["created"] / MIN_PER_DAY).astype(np.int64)
    rows: dict[str, list] = {
        name: []
        for name in (
            "day",
            "measured",
            "complete",
            "orders",
            "lost_orders",
            "same_day_coverage",
            "same_day_hit_rate",
            "missed_orders",
            "backlog",
            "overdue",
            "overtime_hours",
            "cost",
            "revenue",
            "profit",
        )
    }
    tour_day = np.floor(out.tours.start / MIN_PER_DAY)
    overtime = out.overtime.merged()
    lo = 0
    for d in range(days):
        a, b = d * MIN_PER_DAY, (d + 1) * MIN_PER_DAY
        earlier = slice(lo, int(bounds[d]))  # from the first order in the chain yesterday: still in it at a?
        gone = (o.delivered[earlier] < a) | (o.returned[earlier] < a)  # delivered or refused (NaN: not yet)
        lo += int(np.argmin(gone)) if not gone.all() else gone.size
        hi = int(bounds[d + 1])
        window = slice(lo, hi)  # every order with work that day, as views: nothing copied
        worked = (overtime.until > a) & (overtime.shift_end < b)  # the day's tours and overtime, cut once
        day = dataclasses.replace(out, orders=o.select(window), tours=out.tours.where(tour_day == d), overtime=overtime.where(worked))
        sub, day_hit = day.orders, hit[window]
        placed = np.zeros(hi - lo, dtype=bool)
        placed[bounds[d] - lo :] = True
        judged = placed & (sub.promised_by <= horizon)
        missed = int(np.count_nonzero(judged & (day_hit == 0)))
        work = work_time(cfg, day, a, b)
        cost = costs(cfg, day, a, placed, missed, work, b)["cost_total"]
        money = economics(cfg, day, placed, day_hit, cost, a, b)
        open_ = ~((sub.delivered <= b) | (sub.returned <= b))
        day_home = placed & (sub.region == 0)
        rows["day"].append(d)
        rows["measured"].append(a >= cfg.measure_start_min)
        rows["complete"].append(bool(np.all(sub.promised_by[placed] <= horizon)))
        rows["orders"].append(int(bounds[d + 1] - bounds[d]))
        rows["lost_orders"].append(int(np.count_nonzero(lost_day == d)))
        lost_home = (lost_day == d) & (out.lost["region"] == 0)
        rows["same_day_coverage"].append(same_day_coverage(sub.tier, day_home, out.lost["tier"], lost_home))
        rows["same_day_hit_rate"].append(_rate(judged & (sub.tier == TIER_SAME_DAY), day_hit))
        rows["missed_orders"].append(missed)
        rows["backlog"].append(int(np.count_nonzero(open_)))
        rows["overdue"].append(int(np.count_nonzero(open_ & (sub.promised_by < b))))
        rows["overtime_hours"].append(sum(v[2] for v in work.values()) / 60.0)
        rows["cost"].append(cost)
        rows["revenue"].append(money["revenue"])
        rows["profit"].append(money["profit"])
    return {name: np.asarray(values) for name, values in rows.items()}


def time_in_window(entry: np.ndarray, exit_: np.ndarray, a: float, b: float, end: float, mask: np.ndarray | None = None) -> float:
    """Total minutes that intervals [entry, exit) (of the rows of `mask`, if given) spend inside [a, b); an open
    interval lasts until `end`. In slices, so the temporaries stay small whatever the number of orders."""
    total = 0.0
    for lo in range(0, entry.size, CHUNK):
        e, x = entry[lo : lo + CHUNK], exit_[lo : lo + CHUNK]
        overlap = np.minimum(np.where(np.isnan(x), end, x), b) - np.maximum(e, a)
        keep = ~np.isnan(e) & (overlap > 0)
        if mask is not None:
            keep &= mask[lo : lo + CHUNK]
        total += float(np.sum(overlap[keep]))
    return total


def stage_stats(out: ModelOutput, measured: np.ndarray, t0: float) -> dict[str, float]:
    """Per stage: mean wait in queue, share that waited, mean time in stage, time-average number in
    stage over the measured period; and the whole chain."""
    k: dict[str, float] = {}
    span = out.horizon_min - t0
    intervals = stage_intervals(out)
    for stage in intervals:
        mine, entry, start, exit_ = intervals.raw(stage)
        ours = measured & ~np.isnan(entry) if mine is None else measured & mine & ~np.isnan(entry)
        m = ours & ~np.isnan(start)
        wait = start[m] - entry[m]
        done = ours & ~np.isnan(exit_)
        k[f"{stage}_wait_mean_min"] = float(wait.mean()) if wait.size else float("nan")
        k[f"{stage}_wait_prob"] = float(np.mean(wait > 1e-9)) if wait.size else float("nan")
        del wait, m
        k[f"{stage}_sojourn_mean_min"] = float((exit_[done] - entry[done]).mean()) if done.any() else float("nan")
        reached = bool(np.any(~np.isnan(entry) if mine is None else mine & ~np.isnan(entry)))
        k[f"{stage}_wip_mean"] = (
            time_in_window(entry, exit_, t0, out.horizon_min, out.end_min, mine) / span if reached else float("nan")
        )
    o = out.orders
    done = measured & ~np.isnan(o.delivered)
    k["system_sojourn_mean_min"] = float((o.delivered - o.created)[done].mean()) if done.any() else float("nan")
    return k


def _next_at_or_after(t: np.ndarray, timetable: np.ndarray) -> np.ndarray:
    """The first timetable entry >= t (inf when none; NaN stays NaN)."""
    pos = np.searchsorted(timetable, np.nan_to_num(t, nan=np.inf), side="left")
    out = np.append(timetable, np.inf)[pos]
    return np.where(np.isnan(t), np.nan, out)


def _on_shift_minutes(shifts: ShiftLog, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per interval [a, b): the minutes in which at least one of these shifts is on (daily pattern)."""
    if len(shifts) == 0:
        return np.zeros(a.size)
    minute = np.arange(int(MIN_PER_DAY)) + 0.5
    pattern = np.unique(np.column_stack([shifts.start, shifts.end]), axis=0)  # the distinct daily shifts
    on = on_duty_mask(pattern[:, 0], pattern[:, 1], minute).any(axis=0)
    cum = np.concatenate([[0.0], np.cumsum(on)])

    def upto(t: np.ndarray) -> np.ndarray:
        return np.floor(t / MIN_PER_DAY) * cum[-1] + np.interp(t % MIN_PER_DAY, np.arange(cum.size), cum)

    return np.clip(upto(b) - upto(a), 0.0, None)


def resource_waits(cfg: SimConfig, out: ModelOutput, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per stage, for the orders `idx` (all by default), minutes spent waiting for a busy resource — a picker, a
    pickup round with room, the sorter, room on a truck, a courier on shift — not for a timetable (the next round,
    wave or departure) or for the night. An order still waiting when the clock stops counts until then."""
    o, end = out.orders, out.end_min
    idx = np.arange(len(o)) if idx is None else idx
    days = int(np.ceil(end / MIN_PER_DAY)) + 1
    created, source, region = o.created[idx], o.source[idx], o.region[idx]
    pick_start, arrived_sort, sorted_ = o.pick_start[idx], o.arrived_sort[idx], o.sorted[idx]

    def until(start: np.ndarray, ready: np.ndarray) -> np.ndarray:
        w = np.where(np.isnan(start), end, start) - ready
        return np.where(np.isnan(ready) | (ready > end), 0.0, np.clip(w, 0.0, None))

    stock, merchant = source == SOURCE_WAREHOUSE, source == SOURCE_MERCHANT
    first_round = _next_at_or_after(np.where(merchant, created, np.nan), daily_times(cfg.pickup.rounds, days))
    released = arrived_sort if not cfg.sorting.waves else _next_at_or_after(arrived_sort, daily_times(cfg.sorting.waves, days))
    first_truck = np.full(idx.size, np.nan)
    home = region == 0
    first_truck[home] = _next_at_or_after(sorted_[home], daily_times(cfg.linehaul.station_departures, days))
    for r, city in enumerate(cfg.city.nearby, start=1):
        mine = region == r
        first_truck[mine] = _next_at_or_after(sorted_[mine], daily_times(city.departures, days))
    slot_start, _ = services.deadline_bounds(cfg, out)
    ready = o.arrived_station[idx] if slot_start is None else np.fmax(o.arrived_station[idx], slot_start[idx])
    out_at = np.where(np.isnan(o.out_for_delivery[idx]), end, o.out_for_delivery[idx])
    ready0 = np.nan_to_num(ready)
    on_shift = _on_shift_minutes(out.shifts.of("lastmile"), ready0, np.maximum(out_at, ready0))
    return {
        "pick": np.where(stock, until(pick_start, created), 0.0),
        "pickup": np.where(merchant, until(pick_start, first_round), 0.0),
        "sort": until(o.sort_start[idx], released),
        "linehaul": until(o.departed[idx], first_truck),
        "lastmile": np.where(home & ~np.isnan(ready), on_shift, 0.0),
    }


def bottleneck(cfg: SimConfig, out: ModelOutput, missed: np.ndarray) -> tuple[str, dict[str, float]]:
    """The stage whose resource queue cost the missed orders most ('none' when nothing was missed or no missed
    order waited for a resource), and each stage's share of those minutes."""
    lost = dict.fromkeys(STAGES, 0.0)
    idx = np.flatnonzero(missed)
    for lo in range(0, idx.size, CHUNK):  # in slices: a collapsed run misses most of its orders
        for stage, w in resource_waits(cfg, out, idx[lo : lo + CHUNK]).items():
            lost[stage] += float(np.sum(w))
    total = sum(lost.values())
    shares = {stage: (v / total if total else float("nan")) for stage, v in lost.items()}
    return (max(lost, key=lost.get) if missed.any() and total > 0 else "none"), shares


def station_kpis(cfg: SimConfig, out: ModelOutput, hit: np.ndarray) -> dict[str, np.ndarray]:
    """One row per delivery station over the measured days: parcels, couriers, utilisation, overtime, same-day
    hit rate (`hit` as `order_hits` gives it)."""
    o, t0, horizon = out.orders, cfg.measure_start_min, out.horizon_min
    n = cfg.city.stations_x * cfg.city.stations_y
    measured = (o.created >= t0) & (o.station >= 0)
    judged = measured & (o.promised_by <= horizon) & (o.tier == TIER_SAME_DAY)
    st = np.where(o.station >= 0, o.station, 0)
    tours = out.tours.between("start", t0, horizon)
    busy = np.bincount(tours.station, weights=_tour_minutes_until(tours, horizon), minlength=n)
    shifts = out.shifts.of("lastmile")
    ot, ot_rows = _overtime_rows(out, "lastmile", t0, horizon)
    shift_min = np.array(
        [on_duty_minutes(shifts.start[shifts.site == s], shifts.end[shifts.site == s], t0, horizon) for s in range(n)]
    )
    ot_min = np.bincount(ot.site, weights=ot_rows, minlength=n)
    judged_n = np.bincount(st[judged], minlength=n)
    hits = np.bincount(st[judged & (hit == 1)], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "station": np.arange(n),
            "parcels": np.bincount(st[measured], minlength=n),
            "couriers": np.bincount(shifts.site, minlength=n),
            "utilization": busy / (shift_min + ot_min),
            "overtime_hours": ot_min / 60.0,
            "same_day_hit_rate": hits / judged_n,
        }


# --- work in progress sampled over the clock (utilization.parquet) ---------------------------------------


def _count_at(times: np.ndarray, at: np.ndarray, weights: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """How many of `times` (NaN ignored; of the rows of `mask` and weighted, if given) are <= each of `at` (sorted
    ascending): each time falls before the first sample at or after it, and the counts accumulate (no sort of the
    times; in slices of the rows, so the temporaries stay small)."""
    bins = np.zeros(at.size + 1, dtype=float if weights is not None else np.int64)
    for lo in range(0, times.size, CHUNK):
        t = times[lo : lo + CHUNK]
        keep = ~np.isnan(t) if mask is None else ~np.isnan(t) & mask[lo : lo + CHUNK]
        first_sample = _first_at_or_after(at, t[keep])  # t <= at[k] exactly when first_sample <= k
        w = None if weights is None else weights[lo : lo + CHUNK][keep]
        bins += np.bincount(first_sample, weights=w, minlength=at.size + 1)
    return np.cumsum(bins[: at.size])


def _first_at_or_after(at: np.ndarray, t: np.ndarray) -> np.ndarray:
    """`np.searchsorted(at, t, side="left")` for sorted `at`; on an evenly spaced grid (the samples) by arithmetic,
    corrected where rounding put it one off, four times faster than the binary search."""
    step = at[1] - at[0] if at.size > 2 else 0.0
    if step <= 0 or not np.allclose(np.diff(at), step, rtol=0.0, atol=step * 1e-9):
        return np.searchsorted(at, t, side="left")
    k = np.clip(np.ceil((t - at[0]) / step), 0, at.size).astype(np.int64)
    padded = np.concatenate([[-np.inf], at, [np.inf]])  # padded[k] = at[k - 1]
    k -= padded[k] >= t  # at[k - 1] is already at or after t
    k += padded[k + 1] < t  # at[k] is still before t
    return k


def _under_way(start: np.ndarray, end: np.ndarray, at: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Intervals [start, end) (weighted, if given) under way at each of `at`."""
    return _count_at(start, at, weights) - _count_at(end, at, weights)


def _servers_at_work(out: ModelOutput, stage: str, at: np.ndarray) -> np.ndarray:
    """Servers at work at each of `at`: on shift, or working on past its end (the overtime log)."""
    shifts, ot = out.shifts.of(stage), out.overtime.of(stage).merged()
    on_shift = on_duty_mask(shifts.start, shifts.end, at).sum(axis=0) if len(shifts) else np.zeros(at.size, dtype=int)
    return on_shift + _under_way(ot.shift_end, ot.until, at)


def wip_samples(cfg: SimConfig, out: ModelOutput, sample_min: float) -> dict[str, np.ndarray]:
    """Work in progress per stage sampled at the middle of every `sample_min` interval of the clock
    (midpoints, so timetabled jumps on the hour do not bias the average): orders waiting and in
    service, busy servers, and servers at work (on shift, or finishing work past the shift's end).
    Busy servers never exceed servers at work."""
    at = np.arange(0.5 * sample_min, out.end_min, sample_min)
    cols: dict[str, list] = {"time_min": [], "stage": [], "queue": [], "in_service": [], "busy_servers": [], "servers": []}
    intervals = stage_intervals(out)
    for stage in intervals:
        mine, entry, start, exit_ = intervals.raw(stage)
        entered, started, left = (_count_at(col, at, mask=mine) for col in (entry, start, exit_))
        queue, in_service = entered - started, started - left
        if stage in ("pick", "sort"):
            busy, servers = in_service, _servers_at_work(out, stage, at)
        elif stage == "pickup":
            rounds = out.pickup_rounds
            busy = _under_way(rounds.time, rounds.time + rounds.duration_min, at, rounds.couriers)
            servers = np.full(at.size, cfg.capacity.pickup_couriers)  # pickup couriers have no modelled shift
        elif stage == "linehaul":
            loaded, runs = out.departures.where(out.departures.load > 0), driven(cfg, out.departures)
            busy = _under_way(loaded.time, loaded.arrival, at)
            servers = _under_way(runs.time, runs.arrival, at)  # truck runs under way (empty ones too, unless cancelled)
        else:
            t = out.tours
            busy = _under_way(t.start, t.start + t.duration_min, at)
            servers = _servers_at_work(out, "lastmile", at)
        for name, values in (
            ("time_min", at),
            ("stage", [stage] * at.size),
            ("queue", queue),
            ("in_service", in_service),
            ("busy_servers", busy),
            ("servers", servers),
        ):
            cols[name].append(np.asarray(values))
    return {name: np.concatenate(parts) for name, parts in cols.items()}
