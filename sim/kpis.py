"""KPIs of one run: pure functions over the finished order table and the stages' logs (`ModelOutput`).

Only orders placed after the warm-up count. A promise is judged when its deadline falls
inside `horizon_days` (a choice by creation time and tier, not by outcome, so rates are not
biased by censoring, and the lighter load of the drain never flatters them). Utilisation and
cost cover the measured days [warm-up, horizon).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import services
from .clock import MIN_PER_DAY, on_duty_mask, on_duty_minutes, shift_end_after
from .config import SimConfig
from .model import ModelOutput
from .records import SOURCE_MERCHANT, SOURCE_WAREHOUSE, TIER_NEXT_DAY, TIER_SAME_DAY, TIER_SECOND_DAY, ShiftLog

STAGES = ("pick", "pickup", "sort", "linehaul", "lastmile")
STAGE_RESOURCE = {"pick": "picker", "pickup": "pickup_courier", "sort": "sorter", "linehaul": "truck", "lastmile": "courier"}


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
    hit = np.where(ok, 1, 0).astype(np.int8)
    unknown = np.isnan(delivered) & (promised_by > end_min)
    hit[unknown] = -1
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


def stage_intervals(out: ModelOutput) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(entry, service start, exit) per stage, in minutes (NaN where not reached).

    `pick` is the stock orders' picking, `pickup` the merchant parcels' collection (from the
    order to being collected on a round). The last mile's service starts with the tour that
    delivers (earlier failed attempts and the wait to retry count as waiting).
    """
    o = out.orders
    stock, merchant = o.source == SOURCE_WAREHOUSE, o.source == SOURCE_MERCHANT

    def only(mask: np.ndarray, col: np.ndarray) -> np.ndarray:
        return np.where(mask, col, np.nan)

    return {
        "pick": (only(stock, o.created), only(stock, o.pick_start), only(stock, o.picked)),
        "pickup": (only(merchant, o.created), only(merchant, o.pick_start), only(merchant, o.picked)),
        "sort": (o.arrived_sort, o.sort_start, o.sorted),
        "linehaul": (o.sorted, o.departed, o.arrived_station),
        "lastmile": (o.arrived_station, o.last_out, o.delivered),
    }


def _waits_until(entry: np.ndarray, start: np.ndarray, horizon: float) -> np.ndarray:
    """Queueing time in a stage; an order still queueing when the clock stops counts until then."""
    end = np.where(np.isnan(start), horizon, start)
    return np.where(np.isnan(entry), 0.0, end - entry)


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
        "same_day_coverage": float(np.mean(o.tier[measured & home] == TIER_SAME_DAY)) if (measured & home).any() else float("nan"),
        "same_day_hit_rate": _rate(judged & (o.tier == TIER_SAME_DAY), hit),
        "next_day_hit_rate": _rate(judged & (o.tier == TIER_NEXT_DAY), hit),
        "second_day_hit_rate": _rate(judged & (o.tier == TIER_SECOND_DAY), hit),
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
    util = utilizations(cfg, out, t0)
    k.update(util)
    k.update(costs(cfg, out, t0, n))
    k.update(stage_stats(out, measured, t0))
    for stage, resource in STAGE_RESOURCE.items():
        k[f"{stage}_utilization"] = util[f"{resource}_utilization"]
    k["bottleneck"] = bottleneck(out, missed)
    k.update(services.kpis(cfg, KpiContext(out, measured, judged, hit, t0)))
    for r, name in enumerate(cfg.city.regions[1:], start=1):  # nearby cities: next-day hit rate per destination
        k[f"next_day_hit_rate_{name}"] = _rate(judged & (o.region == r) & (o.tier == TIER_NEXT_DAY), hit)
    return k


def _in_period(times: np.ndarray, t0: float, horizon: float) -> np.ndarray:
    return (times >= t0) & (times < horizon)


def _paid_minutes(shifts: ShiftLog, a: float, b: float) -> float:
    return on_duty_minutes(shifts.start, shifts.end, a, b)


