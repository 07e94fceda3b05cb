"""The model: wires the chain checkout -> first mile -> sorting -> line-haul -> last mile on one SimPy clock.

Processes are checkout reviews, pickup rounds, sort waves, truck departures and couriers;
orders are index batches into one `OrderTable` that every stage fills in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from .city import City
from .clock import MIN_PER_DAY, call_at, duty_windows
from .config import SimConfig
from .demand import SOURCE_MERCHANT, OrderTable, expected_orders, gamma_times, generate_orders
from .lastmile import NearbyDelivery, Station, tour_minutes
from .linehaul import Departure, Linehaul
from .policies import make_policy
from .promise import Checkout
from .schema import parse_time_min
from .services import ParcelCentre, draw_service_attributes, parse_windows
from .sorting import SortingCentre
from .validation import textbook_config
from .warehouse import MerchantPickup, Warehouses

log = logging.getLogger(__name__)

# Independent random streams, spawned from one SeedSequence in this order. Append new names
# at the end: existing streams then keep their numbers across versions.
STREAMS = (
    "arrivals",
    "order_attributes",
    "pick_service",
    "delivery_attempts",
    "sort_service",
    "nearby_delivery",
    "lastmile_service",
    "services",
)


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.Generator(np.random.PCG64(ss)) for name, ss in zip(STREAMS, children)}


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self.events_processed = 0

    def step(self) -> None:
        self.events_processed += 1
        super().step()


@dataclass
class ModelOutput:
    """Everything a run produced, before KPIs."""

    orders: OrderTable
    city: City
    departures: list[Departure]
    stations: list[Station]
    picker_pools: list
    sorter_pool: object
    sort_waves: list[tuple[float, int]]
    pickup_rounds: list[tuple[float, int]]
    cutoff_log: list[tuple[float, str, float]]
    events: int
    horizon_min: float  # end of the last day of orders
    end_min: float  # end of the clock (horizon + drain)
    alerts: dict | None = None  # parcel-centre alerts as columns, when the parcel centre is on


class LiveState:
    """What cutoff policies may read of the running model (see `policies.base.PromiseState`)."""

    def __init__(self, model: Model):
        self.model = model
        self.window_end_min = model.checkout.window_end_min
        self.review_interval_min = model.cfg.promise.review_interval_min
        cfg = model.cfg.lastmile
        full_tour, _, _ = tour_minutes(
            cfg.tour_capacity, float(np.mean(model.city.station_approach_km)), float(np.mean(model.city.station_area_km2)), cfg
        )
        self._parcels_per_courier_min = cfg.tour_capacity / full_tour
        self._sort_per_min = model.cfg.capacity.sorter_per_hour / 60.0

    @property
    def now_min(self) -> float:
        return self.model.env.now

    def backlog(self, region: str, stage: str = "delivered") -> int:
        o, now = self.model.orders, self.now_min
        r = self.model.city.regions.index(region)
        day = int(now // MIN_PER_DAY)
        due = day * MIN_PER_DAY + self.window_end_min
        lo = np.searchsorted(o.created, (day - 2) * MIN_PER_DAY)
        hi = np.searchsorted(o.created, now)
        sl = slice(lo, hi)
        passed = getattr(o, stage)[sl] <= now
        return int(np.count_nonzero((o.promised_by[sl] == due) & (o.region[sl] == r) & ~passed))

    def clearing_capacity(self, stage: str, until_min: float) -> float:
        now = self.now_min
        if stage == "sorted":
            return max(0.0, until_min - now) * self._sort_per_min
        if stage == "delivered":
            courier_min = sum(w.on_duty_minutes(now, until_min) for st in self.model.stations for w in st.windows)
            return courier_min * self._parcels_per_courier_min
        raise ValueError(f"no capacity estimate for stage {stage!r}; use 'sorted' or 'delivered'")

    def expected_orders(self, region: str, a_min: float, b_min: float) -> float:
        cfg = self.model.cfg
        r = self.model.city.regions.index(region)
        nearby = [c.share for c in cfg.city.nearby]
        share = (1.0 - sum(nearby)) if r == 0 else nearby[r - 1]
        return share * expected_orders(cfg.demand, a_min, b_min)


class Model:
    """One run of the chain for a validated config."""

    def __init__(self, cfg: SimConfig):
        self.mode = cfg.validation.mode if cfg.validation is not None else "city"
        if cfg.validation is not None:
            cfg = textbook_config(cfg)
        self.cfg = cfg
        self.streams = spawn_streams(cfg.seed)
        self.city = City(cfg.city)
        self.horizon_min = cfg.horizon_days * MIN_PER_DAY
        self.end_min = self.horizon_min + cfg.drain_hours * 60.0
        days = int(np.ceil(self.end_min / MIN_PER_DAY))  # timetables run through the drain
        self.orders = generate_orders(
            cfg.demand,
            self.city,
            cfg.horizon_days,
            cfg.warehouse.pick_mean_min,
            cfg.warehouse.pick_cv,
            cfg.lastmile.failed_attempt_prob,
            self.streams,
        )
        window_u = draw_service_attributes(self.orders, cfg.services, cfg.lastmile.refusal_prob, self.streams["services"])
        self.env = CountingEnvironment()
        env, o, cap, svc = self.env, self.orders, cfg.capacity, cfg.services
        window_end = parse_time_min(cfg.promise.window_end)
        delivery_windows = parse_windows(svc.windows.windows, window_end) if svc.windows.share > 0 else None
        courier_windows = duty_windows(cfg.lastmile.shifts, cap.couriers_per_station, "lastmile.shifts")
        tour_work = (
            gamma_times(self.streams["lastmile_service"], 1.0, cfg.lastmile.service_cv, len(o))
            if cfg.lastmile.service_mean_min is not None
            else None
        )
        self.stations = [
            Station(env, s, cfg.lastmile, courier_windows, self.city, o, tour_work, delivery_windows, svc.doorstep.stop_service_min)
            for s in range(self.city.n_stations)
        ]
        u_nearby = self.streams["nearby_delivery"].random(len(o))
        self.nearby = [
            NearbyDelivery(env, parse_time_min(c.delivery_start), c.local_delivery_h, u_nearby, o, c.parcels_per_hour)
            for c in cfg.city.nearby
        ]
        self.parcel_centre = (
            ParcelCentre(env, svc.parcel_centre, o, self.end_min, self._expedite if svc.parcel_centre.expedite else None)
            if svc.parcel_centre.enabled
            else None
        )
        self.linehaul = Linehaul(env, cfg.linehaul, cap.truck_capacity, days, self.city, o, self._truck_arrives)
        to_linehaul = self._straight_to_station if self.mode == "tandem" else self.linehaul.add
        self.sorting = SortingCentre(env, cfg.sorting, cap.sorter_per_hour, days, o, self.streams["sort_service"], to_linehaul)
        to_sort = {"mmc": self._picked_is_done, "tandem": self._straight_to_sort}.get(self.mode, self._picked_up)
        self.warehouses = Warehouses(cfg.warehouse, cap.pickers, self.city, o, to_sort)
        self.pickup = MerchantPickup(env, cfg.pickup, cap.pickup_couriers, days, o, self._picked_up)
        self.policy = make_policy(cfg.cutoff, self.city.regions)
        self.checkout = Checkout(
            env, cfg.promise, self.policy, self.city.regions, cfg.horizon_days, o, None, self._release, svc, window_u
        )
        self.checkout.state = LiveState(self)
        if delivery_windows is not None:
            due = np.full(len(o), np.nan)
            self.checkout.due_min = due
            for station in self.stations:
                station.due_min = due

    def _release(self, idx: np.ndarray) -> None:
        merchant = self.orders.source[idx] == SOURCE_MERCHANT
        if merchant.any():
            self.pickup.release(idx[merchant])
        if not merchant.all():
            self.warehouses.release(idx[~merchant])

    def _picked_up(self, idx: np.ndarray) -> None:
        """Picked or collected parcels head for the sorting centre (and the parcel centre's dispatch clock starts)."""
        if self.parcel_centre is not None:
            self.parcel_centre.note_picked(idx)
        self.sorting.arrive(idx)

    def _expedite(self, idx: np.ndarray) -> None:
        self.orders.expedited[idx] = True

    # textbook reductions (see sim.validation): stages joined without transfer times

    def _picked_is_done(self, idx: np.ndarray) -> None:
        self.orders.delivered[idx] = self.orders.picked[idx]

    def _straight_to_sort(self, idx: np.ndarray) -> None:
        self.orders.arrived_sort[idx] = self.orders.picked[idx]
        self.sorting.arrive(idx)

    def _straight_to_station(self, idx: np.ndarray) -> None:
        o = self.orders
        o.departed[idx] = o.sorted[idx]
        call_at(self.env, o.sorted[idx], idx, self.stations[0].receive)

    def _truck_arrives(self, dest: int, idx: np.ndarray) -> None:
        if dest < self.city.n_stations:
            self.stations[dest].receive(idx)
        else:
            self.nearby[dest - self.city.n_stations].receive(idx)

    def run(self, progress: Callable[[float], None] | None = None, step_min: float = 60.0) -> ModelOutput:
        """Simulate to the end of the drain; `progress(minutes_done)` is called every `step_min` simulated minutes."""
        log.info("simulating %d orders over %d days (+%g h drain)", len(self.orders), self.cfg.horizon_days, self.cfg.drain_hours)
        if progress is None:
            self.env.run(until=self.end_min)
        else:
            t = 0.0
            while t < self.end_min:
                t = min(t + step_min, self.end_min)
                self.env.run(until=t)
                progress(t)
        # work scheduled past the end of the clock did not happen
        o = self.orders
        for name in OrderTable.STAGE_COLUMNS[1:]:
            col = getattr(o, name)
            col[col > self.end_min] = np.nan
        return ModelOutput(
            orders=o,
            city=self.city,
            departures=self.linehaul.departures,
            stations=self.stations,
            picker_pools=self.warehouses.pools,
            sorter_pool=self.sorting.pool,
            sort_waves=self.sorting.waves,
            pickup_rounds=self.pickup.rounds,
            cutoff_log=self.checkout.cutoff_log,
            events=self.env.events_processed,
            horizon_min=self.horizon_min,
            end_min=self.end_min,
            alerts=self.parcel_centre.table() if self.parcel_centre is not None else None,
        )
