"""The model: the chain checkout -> first mile -> sorting -> line-haul -> last mile on one SimPy clock.

Processes are checkout reviews, pickup rounds, sort waves, truck departures and couriers;
orders are index batches into one `OrderTable` that every stage fills in. Each stage hands
its parcels on through a named handoff, and `WIRING` says what each handoff does: the city's
chain, or a textbook reduction of it (`sim.config.validation`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from . import services
from .city import City
from .clock import MIN_PER_DAY, assign_shifts, call_at, group_by, shift_bounds
from .config import SimConfig
from .config.validation import textbook_config
from .demand import DRAWN, ShopperResponse, gamma_times, generate_orders, return_probability
from .eta import DeliveryEta
from .lastmile import NearbyDelivery, Station, couriers_by_station, territories_by_station, tour_minutes
from .linehaul import Linehaul
from .policies import make_policy
from .promise import Checkout
from .records import SOURCE_MERCHANT, DepartureLog, LogBook, OrderTable, OvertimeLog, PickupRoundLog, ShiftLog, TourLog, WaveLog
from .sorting import SortingCentre, sort_work
from .state import LiveState
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
    "territories",
    "demand_days",  # day-to-day volume factors (demand.daily_cv)
    "demand_hours",  # day-to-day hourly profile factors (demand.profile_cv)
    "bursts",  # live-stream bursts and their orders (demand.bursts)
    "response",  # whether each shopper buys at the promise shown (demand.response)
    "returns",  # which delivered orders are sent back (demand.returns)
)

# What each handoff of the chain does (a method `_<name>` of `Model`): the city's chain, and the textbook
# reductions, which join the stages without transfers (mmc: picking alone; tandem: pick -> sort -> couriers).
CITY_CHAIN = {
    "placed": "to_first_mile",  # checkout -> pickers (stock) or pickup rounds (merchant parcels)
    "picked": "shuttle_to_sorting",  # pickers -> shuttle -> sorting centre
    "collected": "to_sorting",  # pickup rounds -> sorting centre
    "sorted": "to_linehaul",  # sorter -> trucks
    "unloaded": "to_destination",  # truck -> delivery station or nearby city
}
WIRING = {
    "city": CITY_CHAIN,
    "mmc": CITY_CHAIN | {"picked": "delivered_when_picked"},
    "tandem": CITY_CHAIN | {"picked": "sort_when_picked", "sorted": "station_when_sorted"},
}


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
    """Everything a run produced, as data: the order table and the stages' logs (no engine objects)."""

    orders: OrderTable
    tours: TourLog
    departures: DepartureLog
    waves: WaveLog
    pickup_rounds: PickupRoundLog
    shifts: ShiftLog
    overtime: OvertimeLog
    cutoffs: list[tuple[float, str, float]]  # (review time, region, cutoff minutes after midnight)
    lost: dict[str, np.ndarray]  # shoppers who did not buy at the promise shown: created, region, tier (demand.response)
    order_ids: np.ndarray | None  # each order's row among all shoppers drawn (None: every shopper bought)
    alerts: dict | None  # parcel-centre alerts as columns, when the parcel centre is on
    events: int
    horizon_min: float  # end of the last day of orders
    end_min: float  # end of the clock (horizon + drain)


