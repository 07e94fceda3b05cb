"""The yardstick: the same chain as a deliberately naive SimPy model, one process per order.

Each order is a process that requests a picker (a `simpy.Resource` per front DC), rides a
shuttle, requests the sorter, waits for the next hourly line-haul departure, and requests a
courier of its station for its share of a tour. Merchant orders wait for the next pickup
round instead of a picker. It draws the same orders as `sim` (same streams), so its KPIs are
comparable; it is what a home-grown SimPy script looks like, and what `sim` must beat by 10x.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.city import City
from sim.clock import MIN_PER_DAY, daily_times
from sim.config import SimConfig, load_config
from sim.demand import generate_orders
from sim.lastmile import tour_minutes
from sim.model import spawn_streams
from sim.records import SOURCE_MERCHANT
from sim.schema import TimeOfDay


def run_naive(config: SimConfig | dict | None = None) -> dict:
    """Simulate with one process per order; returns orders, events and the same-day hit rate."""
    cfg = load_config(config)
    city = City(cfg.city)
    streams = spawn_streams(cfg.seed)
    o = generate_orders(
        cfg.demand,
        city,
        cfg.horizon_days,
        cfg.warehouse.pick_mean_min,
        cfg.warehouse.pick_cv,
        cfg.lastmile.failed_attempt_prob,
        streams,
    )
    day_end = float(cfg.promise.day_end)
    cutoff = float(TimeOfDay.parse(cfg.cutoff["time"]))
    tod = o.created % MIN_PER_DAY
    same_day = (o.region == 0) & (tod < cutoff)
    promised = (o.created // MIN_PER_DAY + np.where(same_day, 0, 1)) * MIN_PER_DAY + day_end

    env = simpy.Environment()
    day_share = max(s.share for s in cfg.warehouse.shifts)
    pickers = [simpy.Resource(env, capacity=max(1, round(cfg.capacity.pickers * day_share))) for _ in city.cfg.warehouses]
    sorter = simpy.Resource(env, capacity=1)
    courier_share = max(s.share for s in cfg.lastmile.shifts)
    couriers = [
        simpy.Resource(env, capacity=max(1, round(cfg.capacity.couriers_per_station * courier_share))) for _ in range(city.n_stations)
    ]
    days = cfg.horizon_days + 2
    rounds = daily_times(cfg.pickup.rounds, days)
    departures = np.arange(0, days * MIN_PER_DAY, 60.0)
    sort_min = 60.0 / cfg.capacity.sorter_per_hour
    per_parcel = [
        tour_minutes(cfg.lastmile.tour_capacity, float(city.station_approach_km[s]), float(city.station_area_km2[s]), cfg.lastmile)[0]
        / cfg.lastmile.tour_capacity
        for s in range(city.n_stations)
    ]
    delivered = np.full(len(o), np.nan)

    def order(i):
        yield env.timeout(o.created[i])
        if o.source[i] == SOURCE_MERCHANT:
            r = rounds[np.searchsorted(rounds, env.now)]
            yield env.timeout(r + cfg.pickup.round_min - env.now)
        else:
            with pickers[o.warehouse[i]].request() as req:
                yield req
                yield env.timeout(o.pick_service_min[i])
            yield env.timeout(cfg.warehouse.shuttle_interval_min / 2 + 30.0)
        with sorter.request() as req:
            yield req
            yield env.timeout(sort_min)
        yield env.timeout(departures[np.searchsorted(departures, env.now)] - env.now)
        yield env.timeout(40.0)
        if o.region[i] == 0:
            for attempt in range(int(o.failed_attempts[i]) + 1):
                if attempt:
                    yield env.timeout(cfg.lastmile.retry_after_min)
                with couriers[o.station[i]].request() as req:
                    yield req
                    yield env.timeout(per_parcel[o.station[i]])
        delivered[i] = env.now

    for i in range(len(o)):
        env.process(order(i))
    events = 0
    end = cfg.horizon_days * MIN_PER_DAY + cfg.drain_hours * 60
    while env.peek() <= end:
        env.step()
        events += 1
    measured = (o.created >= cfg.warmup_days * MIN_PER_DAY) & same_day & (promised <= cfg.horizon_days * MIN_PER_DAY)
    hit = delivered[measured] <= promised[measured]
    return {"orders": len(o), "events": events, "same_day_hit_rate": float(hit.mean()) if hit.size else float("nan")}