def utilizations(cfg: SimConfig, out: ModelOutput, t0: float) -> dict[str, float]:
    """Busy time / available time over the measured days, per resource."""
    o, horizon = out.orders, out.horizon_min
    in_win = _in_period(o.pick_start, t0, horizon) & (o.warehouse >= 0)
    picker_busy = float(np.sum(o.pick_service_min[in_win]))
    picker_avail = _paid_minutes(out.shifts.of("pick"), t0, horizon)
    sort_in = _in_period(o.sort_start, t0, horizon)
    sort_busy = float(np.sum((o.sorted - o.sort_start)[sort_in]))
    waves = [float(w) for w in cfg.sorting.waves]
    open_min_per_day = (max(waves) + 60.0 - min(waves)) if waves else MIN_PER_DAY
    sort_avail = cfg.sorting.lines * min(open_min_per_day, MIN_PER_DAY) * (horizon - t0) / MIN_PER_DAY
    deps = out.departures.where(_in_period(out.departures.time, t0, horizon))
    truck_cap = int(deps.capacity.sum())
    tours = out.tours.by_station()
    tours = tours.where(_in_period(tours.start, t0, horizon))
    courier_busy = sum(np.minimum(tours.duration_min, horizon - tours.start).tolist())
    courier_avail = _paid_minutes(out.shifts.of("lastmile"), t0, horizon)
    rounds = out.pickup_rounds.where(_in_period(out.pickup_rounds.time, t0, horizon))
    pickup_busy = float(np.sum(rounds.couriers * rounds.duration_min))
    pickup_avail = cfg.capacity.pickup_couriers * cfg.costs.pickup_shift_h * 60.0 * (horizon - t0) / MIN_PER_DAY
    return {
        "picker_utilization": picker_busy / picker_avail if picker_avail else float("nan"),
        "pickup_courier_utilization": pickup_busy / pickup_avail if pickup_avail else float("nan"),
        "sorter_utilization": sort_busy / sort_avail if sort_avail else float("nan"),
        "truck_utilization": int(deps.load.sum()) / truck_cap if truck_cap else float("nan"),
        "courier_utilization": courier_busy / courier_avail if courier_avail else float("nan"),
    }


def costs(cfg: SimConfig, out: ModelOutput, t0: float, n_orders: int) -> dict[str, float]:
    """Cost of the measured days from unit costs, in total and per order."""
    c, horizon = cfg.costs, out.horizon_min
    days = (horizon - t0) / MIN_PER_DAY
    courier_h = _paid_minutes(out.shifts.of("lastmile"), t0, horizon) / 60.0
    picker_h = _paid_minutes(out.shifts.of("pick"), t0, horizon) / 60.0
    n_st = cfg.city.stations_x * cfg.city.stations_y
    deps = out.departures.where(_in_period(out.departures.time, t0, horizon))
    truck = sum(np.where(deps.dest < n_st, c.truck_per_departure, c.nearby_truck_per_departure).tolist())
    parts = {
        "courier": courier_h * c.courier_per_hour,
        "picker": picker_h * c.picker_per_hour,
        "pickup": cfg.capacity.pickup_couriers * c.pickup_shift_h * days * c.pickup_courier_per_hour,
        "truck": truck,
    }
    total = sum(parts.values())
    k = {"cost_total": total, "cost_per_order": total / n_orders if n_orders else float("nan")}
    k.update({f"cost_{name}_per_order": v / n_orders if n_orders else float("nan") for name, v in parts.items()})
    k["courier_hours"] = courier_h
    return k


def time_in_window(entry: np.ndarray, exit_: np.ndarray, a: float, b: float, end: float) -> float:
    """Total minutes that intervals [entry, exit) spend inside [a, b); an open interval lasts until `end`."""
    lo = np.maximum(entry, a)
    hi = np.minimum(np.where(np.isnan(exit_), end, exit_), b)
    overlap = hi - lo
    return float(np.sum(overlap[~np.isnan(entry) & (overlap > 0)]))


def stage_stats(out: ModelOutput, measured: np.ndarray, t0: float) -> dict[str, float]:
    """Per stage: mean wait in queue, share that waited, mean time in stage, time-average number in
    stage over the measured period; and the whole chain."""
    k: dict[str, float] = {}
    span = out.horizon_min - t0
    for stage, (entry, start, exit_) in stage_intervals(out).items():
        m = measured & ~np.isnan(start) & ~np.isnan(entry)
        wait = (start - entry)[m]
        done = measured & ~np.isnan(exit_) & ~np.isnan(entry)
        k[f"{stage}_wait_mean_min"] = float(wait.mean()) if wait.size else float("nan")
        k[f"{stage}_wait_prob"] = float(np.mean(wait > 1e-9)) if wait.size else float("nan")
        k[f"{stage}_sojourn_mean_min"] = float((exit_ - entry)[done].mean()) if done.any() else float("nan")
        reached = not np.isnan(entry).all()
        k[f"{stage}_wip_mean"] = time_in_window(entry, exit_, t0, out.horizon_min, out.end_min) / span if reached else float("nan")
    o = out.orders
    done = measured & ~np.isnan(o.delivered)
    k["system_sojourn_mean_min"] = float((o.delivered - o.created)[done].mean()) if done.any() else float("nan")
    return k