class Model:
    """One run of the chain for a validated config."""

    def __init__(self, cfg: SimConfig):
        self.mode = cfg.validation.mode if cfg.validation is not None else "city"
        self.cfg = cfg = textbook_config(cfg) if cfg.validation is not None else cfg
        self.wiring = WIRING[self.mode]
        self.streams = spawn_streams(cfg.seed)
        self.city = City(cfg.city)
        self.horizon_min = cfg.horizon_days * MIN_PER_DAY
        self.end_min = self.horizon_min + cfg.drain_hours * 60.0
        days = int(np.ceil(self.end_min / MIN_PER_DAY))  # timetables run through the drain
        demand = (cfg.demand, cfg.horizon_days, cfg.warehouse.pick_mean_min, cfg.warehouse.pick_cv, cfg.lastmile.failed_attempt_prob)
        self.orders = o = DRAWN.get(
            (cfg.seed, repr(cfg.city), repr(demand), cfg.start_date),
            lambda: generate_orders(cfg.demand, self.city, *demand[1:], self.streams, cfg.start_date),
        )
        self.env, self.log, cap = CountingEnvironment(), LogBook(), cfg.capacity
        env = self.env

        # the chain, top to bottom
        couriers = couriers_by_station(cap, self.city)
        courier_shifts = [assign_shifts(cfg.lastmile.shifts, n) for n in couriers]
        territories = territories_by_station(cfg.lastmile, couriers, self.city.station_area_km2)
        self.territory_km2 = self.city.station_area_km2 / territories
        home = o.station >= 0
        u_territory = self.streams["territories"].random(len(o))
        o.territory[home] = (u_territory[home] * territories[o.station[home]]).astype(np.int16)
        station_shifts = [shift_bounds(station) for station in courier_shifts]
        starts, ends = shift_bounds([w for station in courier_shifts for w in station])
        eta = DeliveryEta(
            cfg,
            self.city,
            o,
            station_shifts,
            shift_bounds(assign_shifts(cfg.warehouse.shifts, cap.pickers)),
            *self._typical_tour(),
        )
        state = LiveState(env, cfg, o, starts, ends, self._parcels_per_courier_min(), eta)
        self.hooks, self.services = services.build(cfg, o, self.streams["services"], env, self.end_min, state)
        policy = make_policy(cfg.cutoff, self.city.regions, cfg.promise.day_end)
        response = (
            ShopperResponse(cfg.demand.response, o, self.city.zone_weight.size, len(self.city.regions), self.streams["response"])
            if cfg.demand.response.enabled
            else None
        )
        self.checkout = Checkout(
            env, cfg.promise, policy, state, cfg.horizon_days, o, self.log, self.hooks, self.handoff("placed"), response
        )
        self.warehouses = Warehouses(cfg.warehouse, cap.pickers, self.city, o, self.log, self.handoff("picked"))
        self.pickup = MerchantPickup(env, cfg.pickup, cap.pickup_couriers, days, o, self.log, self.handoff("collected"))
        unit_work = sort_work(self.streams["sort_service"], cfg.sorting, len(o))
        self.sorting = [
            SortingCentre(env, cfg.sorting, cap.sorter_per_hour, days, o, unit_work, self.log, self.handoff("sorted"), site=c)
            for c in range(self.city.n_centres)
        ]
        self.linehaul = Linehaul(env, cfg.linehaul, cap.truck_capacity, days, self.city, o, self.log, self.handoff("unloaded"))
        lm = cfg.lastmile
        tour_work = (
            gamma_times(self.streams["lastmile_service"], 1.0, lm.service_cv, len(o)) if lm.service_mean_min is not None else None
        )
        self.stations = [
            Station(env, s, lm, courier_shifts[s], self.city, o, self.log, self.hooks, int(territories[s]), tour_work)
            for s in range(self.city.n_stations)
        ]
        u_nearby = self.streams["nearby_delivery"].random(len(o))
        nearby_orders = np.flatnonzero(o.region > 0)
        u_nearby = u_nearby[nearby_orders]  # kept for the nearby cities' orders only
        self.nearby = [
            NearbyDelivery(env, float(c.delivery_start), c.local_delivery_h, u_nearby, nearby_orders, o, c.parcels_per_hour, days)
            for c in cfg.city.nearby
        ]

    def _parcels_per_courier_min(self) -> float:
        """Nominal courier throughput: a full tour from an average station in an average territory, for the policies'
        capacity estimate."""
        lm = self.cfg.lastmile
        full_tour, _, _ = tour_minutes(
            lm.tour_capacity, float(np.mean(self.city.station_approach_km)), float(np.mean(self.territory_km2)), lm
        )
        return lm.tour_capacity / full_tour

    def _typical_tour(self) -> tuple[float, np.ndarray]:
        """(courier minutes per parcel, minutes from leaving the station to a parcel's delivery, per station) of a
        tour with half a full load into an average territory: the delivery ETA's nominal last mile."""
        lm, city = self.cfg.lastmile, self.city
        n = max(1, lm.tour_capacity // 2)
        tours = [tour_minutes(n, float(city.station_approach_km[s]), float(self.territory_km2[s]), lm) for s in range(city.n_stations)]
        per_parcel = float(np.mean([duration / n for duration, _, _ in tours]))
        return per_parcel, np.array([first + per * (n + 1) / 2 for _, first, per in tours])

    def _customer_returns(self) -> None:
        """Which delivered orders the customers send back (`demand.returns`), one draw per shopper of the run."""
        o = self.orders
        u = self.streams["returns"].random(len(o))
        delivered = o.placed & ~np.isnan(o.delivered)
        slot_start, slot_end = services.slot_bounds(self.cfg, o)
        late = delivered & ~(o.delivered <= o.promised_by)
        in_slot = np.zeros(len(o), dtype=bool) if slot_start is None else (o.delivered >= slot_start) & (o.delivered <= slot_end)
        o.customer_return = delivered & (u < return_probability(self.cfg.demand.returns, late, o.doorstep, in_slot))

    def handoff(self, event: str) -> Callable:
        """The handoff `WIRING` names for this event of the chain."""
        return getattr(self, "_" + self.wiring[event])

    def _to_first_mile(self, idx: np.ndarray) -> None:
        merchant = self.orders.source[idx] == SOURCE_MERCHANT
        if merchant.any():
            self.pickup.release(idx[merchant])
        if not merchant.all():
            self.warehouses.release(idx[~merchant])

    def _shuttle_to_sorting(self, idx: np.ndarray) -> None:
        self.warehouses.shuttle(idx)
        self._to_sorting(idx)

    def _to_sorting(self, idx: np.ndarray) -> None:
        self.hooks.picked(idx)
        self._sort_at_centres(idx)

    def _sort_at_centres(self, idx: np.ndarray) -> None:
        """Each parcel to the sorting centre of its destination (`City.centre_of`)."""
        if len(self.sorting) == 1:
            self.sorting[0].arrive(idx)
            return
        for c, chunk in group_by(self.city.centre_of(self.orders.station[idx]), idx):
            self.sorting[c].arrive(chunk)

    def _to_linehaul(self, idx: np.ndarray) -> None:
        self.linehaul.add(idx)

    def _to_destination(self, dest: int, idx: np.ndarray) -> None:
        if dest < self.city.n_stations:
            self.stations[dest].receive(idx)
        else:
            self.nearby[dest - self.city.n_stations].receive(idx)

    def _delivered_when_picked(self, idx: np.ndarray) -> None:
        self.orders.delivered[idx] = self.orders.picked[idx]

    def _sort_when_picked(self, idx: np.ndarray) -> None:
        self.orders.arrived_sort[idx] = self.orders.picked[idx]
        self._sort_at_centres(idx)

    def _station_when_sorted(self, idx: np.ndarray) -> None:
        o = self.orders
        o.departed[idx] = o.sorted[idx]
        call_at(self.env, o.sorted[idx], idx, self.stations[0].receive)

    def run(self, progress: Callable[[float], None] | None = None, step_min: float = 60.0) -> ModelOutput:
        """Simulate to the end of the drain; `progress(minutes_done)` is called every `step_min` simulated minutes."""
        what = "shoppers" if self.cfg.demand.response.enabled else "orders"
        log.info("simulating %d %s over %d days (+%g h drain)", len(self.orders), what, self.cfg.horizon_days, self.cfg.drain_hours)
        if progress is None:
            self.env.run(until=self.end_min)
        else:
            t = 0.0
            while t < self.end_min:
                t = min(t + step_min, self.end_min)
                self.env.run(until=t)
                progress(t)
        self.warehouses.log_overtime()
        # work scheduled past the end of the clock did not happen
        o = self.orders
        for name in OrderTable.STAGE_COLUMNS[1:]:
            col = getattr(o, name)
            col[col > self.end_min] = np.nan
        self._customer_returns()
        logs = self.log.freeze()
        pc = self.services.get("parcel_centre")
        alerts = pc.table() if pc is not None else None
        lost = {name: getattr(o, name)[~o.placed] for name in ("created", "region", "tier")}
        order_ids = None
        if lost["created"].size:  # shoppers who did not buy leave the table; the ids keep their rows among all shoppers
            order_ids = np.flatnonzero(o.placed)
            if alerts is not None:  # rows of the table kept (alerts.parquet writes the shopper's id)
                alerts["order_id"] = np.searchsorted(order_ids, alerts["order_id"])
            o.keep_only(order_ids)
        return ModelOutput(
            orders=o,
            **logs,
            lost=lost,
            order_ids=order_ids,
            alerts=alerts,
            events=self.env.events_processed,
            horizon_min=self.horizon_min,
            end_min=self.end_min,
        )
