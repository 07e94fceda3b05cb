"""KPIs of one run: pure functions over the finished order table and the stages' logs.

Only orders placed after the warm-up count. A promise is judged when its deadline falls
inside `horizon_days` (a choice by creation time and tier, not by outcome, so rates are not
biased by censoring, and the lighter load of the drain never flatters them). Utilisation and
cost cover the measured days [warm-up, horizon).
"""

from __future__ import annotations

import numpy as np

from .clock import MIN_PER_DAY, parse_time_min
from .config import SimConfig
from .demand import CATEGORY_FRESH, TIER_NEXT_DAY, TIER_SAME_DAY, TIER_SECOND_DAY
from .model import ModelOutput
from .services import LEVEL_TIMEOUT, LEVEL_WARNING, parse_windows, window_bounds

STAGES = ("pick", "sort", "linehaul", "lastmile")
STAGE_RESOURCE = {"pick": "picker", "sort": "sorter", "linehaul": "truck", "lastmile": "courier"}


def hit_flags(
    promised_by: np.ndarray,
    delivered: np.ndarray,
    end_min: float,
    window_start: np.ndarray | None = None,
    window_end: np.ndarray | None = None,
) -> np.ndarray:
    """1 = delivered by the deadline (and inside the chosen window, if any), 0 = missed,
    -1 = not known when the clock stopped."""
    ok = delivered <= promised_by
    if window_start is not None:
        has = ~np.isnan(window_start)
        ok = ok & (~has | ((delivered >= window_start) & (delivered <= window_end)))
        promised_by = np.where(has, np.fmin(window_end, promised_by), promised_by)
    hit = np.where(ok, 1, 0).astype(np.int8)
    unknown = np.isnan(delivered) & (promised_by > end_min)
    hit[unknown] = -1
    return hit


def _rate(mask: np.ndarray, hit: np.ndarray) -> float:
    n = int(np.count_nonzero(mask))
    return float(np.count_nonzero(hit[mask] == 1)) / n if n else float("nan")


def _pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if x.size else float("nan")


def stage_intervals(out: ModelOutput) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(entry, service start, exit) per stage, in minutes (NaN where not reached).

    The last mile's service starts with the tour that delivers (earlier failed attempts and
    the wait to retry count as waiting).
    """
    o = out.orders
    return {
        "pick": (o.created, o.pick_start, o.picked),
        "sort": (o.arrived_sort, o.sort_start, o.sorted),
        "linehaul": (o.sorted, o.departed, o.arrived_station),
        "lastmile": (o.arrived_station, o.last_out, o.delivered),
    }


def _waits_until(entry: np.ndarray, start: np.ndarray, horizon: float) -> np.ndarray:
    """Queueing time in a stage; an order still queueing when the clock stops counts until then."""
    end = np.where(np.isnan(start), horizon, start)
    return np.where(np.isnan(entry), 0.0, end - entry)


def order_windows(cfg: SimConfig, out: ModelOutput) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each order's delivery window (按需派送) as absolute minutes, or (None, None) when the service is off."""
    if cfg.services.windows.share <= 0:
        return None, None
    windows = parse_windows(cfg.services.windows.windows, parse_time_min(cfg.promise.window_end))
    return window_bounds(out.orders.promised_by, out.orders.window, windows)


def order_hits(cfg: SimConfig, out: ModelOutput) -> np.ndarray:
    """hit_flags for every order of a run, windows included."""
    start, end = order_windows(cfg, out)
    return hit_flags(out.orders.promised_by, out.orders.delivered, out.end_min, start, end)


def cold_chain_violations(cfg: SimConfig, out: ModelOutput) -> np.ndarray | None:
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
    k.update(service_kpis(cfg, out, measured, judged, hit, t0))
    return k


