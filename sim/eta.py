"""Each open order's projected delivery time (ETA) from what the platform sees now.

The projection walks the rest of the chain from the order's last known stamp (`<= now`, never a
future stamp): the pickers' backlog at its DC or the next pickup round, the next shuttle, the next
sort wave and the backlog of its sorting centre's sorter, the next truck to its station with room for it, and at the station
the courier-minutes on duty needed for the parcels ahead of it; a parcel whose attempt failed waits
`retry_after_min` first. Capacity comes from the shifts (who is on duty when), at nominal rates;
timetables are the configured ones. It is what a parcel centre's "at risk" warning and a promise
policy can read (`LiveState.delivery_eta`); `queues=False` gives the best case with no queue ahead
(what priority could still achieve).
"""

from __future__ import annotations

import numpy as np

from .city import City
from .clock import MIN_PER_DAY, on_duty_mask
from .config import SimConfig
from .records import SOURCE_MERCHANT, OrderTable

SLOT_MIN = 15.0  # resolution of the on-duty capacity curves
SLOTS_PER_DAY = int(MIN_PER_DAY / SLOT_MIN)
HORIZON_SLOTS = 3 * SLOTS_PER_DAY  # look up to three days ahead; beyond: no ETA (inf)


def next_time(daily_tods: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The first of the daily times (sorted minutes of the day) at or after each t."""
    day = np.floor(t / MIN_PER_DAY)
    tod = t - day * MIN_PER_DAY
    pos = np.searchsorted(daily_tods, tod, side="left")
    wrap = pos == daily_tods.size
    return day * MIN_PER_DAY + np.where(wrap, MIN_PER_DAY + daily_tods[0], daily_tods[np.minimum(pos, daily_tods.size - 1)])


def on_duty_profile(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Servers on duty in each `SLOT_MIN` slot of the day (at the slot's middle), for daily shifts [start, end)."""
    mid = (np.arange(SLOTS_PER_DAY) + 0.5) * SLOT_MIN
    return on_duty_mask(starts, ends, mid).sum(axis=0).astype(float)


class CapacityCurves:
    """Cumulative server-minutes on duty from now, per group (a station's couriers, a DC's pickers)."""

    def __init__(self, profiles: np.ndarray):
        self.profiles = profiles  # [group, slot of day] servers on duty

    def at(self, now: float) -> tuple[float, np.ndarray]:
        """(grid start, cumulative server-minutes [group, step]) over the horizon from the slot holding now."""
        first = int(now // SLOT_MIN)
        steps = (first + np.arange(HORIZON_SLOTS)) % SLOTS_PER_DAY
        minutes = self.profiles[:, steps] * SLOT_MIN
        cum = np.concatenate([np.zeros((len(self.profiles), 1)), np.cumsum(minutes, axis=1)], axis=1)
        return first * SLOT_MIN, cum

    @staticmethod
    def finish(t0: float, cum: np.ndarray, group: np.ndarray, start: np.ndarray, work: np.ndarray) -> np.ndarray:
        """When `work` server-minutes of each item are done in its group, starting at `start` (inf: beyond the
        horizon). Linear within a slot; the groups' rows are searched at once by offsetting them."""
        n_steps = cum.shape[1]
        flat = cum.ravel()
        row0 = group * n_steps
        pos = np.clip((start - t0) / SLOT_MIN, 0.0, n_steps - 1.0)
        k = np.minimum(pos.astype(np.int64), n_steps - 2)
        target = flat[row0 + k] + (pos - k) * (flat[row0 + k + 1] - flat[row0 + k]) + work
        span = cum[:, -1].max() + 1.0
        offset_rows = flat + np.repeat(span * np.arange(len(cum)), n_steps)
        j = np.searchsorted(offset_rows, target + span * group, side="left") - row0  # first step with cum >= target
        ok = j < n_steps
        j = np.clip(j, 1, n_steps - 1)
        lo, hi = flat[row0 + j - 1], flat[row0 + j]
        frac = np.where(hi > lo, (target - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
        done = t0 + (j - 1 + np.clip(frac, 0.0, 1.0)) * SLOT_MIN
        return np.where(ok, np.maximum(done, start), np.inf)


class Queue:
    """Items waiting in groups, each group served in order of a key; `ahead` is the work before a given key."""

    SPAN = 1e7  # larger than any key (minutes since the start)

    def __init__(self, group: np.ndarray, key: np.ndarray, work: np.ndarray | None = None):
        combined = group.astype(float) * self.SPAN + np.nan_to_num(key, nan=self.SPAN - 1.0)
        order = np.argsort(combined, kind="stable")
        self.keys = combined[order]
        self.cum = np.concatenate([[0.0], np.cumsum(work[order] if work is not None else np.ones(order.size))])

    def ahead(self, group: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Work (or items) of the group served no later than `key` (ties count as ahead)."""
        lo = np.searchsorted(self.keys, group * self.SPAN, side="left")
        hi = np.searchsorted(self.keys, group * self.SPAN + key, side="right")
        return self.cum[hi] - self.cum[lo]


class DeliveryEta:
    """Projected delivery time of open home-city orders (see the module docstring)."""

    def __init__(
        self,
        cfg: SimConfig,
        city: City,
        orders: OrderTable,
        courier_shifts: list[tuple[np.ndarray, np.ndarray]],
        picker_shifts: tuple[np.ndarray, np.ndarray],
        courier_min_per_parcel: float,
        lead_min: np.ndarray,
    ):
        self.cfg, self.city, self.orders = cfg, city, orders
        # couriers finish the day's parcels in overtime, up to the cap past their shift's end (sim.lastmile)
        overtime = cfg.lastmile.overtime_max_h * 60.0
        self.couriers = CapacityCurves(np.array([on_duty_profile(s, (e + overtime) % MIN_PER_DAY) for s, e in courier_shifts]))
        n_dc = len(cfg.city.warehouses)
        self.pickers = CapacityCurves(np.repeat(on_duty_profile(*picker_shifts)[None, :], n_dc, axis=0))
        self.courier_min_per_parcel = courier_min_per_parcel
        self.lead_min = lead_min  # per station: leaving the station to a typical delivery on the tour
        self.waves = np.sort(np.array([float(w) for w in cfg.sorting.waves])) if cfg.sorting.waves else None
        self.departures = np.sort(np.array([float(t) for t in cfg.linehaul.station_departures]))
        self.rounds = np.sort(np.array([float(t) for t in cfg.pickup.rounds])) if cfg.pickup.rounds else None
        self.sort_min_per_parcel = 60.0 / cfg.capacity.sorter_per_hour
        self.truck_capacity = cfg.capacity.truck_capacity

    def backlog(self, now: float) -> dict:
        """What waits where at `now`, from the stamps of the last two days' orders, each as a `Queue` in the order
        it is served: stock orders at each DC not yet picked (first come first), parcels at each sorting centre not
        yet sorted (a count per centre), sorted parcels waiting for a truck to each station and parcels ready at each
        station that no courier has taken out (both most urgent promise first)."""
        o = self.orders
        w = slice(int(np.searchsorted(o.created, now - 2 * MIN_PER_DAY)), int(np.searchsorted(o.created, now, side="right")))
        home = o.station[w] >= 0
        stock = (o.source[w] != SOURCE_MERCHANT) & ~(o.picked[w] <= now) & o.placed[w]
        sorted_, departed = o.sorted[w] <= now, o.departed[w] <= now
        at_station = (o.arrived_station[w] <= now) & ~(o.last_out[w] <= now) & home
        truck = sorted_ & ~departed & home
        return {
            "pick": Queue(o.warehouse[w][stock], o.created[w][stock], o.pick_service_min[w][stock]),
            "sort": np.bincount(
                self.city.centre_of(o.station[w][(o.arrived_sort[w] <= now) & ~sorted_]), minlength=self.city.n_centres
            ),
            "truck": Queue(o.station[w][truck], o.promised_by[w][truck]),
            "station": Queue(o.station[w][at_station], o.promised_by[w][at_station]),
        }

    def project(self, idx: np.ndarray, now: float, queues: bool = True, backlog: dict | None = None) -> np.ndarray:
        """ETA (minutes since the start; inf when none within the horizon) of home-city orders `idx`, open at `now`.
        With `queues=False`, nobody waits behind others: the best case priority could buy. `backlog` is
        `self.backlog(now)`, computed once for several calls."""
        o, cfg = self.orders, self.cfg
        if queues and backlog is None:
            backlog = self.backlog(now)
        n = idx.size
        eta = np.full(n, np.inf)
        station = o.station[idx].astype(np.int64)
        centre = self.city.centre_of(station)
        picked = o.picked[idx] <= now
        merchant = o.source[idx] == SOURCE_MERCHANT
        collected = merchant & (o.pick_start[idx] <= now)  # on a pickup round's van: back at the round's end
        at_sort = np.full(n, np.nan)
        at_sort[collected] = o.pick_start[idx[collected]] + cfg.pickup.round_min
        arrived = o.arrived_sort[idx] <= now
        at_sort[arrived] = o.arrived_sort[idx[arrived]]

        # first mile: pickers' backlog at the DC (or the picked time), then the next shuttle; or the next pickup round
        stock = ~merchant & ~arrived
        if stock.any():
            dc = o.warehouse[idx[stock]].astype(np.int64)
            done = np.where(picked[stock], o.picked[idx[stock]], np.nan)
            waiting = ~picked[stock]
            if waiting.any():
                work = o.pick_service_min[idx[stock][waiting]]
                if queues:
                    work = work + backlog["pick"].ahead(dc[waiting], o.created[idx[stock][waiting]])
                t0, cum = self.pickers.at(now)
                done[waiting] = CapacityCurves.finish(t0, cum, dc[waiting], np.full(int(waiting.sum()), now), work)
            every = cfg.warehouse.shuttle_interval_min
            depart = np.ceil(done / every) * every
            km = self.city.warehouse_to_sort_km[dc, centre[stock]]
            at_sort[stock] = depart + self.city.road_minutes(km, np.nan_to_num(depart, posinf=0.0)) + cfg.warehouse.shuttle_dock_min
        merchant_open = merchant & ~collected
        if merchant_open.any() and self.rounds is not None:
            at_sort[merchant_open] = next_time(self.rounds, np.full(int(merchant_open.sum()), now)) + cfg.pickup.round_min

        # sorting: the next wave, then the backlog of its centre's sorter
        sorted_ = o.sorted[idx] <= now
        ready = np.where(sorted_, o.sorted[idx], np.nan)
        to_sort = ~sorted_ & np.isfinite(at_sort)
        if to_sort.any():
            arrive = np.maximum(at_sort[to_sort], now)
            wave = next_time(self.waves, arrive) if self.waves is not None else arrive
            ahead = backlog["sort"][centre[to_sort]].astype(float) if queues else 0.0
            ready[to_sort] = wave + (ahead + 1) * self.sort_min_per_parcel
        # line-haul: the next truck to the station with room, the parcels already waiting for it first
        departed = o.departed[idx] <= now
        km_station = self.city.sort_to_station_km[station]
        left = o.departed[idx]
        at_station = np.where(departed, left + self.city.road_minutes(km_station, np.nan_to_num(left)) + cfg.linehaul.dock_min, np.nan)
        to_truck = ~departed & np.isfinite(ready)
        if to_truck.any():
            depart = next_time(self.departures, np.maximum(ready[to_truck], now))
            if queues:
                ahead = backlog["truck"].ahead(station[to_truck], o.promised_by[idx[to_truck]])
                skip = ahead // self.truck_capacity
                for k in range(int(skip.max(initial=0))):
                    later = skip > k
                    depart[later] = next_time(self.departures, depart[later] + 1e-6)
            at_station[to_truck] = depart + self.city.road_minutes(km_station[to_truck], depart) + cfg.linehaul.dock_min

        # last mile: courier-minutes on duty for the parcels ahead at the station, then out to the door
        last_out, failed_at = o.last_out[idx], o.failed_at[idx]
        failed = (failed_at <= now) & (failed_at >= last_out)  # its latest attempt failed: back for a retry
        on_tour = (last_out <= now) & ~failed
        eta[on_tour] = now  # out for delivery: it will be attempted on this tour
        waits = np.isfinite(at_station) & ~on_tour
        if waits.any():
            start = np.maximum(at_station[waits], now)
            start = np.where(failed[waits], np.maximum(start, failed_at[waits] + cfg.lastmile.retry_after_min), start)
            work = np.full(start.size, self.courier_min_per_parcel)
            if queues:
                work = work + backlog["station"].ahead(station[waits], o.promised_by[idx[waits]]) * self.courier_min_per_parcel
            t0, cum = self.couriers.at(now)
            eta[waits] = CapacityCurves.finish(t0, cum, station[waits], start, work) + self.lead_min[station[waits]]
        return eta