def bottleneck(out: ModelOutput, missed: np.ndarray) -> str:
    """The stage in which missed orders waited longest in total ('none' when nothing was missed)."""
    if not missed.any():
        return "none"
    lost = missed_time_by_stage(out, missed)
    return max(lost, key=lost.get)


def missed_time_by_stage(out: ModelOutput, missed: np.ndarray) -> dict[str, float]:
    """Total queueing minutes of missed orders per stage (what `bottleneck` ranks)."""
    return {
        stage: float(np.sum(_waits_until(entry, start, out.end_min)[missed]))
        for stage, (entry, start, _) in stage_intervals(out).items()
    }


# --- work in progress sampled over the clock (utilization.parquet) ---------------------------------------


def _count_at(times: np.ndarray, at: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """How many of `times` (NaN ignored; weighted, if given) are <= each of `at`."""
    keep = ~np.isnan(times)
    order = np.argsort(times[keep], kind="stable")
    t = times[keep][order]
    pos = np.searchsorted(t, at, side="right")
    if weights is None:
        return pos
    cum = np.concatenate([[0], np.cumsum(weights[keep][order])])
    return cum[pos]


def _under_way(start: np.ndarray, end: np.ndarray, at: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Intervals [start, end) (weighted, if given) under way at each of `at`."""
    return _count_at(start, at, weights) - _count_at(end, at, weights)


def _shift_rows(shifts: ShiftLog, site: np.ndarray, server: np.ndarray) -> np.ndarray:
    """Row of the `ShiftLog` of each (site, server)."""
    width = int(shifts.server.max()) + 1 if len(shifts) else 1
    key = shifts.site.astype(np.int64) * width + shifts.server
    order = np.argsort(key, kind="stable")
    return order[np.searchsorted(key[order], site.astype(np.int64) * width + server)]


def _servers_at_work(shifts: ShiftLog, at: np.ndarray, work_start, work_end, site, server) -> np.ndarray:
    """Servers at work at each of `at`: on shift, or finishing work they started on shift after it ended.
    `work_*`, `site` and `server` describe each piece of work (a pick, a tour)."""
    on_shift = on_duty_mask(shifts.start, shifts.end, at).sum(axis=0) if len(shifts) else np.zeros(at.size, dtype=int)
    if work_start.size == 0 or len(shifts) == 0:
        return on_shift
    rows = _shift_rows(shifts, site, server)
    shift_end = shift_end_after(shifts.start[rows], shifts.end[rows], work_start)
    late = work_end > shift_end
    return on_shift + _under_way(shift_end[late], work_end[late], at)


def wip_samples(cfg: SimConfig, out: ModelOutput, sample_min: float) -> dict[str, np.ndarray]:
    """Work in progress per stage sampled at the middle of every `sample_min` interval of the clock
    (midpoints, so timetabled jumps on the hour do not bias the average): orders waiting and in
    service, busy servers, and servers at work (on shift, or finishing work past the shift's end).
    Busy servers never exceed servers at work."""
    at = np.arange(0.5 * sample_min, out.end_min, sample_min)
    o = out.orders
    cols: dict[str, list] = {"time_min": [], "stage": [], "queue": [], "in_service": [], "busy_servers": [], "servers": []}
    for stage, (entry, start, exit_) in stage_intervals(out).items():
        entered, started, left = _count_at(entry, at), _count_at(start, at), _count_at(exit_, at)
        queue, in_service = entered - started, started - left
        if stage == "pick":
            busy = in_service
            picks = (o.picker >= 0) & ~np.isnan(o.pick_start)
            servers = _servers_at_work(
                out.shifts.of("pick"), at, o.pick_start[picks], o.picked[picks], o.warehouse[picks], o.picker[picks]
            )
        elif stage == "pickup":
            rounds = out.pickup_rounds
            busy = _under_way(rounds.time, rounds.time + rounds.duration_min, at, rounds.couriers)
            servers = np.full(at.size, cfg.capacity.pickup_couriers)  # pickup couriers have no modelled shift
        elif stage == "sort":
            busy = in_service
            servers = np.full(at.size, cfg.sorting.lines)
        elif stage == "linehaul":
            d = out.departures
            busy = _under_way(d.time[d.load > 0], d.arrival[d.load > 0], at)
            servers = _under_way(d.time, d.arrival, at)  # timetabled runs under way, loaded or not
        else:
            t = out.tours
            busy = _under_way(t.start, t.start + t.duration_min, at)
            servers = _servers_at_work(out.shifts.of("lastmile"), at, t.start, t.start + t.duration_min, t.station, t.courier)
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