def service_kpis(
    cfg: SimConfig, out: ModelOutput, measured: np.ndarray, judged: np.ndarray, hit: np.ndarray, t0: float
) -> dict[str, float]:
    """KPIs of the seed's services (NaN where a service is off)."""
    o, horizon, nan = out.orders, out.horizon_min, float("nan")
    n = int(np.count_nonzero(measured))
    k: dict[str, float] = {}
    # 包裹中心: parcel-centre warnings
    if out.alerts is not None:
        a = out.alerts
        mine = measured[a["order_id"]]
        warn, tout = mine & (a["level"] == LEVEL_WARNING), mine & (a["level"] == LEVEL_TIMEOUT)
        k["warnings_per_1000"] = 1000.0 * np.count_nonzero(warn) / n if n else nan
        k["timeouts_per_1000"] = 1000.0 * np.count_nonzero(tout) / n if n else nan
        timed_out = np.unique(a["order_id"][tout])
        timed_out = timed_out[judged[timed_out]]
        k["timed_out_promise_kept_share"] = float(np.mean(hit[timed_out] == 1)) if timed_out.size else nan
        first_warning = np.full(len(o), np.inf)
        np.minimum.at(first_warning, a["order_id"][warn], a["time_min"][warn])
        missed_warned = judged & (hit == 0) & np.isfinite(first_warning)
        lead = (o.promised_by - first_warning)[missed_warned]
        k["warning_lead_p50_min"] = float(np.median(lead)) if lead.size else nan
        k["missed_with_warning_share"] = (
            float(np.mean(np.isfinite(first_warning[judged & (hit == 0)]))) if (judged & (hit == 0)).any() else nan
        )
    else:
        k.update(
            dict.fromkeys(
                [
                    "warnings_per_1000",
                    "timeouts_per_1000",
                    "timed_out_promise_kept_share",
                    "warning_lead_p50_min",
                    "missed_with_warning_share",
                ],
                nan,
            )
        )
    # 音尊达 doorstep: courier time per parcel by mode, failed attempts, refusals
    tours = [t for st in out.stations for t in st.tours if t0 <= t[0] < horizon]
    minutes = sum(t[1] for t in tours)
    parcels = sum(t[2] for t in tours)
    door_min, door_parcels = sum(t[4] for t in tours), sum(t[3] for t in tours)

    def per100(minutes_: float, parcels_: int) -> float:
        return minutes_ / 60.0 / parcels_ * 100.0 if parcels_ else nan

    k["courier_hours_per_100_parcels"] = per100(minutes, parcels)
    k["courier_hours_per_100_parcels_standard"] = per100(minutes - door_min, parcels - door_parcels)
    k["courier_hours_per_100_parcels_doorstep"] = per100(door_min, door_parcels)
    done = ~np.isnan(o.delivered) | ~np.isnan(o.returned)
    for suffix, mode in (("", measured), ("_standard", measured & ~o.doorstep), ("_doorstep", measured & o.doorstep)):
        attempts = int(o.attempts[mode].sum())
        failed = attempts - int(np.count_nonzero(done[mode] & (o.attempts[mode] > 0)))
        k[f"failed_attempt_rate{suffix}"] = failed / attempts if attempts else nan
    finished = measured & done
    k["refusal_rate"] = float(np.mean(~np.isnan(o.returned[finished]))) if finished.any() else nan
    k["tours_per_100_parcels"] = 100.0 * len(tours) / parcels if parcels else nan
    # 按需派送 windows
    start, end = order_windows(cfg, out)
    if start is not None:
        windowed = measured & ~np.isnan(start) & (end <= horizon)
        k["window_orders_share"] = float(np.mean(~np.isnan(start[measured]))) if n else nan
        k["window_hit_rate"] = float(np.mean(hit[windowed] == 1)) if windowed.any() else nan
        k["window_tours"] = int(sum(1 for t in tours if t[5] > 0))
    else:
        k.update({"window_orders_share": nan, "window_hit_rate": nan, "window_tours": nan})
    k["pickup_point_share"] = float(np.mean(o.pickup_point[measured])) if n else nan
    # 生鲜 cold chain
    flags = cold_chain_violations(cfg, out)
    k["cold_chain_violations"] = int(np.count_nonzero(flags[measured] == 1)) if flags is not None else nan
    # nearby cities: next-day hit rate per destination
    for r, city in enumerate(out.city.cfg.nearby, start=1):
        k[f"next_day_hit_rate_{city.name}"] = _rate(judged & (o.region == r) & (o.tier == TIER_NEXT_DAY), hit)
    return k


def utilizations(cfg: SimConfig, out: ModelOutput, t0: float) -> dict[str, float]:
    """Busy time / available time over the measured days, per resource."""
    o, horizon = out.orders, out.horizon_min
    in_win = (o.pick_start >= t0) & (o.pick_start < horizon) & (o.warehouse >= 0)
    picker_busy = float(np.sum(o.pick_service_min[in_win]))
    picker_avail = sum(p.on_duty_minutes(t0, horizon) for p in out.picker_pools)
    sort_in = (o.sort_start >= t0) & (o.sort_start < horizon)
    sort_busy = float(np.sum((o.sorted - o.sort_start)[sort_in]))
    waves = [parse_time_min(w) for w in cfg.sorting.waves]
    open_min_per_day = (max(waves) + 60.0 - min(waves)) if waves else MIN_PER_DAY
    sort_avail = out.sorter_pool.servers * min(open_min_per_day, MIN_PER_DAY) * (horizon - t0) / MIN_PER_DAY
    deps = [d for d in out.departures if t0 <= d.time < horizon]
    truck_cap = sum(d.capacity for d in deps)
    courier_busy = sum(min(dur, horizon - s) for st in out.stations for s, dur, *_ in st.tours if t0 <= s < horizon)
    courier_avail = sum(w.on_duty_minutes(t0, horizon) for st in out.stations for w in st.windows)
    return {
        "picker_utilization": picker_busy / picker_avail if picker_avail else float("nan"),
        "sorter_utilization": sort_busy / sort_avail if sort_avail else float("nan"),
        "truck_utilization": sum(d.load for d in deps) / truck_cap if truck_cap else float("nan"),
        "courier_utilization": courier_busy / courier_avail if courier_avail else float("nan"),
    }


def costs(cfg: SimConfig, out: ModelOutput, t0: float, n_orders: int) -> dict[str, float]:
    """Cost of the measured days from unit costs, in total and per order."""
    c, horizon = cfg.costs, out.horizon_min
    days = (horizon - t0) / MIN_PER_DAY
    courier_h = sum(w.on_duty_minutes(t0, horizon) for st in out.stations for w in st.windows) / 60.0
    picker_h = sum(p.on_duty_minutes(t0, horizon) for p in out.picker_pools) / 60.0
    n_st = out.city.n_stations
    deps = [d for d in out.departures if t0 <= d.time < horizon]
    truck = sum(c.truck_per_departure if d.dest < n_st else c.nearby_truck_per_departure for d in deps)
    parts = {
        "courier": courier_h * c.courier_per_hour,
        "picker": picker_h * c.picker_per_hour,
        "pickup": cfg.capacity.pickup_couriers * c.pickup_shift_h * days * c.pickup_courier_per_hour,
        "truck": truck,
    }
    total = sum(parts.values())
    per = (lambda x: x / n_orders) if n_orders else (lambda x: float("nan"))
    k = {"cost_total": total, "cost_per_order": per(total)}
    k.update({f"cost_{name}_per_order": per(v) for name, v in parts.items()})
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


def _count_at(times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many of `times` (NaN ignored) are <= each of `at`."""
    t = np.sort(times[~np.isnan(times)])
    return np.searchsorted(t, at, side="right")


def _on_duty_at(windows: list, at: np.ndarray) -> np.ndarray:
    """Servers on duty at each time, for a list of duty windows (shared windows counted once each)."""
    counts: dict = {}
    for w in windows:
        counts[w] = counts.get(w, 0) + 1
    return sum(n * np.array([w.on_duty(t) for t in at]) for w, n in counts.items()) if counts else np.zeros(at.size)


def wip_samples(out: ModelOutput, sample_min: float) -> dict[str, np.ndarray]:
    """Work in progress per stage sampled at the middle of every `sample_min` interval of the clock
    (midpoints, so timetabled jumps on the hour do not bias the average): orders waiting and in
    service, busy servers and servers on duty (NaN where a stage has no such servers)."""
    at = np.arange(0.5 * sample_min, out.end_min, sample_min)
    cols: dict[str, list] = {"time_min": [], "stage": [], "queue": [], "in_service": [], "busy_servers": [], "servers": []}
    deps = [d for d in out.departures if d.load > 0]
    dep_t = np.array([d.time for d in deps])
    arr_t = np.array([d.arrival for d in deps])
    tours = np.array([(s, s + dur) for st in out.stations for s, dur, *_ in st.tours]).reshape(-1, 2)
    courier_windows = [w for st in out.stations for w in st.windows]
    for stage, (entry, start, exit_) in stage_intervals(out).items():
        entered, started, left = _count_at(entry, at), _count_at(start, at), _count_at(exit_, at)
        queue, in_service = entered - started, started - left
        if stage == "pick":
            busy = in_service.astype(float)
            servers = _on_duty_at([w for p in out.picker_pools for w in p.windows], at).astype(float)
        elif stage == "sort":
            busy = in_service.astype(float)
            servers = np.full(at.size, float(out.sorter_pool.servers))
        elif stage == "linehaul":
            busy = (_count_at(dep_t, at) - _count_at(arr_t, at)).astype(float)
            servers = np.full(at.size, np.nan)
        else:
            busy = (_count_at(tours[:, 0], at) - _count_at(tours[:, 1], at)).astype(float)
            servers = _on_duty_at(courier_windows, at).astype(float)
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
